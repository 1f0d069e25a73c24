package fidelity

// Differential tests of kcred's match package against the real kubelet
// code (k8s.io/kubernetes v1.37.2): pkg/credentialprovider (URLsMatchStr,
// BasicDockerKeyring, isDefaultRegistryMatch) and pkg/util/parsers
// (ParseImageName). Every input is run through both implementations and the
// answers must be equal; the tables also pin the expected value of
// /work/shared/reference/kubelet.md §1 and §5, so a wrong document fails too.

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	_ "unsafe" // for go:linkname

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/util/parsers"

	"github.com/kcred/kcred/match"
	"github.com/kcred/kcred/match/matchtest"
)

// kubeletIsDefaultRegistryMatch is the kubelet's unexported
// isDefaultRegistryMatch itself (pkg/credentialprovider/keyring.go), not a
// copy: the linker resolves it to the v1.37.2 function, and fails the build
// if it is renamed.
//
//go:linkname kubeletIsDefaultRegistryMatch k8s.io/kubernetes/pkg/credentialprovider.isDefaultRegistryMatch
func kubeletIsDefaultRegistryMatch(image string) bool

// kubeletURLsMatch is the kubelet's URLsMatchStr; an error (unparsable
// glob or target, malformed label glob) is a miss for every caller.
func kubeletURLsMatch(glob, target string) bool {
	ok, _ := credentialprovider.URLsMatchStr(glob, target)
	return ok
}

// kubeletRepoToPull is what the kubelet matches and sends to plugins for a
// pod image: EnsureImageExists calls applyDefaultImageTag (ParseImageName,
// then ":"+tag appended when the image has a tag but no digest and does not
// already end in it) and makeLookupPullCredentialsFunc takes ParseImageName's
// repoToPull of the result. Both functions are unexported and need the whole
// image manager, so only this glue is written here; both parses are the
// kubelet's own.
func kubeletRepoToPull(image string) (string, error) {
	_, tag, digest, err := parsers.ParseImageName(image)
	if err != nil {
		return "", err
	}
	if digest == "" && tag != "" && !strings.HasSuffix(image, ":"+tag) {
		image += ":" + tag
	}
	repo, _, _, err := parsers.ParseImageName(image)
	return repo, err
}

var quietKlog sync.Once

// auth is one raw auth key of a keyring source.
type auth struct{ source, key string }

// kubeletKeyring is a real BasicDockerKeyring filled from one Add per
// source (in order). Each credential's Username is its raw key and its
// Password its source, so a lookup shows which entry it returned.
func kubeletKeyring(adds [][]auth) *credentialprovider.BasicDockerKeyring {
	quietKlog.Do(func() {
		// Add logs every dropped key with klog; the fuzz targets drop
		// thousands. Nothing else in this test binary logs through klog.
		klog.SetLogger(logr.Discard())
	})
	dk := &credentialprovider.BasicDockerKeyring{}
	for _, add := range adds {
		cfg := credentialprovider.DockerConfig{}
		var src *credentialprovider.CredentialSource
		for _, a := range add {
			cfg[a.key] = credentialprovider.DockerConfigEntry{Username: a.key, Password: a.source}
			src = &credentialprovider.CredentialSource{Secret: &credentialprovider.SecretCoordinates{Name: a.source}}
		}
		dk.Add(src, cfg)
	}
	return dk
}

// kcredKeyring is the same keyring in kcred.
func kcredKeyring(adds [][]auth) *match.Keyring {
	k := &match.Keyring{}
	for _, add := range adds {
		cfg := map[string]match.AuthConfig{}
		source := ""
		for _, a := range add {
			cfg[a.key] = match.AuthConfig{Username: a.key, Password: a.source}
			source = a.source
		}
		k.Add(source, cfg)
	}
	return k
}

