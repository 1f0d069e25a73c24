package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
)

// Exec is what one measured exec produced.
type Exec struct {
	// Wall is the time from start to exit, as the kubelet waits for it.
	Wall time.Duration
	// MaxRSS is the child's peak resident set size in bytes.
	MaxRSS int64
	// Code is the exit code.
	Code           int
	Stdout, Stderr string
}

// Run executes path with args, exactly env and stdin, as the kubelet does,
// and measures it. It fails the benchmark if the process cannot be started
// or runs past the kubelet's one-minute exec timeout.
func Run(tb testing.TB, path string, args, env []string, stdin string) Exec {
	tb.Helper()
	res, err := run(path, args, env, stdin)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// run is Run for goroutines, which must not stop the benchmark themselves.
func run(path string, args, env []string, stdin string) (Exec, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 70*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := Exec{Wall: time.Since(start), Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return res, fmt.Errorf("exec %s: %w", path, err)
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("exec %s: still running after %v", path, res.Wall)
	}
	res.Code = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.MaxRSS = ru.Maxrss * 1024 // Linux reports KiB
	}
	return res, nil
}

// Floor builds bench/floor once per process and returns its path.
func Floor(tb testing.TB) string {
	tb.Helper()
	return exectest.Build(tb, "floor", "github.com/kcred/kcred/bench/floor")
}

// Stripped builds ./cmd/kcred as `make build` does (-trimpath,
// -ldflags='-s -w'), once per process, and returns its path.
func Stripped(tb testing.TB) string {
	tb.Helper()
	return exectest.Build(tb, "kcred", "github.com/kcred/kcred/cmd/kcred", "-trimpath", "-ldflags=-s -w")
}
