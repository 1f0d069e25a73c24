package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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

var (
	floorOnce sync.Once
	floorPath string
	floorErr  error
)

// Floor builds bench/floor once per process and returns its path.
func Floor(tb testing.TB) string {
	tb.Helper()
	floorOnce.Do(func() {
		floorPath, floorErr = build("floor", "github.com/kcred/kcred/bench/floor")
	})
	if floorErr != nil {
		tb.Fatal(floorErr)
	}
	return floorPath
}

var (
	strippedOnce sync.Once
	strippedPath string
	strippedErr  error
)

// Stripped builds ./cmd/kcred as `make build` does (-trimpath,
// -ldflags='-s -w'), once per process, and returns its path.
func Stripped(tb testing.TB) string {
	tb.Helper()
	strippedOnce.Do(func() {
		strippedPath, strippedErr = build("kcred", "github.com/kcred/kcred/cmd/kcred", "-trimpath", "-ldflags=-s -w")
	})
	if strippedErr != nil {
		tb.Fatal(strippedErr)
	}
	return strippedPath
}

// build compiles pkg into a fresh temporary directory (left for the OS to
// clean, like exectest's binary) and returns the binary's path.
func build(name, pkg string, flags ...string) (string, error) {
	dir, err := os.MkdirTemp("", "kcred-bench-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	args := append(append([]string{"build", "-o", out}, flags...), pkg)
	cmd := exec.Command("go", args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New("go " + strings.Join(args, " ") + ": " + err.Error() + "\n" + string(msg))
	}
	return out, nil
}