// kubeletIndex returns the normalised keys of a BasicDockerKeyring in the
// order Lookup walks them. The field is unexported and the kubelet exposes
// no per-key normalisation, so it is read by reflection; a change of the
// field's name or type fails the test instead of skipping the check.
func kubeletIndex(t testing.TB, dk *credentialprovider.BasicDockerKeyring) []string {
	t.Helper()
	v := reflect.ValueOf(dk).Elem().FieldByName("index")
	if !v.IsValid() || v.Kind() != reflect.Slice || v.Type().Elem().Kind() != reflect.String {
		t.Fatalf("BasicDockerKeyring has no index []string field any more: %v", reflect.TypeOf(*dk))
	}
	keys := make([]string, v.Len())
	for i := range keys {
		keys[i] = v.Index(i).String()
	}
	return keys
}

// kcredIndex is the index kcred's Keyring walks, built from NormalizeKey
// (de-duplicated, reverse byte order).
func kcredIndex(adds [][]auth) []string {
	var keys []string
	for _, add := range adds {
		for _, a := range add {
			if n, ok := match.NormalizeKey(a.key); ok && !slices.Contains(keys, n) {
				keys = append(keys, n)
			}
		}
	}
	slices.Sort(keys)
	slices.Reverse(keys)
	return keys
}

// cred is a credential as both keyrings return it.
type cred struct{ key, source string }

func (c cred) String() string { return c.source + ":" + c.key }

