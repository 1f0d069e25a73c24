package bench

import (
	"os"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
)

// UpstreamECREnv names the upstream ECR plugin binary to compare with
// (built by bench/upstream-ecr; `make bench` builds it and sets this).
const UpstreamECREnv = "KCRED_UPSTREAM_ECR"

// BenchmarkUpstreamECR compares, exec by exec and interleaved with the
// floor, what a node pays per credential request: kcred answering from its
// warm cache and the upstream ECR plugin (k8s.io/cloud-provider-aws), which
// has no cache and asks the cloud on every exec. Both run against the same
// AWS emulator with the same environment.
func BenchmarkUpstreamECR(b *testing.B) {
	upstream := os.Getenv(UpstreamECREnv)
	if upstream == "" {
		b.Skip(UpstreamECREnv + " is not set: build the upstream plugin with bench/upstream-ecr (make bench does)")
	}
	s := ecrScenario(b)
	link := exectest.Link(b, s.Role)
	floor := Floor(b)
	cache := b.TempDir()
	s.exec(b, link, cache) // fills kcred's cache
	env := append(s.Env[:len(s.Env):len(s.Env)], "KCRED_CACHE_DIR="+cache)
	before := s.Calls()
	var ours, theirs, base Samples
	b.ResetTimer()
	for range b.N {
		base.Add(exectest.Run(b, floor, nil, nil, s.Request).Wall)
		ours.Add(s.exec(b, link, cache).Wall)
		res := exectest.Run(b, upstream, nil, env, s.Request)
		if res.Code != 0 || !strings.Contains(res.Stdout, `"auth"`) {
			b.Fatalf("upstream plugin exited %d without credentials: stdout %q, stderr %q", res.Code, res.Stdout, res.Stderr)
		}
		theirs.Add(res.Wall)
	}
	b.StopTimer()
	ours.Report(b, "kcred-warm")
	theirs.Report(b, "upstream")
	base.Report(b, "floor")
	b.ReportMetric(float64(theirs.Percentile(50))/float64(ours.Percentile(50)), "upstream/kcred-x")
	b.ReportMetric(float64(theirs.Percentile(50))/float64(base.Percentile(50)), "upstream/floor-x")
	b.ReportMetric(float64(s.Calls()-before)/float64(b.N), "upstream-cloud-calls/exec")
}
