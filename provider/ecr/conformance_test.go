package ecr_test

import (
	"testing"
	"time"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
)

// allAWSOps are the operations Break and Flood turn bad.
var allAWSOps = []string{
	fakecloud.OpIMDSToken, fakecloud.OpIMDSRole, fakecloud.OpIMDSCredentials, fakecloud.OpIMDSDocument,
	fakecloud.OpECRToken, fakecloud.OpECRPublicToken, fakecloud.OpSTSWebIdentity, fakecloud.OpContainerCreds,
}

func TestConformance(t *testing.T) {
	c := newCloud(t)
	a := c.aws
	a.TrustRole(podRole)
	w := c.world
	w.Env = append(w.Env, a.StaticEnv()...)
	// ECR answers any host with the configured region, as upstream does:
	// there is no foreign registry.
	w.TokenCalls = func() int { return a.Count(fakecloud.OpECRToken) }
	w.Traffic = func() int { return a.Count("") + int(c.conns.Load()) }
	w.SetTokenLifetime = a.SetTokenLifetime
	w.Break = func() {
		a.InjectAll(fakecloud.Fault{Status: 500, Body: `{"__type":"ServerException","message":"down"}`}, allAWSOps...)
	}
	w.Deny = func() {
		a.Inject(fakecloud.OpECRToken, fakecloud.Fault{Status: 403, Body: `{"__type":"AccessDeniedException","message":"not authorized to perform: ecr:GetAuthorizationToken"}`})
	}
	w.Flood = func() { a.InjectAll(fakecloud.Fault{Endless: true}, allAWSOps...) }
	w.Restore = func() { a.Clear(); a.SetTokenLifetime(12 * time.Hour) }
	w.Valid = a.ValidCredential
	w.ServiceAccount = &providertest.ServiceAccount{
		Annotations:   map[string]string{roleARNAnn: podRole},
		BreakExchange: func() { a.Inject(fakecloud.OpSTSWebIdentity, fakecloud.Fault{Status: 403, Body: xmlAccessDenied}) },
	}
	providertest.Run(t, w)
}

const xmlAccessDenied = `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>`
