package gcp_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/provider/gcp"
)

// allGCPOps are the operations Break and Flood turn bad.
var allGCPOps = []string{
	fakecloud.OpGCEToken, fakecloud.OpGCEEmail, fakecloud.OpGCEScopes, fakecloud.OpGCEAttribute, fakecloud.OpGCEMetadata,
	fakecloud.OpGoogleSTS, fakecloud.OpIAMGenerateAccessToken, fakecloud.OpGoogleOAuth2,
}

// TestConformance runs the suite with the node's service account from the
// metadata server (GCE_METADATA_HOST, plain HTTP on loopback) and, for
// service-account mode, GKE-style workload identity through Google STS
// behind the proxy.
func TestConformance(t *testing.T) {
	p, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	g := fakecloud.NewGCP()
	g.Install(p)
	g.TrustAudience(gkeAud)
	md := httptest.NewUnstartedServer(g.Metadata())
	var conns atomic.Int64
	md.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	md.Start()
	t.Cleanup(md.Close)
	providertest.Run(t, &providertest.World{
		Role:             gcp.Role,
		Args:             []string{"get-credentials", "--identity-provider=" + issuer, "--project-id=kcred-test"},
		Env:              append(p.Env(), "GCE_METADATA_HOST="+strings.TrimPrefix(md.URL, "http://")),
		Image:            arImage,
		Registry:         arHost,
		Foreign:          "docker.io/library/nginx",
		TokenCalls:       func() int { return g.Count(fakecloud.OpGCEToken) + g.Count(fakecloud.OpGoogleSTS) },
		Traffic:          func() int { return g.Count("") + p.Connections() + int(conns.Load()) },
		SetTokenLifetime: g.SetTokenLifetime,
		Break:            func() { g.InjectAll(fakecloud.Fault{Status: 503, Body: "Service Unavailable"}, allGCPOps...) },
		Deny:             func() { g.InjectAll(fakecloud.Fault{Status: 403, Body: gcpDenied}, tokenGCPOps...) },
		Flood:            func() { g.InjectAll(fakecloud.Fault{Endless: true}, allGCPOps...) },
		Restore:          func() { g.Clear(); g.SetTokenLifetime(time.Hour) },
		Valid: func(user, pass string) bool {
			_, ok := g.ValidAccessToken(pass)
			return ok && user == gcp.Username
		},
		ServiceAccount: &providertest.ServiceAccount{
			Annotations: map[string]string{gcp.AnnotationEnableWI: "true"},
			BreakExchange: func() {
				g.Inject(fakecloud.OpGoogleSTS, fakecloud.Fault{Status: 400, Body: `{"error":"invalid_grant","error_description":"ID Token issuer mismatch"}`})
			},
		},
	})
}

// tokenGCPOps issue the registry credential (TokenCalls): Deny refuses them.
var tokenGCPOps = []string{fakecloud.OpGCEToken, fakecloud.OpGoogleSTS}

const gcpDenied = `{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}`
