package acr_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/provider/acr"
)

func TestConformance(t *testing.T) {
	p, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	az := fakecloud.NewAzure()
	az.Install(p, "myreg.azurecr.io")
	config := filepath.Join(t.TempDir(), "azure.json")
	if err := os.WriteFile(config, []byte(`{"cloud":"AzurePublicCloud","tenantId":"t1","useManagedIdentityExtension":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ops := []string{fakecloud.OpAzureIMDS, fakecloud.OpAzureDiscovery, fakecloud.OpAzureToken, fakecloud.OpACRChallenge, fakecloud.OpACRExchange}
	inject := func(f fakecloud.Fault) {
		for _, op := range ops {
			az.Inject(op, f)
		}
	}
	providertest.Run(t, &providertest.World{
		Role:             acr.Role,
		Args:             []string{config},
		Env:              p.Env(),
		Image:            "myreg.azurecr.io/team/app",
		Registry:         "myreg.azurecr.io",
		Foreign:          "docker.io/library/nginx",
		TokenCalls:       func() int { return az.Count(fakecloud.OpACRExchange) },
		Traffic:          func() int { return az.Count("") + p.Connections() },
		SetTokenLifetime: func(d time.Duration) { az.RefreshTTL = d },
		Break:            func() { inject(fakecloud.Fault{Status: 503, Body: `{"error":"temporarily_unavailable"}`}) },
		Flood:            func() { inject(fakecloud.Fault{Endless: true}) },
		Restore:          func() { az.Clear(); az.RefreshTTL = 3 * time.Hour },
		Valid: func(user, pass string) bool {
			_, ok := az.ValidRefreshToken(pass)
			return ok && user == acr.NullGUID
		},
		ServiceAccount: &providertest.ServiceAccount{
			Annotations: map[string]string{acr.AnnotationClientID: "pod-client", acr.AnnotationTenantID: "pod-tenant"},
			BreakExchange: func() {
				az.Inject(fakecloud.OpAzureToken, fakecloud.Fault{Status: 401, Body: `{"error":"invalid_client","error_description":"AADSTS700016"}`})
			},
		},
	})
}
