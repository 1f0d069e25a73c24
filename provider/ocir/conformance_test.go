package ocir_test

import (
	"testing"
	"time"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/provider/ocir"
)

// allOCIOps are the operations Break and Flood turn bad.
var allOCIOps = []string{
	fakecloud.OpOCIRegion, fakecloud.OpOCIRegionInfo, fakecloud.OpOCICert, fakecloud.OpOCIKey,
	fakecloud.OpOCIIntermediate, fakecloud.OpOCIFederation, fakecloud.OpOCIRToken, fakecloud.OpOCIRManifest,
}

// TestConformance runs the cloud-token conformance suite against the OCI
// emulator, as the instance principal.
func TestConformance(t *testing.T) {
	w := newWorld(t)
	providertest.Run(t, &providertest.World{
		Role:             ocir.Role,
		Env:              w.env[len(w.env)-len(w.proxy.Env())-1:],
		Image:            mainImage,
		Registry:         mainHost,
		Foreign:          "docker.io/library/nginx",
		TokenCalls:       func() int { return w.oci.Count(fakecloud.OpOCIRToken) },
		Traffic:          w.traffic,
		SetTokenLifetime: w.oci.SetTokenTTL,
		Break: func() {
			w.oci.InjectAll(fakecloud.Fault{Status: 500, Body: `{"code":"InternalServerError","message":"down"}`}, allOCIOps...)
		},
		Deny: func() {
			w.oci.Inject(fakecloud.OpOCIRToken, fakecloud.Fault{Status: 403, Body: `{"code":"NotAuthorizedOrNotFound","message":"Authorization failed or requested resource not found"}`})
		},
		Flood:   func() { w.oci.InjectAll(fakecloud.Fault{Endless: true}, allOCIOps...) },
		Restore: func() { w.oci.Clear(); w.oci.SetTokenTTL(time.Hour) },
		Valid: func(user, pass string) bool {
			_, ok := w.oci.ValidToken(pass)
			return ok && user == ocir.Username
		},
	})
}
