// Package matchtest holds the test vectors of package match: the upstream
// kubelet vectors (rows 1-62 of /work/shared/reference/kubelet.md §5, the
// image examples of §1) and the extra rows that pin kubelet.md §2 and §1
// beyond them, each with a short name.
//
// The tables are data only. Package match's tests check kcred against the
// expected values; test/kubelet checks kcred against the real kubelet code
// and the kubelet against the expected values, so a wrong row fails there.
// Only tests import this package: the node binary must not link it.
package matchtest

// URLVector is one URLsMatchStr(Glob, Target) case (kubelet.md §2).
type URLVector struct {
	Row          int    // row of kubelet.md §5; 0 for an extra row
	Name         string // short name of an extra row; "" for a §5 row
	Glob, Target string
	Match        bool
}

// URLVectors are rows 1-18 of kubelet.md §5 (upstream TestURLsMatch).
var URLVectors = []URLVector{
	{Row: 1, Glob: "*.kubernetes.io", Target: "prefix.kubernetes.io", Match: true},
	{Row: 2, Glob: "prefix.*.io", Target: "prefix.kubernetes.io", Match: true},
	{Row: 3, Glob: "prefix.kubernetes.*", Target: "prefix.kubernetes.io", Match: true},
	{Row: 4, Glob: "*-good.kubernetes.io", Target: "prefix-good.kubernetes.io", Match: true},
	{Row: 5, Glob: "*.kubernetes.io/blah", Target: "prefix.kubernetes.io/blah", Match: true},
	{Row: 6, Glob: "prefix.*.io/foo", Target: "prefix.kubernetes.io/foo/bar", Match: true},
	{Row: 7, Glob: "*.kubernetes.io:1111/blah", Target: "prefix.kubernetes.io:1111/blah", Match: true},
	{Row: 8, Glob: "prefix.*.io:1111/foo", Target: "prefix.kubernetes.io:1111/foo/bar", Match: true},
	{Row: 9, Glob: "*.kubernetes.io", Target: "kubernetes.io", Match: false},
	{Row: 10, Glob: "*.*.kubernetes.io", Target: "prefix.kubernetes.io", Match: false},
	{Row: 11, Glob: "*.*.kubernetes.io", Target: "kubernetes.io", Match: false},
	{Row: 12, Glob: "*kubernetes.io", Target: "a.kubernetes.io", Match: false},
	{Row: 13, Glob: "*kubernetes.io", Target: "kubernetes.io", Match: true},
	{Row: 14, Glob: "*.*.*.kubernetes.io", Target: "a.b.c.kubernetes.io", Match: true},
	{Row: 15, Glob: "kubernetes.io", Target: "kubernetes.com", Match: false},
	{Row: 16, Glob: "k*.io", Target: "quay.io", Match: false},
	{Row: 17, Glob: "*.kubernetes.io:1234/blah", Target: "prefix.kubernetes.io:1111/blah", Match: false},
	{Row: 18, Glob: "prefix.*.io/foo", Target: "prefix.kubernetes.io:1111/foo/bar", Match: false},
}

