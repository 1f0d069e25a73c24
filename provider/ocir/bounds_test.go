package ocir_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/provider/ocir"
)

// boundsCase is one OCIR flow with one of its operations broken: the calls
// before it work, so that the broken one is reached.
type boundsCase struct {
	name, op string
	env      []string
	// want is what the error line must name: the step that failed.
	want string
	// flood is what the line says of an endless body, when not
	// httpbound's error (see providertest.Flooded).
	flood string
}

// boundsCases returns, for each operation an exec reads a body from, the
// flow that reaches it: the instance principal's (metadata, federation,
// token) and the user principal's (token). (No flow reads the metadata's
// regionInfo: the SDK reads the region.)
func boundsCases(w *world) []boundsCase {
	user := []string{"OCIR_AUTH_METHOD=USER_PRINCIPAL", "OCI_CONFIG_FILE=" + w.userConfig}
	return []boundsCase{
		{name: "metadata region", op: fakecloud.OpOCIRegion, want: "instance metadata GET /instance/region"},
		{name: "metadata certificate", op: fakecloud.OpOCICert, want: "instance metadata GET /identity/cert.pem"},
		{name: "metadata key", op: fakecloud.OpOCIKey, want: "instance metadata GET /identity/key.pem"},
		{name: "metadata intermediate", op: fakecloud.OpOCIIntermediate, want: "identity/intermediate.pem"},
		{name: "federation", op: fakecloud.OpOCIFederation, want: "federation POST https://auth.us-ashburn-1.oraclecloud.com/v1/x509"},
		{name: "OCIR token", op: fakecloud.OpOCIRToken, want: "OCIR"},
		{name: "OCIR token (user principal)", op: fakecloud.OpOCIRToken, env: user, want: "OCIR"},
	}
}

// run runs tt with fault on its one operation, and checks the exec against
// bound (see providertest.BoundedWithin).
func (tt boundsCase) run(t *testing.T, w *world, fault fakecloud.Fault, bound time.Duration) string {
	t.Helper()
	w.oci.Inject(tt.op, fault)
	t.Cleanup(w.oci.Clear)
	line := providertest.BoundedWithin(t, bound, ocir.Role.Name, nil, append(append([]string{}, w.env...), tt.env...), providertest.NewRequest(mainImage))
	if !strings.Contains(line, tt.want) {
		t.Errorf("error line %q does not name what failed: want %q", line, tt.want)
	}
	return line
}

// Every OCI endpoint an exec reads from, each flooded on its own with an
// endless body, the calls before it working: each exec still ends with its
// one line, within the role's deadline and bounded memory.
func TestEndlessBodies(t *testing.T) {
	w := newWorld(t)
	for _, tt := range boundsCases(w) {
		t.Run(tt.name, func(t *testing.T) {
			providertest.Flooded(t, tt.run(t, w, fakecloud.Fault{Endless: true}, ocir.RequestDeadline), tt.flood)
		})
	}
}

// TestTrickledBody: a federation answer that trickles in, a byte at a time
// and far under the size bound, is ended by the role's deadline.
func TestTrickledBody(t *testing.T) {
	w := newWorld(t)
	for _, tt := range boundsCases(w) {
		if tt.op == fakecloud.OpOCIFederation {
			tt.run(t, w, fakecloud.Fault{Trickle: true, Body: `{"token":"`}, ocir.RequestDeadline+providertest.ExecSlack)
		}
	}
}
