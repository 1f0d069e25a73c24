package bench

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
)

// Scenario is one provider role set up against its loopback emulators: the
// inputs of an exec and a way to count the cloud calls it causes.
type Scenario struct {
	// Role is the name the binary is linked under, as in a kubelet bin-dir.
	Role string
	// Args are the arguments the kubelet config passes.
	Args []string
	// Env is the complete environment that reaches the emulators, without a
	// cache directory: each measurement chooses its own.
	Env []string
	// Request is the CredentialProviderRequest written to stdin.
	Request string
	// Calls returns how many cloud calls the emulators have received so far.
	Calls func() int
}

// Request returns a v1 CredentialProviderRequest for image.
func Request(image string) string {
	return fmt.Sprintf(`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":%q}`, image)
}

// exec runs the scenario once through link with the token cache in
// cacheDir and fails the benchmark unless the plugin answered with
// credentials.
func (s Scenario) exec(b *testing.B, link, cacheDir string) Exec {
	b.Helper()
	res, err := s.try(link, cacheDir)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// try is exec for goroutines: it returns the failure instead.
func (s Scenario) try(link, cacheDir string) (Exec, error) {
	res, err := exectest.Exec(link, s.Args, append(s.Env[:len(s.Env):len(s.Env)], "KCRED_CACHE_DIR="+cacheDir), s.Request)
	if err == nil && (res.Code != 0 || !strings.Contains(res.Stdout, `"auth"`)) {
		err = fmt.Errorf("%s exited %d without credentials: stdout %q, stderr %q", s.Role, res.Code, res.Stdout, res.Stderr)
	}
	return res, err
}

// Warm measures an exec answered from a warm on-disk cache, interleaved
// with execs of the floor binary so that both see the same machine load,
// and reports both, their ratio (the headline; in wall time and in CPU
// time), the cloud calls made while warm (expected 0) and the peak RSS of
// one warm exec.
func Warm(b *testing.B, s Scenario) {
	link := exectest.Link(b, s.Role)
	floor := Floor(b)
	cache := b.TempDir()
	s.exec(b, link, cache) // fills the cache
	before := s.Calls()
	var warm, base, warmCPU, baseCPU Samples
	var rss int64
	b.ResetTimer()
	for range b.N {
		f := exectest.Run(b, floor, nil, nil, s.Request)
		if f.Code != 0 || f.Stdout != s.Request {
			b.Fatalf("floor binary did not echo its input: exit %d, %q", f.Code, f.Stdout)
		}
		base.Add(f.Wall)
		baseCPU.Add(f.CPU)
		res := s.exec(b, link, cache)
		warm.Add(res.Wall)
		warmCPU.Add(res.CPU)
		rss = max(rss, res.MaxRSS)
	}
	b.StopTimer()
	warm.Report(b, "warm")
	base.Report(b, "floor")
	b.ReportMetric(float64(warm.Percentile(50))/float64(base.Percentile(50)), "warm/floor-x")
	// CPU time (user + system) does not count time spent waiting for a
	// CPU, so on a shared machine its ratio holds where wall time swings.
	b.ReportMetric(ms(warmCPU.Percentile(50)), "warm-cpu-p50-ms")
	b.ReportMetric(ms(baseCPU.Percentile(50)), "floor-cpu-p50-ms")
	b.ReportMetric(float64(warmCPU.Percentile(50))/float64(max(baseCPU.Percentile(50), 1)), "warm/floor-cpu-x")
	b.ReportMetric(float64(s.Calls()-before), "cloud-calls")
	b.ReportMetric(mib(rss), "peak-rss-MiB")
}

// Cold measures an exec with an empty cache, through the emulators: its
// time, the cloud calls it makes and its peak RSS.
func Cold(b *testing.B, s Scenario) {
	link := exectest.Link(b, s.Role)
	root := b.TempDir()
	before := s.Calls()
	var cold Samples
	var rss int64
	b.ResetTimer()
	for i := range b.N {
		res := s.exec(b, link, fmt.Sprintf("%s/%d", root, i))
		cold.Add(res.Wall)
		rss = max(rss, res.MaxRSS)
	}
	b.StopTimer()
	cold.Report(b, "cold")
	b.ReportMetric(float64(s.Calls()-before)/float64(b.N), "cloud-calls/exec")
	b.ReportMetric(mib(rss), "peak-rss-MiB")
}

// Concurrent starts n execs at once on one empty cache, as a node does when
// many pods start together, and reports the wall time of the whole batch,
// the per-exec times and the cloud calls per batch (the cache's single
// flight should make it 1 per token).
func Concurrent(b *testing.B, s Scenario, n int) {
	link := exectest.Link(b, s.Role)
	root := b.TempDir()
	before := s.Calls()
	var batch, each Samples
	var mu sync.Mutex
	b.ResetTimer()
	for i := range b.N {
		cache := fmt.Sprintf("%s/%d", root, i)
		start := make(chan struct{})
		var wg sync.WaitGroup
		var errs []error
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := s.try(link, cache)
				mu.Lock()
				each.Add(res.Wall)
				errs = append(errs, err)
				mu.Unlock()
			}()
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		batch.Add(time.Since(t0))
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	batch.Report(b, "batch")
	each.Report(b, "exec")
	b.ReportMetric(float64(s.Calls()-before)/float64(b.N), "cloud-calls/batch")
}

// Unreachable measures the time to a clear error when the cloud cannot be
// reached (s.Env points at nothing that answers): the exec must fail with
// exit 1 and one line on stderr naming the role. Each exec waits out
// retries or timeouts, which vary little, so at most maxRuns are measured
// whatever -benchtime asks.
func Unreachable(b *testing.B, s Scenario, maxRuns int) {
	link := exectest.Link(b, s.Role)
	root := b.TempDir()
	var fail Samples
	b.ResetTimer()
	for i := range min(b.N, maxRuns) {
		res := exectest.Run(b, link, s.Args, append(s.Env[:len(s.Env):len(s.Env)], fmt.Sprintf("KCRED_CACHE_DIR=%s/%d", root, i)), s.Request)
		msg := strings.TrimSuffix(res.Stderr, "\n")
		if res.Code != 1 || res.Stdout != "" || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, s.Role+": ") {
			b.Fatalf("want exit 1 with one line on stderr; got exit %d, stdout %q, stderr %q", res.Code, res.Stdout, res.Stderr)
		}
		fail.Add(res.Wall)
	}
	b.StopTimer()
	fail.Report(b, "error")
}

// Without returns env without the variables named.
func Without(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, n := range names {
			keep = keep && name != n
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// fileSize returns the size of path in bytes.
func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// closedAddr returns a loopback host:port nothing listens on: a refused
// endpoint.
func closedAddr(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