// URLSemantics pin the rules of kubelet.md §2 beyond the upstream vectors.
// New rows go at the end: test/kubelet names subtests by position.
var URLSemantics = []URLVector{
	{Name: "port must be equal text, no default", Glob: "registry.io", Target: "registry.io:443/foo", Match: false},
	{Name: "port 443 is not the empty port", Glob: "registry.io:443", Target: "registry.io/foo", Match: false},
	{Name: "no port glob", Glob: "registry.io:*", Target: "registry.io:5000/foo", Match: false},
	{Name: "path is a byte prefix", Glob: "registry.io/team", Target: "registry.io/teamx/app", Match: true},
	{Name: "path trailing slash", Glob: "registry.io/team/", Target: "registry.io/team", Match: false},
	{Name: "no path glob", Glob: "*.registry.io/*", Target: "a.registry.io/foo", Match: false},
	{Name: "star alone matches one label", Glob: "*", Target: "localhost/foo", Match: true},
	{Name: "star alone not two labels", Glob: "*", Target: "registry.io/foo", Match: false},
	{Name: "partial label star", Glob: "*-docker.pkg.dev", Target: "europe-docker.pkg.dev/p/r/i", Match: true},
	{Name: "ecr pattern", Glob: "*.dkr.ecr.*.amazonaws.com", Target: "123.dkr.ecr.eu-west-1.amazonaws.com/app", Match: true},
	{Name: "ecr pattern not china", Glob: "*.dkr.ecr.*.amazonaws.com", Target: "123.dkr.ecr.cn-north-1.amazonaws.com.cn/app", Match: false},
	{Name: "host case sensitive", Glob: "registry.io", Target: "Registry.io/foo", Match: false},
	{Name: "question mark starts a query", Glob: "reg?stry.io", Target: "reg/foo", Match: true},
	{Name: "question mark is not a glob", Glob: "reg?stry.io", Target: "regastry.io/foo", Match: false},
	{Name: "fragment dropped", Glob: "registry.io#x", Target: "registry.io/foo", Match: true},
	{Name: "bracket is an IPv6 literal", Glob: "[a-z].io", Target: "a.io", Match: false},
	{Name: "IPv6 literal host", Glob: "[::1]:5000", Target: "[::1]:5000/foo", Match: true},
	{Name: "IPv6 literal without port is a glob class", Glob: "[::1]", Target: "[::1]/foo", Match: false},
	{Name: "userinfo dropped", Glob: "user@registry.io", Target: "registry.io/foo", Match: true},
	{Name: "escaped path decoded", Glob: "registry.io/%66oo", Target: "registry.io/foo/bar", Match: true},
	{Name: "escaped star in path is literal", Glob: "registry.io/%2A", Target: "registry.io/foo", Match: false},
	{Name: "invalid escape never matches", Glob: "%invalid%", Target: "%invalid%", Match: false},
	{Name: "scheme pattern misses normalised image", Glob: "https://registry.io", Target: "registry.io/foo", Match: false},
	{Name: "empty port after colon", Glob: "registry.io:", Target: "registry.io/foo", Match: true},
	{Name: "several colons rejected", Glob: "a:1:2", Target: "a:1:2", Match: false},
	{Name: "non-digit port rejected", Glob: "registry.io:x", Target: "registry.io:x", Match: false},
	{Name: "empty pattern matches empty host only", Glob: "", Target: "registry.io/foo", Match: false},
	{Name: "empty pattern matches empty target", Glob: "", Target: "", Match: true},
	{Name: "same port", Glob: "registry.io:5000", Target: "registry.io:5000/foo", Match: true},
	{Name: "docker hub", Glob: "docker.io", Target: "docker.io/library/nginx", Match: true},
}

// KeyringVector is one keyring lookup of kubelet.md §5: the raw auth key
// Key is added (one Add, one source), it normalises to Normalised
// (kubelet.md §3), and Image is looked up; Match is whether Lookup returns
// that key's credential.
type KeyringVector struct {
	Row                    int
	Key, Normalised, Image string
	Match                  bool
}

