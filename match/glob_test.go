package match

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
)

// urlsMatchRows are rows 1-18 of kubelet.md §5 (upstream TestURLsMatch).
var urlsMatchRows = []struct {
	row          int
	glob, target string
	want         bool
}{
	{1, "*.kubernetes.io", "prefix.kubernetes.io", true},
	{2, "prefix.*.io", "prefix.kubernetes.io", true},
	{3, "prefix.kubernetes.*", "prefix.kubernetes.io", true},
	{4, "*-good.kubernetes.io", "prefix-good.kubernetes.io", true},
	{5, "*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true},
	{6, "prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true},
	{7, "*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true},
	{8, "prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true},
	{9, "*.kubernetes.io", "kubernetes.io", false},
	{10, "*.*.kubernetes.io", "prefix.kubernetes.io", false},
	{11, "*.*.kubernetes.io", "kubernetes.io", false},
	{12, "*kubernetes.io", "a.kubernetes.io", false},
	{13, "*kubernetes.io", "kubernetes.io", true},
	{14, "*.*.*.kubernetes.io", "a.b.c.kubernetes.io", true},
	{15, "kubernetes.io", "kubernetes.com", false},
	{16, "k*.io", "quay.io", false},
	{17, "*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false},
	{18, "prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", false},
}

func TestURLsMatchUpstream(t *testing.T) {
	for _, tc := range urlsMatchRows {
		t.Run(fmt.Sprintf("row%02d", tc.row), func(t *testing.T) {
			if got := URLsMatch(tc.glob, tc.target); got != tc.want {
				t.Errorf("URLsMatch(%q, %q) = %v, want %v", tc.glob, tc.target, got, tc.want)
			}
		})
	}
}

// TestURLsMatchSemantics pins the rules of kubelet.md §2 beyond the upstream
// vectors, on both the plain fast path and the net/url path.
func TestURLsMatchSemantics(t *testing.T) {
	tests := []struct {
		name         string
		glob, target string
		want         bool
	}{
		{"port must be equal text, no default", "registry.io", "registry.io:443/foo", false},
		{"port 443 is not the empty port", "registry.io:443", "registry.io/foo", false},
		{"same port", "registry.io:5000", "registry.io:5000/foo", true},
		{"no port glob", "registry.io:*", "registry.io:5000/foo", false},
		{"path is a byte prefix", "registry.io/team", "registry.io/teamx/app", true},
		{"path trailing slash", "registry.io/team/", "registry.io/team", false},
		{"no path glob", "*.registry.io/*", "a.registry.io/foo", false},
		{"star alone matches one label", "*", "localhost/foo", true},
		{"star alone not two labels", "*", "registry.io/foo", false},
		{"partial label star", "*-docker.pkg.dev", "europe-docker.pkg.dev/p/r/i", true},
		{"ecr pattern", "*.dkr.ecr.*.amazonaws.com", "123.dkr.ecr.eu-west-1.amazonaws.com/app", true},
		{"ecr pattern not china", "*.dkr.ecr.*.amazonaws.com", "123.dkr.ecr.cn-north-1.amazonaws.com.cn/app", false},
		{"host case sensitive", "registry.io", "Registry.io/foo", false},
		{"docker hub", "docker.io", "docker.io/library/nginx", true},
		{"question mark starts a query", "reg?stry.io", "reg/foo", true},
		{"question mark is not a glob", "reg?stry.io", "regastry.io/foo", false},
		{"fragment dropped", "registry.io#x", "registry.io/foo", true},
		{"bracket is an IPv6 literal", "[a-z].io", "a.io", false},
		{"IPv6 literal host", "[::1]:5000", "[::1]:5000/foo", true},
		{"userinfo dropped", "user@registry.io", "registry.io/foo", true},
		{"escaped path decoded", "registry.io/%66oo", "registry.io/foo/bar", true},
		{"escaped star in path is literal", "registry.io/%2A", "registry.io/foo", false},
		{"invalid escape never matches", "%invalid%", "%invalid%", false},
		{"scheme pattern misses normalised image", "https://registry.io", "registry.io/foo", false},
		{"empty port after colon", "registry.io:", "registry.io/foo", true},
		{"several colons rejected", "a:1:2", "a:1:2", false},
		{"non-digit port rejected", "registry.io:x", "registry.io:x", false},
		{"empty pattern matches empty host only", "", "registry.io/foo", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := URLsMatch(tc.glob, tc.target); got != tc.want {
				t.Errorf("URLsMatch(%q, %q) = %v, want %v", tc.glob, tc.target, got, tc.want)
			}
		})
	}
}

func TestURLsMatchDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		URLsMatch("*.dkr.ecr.*.amazonaws.com:5000/team", "123456789012.dkr.ecr.eu-west-1.amazonaws.com:5000/team/app")
		URLsMatch("registry.io", "docker.io/library/nginx")
	})
	if allocs != 0 {
		t.Errorf("URLsMatch on plain input allocates %v times per run, want 0", allocs)
	}
}

func BenchmarkURLsMatch(b *testing.B) {
	for b.Loop() {
		URLsMatch("*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app")
	}
}

// FuzzURLsMatch checks the invariants of URLsMatch and Explain: no panic,
// Explain agrees with URLsMatch and gives a reason for every miss and none
// for a match, the plain fast path splits exactly as the net/url path does,
// and a match implies equal ports, equal label counts and a path prefix.
// Fidelity to the kubelet's URLsMatchStr is checked against the real code
// by FuzzURLsMatchVsKubelet in test/kubelet.
func FuzzURLsMatch(f *testing.F) {
	for _, tc := range urlsMatchRows {
		f.Add(tc.glob, tc.target)
	}
	for _, s := range [][2]string{
		{"https://registry.io", "registry.io/foo"}, {"*.registry.io/*", "a.registry.io/x"},
		{"[::1]:5000", "[::1]:5000/foo"}, {"user@r.io", "r.io/x"}, {"a:1:2", "a:1:2"},
		{"r.io/%2A", "r.io/*"}, {"reg?stry.io", "reg/x"}, {"", ""}, {":", ":/x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, glob, target string) {
		got := URLsMatch(glob, target)
		e := Explain(glob, target)
		if e.Match != got || (e.Reason == "") != e.Match {
			t.Fatalf("Explain(%q, %q) = %+v, URLsMatch says %v", glob, target, e, got)
		}
		parsed := map[string]schemeless{}
		for _, s := range []string{glob, target} {
			p, err := parseSchemeless(s)
			slow, serr := parseSlow(s)
			if (err != nil) != (serr != nil) {
				t.Fatalf("parseSchemeless(%q) error %v, net/url path error %v", s, err, serr)
			}
			if err != nil {
				if got {
					t.Fatalf("URLsMatch(%q, %q) = true, but %q does not parse: %v", glob, target, s, err)
				}
				return
			}
			if p != slow {
				t.Fatalf("parseSchemeless(%q) = %+v, net/url path %+v", s, p, slow)
			}
			parsed[s] = p
		}
		g, tg := parsed[glob], parsed[target]
		if got && (g.port != tg.port || labelCount(g.name) != labelCount(tg.name) || !strings.HasPrefix(tg.path, g.path)) {
			t.Fatalf("URLsMatch(%q, %q) = true with %+v vs %+v", glob, target, g, tg)
		}
	})
}

// parseSlow is parseSchemeless without its splitPlain fast path: the
// net/url branch alone, which the fast path must reproduce.
func parseSlow(s string) (schemeless, error) {
	u, err := url.Parse("https://" + s)
	if err != nil {
		return schemeless{}, err
	}
	name, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		name, port = u.Host, ""
	}
	return schemeless{name: name, port: port, path: u.Path}, nil
}
