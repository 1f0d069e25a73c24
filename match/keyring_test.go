package match

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kcred/kcred/match/matchtest"
)

// TestKeyringUpstream holds rows 19-44 and 60-62 of kubelet.md §5: one key
// is added, the image is looked up.
func TestKeyringUpstream(t *testing.T) {
	for _, tc := range matchtest.KeyringVectors {
		t.Run(fmt.Sprintf("row%02d", tc.Row), func(t *testing.T) {
			if got, ok := NormalizeKey(tc.Key); !ok || got != tc.Normalised {
				t.Errorf("NormalizeKey(%q) = %q, %v; want %q", tc.Key, got, ok, tc.Normalised)
			}
			var k Keyring
			k.Add("secret", map[string]AuthConfig{tc.Key: {Username: "u", Password: "p"}})
			got := k.Lookup(tc.Image)
			var want []Credential
			if tc.Match {
				want = []Credential{{Key: tc.Normalised, Source: "secret", Username: "u", Password: "p"}}
			}
			if !slices.Equal(got, want) {
				t.Errorf("Lookup(%q) = %+v, want %+v", tc.Image, got, want)
			}
		})
	}
}

// TestKeyringLookupOrder holds rows 53-59 (upstream TestDockerKeyringLookup):
// every matching key is returned, longer before its prefix.
func TestKeyringLookupOrder(t *testing.T) {
	auths := map[string]AuthConfig{}
	for _, key := range matchtest.LookupOrderKeys {
		auths[key] = AuthConfig{}
	}
	var k Keyring
	k.Add("secret", auths)
	for _, tc := range matchtest.LookupOrderVectors {
		t.Run(fmt.Sprintf("row%02d", tc.Row), func(t *testing.T) {
			if got := keys(k.Lookup(tc.Image)); !slices.Equal(got, tc.Keys) {
				t.Errorf("Lookup(%q) keys = %q, want %q", tc.Image, got, tc.Keys)
			}
		})
	}
}

// TestKeyringOrder pins the byte order of kubelet.md §4, Add order within a
// key across sources, and the Docker Hub fallback only when nothing matched.
func TestKeyringOrder(t *testing.T) {
	var k Keyring
	k.Add("pull-secret", map[string]AuthConfig{
		"r.io":        {Username: "secret-host"},
		"r.io/foo":    {Username: "secret-path"},
		"*.io":        {Username: "secret-star"},
		"https://r.*": {Username: "secret-tld"},
		"r.io/f":      {Username: "secret-short-path"},
		"r.io:5000":   {Username: "secret-port"},
		"%zz":         {Username: "dropped"},
	})
	k.Add("node", map[string]AuthConfig{
		"https://r.io/v1/": {Username: "node-host"},
		"index.docker.io":  {Username: "node-hub"},
	})
	k.Add("plugin", map[string]AuthConfig{
		"r.io":     {Username: "plugin-host"},
		"docker.*": {Username: "plugin-docker"},
	})
	tests := []struct {
		image string
		want  []string // Username of each credential, in order
	}{
		{"r.io/foo/bar", []string{"secret-path", "secret-short-path", "secret-host", "node-host", "plugin-host", "secret-tld", "secret-star"}},
		{"r.io:5000/foo", []string{"secret-port"}},
		{"other.io/foo", []string{"secret-star"}},
		{"a.r.io/foo", nil},
		{"docker.io/library/nginx", []string{"plugin-docker", "secret-star"}},
		{"docker.com/library/nginx", []string{"plugin-docker"}},
		{"nginx", []string{"node-hub"}},
		{"registry:5000/foo", nil},
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			var got []string
			for _, c := range k.Lookup(tc.image) {
				got = append(got, c.Username)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Lookup(%q) = %q, want %q", tc.image, got, tc.want)
			}
		})
	}
}

// TestKeyringAddOrderWithinOneMap pins kcred's choice where the kubelet's
// order is Go map order: raw keys of one map that normalise to one key are
// added in byte order of the raw keys.
func TestKeyringAddOrderWithinOneMap(t *testing.T) {
	var k Keyring
	k.Add("s", map[string]AuthConfig{
		"r.io":             {Username: "plain"},
		"https://r.io/v1/": {Username: "v1"},
		"http://r.io":      {Username: "http"},
		"r.io/":            {Username: "slash"},
	})
	var got []string
	for _, c := range k.Lookup("r.io/foo") {
		got = append(got, c.Username)
	}
	if want := []string{"http", "v1", "plain", "slash"}; !slices.Equal(got, want) {
		t.Errorf("Lookup = %q, want %q", got, want)
	}
}

func TestKeyringSortsLikeTheKubelet(t *testing.T) {
	var k Keyring
	for _, key := range []string{"*.r.io", "A.r.io", "r.io", "r.io/foo", "a.r.io", "z.r.io", "r.io:5000"} {
		k.Add("s", map[string]AuthConfig{key: {}})
	}
	var got []string
	for _, e := range k.index {
		got = append(got, e.key)
	}
	want := []string{"z.r.io", "r.io:5000", "r.io/foo", "r.io", "a.r.io", "A.r.io", "*.r.io"}
	if !slices.Equal(got, want) {
		t.Errorf("keyring order = %q, want %q", got, want)
	}
}