// KeyringVectors are rows 19-44 and 60-62 of kubelet.md §5 (upstream
// TestDockerKeyringForGlob, TestKeyringMiss,
// TestKeyringMissWithDockerHubCredentials, TestKeyringHit*DockerHub,
// TestIssue3797).
var KeyringVectors = []KeyringVector{
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

// LookupOrderKeys are the auth keys of LookupOrderVectors, added in one Add
// from one source. They are already normalised.
var LookupOrderKeys = []string{"bar.example.com/pong", "bar.example.com"}

// LookupOrderVector is one lookup of Image in a keyring holding
// LookupOrderKeys; Keys are the keys of the credentials returned, in
// order (nil for none).
type LookupOrderVector struct {
	Row   int
	Image string
	Keys  []string
}

// LookupOrderVectors are rows 53-59 of kubelet.md §5 (upstream
// TestDockerKeyringLookup): every matching key is returned, longer before
// its prefix.
var LookupOrderVectors = []LookupOrderVector{
	{53, "bar.example.com", []string{"bar.example.com"}},
	{54, "bar.example.com/pong", []string{"bar.example.com/pong", "bar.example.com"}},
	{55, "bar.example.com/ping", []string{"bar.example.com"}},
	{56, "bar.example.com/pongz", []string{"bar.example.com/pong", "bar.example.com"}},
	{57, "bar.example.com/pong/pang", []string{"bar.example.com/pong", "bar.example.com"}},
	{58, "example.com", nil},
	{59, "foo.example.com", nil},
}

// DefaultRegistryVector is one isDefaultRegistryMatch(Image) case.
type DefaultRegistryVector struct {
	Row   int    // row of kubelet.md §5; 0 for an extra row
	Name  string // short name of an extra row; "" for a §5 row
	Image string
	Match bool
}

// DefaultRegistryVectors are rows 45-52 of kubelet.md §5 (upstream
// TestIsDefaultRegistryMatch).
var DefaultRegistryVectors = []DefaultRegistryVector{
	{Row: 45, Image: "foo/bar", Match: true},
	{Row: 46, Image: "docker.io/foo/bar", Match: true},
	{Row: 47, Image: "index.docker.io/foo/bar", Match: true},
	{Row: 48, Image: "foo", Match: true},
	{Row: 49, Image: "", Match: false},
	{Row: 50, Image: "registry.tld/foo/bar", Match: false},
	{Row: 51, Image: "registry:5000/foo/bar", Match: false},
	{Row: 52, Image: "myhostdocker.io/foo/bar", Match: false},
}

// DefaultRegistrySemantics are isDefaultRegistryMatch cases beyond the
// upstream vectors.
var DefaultRegistrySemantics = []DefaultRegistryVector{
	{Name: "empty host", Image: "/foo", Match: false},
	{Name: "bare docker.io", Image: "docker.io", Match: true},
	{Name: "host with port", Image: "localhost:5000/foo", Match: false},
	{Name: "host case sensitive", Image: "Docker.io/foo", Match: false},
}

// Hex64 is 64 hexadecimal digits: a digest's hash, and a repository name
// the reference grammar refuses.
const Hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// Digest is a well-formed sha256 digest.
const Digest = "sha256:" + Hex64

// NormalizeExample is one image normalisation (kubelet.md §1): Image
// becomes the repoToPull Want, or fails with the error text Err (kcred's
// text; the kubelet prefixes `couldn't parse image name "<image>": `).
type NormalizeExample struct {
	Name      string // short name of an extra row; "" for a §1 example
	Image     string
	Want, Err string
}

// NormalizeExamples are the examples of kubelet.md §1.
var NormalizeExamples = []NormalizeExample{
	{Image: "nginx", Want: "docker.io/library/nginx"},
	{Image: "nginx:1.25", Want: "docker.io/library/nginx"},
	{Image: "library/nginx", Want: "docker.io/library/nginx"},
	{Image: "docker.io/nginx", Want: "docker.io/library/nginx"},
	{Image: "index.docker.io/library/nginx", Want: "docker.io/library/nginx"},
	{Image: "foo/bar", Want: "docker.io/foo/bar"},
	{Image: "registry.io/foo:v1", Want: "registry.io/foo"},
	{Image: "registry.io/foo@" + Digest, Want: "registry.io/foo"},
	{Image: "registry.io:5000/foo/bar:tag", Want: "registry.io:5000/foo/bar"},
	{Image: "localhost/foo", Want: "localhost/foo"},
	{Image: "localhost:5000/foo", Want: "localhost:5000/foo"},
	{Image: "Registry.io/foo", Want: "Registry.io/foo"},
	{Image: "registry.io/Foo", Err: "invalid reference format: repository name (Foo) must be lowercase"},
	{Image: "myhost.docker.io/foo", Want: "myhost.docker.io/foo"},
}

// NormalizeExtras are image normalisations beyond kubelet.md §1.
var NormalizeExtras = []NormalizeExample{
	{Name: "tag and digest", Image: "registry.io/foo:v1@" + Digest, Want: "registry.io/foo"},
	{Name: "empty", Image: "", Err: "invalid reference format"},
	{Name: "scheme", Image: "https://registry.io/foo", Err: "invalid reference format"},
	{Name: "empty tag", Image: "registry.io/foo:", Err: "invalid reference format"},
	{Name: "latest tag", Image: "nginx:latest", Want: "docker.io/library/nginx"},
	{Name: "IPv6 host with port", Image: "[::1]:5000/foo", Want: "[::1]:5000/foo"},
	{Name: "IPv6 host", Image: "[::1]/foo", Want: "[::1]/foo"},
	{Name: "64 hex digits", Image: Hex64, Err: "invalid repository name (" + Hex64 + "), cannot specify 64-byte hexadecimal strings"},
	{Name: "digest as name", Image: Digest, Want: "docker.io/library/sha256"},
	{Name: "docker hub digest", Image: "docker.io/library/nginx@" + Digest, Want: "docker.io/library/nginx"},
}
