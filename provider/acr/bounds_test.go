package acr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/acr"
)

// boundsCase is one ACR flow with one of its operations broken: the calls
// before it work, so that the broken one is reached.
type boundsCase struct {
	name, op, config string
	env              []string
	// want is what the error line must name: the step that failed.
	want string
	// flood is what the line says of an endless body, when not
	// httpbound's error (see providertest.Flooded).
	flood string
}

// boundsCases wires c for every flow and returns, for each operation an
// exec reads a body from, the flow that reaches it.
func boundsCases(t *testing.T, c *cloud) []boundsCase {
	mi := c.file(t, "mi.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)
	sp := c.file(t, "sp.json", `{"tenantId":"t1","aadClientId":"c1","aadClientSecret":"s3cret-value"}`)
	return []boundsCase{
		{name: "instance metadata identity", op: fakecloud.OpAzureIMDS, config: mi, want: "managed identity"},
		{name: "App Service identity", op: fakecloud.OpAzureAppMI, config: mi, env: []string{"IDENTITY_ENDPOINT=http://identity.appservice.test/msi/token", "IDENTITY_HEADER=platform-secret"}, want: "managed identity"},
		{name: "Entra discovery", op: fakecloud.OpAzureDiscovery, config: sp, want: "service principal"},
		{name: "Entra token", op: fakecloud.OpAzureToken, config: sp, want: "service principal"},
		{name: "Entra via AZURE_AUTHORITY_HOST", op: fakecloud.OpAzureToken, config: sp, env: []string{"AZURE_AUTHORITY_HOST=https://login.microsoftonline.us/"}, want: "service principal"},
		// The flood answers 200: that alone is not a registry's challenge.
		{name: "registry challenge", op: fakecloud.OpACRChallenge, config: mi, want: "challenge", flood: "answered HTTP 200, want 401"},
		{name: "refresh-token exchange", op: fakecloud.OpACRExchange, config: mi, want: "exchange"},
		{name: "refresh-token exchange after Entra", op: fakecloud.OpACRExchange, config: sp, want: "exchange"},
	}
}

// run runs tt with fault on its one operation, and checks the exec against
// bound (see providertest.BoundedWithin).
func (tt boundsCase) run(t *testing.T, c *cloud, fault fakecloud.Fault, bound time.Duration) string {
	t.Helper()
	c.az.Inject(tt.op, fault)
	t.Cleanup(c.az.Clear)
	line := providertest.BoundedWithin(t, bound, acr.Role.Name, []string{tt.config}, append(c.proxy.Env(), tt.env...), providertest.NewRequest("myreg.azurecr.io/team/app"))
	if !strings.Contains(line, tt.want) {
		t.Errorf("error line %q does not name what failed: want %q", line, tt.want)
	}
	return line
}

// Every Azure endpoint an exec reads from, each flooded on its own with an
// endless body, the calls before it working: each exec still ends with its
// one line, within the fetch bound and bounded memory (the bound sits under
// azcore's transport).
func TestEndlessBodies(t *testing.T) {
	c := newCloud(t)
	for _, tt := range boundsCases(t, c) {
		t.Run(tt.name, func(t *testing.T) {
			providertest.Flooded(t, tt.run(t, c, fakecloud.Fault{Endless: true}, plugin.FetchTimeout), tt.flood)
		})
	}
}

// TestTrickledBody: a refresh-token exchange answer that trickles in, a
// byte at a time and far under the size bound, is ended by the fetch bound.
func TestTrickledBody(t *testing.T) {
	c := newCloud(t)
	for _, tt := range boundsCases(t, c) {
		if tt.name == "refresh-token exchange" {
			tt.run(t, c, fakecloud.Fault{Trickle: true, Body: `{"refresh_token":"`}, plugin.FetchTimeout+providertest.ExecSlack)
		}
	}
}
