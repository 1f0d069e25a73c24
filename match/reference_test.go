package match

import (
	// go-digest checks sha256, sha384 and sha512 digests only when those
	// hashes are linked, as they are in the node binary (TLS).
	_ "crypto/sha256"
	_ "crypto/sha512"
	"strings"
	"testing"

	"github.com/distribution/reference"
)

// libraryDomainPath is the oracle: distribution/reference, which the
// kubelet parses images with.
func libraryDomainPath(s string) (domain, path string, err error) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return "", "", err
	}
	return reference.Domain(named), reference.Path(named), nil
}

// checkVsLibrary fails unless SplitImage and the library agree on s: the
// same domain and path, or the same error text.
func checkVsLibrary(t *testing.T, s string) {
	t.Helper()
	d, p, err := SplitImage(s)
	wd, wp, werr := libraryDomainPath(s)
	switch {
	case (err == nil) != (werr == nil):
		t.Fatalf("SplitImage(%q) = %q, %q, %v; library: %q, %q, %v", s, d, p, err, wd, wp, werr)
	case err != nil && err.Error() != werr.Error():
		t.Fatalf("SplitImage(%q) error %q; library %q", s, err, werr)
	case d != wd || p != wp:
		t.Fatalf("SplitImage(%q) = %q, %q; library %q, %q", s, d, p, wd, wp)
	}
	if err == nil {
		if n, _ := Normalize(s); n != wantName(wd, wp) {
			t.Fatalf("Normalize(%q) = %q, want %q", s, n, wantName(wd, wp))
		}
	}
}

func wantName(domain, path string) string {
	if domain == "" {
		return path
	}
	return domain + "/" + path
}

// referenceCases reach every branch of the grammar and of the checks after
// it; they also seed the fuzzer.
var referenceCases = []string{
	"", "nginx", "nginx:1.25", "nginx:latest@sha256:" + hex64, "library/nginx", "docker.io/nginx",
	"index.docker.io/library/nginx", "index.docker.io/nginx", "localhost/foo", "localhost:5000/foo:bar",
	"localhost", "localhost:5000", "registry.io:5000/foo/bar:tag", "Registry.io/foo", "registry.io/Foo",
	"Foo", "Foo/bar", "foo/Bar", "FOO_bar/baz", "a_b.c/x", "a_b:x/c", "[::1]:5000/foo", "[::1]/foo",
	"[::1]", "[]/foo", "[::g]/foo", "[::1]:/foo", "[::1]:5x/foo", "host:/foo", ":5000/foo", "/foo", "foo/",
	"foo//bar", "foo/bar/", "-foo/bar", "foo-/bar", "a.-b/c", "a.b-/c", "ex-ample.com/a", "a..b/c",
	"registry.io/a__b", "registry.io/a___b", "registry.io/a--b", "registry.io/a-_b", "registry.io/a._b",
	"registry.io/a.b.c", "registry.io/_a", "registry.io/a_", "registry.io/a.", hex64, "sha256:" + hex64,
	strings.ToUpper(hex64), hex64 + "/x", "registry.io/foo@sha256:" + hex64, "registry.io/foo@sha256:" + hex64[:63],
	"registry.io/foo@sha256:" + strings.ToUpper(hex64), "registry.io/foo@sha384:" + hex64 + hex64[:32],
	"registry.io/foo@sha512:" + hex64 + hex64, "registry.io/foo@md5:" + hex64[:32], "registry.io/foo@MD5:" + hex64[:32],
	"registry.io/foo@sha256:" + hex64[:31], "registry.io/foo@sha256+b64u.x:" + hex64, "registry.io/foo@1sha:" + hex64,
	"registry.io/foo@sha256-:" + hex64, "registry.io/foo@:" + hex64, "registry.io/foo@sha256", "registry.io/foo@",
	"registry.io/foo@sha256:" + hex64 + "@x", "registry.io/foo:", "registry.io/foo:.tag", "registry.io/foo:_tag",
	"registry.io/foo:" + strings.Repeat("t", 128), "registry.io/foo:" + strings.Repeat("t", 129), "registry.io/foo:a:b",
	"registry.io/foo:a/b", "registry.io/" + strings.Repeat("a", 255), "registry.io/" + strings.Repeat("a", 256),
	strings.Repeat("a", 248), strings.Repeat("a", 249), "docker.io/" + strings.Repeat("a", 247), "\u212Aube/x",
	"\u212Aube", "ku\u212Abe/x", "İ/x", "\xff/x", "registry.io/\xff", "a:b:c/d", "127.0.0.1:5000/x", "a.b.c.d/e",
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestSplitImageVsLibrary holds the cases against the library.
func TestSplitImageVsLibrary(t *testing.T) {
	for _, s := range referenceCases {
		checkVsLibrary(t, s)
	}
}

// FuzzSplitImageVsLibrary checks, for any string, that SplitImage accepts,
// refuses and splits exactly as distribution/reference does.
func FuzzSplitImageVsLibrary(f *testing.F) {
	for _, s := range referenceCases {
		f.Add(s)
	}
	f.Fuzz(checkVsLibrary)
}
