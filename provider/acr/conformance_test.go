package acr_test

import (
	"testing"
	"time"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/provider/acr"
)

func TestConformance(t *testing.T) {
	c := newCloud(t)
	az, p := c.az, c.proxy
	ops := []string{fakecloud.OpAzureIMDS, fakecloud.OpAzureDiscovery, fakecloud.OpAzureToken, fakecloud.OpACRChallenge, fakecloud.OpACRExchange}
	w := c.world
	w.Args = []string{c.file(t, "azure.json", `{"cloud":"AzurePublicCloud","tenantId":"t1","useManagedIdentityExtension":true}`)}
	w.Foreign = "docker.io/library/nginx"
	w.TokenCalls = func() int { return az.Count(fakecloud.OpACRExchange) }
	w.Traffic = func() int { return az.Count("") + p.Connections() }
	w.SetTokenLifetime = func(d time.Duration) { az.RefreshTTL = d }
	// A refusal the SDK does not retry: a 503 costs each check azcore's
	// backoff (seconds), to prove nothing more.
	w.Break = func() { az.InjectAll(fakecloud.Fault{Status: 403, Body: `{"error":"access_denied"}`}, ops...) }
	w.Deny = func() {
		az.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Status: 403, Body: `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`})
	}
	w.Flood = func() { az.InjectAll(fakecloud.Fault{Endless: true}, ops...) }
	w.Restore = func() { az.Clear(); az.RefreshTTL = 3 * time.Hour }
	w.Valid = func(user, pass string) bool {
		_, ok := az.ValidRefreshToken(pass)
		return ok && user == acr.NullGUID
	}
	w.ServiceAccount = &providertest.ServiceAccount{
		Annotations: map[string]string{acr.AnnotationClientID: "pod-client", acr.AnnotationTenantID: "pod-tenant"},
		BreakExchange: func() {
			az.Inject(fakecloud.OpAzureToken, fakecloud.Fault{Status: 401, Body: `{"error":"invalid_client","error_description":"AADSTS700016"}`})
		},
	}
	providertest.Run(t, w)
}
