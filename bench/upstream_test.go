package bench

import (
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
)

// UpstreamECREnv names the upstream ECR plugin binary to compare with
// (built by bench/upstream-ecr; `make bench` builds it and sets this).
const UpstreamECREnv = "KCRED_UPSTREAM_ECR"

// BenchmarkUpstreamECR compares, exec by exec and interleaved with the
// floor, what a node pays per credential request: kcred answering from its
// warm cache and the upstream ECR plugin (k8s.io/cloud-provider-aws), which
// has no cache and asks the cloud on every exec. Both take the node's
// usual identity, its instance profile through instance metadata (IMDS),
// from the same AWS emulator with the same environment; every emulator
// call counts.
func BenchmarkUpstreamECR(b *testing.B) {
	upstream := os.Getenv(UpstreamECREnv)
	if upstream == "" {
		b.Skip(UpstreamECREnv + " is not set: build the upstream plugin with bench/upstream-ecr (make bench does)")
	}
	exectest.RequireIsolatedNetwork(b)
	aws := fakecloud.NewAWS()
	srv := httptest.NewServer(aws.Handler())
	b.Cleanup(srv.Close)
	s := ecrScenarioAt(b, srv.URL, aws)
	s.Env = append(Without(s.Env, "AWS_EC2_METADATA_DISABLED", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "AWS_EC2_METADATA_DISABLED=false")
	link := exectest.Link(b, s.Role)
	floor := Floor(b)
	cache := b.TempDir()
	s.exec(b, link, cache) // fills kcred's cache
	env := append(s.Env[:len(s.Env):len(s.Env)], "KCRED_CACHE_DIR="+cache)
	var ours, theirs, base Samples
	var ourCalls, theirCalls int
	b.ResetTimer()
	for range b.N {
		base.Add(exectest.Run(b, floor, nil, nil, s.Request).Wall)
		n := aws.Count("")
		ours.Add(s.exec(b, link, cache).Wall)
		ourCalls += aws.Count("") - n
		n = aws.Count("")
		res := exectest.Run(b, upstream, nil, env, s.Request)
		if res.Code != 0 || !strings.Contains(res.Stdout, `"auth"`) {
			b.Fatalf("upstream plugin exited %d without credentials: stdout %q, stderr %q", res.Code, res.Stdout, res.Stderr)
		}
		theirCalls += aws.Count("") - n
		theirs.Add(res.Wall)
	}
	b.StopTimer()
	ours.Report(b, "kcred-warm")
	theirs.Report(b, "upstream")
	base.Report(b, "floor")
	b.ReportMetric(float64(theirs.Percentile(50))/float64(ours.Percentile(50)), "upstream/kcred-x")
	b.ReportMetric(float64(theirs.Percentile(50))/float64(base.Percentile(50)), "upstream/floor-x")
	b.ReportMetric(float64(ourCalls)/float64(b.N), "kcred-cloud-calls/exec")
	b.ReportMetric(float64(theirCalls)/float64(b.N), "upstream-cloud-calls/exec")
}
