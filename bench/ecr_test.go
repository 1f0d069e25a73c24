package bench

import (
	"net"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
)

// ecrImage is an ECR private image in the emulator's region.
const ecrImage = "123456789012.dkr.ecr.eu-west-3.amazonaws.com/team/app"

// ecrScenario runs ecr-credential-provider with static credentials against
// the AWS emulator, whose ECR calls are the cloud calls counted.
func ecrScenario(b *testing.B) Scenario {
	exectest.RequireIsolatedNetwork(b)
	aws := fakecloud.NewAWS()
	srv := httptest.NewServer(aws.Handler())
	b.Cleanup(srv.Close)
	return ecrScenarioAt(b, srv.URL, aws)
}

// ecrScenarioAt points the AWS SDK at baseURL, with the node's default
// retry settings (exectest.CleanEnv limits attempts to 1 for fast tests;
// the benchmark wants what a node does).
func ecrScenarioAt(b *testing.B, baseURL string, aws *fakecloud.AWS) Scenario {
	env := Without(exectest.CleanEnv(b), "AWS_MAX_ATTEMPTS")
	env = append(env, fakecloud.Env(baseURL)...)
	env = append(env, aws.StaticEnv()...)
	return Scenario{
		Role:    "ecr-credential-provider",
		Args:    []string{"get-credentials"},
		Env:     env,
		Request: Request(ecrImage),
		Calls:   func() int { return aws.Count(fakecloud.OpECRToken) },
	}
}

func BenchmarkECRWarm(b *testing.B) { Warm(b, ecrScenario(b)) }

func BenchmarkECRCold(b *testing.B) { Cold(b, ecrScenario(b)) }

// ecrPublicScenario asks for an ECR Public image: the token comes from the
// ECR Public API (us-east-1), counted instead of ECR's.
func ecrPublicScenario(b *testing.B) Scenario {
	exectest.RequireIsolatedNetwork(b)
	aws := fakecloud.NewAWS()
	srv := httptest.NewServer(aws.Handler())
	b.Cleanup(srv.Close)
	s := ecrScenarioAt(b, srv.URL, aws)
	s.Request = Request("public.ecr.aws/team/app")
	s.Calls = func() int { return aws.Count(fakecloud.OpECRPublicToken) }
	return s
}

func BenchmarkECRPublicWarm(b *testing.B) { Warm(b, ecrPublicScenario(b)) }

func BenchmarkECRPublicCold(b *testing.B) { Cold(b, ecrPublicScenario(b)) }

func BenchmarkECRConcurrentCold50(b *testing.B) { Concurrent(b, ecrScenario(b), 50) }

// BenchmarkECRUnreachableRefused: the endpoint's port is closed, so every
// attempt is refused at once; the time is the SDK's retries and backoff.
func BenchmarkECRUnreachableRefused(b *testing.B) {
	exectest.RequireIsolatedNetwork(b)
	addr := closedAddr(b)
	Unreachable(b, ecrScenarioAt(b, "http://"+addr, fakecloud.NewAWS()), 5)
}

// BenchmarkECRUnreachableBlackhole: the endpoint accepts connections and
// never answers (a firewall that drops, a hung proxy); the time is kcred's
// own bounds, which must stay under the kubelet's one-minute exec timeout.
func BenchmarkECRUnreachableBlackhole(b *testing.B) {
	exectest.RequireIsolatedNetwork(b)
	addr := blackhole(b)
	s := ecrScenarioAt(b, "http://"+addr, fakecloud.NewAWS())
	Unreachable(b, s, 2)
}

// blackhole listens on loopback, accepts connections and never answers
// them, until the benchmark ends.
func blackhole(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
