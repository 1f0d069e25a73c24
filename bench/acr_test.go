package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
)

// acrImage is an image in the registry the Azure emulator serves.
const acrImage = "myreg.azurecr.io/team/app"

// acrScenario runs acr-credential-provider with a system-assigned managed
// identity: IMDS, then the registry's challenge and refresh-token exchange,
// all through the fakecloud proxy (HTTPS_PROXY, SSL_CERT_FILE), as the
// node's SDKs would reach Azure. Every emulator call counts as a cloud call.
func acrScenario(b *testing.B) Scenario {
	exectest.RequireIsolatedNetwork(b)
	p, err := fakecloud.NewProxy()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	az := fakecloud.NewAzure()
	az.Install(p, "myreg.azurecr.io")
	return acrScenarioVia(b, p.Env(), az)
}

// acrScenarioVia sends the plugin's traffic as proxyEnv says.
func acrScenarioVia(b *testing.B, proxyEnv []string, az *fakecloud.Azure) Scenario {
	cfg := filepath.Join(b.TempDir(), "azure.json")
	err := os.WriteFile(cfg, []byte(`{"cloud":"AzurePublicCloud","tenantId":"t1","useManagedIdentityExtension":true}`), 0o600)
	if err != nil {
		b.Fatal(err)
	}
	return Scenario{
		Role:    "acr-credential-provider",
		Args:    []string{cfg},
		Env:     append(exectest.CleanEnv(b), proxyEnv...),
		Request: Request(acrImage),
		Calls:   func() int { return az.Count("") },
	}
}

func BenchmarkACRWarm(b *testing.B) { Warm(b, acrScenario(b)) }

func BenchmarkACRCold(b *testing.B) { Cold(b, acrScenario(b)) }

func BenchmarkACRConcurrentCold50(b *testing.B) { Concurrent(b, acrScenario(b), 50) }

// BenchmarkACRUnreachableRefused: the proxy's port is closed, so IMDS and
// the registry are refused at once.
func BenchmarkACRUnreachableRefused(b *testing.B) {
	exectest.RequireIsolatedNetwork(b)
	url := "http://" + closedAddr(b)
	Unreachable(b, acrScenarioVia(b, []string{"HTTPS_PROXY=" + url, "HTTP_PROXY=" + url, "NO_PROXY="}, fakecloud.NewAzure()), 5)
}

// BenchmarkACRUnreachableBlackhole: the proxy accepts connections and never
// answers; the time is kcred's and the SDKs' own bounds.
func BenchmarkACRUnreachableBlackhole(b *testing.B) {
	exectest.RequireIsolatedNetwork(b)
	url := "http://" + blackhole(b)
	s := acrScenarioVia(b, []string{"HTTPS_PROXY=" + url, "HTTP_PROXY=" + url, "NO_PROXY="}, fakecloud.NewAzure())
	Unreachable(b, s, 2)
}
