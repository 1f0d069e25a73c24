package bench

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
)

// gcpImage is an Artifact Registry image.
const gcpImage = "europe-docker.pkg.dev/kcred-test/images/app"

// gcpScenario runs auth-provider-gcp on a GCE node (the stock args without
// their --v=3, whose log lines the unreachable cases would count as errors):
// the metadata server's scopes and token of the default service account,
// reached through GCE_METADATA_HOST (plain HTTP on loopback, as on GCE).
// Every emulator call counts as a cloud call.
func gcpScenario(b *testing.B) Scenario {
	exectest.RequireIsolatedNetwork(b)
	g := fakecloud.NewGCP()
	md := httptest.NewServer(g.Metadata())
	b.Cleanup(md.Close)
	return gcpScenarioAt(b, strings.TrimPrefix(md.URL, "http://"), g)
}

// gcpScenarioAt sends the metadata requests to host.
func gcpScenarioAt(b *testing.B, host string, g *fakecloud.GCP) Scenario {
	return Scenario{
		Role:    "auth-provider-gcp",
		Args:    []string{"get-credentials"},
		Env:     append(exectest.CleanEnv(b), "GCE_METADATA_HOST="+host),
		Request: Request(gcpImage),
		Calls:   func() int { return g.Count("") },
	}
}

func BenchmarkGCPWarm(b *testing.B) { Warm(b, gcpScenario(b)) }

func BenchmarkGCPCold(b *testing.B) { Cold(b, gcpScenario(b)) }

func BenchmarkGCPConcurrentCold50(b *testing.B) { Concurrent(b, gcpScenario(b), 50) }

// BenchmarkGCPUnreachableRefused: nothing listens at GCE_METADATA_HOST;
// the metadata library retries refused connections a few times.
func BenchmarkGCPUnreachableRefused(b *testing.B) {
	exectest.RequireIsolatedNetwork(b)
	addr := closedAddr(b)
	Unreachable(b, gcpScenarioAt(b, addr, fakecloud.NewGCP()), 5)
}

// BenchmarkGCPUnreachableBlackhole: the metadata server accepts
// connections and never answers; the time is kcred's fetch bound.
func BenchmarkGCPUnreachableBlackhole(b *testing.B) {
	exectest.RequireIsolatedNetwork(b)
	Unreachable(b, gcpScenarioAt(b, blackhole(b), fakecloud.NewGCP()), 2)
}
