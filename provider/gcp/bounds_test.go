package gcp_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/httpbound"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/provider/gcp"
)

// opDockercfgURL is the one operation of the server a dockercfg-url names.
const opDockercfgURL = "dockercfg-url"

// boundsFlow is one flow of the role with one of its operations broken:
// the calls before it work, so that the broken one is reached.
type boundsFlow struct {
	name string
	// op is the operation broken; faults those of the emulator serving it.
	op     string
	faults *fakecloud.Faults
	args   []string
	env    []string
	req    providertest.Request
	// want is what the error line must name: the step that failed.
	want string
	// flood is what the line says of an endless body, when not
	// httpbound's error (see providertest.Flooded).
	flood string
}

// boundsFlows wires h for every flow of the role and returns, for each
// operation an exec reads a body from, the flow that reaches it.
func boundsFlows(t *testing.T, h *harness) []boundsFlow {
	h.gcp.TrustAudience(pool)
	h.gcp.AllowImpersonation(puller)
	h.gcp.SetDefaultAccount("node@kcred-test.iam.gserviceaccount.com", fakecloud.CloudPlatformScope)
	h.gcp.SetAttribute("google-dockercfg-url", "http://config.example.com/dockercfg")
	var cfgServer fakecloud.Faults
	h.proxy.Route("config.example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cfgServer.ApplyRequest(opDockercfgURL, w, r) {
			return
		}
		_, _ = w.Write([]byte(`{"auths":{"gcr.io":{"username":"u","password":"secret-b"}}}`))
	}))
	subject := h.file("subject", podJWT("node-1"))
	adc := func(sa string) []string {
		return []string{"GOOGLE_APPLICATION_CREDENTIALS=" + h.file("adc-"+sa+".json", externalAccount(subject, sa))}
	}
	user := []string{"GOOGLE_APPLICATION_CREDENTIALS=" + h.file("user.json", string(h.gcp.AuthorizedUserJSON()))}
	wifArgs := []string{stockArg, "--workload-identity-provider=" + pool}
	pod := podReq(arImage, podJWT("system:serviceaccount:ns:a"), map[string]string{gcp.AnnotationServiceAccount: puller})
	g := &h.gcp.Faults
	dockercfgURL := []string{stockArg, "--authFlow=dockercfg-url"}
	return []boundsFlow{
		{name: "metadata scopes", op: fakecloud.OpGCEScopes, faults: g, want: "metadata server"},
		{name: "metadata token", op: fakecloud.OpGCEToken, faults: g, want: "metadata server"},
		{name: "Google STS", op: fakecloud.OpGoogleSTS, faults: g, env: adc(""), want: "Google STS"},
		{name: "IAM Credentials", op: fakecloud.OpIAMGenerateAccessToken, faults: g, env: adc(puller), want: "impersonate service account " + puller},
		{name: "OAuth 2.0 token endpoint", op: fakecloud.OpGoogleOAuth2, faults: g, env: user, want: "OAuth 2.0"},
		{name: "pod Google STS", op: fakecloud.OpGoogleSTS, faults: g, args: wifArgs, req: pod, want: "Google STS"},
		{name: "pod IAM Credentials", op: fakecloud.OpIAMGenerateAccessToken, faults: g, args: wifArgs, req: pod, want: "impersonate service account " + puller},
		{name: "dockercfg-url attribute", op: fakecloud.OpGCEAttribute, faults: g, args: dockercfgURL, req: req("gcr.io/p/app"), want: "google-dockercfg-url"},
		{name: "dockercfg-url body", op: opDockercfgURL, faults: &cfgServer, args: dockercfgURL, req: req("gcr.io/p/app"), want: "the Docker config at the URL in google-dockercfg-url",
			flood: "the Docker config at the URL in google-dockercfg-url: larger than " + strconv.Itoa(httpbound.MaxBody) + " bytes"},
	}
}

// run runs f with fault on its one operation, and checks the exec against
// bound (see providertest.BoundedWithin).
func (f boundsFlow) run(t *testing.T, h *harness, fault fakecloud.Fault, bound time.Duration) string {
	t.Helper()
	f.faults.Inject(f.op, fault)
	t.Cleanup(f.faults.Clear)
	args, r := f.args, f.req
	if args == nil {
		// Not stock: its --v=3 logs more than the one line.
		args = []string{stockArg}
	}
	if r.Image == "" {
		r = req(arImage)
	}
	// The harness's environment without CleanEnv's, which BoundedWithin adds.
	line := providertest.BoundedWithin(t, bound, gcp.Role.Name, args, append(append([]string{}, h.env...), f.env...), r)
	if !strings.Contains(line, f.want) {
		t.Errorf("error line %q does not name what failed: want %q", line, f.want)
	}
	return line
}

// TestEndlessBodies floods each operation of each flow on its own with an
// endless 200 body, the earlier calls of the flow working, so that every
// read is proven bounded, not only a flow's first: one line naming the
// step, under 64 MiB, within the role's deadline.
func TestEndlessBodies(t *testing.T) {
	h := newHarness(t)
	for _, f := range boundsFlows(t, h) {
		t.Run(f.name, func(t *testing.T) {
			h.t = t
			providertest.Flooded(t, f.run(t, h, fakecloud.Fault{Endless: true}, gcp.RequestDeadline), f.flood)
		})
	}
}

// TestTrickledBody: a token answer that trickles in, a byte at a time and
// far under the size bound, is ended by the role's deadline.
func TestTrickledBody(t *testing.T) {
	h := newHarness(t)
	for _, f := range boundsFlows(t, h) {
		if f.op == fakecloud.OpGCEToken {
			f.run(t, h, fakecloud.Fault{Trickle: true}, gcp.RequestDeadline+providertest.ExecSlack)
		}
	}
}
