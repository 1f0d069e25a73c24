package bench

import (
	"testing"

	"github.com/kcred/kcred/internal/exectest"
)

// Exec is what one measured exec produced: exit, output, wall time and peak
// RSS.
type Exec = exectest.Result

// Floor builds bench/floor once per process and returns its path.
func Floor(tb testing.TB) string {
	tb.Helper()
	return exectest.Build(tb, "floor", "github.com/kcred/kcred/bench/floor")
}

// Stripped builds ./cmd/kcred as `make build` does (-trimpath,
// -gcflags=all=-dwarf=false, -ldflags='-s -w'), once per process, and
// returns its path.
func Stripped(tb testing.TB) string {
	tb.Helper()
	return exectest.Build(tb, "kcred", "github.com/kcred/kcred/cmd/kcred", "-trimpath", "-gcflags=all=-dwarf=false", "-ldflags=-s -w")
}