// compareKeyrings adds adds to both keyrings, compares the normalised index
// and the lookup of image (credentials and their order), and returns the
// kubelet's answer.
func compareKeyrings(t testing.TB, adds [][]auth, image string) []cred {
	t.Helper()
	dk := kubeletKeyring(adds)
	k := kcredKeyring(adds)
	if got, want := kcredIndex(adds), kubeletIndex(t, dk); !slices.Equal(got, want) {
		t.Fatalf("adds %q: NormalizeKey gives keys %q, kubelet's Add %q", adds, got, want)
	}
	found, ok := dk.Lookup(image)
	var want []cred
	for _, c := range found {
		want = append(want, cred{c.Username, c.Password})
	}
	if ok != (len(want) > 0) {
		t.Fatalf("kubelet Lookup(%q) = %v, %v", image, found, ok)
	}
	var got []cred
	for _, c := range k.Lookup(image) {
		got = append(got, cred{c.Username, c.Password})
		if c.Source != c.Password {
			t.Errorf("Lookup(%q): credential %+v has source %q, added from %q", image, c, c.Source, c.Password)
		}
		if n, _ := match.NormalizeKey(c.Username); c.Key != n {
			t.Errorf("Lookup(%q): credential %+v has key %q, its raw key normalises to %q", image, c, c.Key, n)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("adds %q, Lookup(%q):\nkcred   %v\nkubelet %v", adds, image, got, want)
	}
	return want
}

// TestURLsMatchVsKubelet holds rows 1-18 of kubelet.md §5 (upstream
// TestURLsMatch) and the semantics rows of match's own tests (row 0).
func TestURLsMatchVsKubelet(t *testing.T) {
	for i, tc := range slices.Concat(matchtest.URLVectors, matchtest.URLSemantics) {
		t.Run(fmt.Sprintf("row%02d_%d", tc.Row, i), func(t *testing.T) {
			got, want := match.URLsMatch(tc.Glob, tc.Target), kubeletURLsMatch(tc.Glob, tc.Target)
			if got != want {
				t.Errorf("URLsMatch(%q, %q) = %v, kubelet %v", tc.Glob, tc.Target, got, want)
			}
			if want != tc.Match {
				t.Errorf("kubelet URLsMatchStr(%q, %q) = %v, kubelet.md says %v", tc.Glob, tc.Target, want, tc.Match)
			}
			if e := match.Explain(tc.Glob, tc.Target); e.Match != want {
				t.Errorf("Explain(%q, %q) = %+v, kubelet says %v", tc.Glob, tc.Target, e, want)
			}
		})
	}
}

// TestKeyringVsKubelet holds rows 19-44 and 60-62 of kubelet.md §5: one
// key added, the target looked up.
func TestKeyringVsKubelet(t *testing.T) {
	for _, tc := range matchtest.KeyringVectors {
		t.Run(fmt.Sprintf("row%02d", tc.Row), func(t *testing.T) {
			adds := [][]auth{{{"secret", tc.Key}}}
			if idx := kubeletIndex(t, kubeletKeyring(adds)); !slices.Equal(idx, []string{tc.Normalised}) {
				t.Errorf("kubelet normalises %q to %q, kubelet.md says %q", tc.Key, idx, tc.Normalised)
			}
			got := compareKeyrings(t, adds, tc.Image)
			var want []cred
			if tc.Match {
				want = []cred{{tc.Key, "secret"}}
			}
			if !slices.Equal(got, want) {
				t.Errorf("kubelet Lookup(%q) = %v, kubelet.md says %v", tc.Image, got, want)
			}
		})
	}
}

// TestIsDefaultRegistryMatchVsKubelet holds rows 45-52 of kubelet.md §5
// and the extra cases of match's own tests (row 0).
func TestIsDefaultRegistryMatchVsKubelet(t *testing.T) {
	for _, tc := range slices.Concat(matchtest.DefaultRegistryVectors, matchtest.DefaultRegistrySemantics) {
		t.Run(fmt.Sprintf("row%02d_%s", tc.Row, tc.Image), func(t *testing.T) {
			got, want := match.IsDefaultRegistryMatch(tc.Image), kubeletIsDefaultRegistryMatch(tc.Image)
			if got != want {
				t.Errorf("IsDefaultRegistryMatch(%q) = %v, kubelet %v", tc.Image, got, want)
			}
			if want != tc.Match {
				t.Errorf("kubelet isDefaultRegistryMatch(%q) = %v, kubelet.md says %v", tc.Image, want, tc.Match)
			}
			// And through Lookup's Docker Hub fallback.
			compareKeyrings(t, [][]auth{{{"node", "https://index.docker.io/v1/"}}}, tc.Image)
		})
	}
}

// TestKeyringLookupOrderVsKubelet holds rows 53-59 of kubelet.md §5
// (upstream TestDockerKeyringLookup) and the byte order of §4 across three
// sources.
func TestKeyringLookupOrderVsKubelet(t *testing.T) {
	var pong []auth // one Add
	for _, key := range matchtest.LookupOrderKeys {
		pong = append(pong, auth{"secret", key})
	}
	for _, tc := range matchtest.LookupOrderVectors {
		t.Run(fmt.Sprintf("row%02d", tc.Row), func(t *testing.T) {
			var got []string
			for _, c := range compareKeyrings(t, [][]auth{pong}, tc.Image) {
				got = append(got, c.key)
			}
			if !slices.Equal(got, tc.Keys) {
				t.Errorf("kubelet Lookup(%q) = %q, kubelet.md says %q", tc.Image, got, tc.Keys)
			}
		})
	}

	// Three sources, one normalised key per map entry (so that the
	// kubelet's map iteration cannot reorder credentials of one key).
	sources := [][]auth{
		{{"pull-secret", "r.io"}, {"pull-secret", "r.io/foo"}, {"pull-secret", "*.io"}, {"pull-secret", "https://r.*"},
			{"pull-secret", "r.io/f"}, {"pull-secret", "r.io:5000"}, {"pull-secret", "%zz"}, {"pull-secret", "*.r.io"},
			{"pull-secret", "A.r.io"}, {"pull-secret", "a.r.io"}, {"pull-secret", "z.r.io"}},
		{{"node", "https://r.io/v1/"}, {"node", "index.docker.io"}, {"node", "http://r.io/foo/v2/x"}},
		{{"plugin", "r.io"}, {"plugin", "docker.*"}, {"plugin", "HTTPS://r.io"}, {"plugin", "[::1]:5000"}},
	}
	for _, image := range []string{
		"r.io/foo/bar", "r.io:5000/foo", "other.io/foo", "a.r.io/foo", "z.r.io/x", "A.r.io/x", "docker.io/library/nginx",
		"docker.com/library/nginx", "nginx", "registry:5000/foo", "[::1]:5000/foo", "r.io/foo/v2/x", "r.io", "",
	} {
		t.Run(image, func(t *testing.T) { compareKeyrings(t, sources, image) })
	}
}

// TestNormalizeVsKubelet holds the examples of kubelet.md §1 and the extra
// cases of match's TestNormalize.
func TestNormalizeVsKubelet(t *testing.T) {
	for _, tc := range slices.Concat(matchtest.NormalizeExamples, matchtest.NormalizeExtras) {
		t.Run(tc.Image, func(t *testing.T) {
			want, err := compareNormalize(t, tc.Image)
			if want != tc.Want {
				t.Errorf("kubelet repoToPull(%q) = %q, kubelet.md says %q", tc.Image, want, tc.Want)
			}
			// The error text the kubelet reports (§1 for an upper-case path).
			if tc.Err != "" && (err == nil || err.Error() != fmt.Sprintf("couldn't parse image name %q: %s", tc.Image, tc.Err)) {
				t.Errorf("kubelet repoToPull(%q) error %v, kubelet.md says %q", tc.Image, err, tc.Err)
			}
		})
	}
}

// compareNormalize runs image through Normalize and the kubelet and fails
// on any difference: the same name, or errors with the same text (the
// kubelet prefixes `couldn't parse image name "<image>": `).
func compareNormalize(t testing.TB, image string) (string, error) {
	t.Helper()
	got, err := match.Normalize(image)
	want, werr := kubeletRepoToPull(image)
	if got != want || (err == nil) != (werr == nil) {
		t.Fatalf("Normalize(%q) = %q, %v; kubelet %q, %v", image, got, err, want, werr)
	}
	if err != nil && werr.Error() != fmt.Sprintf("couldn't parse image name %q: %v", image, err) {
		t.Fatalf("Normalize(%q) error %q; kubelet %q", image, err, werr)
	}
	return want, werr
}

func FuzzURLsMatchVsKubelet(f *testing.F) {
	for _, s := range [][2]string{
		{"*.kubernetes.io", "prefix.kubernetes.io"}, {"prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar"},
		{"*kubernetes.io", "kubernetes.io"}, {"*.*.kubernetes.io", "kubernetes.io"}, {"k*.io", "quay.io"},
		{"prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar"}, {"*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah"},
		{"https://registry.io", "registry.io/foo"}, {"*.registry.io/*", "a.registry.io/x"},
		{"[::1]:5000", "[::1]:5000/foo"}, {"[::1]", "[::1]/foo"}, {"[a-z].io", "a.io"}, {"a[.io", "a[.io/x"},
		{"user@r.io", "r.io/x"}, {"u:p@r.io:5000", "r.io:5000/x"}, {"a:1:2", "a:1:2"}, {"r.io:", "r.io/x"},
		{"r.io/%2A", "r.io/*"}, {"r.io/%66oo", "r.io/foo"}, {"%invalid%", "%invalid%"}, {"reg?stry.io", "reg/x"},
		{"r.io#x", "r.io/x"}, {"r.io\\", "r.io\\/x"}, {"", ""}, {":", ":/x"}, {"*", "localhost/x"},
		{"registry.io", "Registry.io/foo"}, {"*.dkr.ecr.*.amazonaws.com", "1.dkr.ecr.eu-west-1.amazonaws.com/app"},
		{"r.io:x", "r.io:x"}, {"r.io/\x00", "r.io/\x00"}, {"r.io/ä", "r.io/ä/x"}, {"xn--r.io", "xn--r.io/x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, glob, target string) {
		want := kubeletURLsMatch(glob, target)
		if got := match.URLsMatch(glob, target); got != want {
			t.Fatalf("URLsMatch(%q, %q) = %v, kubelet %v", glob, target, got, want)
		}
		if e := match.Explain(glob, target); e.Match != want {
			t.Fatalf("Explain(%q, %q) = %+v, kubelet says %v", glob, target, e, want)
		}
		for _, s := range []string{glob, target} {
			if got, want := match.IsDefaultRegistryMatch(s), kubeletIsDefaultRegistryMatch(s); got != want {
				t.Fatalf("IsDefaultRegistryMatch(%q) = %v, kubelet %v", s, got, want)
			}
		}
	})
}

func FuzzNormalizeVsKubelet(f *testing.F) {
	for _, tc := range slices.Concat(matchtest.NormalizeExamples, matchtest.NormalizeExtras) {
		f.Add(tc.Image)
	}
	for _, s := range []string{
		"nginx:", "nginx@", "nginx:1@" + matchtest.Digest, "a/b/c/d:e", "localhost", "localhost:5000", "a.b:1/c", "A/b",
		"docker.io/library", "index.docker.io/nginx", "docker.io/library/library/nginx", "a__b/c", "a--b/c",
		"registry.io/foo:" + strings.Repeat("t", 129), strings.Repeat("a/", 130) + "a", "[fe80::1%25eth0]/x",
		"foo:latest", "foo:latest:latest", "registry.io/foo@sha512:" + strings.Repeat("ab", 64),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, image string) {
		compareNormalize(t, image)
	})
}

