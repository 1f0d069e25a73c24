package match

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kcred/kcred/match/matchtest"
)

// TestURLsMatchUpstream holds rows 1-18 of kubelet.md §5 (upstream
// TestURLsMatch).
func TestURLsMatchUpstream(t *testing.T) {
	for _, tc := range matchtest.URLVectors {
		t.Run(fmt.Sprintf("row%02d", tc.Row), func(t *testing.T) {
			if got := URLsMatch(tc.Glob, tc.Target); got != tc.Match {
				t.Errorf("URLsMatch(%q, %q) = %v, want %v", tc.Glob, tc.Target, got, tc.Match)
			}
		})
	}
}

// TestURLsMatchSemantics pins the rules of kubelet.md §2 beyond the upstream
// vectors, on both the plain fast path and the net/url path.
func TestURLsMatchSemantics(t *testing.T) {
	for _, tc := range matchtest.URLSemantics {
		t.Run(tc.Name, func(t *testing.T) {
			if got := URLsMatch(tc.Glob, tc.Target); got != tc.Match {
				t.Errorf("URLsMatch(%q, %q) = %v, want %v", tc.Glob, tc.Target, got, tc.Match)
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
	for _, tc := range matchtest.URLVectors {
		f.Add(tc.Glob, tc.Target)
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
			slow, serr := parseURL(s)
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
