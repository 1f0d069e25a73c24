package bench

import (
	"net/http/httptest"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
)

// ocirImage is an image in the registry the OCI emulator serves.
const ocirImage = "iad.ocir.io/tenancyns/app"

// ocirScenario runs oke-credential-provider as the instance principal:
// instance metadata on a loopback server (OCI_METADATA_BASE_URL), then X.509
// federation and the OCIR docker token through the fakecloud proxy
// (HTTPS_PROXY, SSL_CERT_FILE). Every emulator call counts as a cloud call.
func ocirScenario(b *testing.B) Scenario {
	exectest.RequireIsolatedNetwork(b)
	p, err := fakecloud.NewProxy()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	o, err := fakecloud.NewOCI()
	if err != nil {
		b.Fatal(err)
	}
	o.Install(p, "iad.ocir.io")
	meta := httptest.NewServer(o)
	b.Cleanup(meta.Close)
	return ocirScenarioVia(b, append(p.Env(), "OCI_METADATA_BASE_URL="+meta.URL+"/opc/v2"), o)
}

// ocirScenarioVia sends the plugin's traffic as env says.
func ocirScenarioVia(b *testing.B, env []string, o *fakecloud.OCI) Scenario {
	return Scenario{
		Role:    "oke-credential-provider",
		Env:     append(exectest.CleanEnv(b), env...),
		Request: Request(ocirImage),
		Calls:   func() int { return o.Count("") },
	}
}

func BenchmarkOCIRWarm(b *testing.B) { Warm(b, ocirScenario(b)) }

func BenchmarkOCIRCold(b *testing.B) { Cold(b, ocirScenario(b)) }

func BenchmarkOCIRConcurrentCold50(b *testing.B) { Concurrent(b, ocirScenario(b), 50) }

// BenchmarkOCIRUnreachableRefused: the metadata service's port is closed.
func BenchmarkOCIRUnreachableRefused(b *testing.B) {
	exectest.RequireIsolatedNetwork(b)
	url := "http://" + closedAddr(b)
	o, err := fakecloud.NewOCI()
	if err != nil {
		b.Fatal(err)
	}
	Unreachable(b, ocirScenarioVia(b, []string{"OCI_METADATA_BASE_URL=" + url + "/opc/v2"}, o), 5)
}

// BenchmarkOCIRUnreachableBlackhole: the metadata service accepts
// connections and never answers; the time is kcred's own bound.
func BenchmarkOCIRUnreachableBlackhole(b *testing.B) {
	exectest.RequireIsolatedNetwork(b)
	o, err := fakecloud.NewOCI()
	if err != nil {
		b.Fatal(err)
	}
	Unreachable(b, ocirScenarioVia(b, []string{"OCI_METADATA_BASE_URL=http://" + blackhole(b) + "/opc/v2"}, o), 2)
}