// FuzzKeyringVsKubelet adds k1 from one source and k2, k3 from a second
// (one Add each) to both keyrings and compares the normalised keys and the
// lookup of image; image is also normalised and looked up when it parses,
// as the kubelet looks up repoToPull.
func FuzzKeyringVsKubelet(f *testing.F) {
	seeds := [][4]string{
		{"https://index.docker.io/v1/", "bar.example.com/pong", "bar.example.com", "bar.example.com/pong"},
		{"https://index.docker.io/v1/", "*.io", "r.io/foo", "nginx"},
		{"https://*.docker.io/v1/", "https://prefix.*.io/path", "prefix.docker.*:8888", "prefix.docker.io/path/foo/bar"},
		{"https://quay.io/v1/", "quay.io/team", "*.quay.io", "quay.io/team/app"},
		{"r.io/v1/v1/x", "https://https://r.io", "r.io/%2fx?y", "r.io/v1/x"},
		{"http://r.io", "HTTPS://r.io", "r.io:5000", "r.io:5000/foo"},
		{"%zz", "r.io:port", "r.io/\n", "r.io/x"},
		{"[::1]:5000", "user:pass@r.io", "q.io#frag", "[::1]:5000/foo"},
		{"index.docker.io", "docker.io", "*.docker.io", "index.docker.io/v1//google/docker-registry"},
		{"https://index.docker.io/v1/", "a", "b", "foo/bar"},
		{"r.io", "r.io/", "r.io/v2/", "r.io/x"}, // two raw keys for one key in one map: skipped
		{"/%00", "0", "0", "0"},
		{"", "", "/x", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, k1, k2, k3, image string) {
		// Known difference: within one Add map the kubelet appends the
		// credentials of raw keys that normalise to the same key in Go's
		// random map order; kcred uses the byte order of the raw keys
		// (documented on match.Keyring.Add). The kubelet's order is not
		// defined there, so such an input cannot be compared.
		n2, ok2 := match.NormalizeKey(k2)
		n3, ok3 := match.NormalizeKey(k3)
		if k2 != k3 && ok2 && ok3 && n2 == n3 {
			t.Skip("k2 and k3 normalise to one key within one Add: the kubelet's order is Go map order")
		}
		adds := [][]auth{{{"a", k1}}, {{"b", k2}, {"b", k3}}}
		compareKeyrings(t, adds, image)
		if repo, err := match.Normalize(image); err == nil {
			compareKeyrings(t, adds, repo)
		}
	})
}
