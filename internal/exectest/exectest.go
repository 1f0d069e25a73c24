// Package exectest runs the built kcred binary the way the kubelet does: as a
// child process under a provider name (through a symlink), with an explicit
// environment, the request on stdin and the response read from stdout.
package exectest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildMu    sync.Mutex
	buildCache = map[string]buildResult{}
)

type buildResult struct {
	path string
	err  error
}

// Binary builds ./cmd/kcred once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	return Build(t, "kcred", "github.com/kcred/kcred/cmd/kcred")
}

// Build compiles pkg (without cgo) with the given go build flags into a
// temporary directory, once per process for each pkg and flags, and returns the
// binary's path (named name).
func Build(t testing.TB, name, pkg string, flags ...string) string {
	t.Helper()
	key := name + "\x00" + pkg + "\x00" + strings.Join(flags, "\x00")
	buildMu.Lock()
	defer buildMu.Unlock()
	r, ok := buildCache[key]
	if !ok {
		r = build(name, pkg, flags)
		buildCache[key] = r
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.path
}

func build(name, pkg string, flags []string) buildResult {
	dir, err := os.MkdirTemp("", "kcred-bin-")
	if err != nil {
		return buildResult{err: err}
	}
	out := filepath.Join(dir, name)
	args := append(append([]string{"build", "-o", out}, flags...), pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot()
	// Static, as `make build` builds the node binary.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return buildResult{err: errors.New("go " + strings.Join(args, " ") + ": " + err.Error() + "\n" + string(msg))}
	}
	return buildResult{path: out}
}

// moduleRoot finds the directory of go.mod above this source file.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Link returns the path of a symlink named name, in a fresh temporary bin
// directory, that points at the kcred binary, as a kubelet bin-dir holds it.
func Link(t testing.TB, name string) string {
	t.Helper()
	bin := Binary(t)
	path := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(bin, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// Result is what one exec produced.
type Result struct {
	Stdout string
	Stderr string
	// Code is the exit code (-1 when killed).
	Code int
	// Wall is the time from start to exit, as the kubelet waits for it.
	Wall time.Duration
	// MaxRSS is the child's peak resident set size in bytes.
	MaxRSS int64
	// CPU is the child's user plus system CPU time: unlike Wall, it does
	// not grow while other processes hold the CPU.
	CPU time.Duration
}

// Run executes path as Exec does and fails the test if it could not be
// started or ran past the time limit.
func Run(t testing.TB, path string, args, env []string, stdin string) Result {
	t.Helper()
	res, err := Exec(path, args, env, stdin)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Exec executes path with args, the environment env (nothing inherited) and
// stdin, and waits at most 70 seconds (longer than the kubelet's one minute,
// so a hang shows as an error rather than hanging the caller). A non-zero
// exit is a Result, not an error. Safe to call from any goroutine.
func Exec(path string, args, env []string, stdin string) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 70*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := Result{Wall: time.Since(start), Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return res, fmt.Errorf("exec %s: %w", path, err)
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("exec %s: still running after %v", path, res.Wall)
	}
	res.Code = cmd.ProcessState.ExitCode()
	res.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.MaxRSS = ru.Maxrss * 1024 // Linux reports KiB
	}
	return res, nil
}

// CleanEnv returns an environment isolated from the host's cloud
// configuration: PATH, a temporary HOME, AWS shared files pointed at
// non-existent temporary paths, instance metadata disabled, SDK retries
// limited, the token cache in a temporary directory. Append what a test
// needs; a later duplicate wins.
func CleanEnv(t testing.TB) []string {
	t.Helper()
	home := t.TempDir()
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "aws-config-absent"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "aws-credentials-absent"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
		"CLOUDSDK_CONFIG=" + filepath.Join(home, "gcloud"),
		"OCI_CONFIG_FILE=" + filepath.Join(home, "oci-config-absent"),
		"KCRED_CACHE_DIR=" + filepath.Join(home, "kcred-cache"),
	}
}

// IsolatedEnv is set by scripts/isolated (and so by `make test`): inside it a
// test that needs the loopback-only namespace fails when it is missing
// instead of skipping, so CI can never skip them silently.
const IsolatedEnv = "KCRED_ISOLATED"

// RequireIsolatedNetwork skips the test unless the process runs in a network
// namespace whose only interface is loopback, so that a call an emulator did
// not catch fails instead of leaving the machine. `make test` provides such a
// namespace; under it (KCRED_ISOLATED=1) a missing namespace is a failure.
func RequireIsolatedNetwork(t testing.TB) {
	t.Helper()
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatalf("list network interfaces: %v", err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		msg := fmt.Sprintf("network interface %s present: this test talks to emulators and runs only in a loopback-only network namespace; run it with `make test` (or scripts/isolated go test ...)", ifc.Name)
		if os.Getenv(IsolatedEnv) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// Make runs `make ARGS...` at the repository root, the way a release is
// built (the Makefile holds the release's build flags), and fails the test
// with make's output if it fails.
func Make(t testing.TB, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	cmd := exec.Command("make", append([]string{"--no-print-directory", "-C", moduleRoot()}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Request is a credentialprovider.kubelet.k8s.io/v1 CredentialProviderRequest
// for image, as the kubelet writes it on a plugin's stdin.
func Request(image string) string {
	return `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"` + image + `"}`
}

// Response is a CredentialProviderResponse as the kubelet reads it.
type Response struct {
	Kind          string `json:"kind"`
	APIVersion    string `json:"apiVersion"`
	CacheKeyType  string `json:"cacheKeyType"`
	CacheDuration string `json:"cacheDuration"`
	Auth          map[string]struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"auth"`
}
