package main

import (
	"cmp"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
)

// The start-up budget (issue 16): what every package initialiser linked into
// the node binary allocates together, summed from GODEBUG=inittrace=1. Go
// runs every initialiser on every exec, and the kubelet execs kcred for
// every image pull its cache cannot answer, so this is paid per pull.
// Counts, unlike times, do not move with machine load (a few allocations
// and bytes from run to run). The budget is what issue 16 reached with
// every cloud linked and no k8s.io package (about 6,920 allocations and
// 0.94 MB; 9,050 and 1.17 MB with apimachinery, 17,300 and 2.26 MB before)
// plus 2%; raise it only with the numbers in docs/benchmarks.md and a
// reason.
const (
	initAllocsBudget = 7_060
	initBytesBudget  = 961_000
	// ownInitAllocsBudget bounds each of kcred's own packages: their
	// regexps and tables are built on first use (sync.OnceValue), so their
	// initialisers allocate next to nothing.
	ownInitAllocsBudget = 32
)

// initCost is one package's line of GODEBUG=inittrace=1.
type initCost struct {
	pkg           string
	bytes, allocs int
}

// parseInitTrace reads the lines "init PKG @T ms, C ms clock, B bytes, A
// allocs" and skips anything else.
func parseInitTrace(out string) ([]initCost, error) {
	var costs []initCost
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) != 11 || f[0] != "init" || f[8] != "bytes," || f[10] != "allocs" {
			continue
		}
		b, err1 := strconv.Atoi(f[7])
		a, err2 := strconv.Atoi(f[9])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("unreadable inittrace line %q", line)
		}
		costs = append(costs, initCost{pkg: f[1], bytes: b, allocs: a})
	}
	return costs, nil
}

func TestParseInitTrace(t *testing.T) {
	out := "kcred devel\ninit runtime @0.01 ms, 0.02 ms clock, 0 bytes, 0 allocs\n" +
		"init github.com/x/y @1.5 ms, 0.3 ms clock, 4096 bytes, 12 allocs\ninit broken line\n"
	got, err := parseInitTrace(out)
	want := []initCost{{"runtime", 0, 0}, {"github.com/x/y", 4096, 12}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("parseInitTrace = %v, %v; want %v", got, err, want)
	}
	if _, err := parseInitTrace("init a @1 ms, 1 ms clock, x bytes, 1 allocs\n"); err == nil {
		t.Fatal("parseInitTrace accepted a non-numeric count")
	}
}

// TestInitBudget runs the built binary with GODEBUG=inittrace=1 --version and
// fails when the initialisers together allocate more than the budget,
// naming the costliest packages.
func TestInitBudget(t *testing.T) {
	cmd := exec.Command(exectest.Binary(t), "--version")
	cmd.Env = append(exectest.CleanEnv(t), "GODEBUG=inittrace=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcred --version: %v\n%s", err, stderr.String())
	}
	costs, err := parseInitTrace(stderr.String())
	if err != nil || len(costs) == 0 {
		t.Fatalf("no inittrace from kcred --version (%v):\n%s", err, stderr.String())
	}
	var bytes, allocs int
	for _, c := range costs {
		bytes += c.bytes
		allocs += c.allocs
		if (c.pkg == "main" || strings.HasPrefix(c.pkg, "github.com/kcred/kcred/")) && c.allocs > ownInitAllocsBudget {
			t.Errorf("%s allocates %d times at init (budget %d): build its regexps and tables on first use (sync.OnceValue)", c.pkg, c.allocs, ownInitAllocsBudget)
		}
	}
	t.Logf("%d initialisers: %d bytes, %d allocs (budget %d bytes, %d allocs)", len(costs), bytes, allocs, initBytesBudget, initAllocsBudget)
	if bytes <= initBytesBudget && allocs <= initAllocsBudget {
		return
	}
	slices.SortFunc(costs, func(a, b initCost) int { return cmp.Compare(b.allocs, a.allocs) })
	var top strings.Builder
	for _, c := range costs[:min(len(costs), 15)] {
		fmt.Fprintf(&top, "\n  %6d allocs %9d bytes  %s", c.allocs, c.bytes, c.pkg)
	}
	t.Errorf("package initialisers allocate %d bytes in %d allocations on every exec, over the budget of %d bytes, %d allocations (issue 16; docs/benchmarks.md). Keep the new dependency out of the node binary or build its tables on first use. Costliest:%s",
		bytes, allocs, initBytesBudget, initAllocsBudget, top.String())
}
