package acr_test

import (
	"testing"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/provider/acr"
)

// Every Azure endpoint an exec reads from, answering an endless body: each
// exec still ends with its one line, within the fetch bound and bounded
// memory (the bound sits under azcore's transport).
func TestEndlessBodies(t *testing.T) {
	c := newCloud(t)
	az, p := c.az, c.proxy
	mi := c.file(t, "mi.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)
	sp := c.file(t, "sp.json", `{"tenantId":"t1","aadClientId":"c1","aadClientSecret":"s3cret-value"}`)
	tests := []struct {
		name, op, config string
		env              []string
	}{
		{"instance metadata identity", fakecloud.OpAzureIMDS, mi, nil},
		{"App Service identity", fakecloud.OpAzureAppMI, mi, []string{"IDENTITY_ENDPOINT=http://identity.appservice.test/msi/token", "IDENTITY_HEADER=platform-secret"}},
		{"Entra token", fakecloud.OpAzureToken, sp, nil},
		{"Entra via AZURE_AUTHORITY_HOST", fakecloud.OpAzureToken, sp, []string{"AZURE_AUTHORITY_HOST=https://login.microsoftonline.us/"}},
		{"registry challenge", fakecloud.OpACRChallenge, mi, nil},
		{"refresh-token exchange", fakecloud.OpACRExchange, mi, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			az.Inject(tt.op, fakecloud.Fault{Endless: true})
			t.Cleanup(az.Clear)
			providertest.Bounded(t, acr.Role.Name, []string{tt.config}, append(p.Env(), tt.env...), providertest.NewRequest("myreg.azurecr.io/team/app"))
		})
	}
}
