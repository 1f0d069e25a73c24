package match

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// keyringRows are rows 19-44 and 60-62 of kubelet.md §5: one key is added,
// the image is looked up (upstream TestDockerKeyringForGlob, TestKeyringMiss,
// TestKeyringMissWithDockerHubCredentials, TestKeyringHit*DockerHub,
// TestIssue3797).
var keyringRows = []struct {
	row             int
	key, normalised string
	image           string
	want            bool
}{
	{19, "https://hello.kubernetes.io", "hello.kubernetes.io", "hello.kubernetes.io/foo/bar", true},
	{20, "https://*.docker.io", "*.docker.io", "prefix.docker.io/foo/bar", true},
	{21, "https://prefix.*.io", "prefix.*.io", "prefix.docker.io/foo/bar", true},
	{22, "https://prefix.docker.*", "prefix.docker.*", "prefix.docker.io/foo/bar", true},
	{23, "https://*.docker.io/path", "*.docker.io/path", "prefix.docker.io/path/foo/bar", true},
	{24, "https://prefix.*.io/path", "prefix.*.io/path", "prefix.docker.io/path/subpath/foo/bar", true},
	{25, "https://prefix.docker.*/path", "prefix.docker.*/path", "prefix.docker.io/path/foo/bar", true},
	{26, "https://*.docker.io:8888", "*.docker.io:8888", "prefix.docker.io:8888/foo/bar", true},
	{27, "https://prefix.*.io:8888", "prefix.*.io:8888", "prefix.docker.io:8888/foo/bar", true},
	{28, "https://prefix.docker.*:8888", "prefix.docker.*:8888", "prefix.docker.io:8888/foo/bar", true},
	{29, "https://*.docker.io/path:1111", "*.docker.io/path:1111", "prefix.docker.io/path:1111/foo/bar", true},
	{30, "https://*.docker.io/v1/", "*.docker.io", "prefix.docker.io/path:1111/foo/bar", true},
	{31, "https://*.docker.io/v2/", "*.docker.io", "prefix.docker.io/path:1111/foo/bar", true},
	{32, "https://prefix.docker.*/path:1111", "prefix.docker.*/path:1111", "prefix.docker.io/path:1111/foo/bar", true},
	{33, "prefix.docker.io:1111", "prefix.docker.io:1111", "prefix.docker.io:1111/path/foo/bar", true},
	{34, "*.docker.io:1111", "*.docker.io:1111", "prefix.docker.io:1111/path/foo/bar", true},
	{35, "https://hello.kubernetes.io", "hello.kubernetes.io", "world.mesos.org/foo/bar/foo/bar", false},
	{36, "https://*.docker.com", "*.docker.com", "prefix.docker.io/foo/bar", false},
	{37, "https://suffix.*.io", "suffix.*.io", "prefix.docker.io/foo/bar", false},
	{38, "https://prefix.docker.c*", "prefix.docker.c*", "prefix.docker.io/foo/bar", false},
	{39, "https://prefix.*.io/path:1111", "prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111/foo/bar", false},
	{40, "suffix.*.io", "suffix.*.io", "prefix.docker.io/foo/bar", false},
	{41, "https://index.docker.io/v1/", "index.docker.io", "world.mesos.org/foo/bar", false},
	{42, "https://index.docker.io/v1/", "index.docker.io", "google/docker-registry", true},
	{43, "https://index.docker.io/v1/", "index.docker.io", "jenkins", true},
	{44, "https://index.docker.io/v1/", "index.docker.io", "index.docker.io/v1//google/docker-registry", true},
	{60, "https://quay.io/v1/", "quay.io", "quay.io", true},
	{61, "https://quay.io/v1/", "quay.io", "quay.io/foo", true},
	{62, "https://quay.io/v1/", "quay.io", "quay.io/foo/bar", true},
}

func TestKeyringUpstream(t *testing.T) {
	for _, tc := range keyringRows {
		t.Run(fmt.Sprintf("row%02d", tc.row), func(t *testing.T) {
			if got, ok := NormalizeKey(tc.key); !ok || got != tc.normalised {
				t.Errorf("NormalizeKey(%q) = %q, %v; want %q", tc.key, got, ok, tc.normalised)
			}
			var k Keyring
			k.Add("secret", map[string]AuthConfig{tc.key: {Username: "u", Password: "p"}})
			got := k.Lookup(tc.image)
			var want []Credential
			if tc.want {
				want = []Credential{{Key: tc.normalised, Source: "secret", Username: "u", Password: "p"}}
			}
			if !slices.Equal(got, want) {
				t.Errorf("Lookup(%q) = %+v, want %+v", tc.image, got, want)
			}
		})
	}
}

// TestKeyringLookupOrder holds rows 53-59 (upstream TestDockerKeyringLookup):
// every matching key is returned, longer before its prefix.
func TestKeyringLookupOrder(t *testing.T) {
	var k Keyring
	k.Add("secret", map[string]AuthConfig{
		"bar.example.com/pong": {Username: "grace", Password: "squash"},
		"bar.example.com":      {Username: "ada", Password: "lovelace"},
	})
	tests := []struct {
		row   int
		image string
		want  []string
	}{
		{53, "bar.example.com", []string{"bar.example.com"}},
		{54, "bar.example.com/pong", []string{"bar.example.com/pong", "bar.example.com"}},
		{55, "bar.example.com/ping", []string{"bar.example.com"}},
		{56, "bar.example.com/pongz", []string{"bar.example.com/pong", "bar.example.com"}},
		{57, "bar.example.com/pong/pang", []string{"bar.example.com/pong", "bar.example.com"}},
		{58, "example.com", nil},
		{59, "foo.example.com", nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("row%02d", tc.row), func(t *testing.T) {
			if got := keys(k.Lookup(tc.image)); !slices.Equal(got, tc.want) {
				t.Errorf("Lookup(%q) keys = %q, want %q", tc.image, got, tc.want)
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
// TestIsDefaultRegistryMatch).
func TestIsDefaultRegistryMatch(t *testing.T) {
	tests := []struct {
		row   int
		image string
		want  bool
	}{
		{45, "foo/bar", true},
		{46, "docker.io/foo/bar", true},
		{47, "index.docker.io/foo/bar", true},
		{48, "foo", true},
		{49, "", false},
		{50, "registry.tld/foo/bar", false},
		{51, "registry:5000/foo/bar", false},
		{52, "myhostdocker.io/foo/bar", false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("row%02d", tc.row), func(t *testing.T) {
			if got := IsDefaultRegistryMatch(tc.image); got != tc.want {
				t.Errorf("IsDefaultRegistryMatch(%q) = %v, want %v", tc.image, got, tc.want)
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
	for _, tc := range keyringRows {
		f.Add(tc.key, "bar.example.com", "*.io", tc.image)
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
