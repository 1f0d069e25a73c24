package ecr_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/provider/ecr"
)

// allAWSOps are the operations Break and Flood turn bad.
var allAWSOps = []string{
	fakecloud.OpIMDSToken, fakecloud.OpIMDSRole, fakecloud.OpIMDSCredentials, fakecloud.OpIMDSDocument,
	fakecloud.OpECRToken, fakecloud.OpECRPublicToken, fakecloud.OpSTSWebIdentity, fakecloud.OpContainerCreds,
}

func TestConformance(t *testing.T) {
	a := fakecloud.NewAWS()
	srv := httptest.NewUnstartedServer(a.Handler())
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	a.TrustRole(podRole)
	inject := func(f fakecloud.Fault) {
		for _, op := range allAWSOps {
			a.Inject(op, f)
		}
	}
	providertest.Run(t, &providertest.World{
		Role:     ecr.Role,
		Env:      append(fakecloud.Env(srv.URL), a.StaticEnv()...),
		Image:    privateImage,
		Registry: privateHost,
		// ECR answers any host with the configured region, as upstream
		// does: there is no foreign registry.
		TokenCalls:       func() int { return a.Count(fakecloud.OpECRToken) },
		Traffic:          func() int { return a.Count("") + int(conns.Load()) },
		SetTokenLifetime: a.SetTokenLifetime,
		Break:            func() { inject(fakecloud.Fault{Status: 500, Body: `{"__type":"ServerException","message":"down"}`}) },
		Flood:            func() { inject(fakecloud.Fault{Endless: true}) },
		Restore:          func() { a.Clear(); a.SetTokenLifetime(12 * time.Hour) },
		Valid:            a.ValidCredential,
		ServiceAccount: &providertest.ServiceAccount{
			Annotations:   map[string]string{roleARNAnn: podRole},
			BreakExchange: func() { a.Inject(fakecloud.OpSTSWebIdentity, fakecloud.Fault{Status: 403, Body: xmlAccessDenied}) },
		},
	})
}

const xmlAccessDenied = `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>`
