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
	inject := func(f fakecloud.Fault) {
		for _, op := range allOCIOps {
			w.oci.Inject(op, f)
		}
	}
	providertest.Run(t, &providertest.World{
		Role:             ocir.Role,
		Env:              w.env[len(w.env)-len(w.proxy.Env())-1:],
		Image:            mainImage,
		Registry:         mainHost,
		Foreign:          "docker.io/library/nginx",
		TokenCalls:       func() int { return w.oci.Count(fakecloud.OpOCIRToken) },
		Traffic:          w.traffic,
		SetTokenLifetime: w.oci.SetTokenTTL,
		Break:            func() { inject(fakecloud.Fault{Status: 500, Body: `{"code":"InternalServerError","message":"down"}`}) },
		Flood:            func() { inject(fakecloud.Fault{Endless: true}) },
		Restore:          func() { w.oci.Clear(); w.oci.SetTokenTTL(time.Hour) },
		Valid: func(user, pass string) bool {
			_, ok := w.oci.ValidToken(pass)
			return ok && user == ocir.Username
		},
	})
}