// TestIsDefaultRegistryMatch holds rows 45-52 (upstream
// TestIsDefaultRegistryMatch) and the extra cases.
func TestIsDefaultRegistryMatch(t *testing.T) {
	for _, tc := range slices.Concat(matchtest.DefaultRegistryVectors, matchtest.DefaultRegistrySemantics) {
		name := tc.Name
		if tc.Row != 0 {
			name = fmt.Sprintf("row%02d", tc.Row)
		}
		t.Run(name, func(t *testing.T) {
			if got := IsDefaultRegistryMatch(tc.Image); got != tc.Match {
				t.Errorf("IsDefaultRegistryMatch(%q) = %v, want %v", tc.Image, got, tc.Match)
			}
		})
	}
}

func TestLookupDoesNotAllocateOnMiss(t *testing.T) {
	var k Keyring
	k.Add("s", map[string]AuthConfig{"*.dkr.ecr.*.amazonaws.com": {}, "registry.io/team": {}})
	allocs := testing.AllocsPerRun(100, func() { k.Lookup("quay.io/foo/bar") })
	if allocs != 0 {
		t.Errorf("Lookup miss allocates %v times per run, want 0", allocs)
	}
}

func keys(creds []Credential) []string {
	var ks []string
	for _, c := range creds {
		ks = append(ks, c.Key)
	}
	return ks
}

// FuzzKeyring checks Keyring against its specification (kubelet.md §4)
// written with NormalizeKey and URLsMatch, with three keys from two sources:
// Lookup returns the credentials of every key that matches the image, keys
// in reverse byte order, credentials of one key in Add order (one map in
// byte order of its raw keys), else the "index.docker.io" credentials for
// a Docker Hub image; every credential matches the image or is that
// fallback; NormalizeKey is idempotent on keys that reparse to themselves.
// Fidelity to the kubelet's BasicDockerKeyring is checked against the real
// code by FuzzKeyringVsKubelet in test/kubelet.
func FuzzKeyring(f *testing.F) {
	for _, tc := range matchtest.KeyringVectors {
		f.Add(tc.Key, "bar.example.com", "*.io", tc.Image)
	}
	f.Add("bar.example.com/pong", "bar.example.com", "https://index.docker.io/v1/", "bar.example.com/pong")
	f.Add("r.io/v1/v1/x", "https://https://r.io", "r.io/%2fx?y", "nginx")
	f.Add("https://index.docker.io/v1/", "index.docker.io", "r.io", "foo/bar")
	f.Add("a.io", "https://r.io/v1/", "r.io", "r.io/x") // one key twice in one map
	f.Fuzz(func(t *testing.T, k1, k2, k3, image string) {
		var k Keyring
		k.Add("a", map[string]AuthConfig{k1: {Username: k1}})
		second := map[string]AuthConfig{k2: {Username: k2}, k3: {Username: k3}}
		k.Add("b", second)
		got := k.Lookup(image)

		// The specification, from the raw keys in Add order.
		byKey := map[string][]Credential{}
		var index []string
		add := func(source, raw string) {
			n, ok := NormalizeKey(raw)
			if !ok {
				return
			}
			if byKey[n] == nil {
				index = append(index, n)
			}
			byKey[n] = append(byKey[n], Credential{Key: n, Source: source, Username: raw})
		}
		add("a", k1)
		for _, raw := range slices.Sorted(maps.Keys(second)) {
			add("b", raw)
		}
		slices.Sort(index)
		slices.Reverse(index)
		var want []Credential
		for _, n := range index {
			if URLsMatch(n, image) {
				want = append(want, byKey[n]...)
			}
		}
		if want == nil && IsDefaultRegistryMatch(image) {
			want = byKey[defaultRegistryKey]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("keys %q, %q, %q: Lookup(%q) = %+v, want %+v", k1, k2, k3, image, got, want)
		}

		for _, c := range got {
			hub := c.Key == defaultRegistryKey && IsDefaultRegistryMatch(image)
			if !URLsMatch(c.Key, image) && !hub {
				t.Fatalf("Lookup(%q) returned key %q, which does not match it", image, c.Key)
			}
		}
		for _, key := range []string{k1, k2, k3} {
			n, ok := NormalizeKey(key)
			if !ok && n != "" {
				t.Fatalf("NormalizeKey(%q) = %q, false; want no key", key, n)
			}
			if ok && stableKey(key, n) {
				if again, ok := NormalizeKey(n); again != n || !ok {
					t.Fatalf("NormalizeKey(%q) = %q, %v; not idempotent for %q", n, again, ok, key)
				}
			}
		}
	})
}

// stableKey reports whether key's normalisation n reparses to itself: not
// when key held an escape (decoded into n), nor when n still holds a scheme
// or a /v1/ or /v2/ prefix that a second normalisation would strip.
func stableKey(key, n string) bool {
	if strings.Contains(key, "%") || strings.HasPrefix(n, "https://") || strings.HasPrefix(n, "http://") {
		return false
	}
	_, path, _ := strings.Cut(n, "/")
	return !strings.HasPrefix(path, "v1/") && !strings.HasPrefix(path, "v2/")
}
