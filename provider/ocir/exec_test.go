package ocir_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
)

// The registry host forms of us-ashburn-1, and an image on each.
var ashburnHosts = []string{"iad.ocir.io", "us-ashburn-1.ocir.io", "ocir.us-ashburn-1.oci.oraclecloud.com"}

const (
	mainImage = "iad.ocir.io/tenancyns/app:v1"
	mainHost  = "iad.ocir.io"
	userOCID  = "ocid1.user.oc1..aaaakcreduser"
)

// roleNames are the names the OCIR role answers to.
var roleNames = []string{"oke-credential-provider", "credential-provider-oke", "ocir-credential-provider"}

// world is the OCI emulator behind a loopback metadata server and the
// HTTPS proxy, with a user API key in an OCI config file.
type world struct {
	oci        *fakecloud.OCI
	proxy      *fakecloud.Proxy
	conns      atomic.Int64
	env        []string
	home       string
	userConfig string
	metaURL    string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	exectest.RequireIsolatedNetwork(t)
	o, err := fakecloud.NewOCI()
	if err != nil {
		t.Fatal(err)
	}
	p, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	o.Install(p, ashburnHosts...)
	w := &world{oci: o, proxy: p}
	meta := httptest.NewUnstartedServer(o)
	meta.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			w.conns.Add(1)
		}
	}
	meta.Start()
	t.Cleanup(meta.Close)
	w.metaURL = meta.URL

	u, err := o.AddUser(userOCID)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "oci_api_key.pem")
	w.userConfig = filepath.Join(dir, "config")
	writeFile(t, keyFile, string(u.KeyPEM))
	writeFile(t, w.userConfig, u.Config("DEFAULT", keyFile, "us-ashburn-1"))

	clean := exectest.CleanEnv(t)
	for _, kv := range clean {
		if home, ok := strings.CutPrefix(kv, "HOME="); ok {
			w.home = home
		}
	}
	w.env = append(append(clean, p.Env()...), "OCI_METADATA_BASE_URL="+meta.URL+"/opc/v2")
	return w
}

// traffic is every call and metadata connection the emulator saw.
func (w *world) traffic() int { return w.oci.Count("") + int(w.conns.Load()) }

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// response is a CredentialProviderResponse as the kubelet reads it.
type response = providertest.Response

func request(image string) string {
	b, _ := json.Marshal(providertest.NewRequest(image))
	return string(b)
}

// run execs the role under name with the world's environment plus env (a
// later duplicate wins) and the request for image.
func (w *world) run(t *testing.T, name string, args, env []string, image string) exectest.Result {
	t.Helper()
	return exectest.Run(t, exectest.Link(t, name), args, append(append([]string{}, w.env...), env...), request(image))
}

// answer checks a successful answer for host and returns its password.
func (w *world) answer(t *testing.T, res exectest.Result, host string) (response, string) {
	t.Helper()
	if res.Code != 0 {
		t.Fatalf("exit %d\nstderr: %s", res.Code, res.Stderr)
	}
	var out response
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		t.Fatalf("stdout is not a response: %v\n%s", err, res.Stdout)
	}
	a, ok := out.Auth[host]
	if !ok || len(out.Auth) != 1 || a.Username != "BEARER_TOKEN" || out.CacheKeyType != "Registry" {
		t.Fatalf("answer %+v, want one BEARER_TOKEN credential under %s", out, host)
	}
	if _, ok := w.oci.ValidToken(a.Password); !ok {
		t.Fatalf("password for %s is not a token OCIR issued", host)
	}
	return out, a.Password
}

// TestExecNamesHostsPrincipals runs the built binary under each of its
// names, for each host form, as the instance principal and as a user
// principal configured by env and by -config YAML.
func TestExecNamesHostsPrincipals(t *testing.T) {
	w := newWorld(t)
	yaml := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, yaml, "registryTokenPath: /20180419/docker/token\ndefaultUser: BEARER_TOKEN\nregistryProtocol: https\nocirAuthMethod: USER_PRINCIPAL\n")
	principals := []struct {
		name     string
		args     []string
		env      []string
		identity string
	}{
		{"instance", nil, nil, "instance:" + w.oci.Instance},
		{"user-env", nil, []string{"OCIR_AUTH_METHOD=USER_PRINCIPAL", "OCI_CONFIG_FILE=" + w.userConfig}, "user:" + userOCID},
		{"user-yaml", []string{"-config", yaml}, []string{"OCI_CONFIG_FILE=" + w.userConfig}, "user:" + userOCID},
	}
	for i, name := range roleNames {
		for _, p := range principals {
			for _, host := range ashburnHosts {
				t.Run(name+"/"+p.name+"/"+host, func(t *testing.T) {
					env := append([]string{"KCRED_CACHE_DIR=" + t.TempDir()}, p.env...)
					image := host + "/tenancyns/app:v" + fmt.Sprint(i)
					res := w.run(t, name, append([]string{"--v=10"}, p.args...), env, image)
					_, pass := w.answer(t, res, host)
					noSecrets(t, res.Stderr)
					if g, _ := w.oci.ValidToken(pass); g.Identity != p.identity || g.Registry != host {
						t.Fatalf("token issued to %q for %q, want %q for %q", g.Identity, g.Registry, p.identity, host)
					}
				})
			}
		}
	}
}

// TestExecForeignImageNoTraffic: an image on another registry is answered
// empty with no OCI call at all, under either principal.
func TestExecForeignImageNoTraffic(t *testing.T) {
	w := newWorld(t)
	for _, env := range [][]string{nil, {"OCIR_AUTH_METHOD=USER_PRINCIPAL", "OCI_CONFIG_FILE=" + w.userConfig}} {
		for _, image := range []string{"docker.io/library/nginx", "nope.ocir.io/ns/app", "artifacts.us-ashburn-1.oci.oraclecloud.com/x/y"} {
			before := w.traffic()
			res := w.run(t, roleNames[0], nil, env, image)
			if res.Code != 0 {
				t.Fatalf("%s: exit %d: %s", image, res.Code, res.Stderr)
			}
			var out response
			if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil || len(out.Auth) != 0 {
				t.Fatalf("%s: answer %q, want an empty one", image, res.Stdout)
			}
			if n := w.traffic() - before; n != 0 {
				t.Fatalf("%s: %d calls to OCI for a foreign image", image, n)
			}
		}
	}
}

// TestExecStrayConfigChangesNothing: under INSTANCE_PRINCIPAL an OCI config
// on the node (home directory and OCI_CONFIG_FILE) is not used; upstream
// signed again with it and so silently changed identity.
func TestExecStrayConfigChangesNothing(t *testing.T) {
	w := newWorld(t)
	raw, err := os.ReadFile(w.userConfig)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(w.home, ".oci", "config"), string(raw))
	res := w.run(t, roleNames[0], nil, []string{"OCI_CONFIG_FILE=" + w.userConfig, "OCIR_AUTH_METHOD=INSTANCE_PRINCIPAL"}, mainImage)
	_, pass := w.answer(t, res, mainHost)
	if g, _ := w.oci.ValidToken(pass); g.Identity != "instance:"+w.oci.Instance {
		t.Fatalf("signed as %q, want the instance", g.Identity)
	}
	for _, c := range w.oci.Calls(fakecloud.OpOCIRToken) {
		if c.Form["principal"] != "instance" {
			t.Fatalf("a token call signed as %q", c.Form["principal"])
		}
	}
}

// TestExecFederationCachedAcrossHosts: a cold exec for a second OCIR host
// reuses the node's security token (no federation, no second session).
func TestExecFederationCachedAcrossHosts(t *testing.T) {
	w := newWorld(t)
	env := []string{"KCRED_CACHE_DIR=" + t.TempDir()}
	for _, host := range ashburnHosts {
		w.answer(t, w.run(t, roleNames[0], nil, env, host+"/ns/app:v1"), host)
	}
	if n := w.oci.Count(fakecloud.OpOCIFederation); n != 1 {
		t.Fatalf("%d federation calls for three hosts, want 1", n)
	}
	if n := w.oci.Count(fakecloud.OpOCIRToken); n != 3 {
		t.Fatalf("%d token calls for three hosts, want 3", n)
	}
	// Warm: no call at all.
	before := w.traffic()
	w.answer(t, w.run(t, roleNames[0], nil, env, mainImage), mainHost)
	if n := w.traffic() - before; n != 0 {
		t.Fatalf("warm exec made %d calls", n)
	}
}

// TestExecTokenValidation: with TOKEN_VALIDATION=enabled a refused token
// (403: the IAM policy is missing) is answered for 2 minutes only; one that
// reads the manifest (404 here) gets its full lifetime.
func TestExecTokenValidation(t *testing.T) {
	w := newWorld(t)
	env := []string{"TOKEN_VALIDATION=enabled", "KCRED_CACHE_DIR=" + t.TempDir()}
	w.oci.Inject(fakecloud.OpOCIRManifest, fakecloud.Fault{Status: 403, Body: `{"errors":[{"code":"DENIED"}]}`})
	res := w.run(t, roleNames[0], []string{"--v=2"}, env, mainImage)
	out, _ := w.answer(t, res, mainHost)
	if d, err := time.ParseDuration(out.CacheDuration); err != nil || d < 110*time.Second || d > 2*time.Minute {
		t.Fatalf("cacheDuration %q after a refused validation, want 2m0s", out.CacheDuration)
	}
	if !strings.Contains(res.Stderr, "token validation: the token was refused") {
		t.Fatalf("--v=2 does not say why: %s", res.Stderr)
	}
	calls := w.oci.Calls(fakecloud.OpOCIRManifest)
	if len(calls) != 1 || calls[0].Form["path"] != "/v2/tenancyns/app/manifests/v1" {
		t.Fatalf("manifest reads %+v", calls)
	}
	w.oci.Clear()
	time.Sleep(time.Second)
	// The short answer is in the node cache for its 2 minutes: expire it by
	// using another cache.
	env[1] = "KCRED_CACHE_DIR=" + t.TempDir()
	out, _ = w.answer(t, w.run(t, roleNames[0], nil, env, mainImage), mainHost)
	if d, err := time.ParseDuration(out.CacheDuration); err != nil || d < 50*time.Minute {
		t.Fatalf("cacheDuration %q after a working validation, want about the token's hour", out.CacheDuration)
	}
}

// failure is one broken endpoint.
type failure struct {
	name  string
	op    string
	fault fakecloud.Fault
	// want is a fragment the stderr line must hold.
	want string
}

// TestExecFailures breaks each endpoint in each way the issue lists: one
// stderr line, exit 1, empty stdout, within 20 s, and no token, security
// token or key material on stderr even at --v=10.
func TestExecFailures(t *testing.T) {
	w := newWorld(t)
	var cases []failure
	endpoints := []struct{ name, op, want string }{
		{"metadata-region", fakecloud.OpOCIRegion, "instance metadata GET /instance/region"},
		{"metadata-cert", fakecloud.OpOCICert, "instance metadata GET /identity/cert.pem"},
		{"metadata-key", fakecloud.OpOCIKey, "instance metadata GET /identity/key.pem"},
		{"federation", fakecloud.OpOCIFederation, "federation POST https://auth.us-ashburn-1.oraclecloud.com/v1/x509"},
		{"token", fakecloud.OpOCIRToken, "OCIR"},
	}
	for _, e := range endpoints {
		cases = append(cases,
			failure{e.name + "/401", e.op, fakecloud.Fault{Status: 401, Body: `{"code":"NotAuthenticated","message":"The required information to complete authentication was not provided."}`}, e.want},
			failure{e.name + "/400", e.op, fakecloud.Fault{Status: 400, Body: `{"code":"InvalidParameter","message":"bad"}`}, e.want},
			failure{e.name + "/500", e.op, fakecloud.Fault{Status: 500, Body: `{"code":"InternalServerError","message":"down"}`}, e.want},
			failure{e.name + "/blackhole", e.op, fakecloud.Fault{Hang: true}, e.want},
		)
	}
	cases = append(cases,
		failure{"federation/malformed", fakecloud.OpOCIFederation, fakecloud.Fault{Body: `{"token":`}, "security token"},
		failure{"federation/expired", fakecloud.OpOCIFederation, fakecloud.Fault{Body: `{"token":"` + w.oci.ExpiredJWT() + `"}`}, "expired"},
		failure{"federation/no-exp", fakecloud.OpOCIFederation, fakecloud.Fault{Body: `{"token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}`}, "security token"},
		failure{"token/malformed", fakecloud.OpOCIRToken, fakecloud.Fault{Body: `{"token":`}, "not the token JSON"},
		failure{"token/empty", fakecloud.OpOCIRToken, fakecloud.Fault{Body: `{}`}, "no token"},
		failure{"metadata-cert/garbage", fakecloud.OpOCICert, fakecloud.Fault{Body: "not a certificate"}, "certificate"},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.oci.Clear()
			w.oci.Inject(c.op, c.fault)
			t.Cleanup(w.oci.Clear)
			res := w.run(t, roleNames[0], []string{"--v=10"}, []string{"KCRED_CACHE_DIR=" + t.TempDir()}, mainImage)
			lines := strings.Split(strings.TrimSpace(res.Stderr), "\n")
			last := lines[len(lines)-1]
			switch {
			case res.Code != 1:
				t.Fatalf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
			case res.Stdout != "":
				t.Fatalf("stdout %q, want empty", res.Stdout)
			case res.Wall > 20*time.Second:
				t.Fatalf("took %v, want under 20 s", res.Wall)
			case !strings.HasPrefix(last, "oke-credential-provider: ") || !strings.Contains(last, c.want):
				t.Fatalf("last stderr line %q, want the role's one-line error naming %q", last, c.want)
			}
			// At --v=10 every other line is a log record: the error is one line.
			for _, l := range lines[:len(lines)-1] {
				if !strings.HasPrefix(l, "time=") {
					t.Fatalf("stderr line %q is neither a log record nor the last line\nstderr: %s", l, res.Stderr)
				}
			}
			noSecrets(t, res.Stderr)
			t.Logf("%v: %s", res.Wall.Round(100*time.Millisecond), last)
		})
	}
}

// TestExecUserPrincipalFailures: a missing OCI config is refused before any
// call; a key OCIR does not know is a 401 naming the API key to check.
func TestExecUserPrincipalFailures(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	other, err := fakecloud.NewOCI()
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := other.AddUser(userOCID)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "stranger.pem")
	writeFile(t, keyFile, string(stranger.KeyPEM))
	strangerConfig := filepath.Join(dir, "stranger-config")
	writeFile(t, strangerConfig, stranger.Config("DEFAULT", keyFile, "us-ashburn-1"))
	incomplete := filepath.Join(dir, "incomplete")
	writeFile(t, incomplete, "[DEFAULT]\nuser="+userOCID+"\n")
	cases := []struct {
		name, config, want string
		traffic            bool
	}{
		{"missing config", filepath.Join(dir, "absent"), "read the OCI config " + filepath.Join(dir, "absent"), false},
		{"incomplete profile", incomplete, "check that the DEFAULT profile has user, fingerprint, tenancy and key_file", false},
		{"unknown key", strangerConfig, "OCIR answered 401 Unauthorized", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := w.traffic()
			res := w.run(t, roleNames[0], nil, []string{"OCIR_AUTH_METHOD=USER_PRINCIPAL", "OCI_CONFIG_FILE=" + c.config, "KCRED_CACHE_DIR=" + t.TempDir()}, mainImage)
			if res.Code != 1 || res.Stdout != "" || strings.Count(res.Stderr, "\n") != 1 || !strings.Contains(res.Stderr, c.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want one line holding %q", res.Code, res.Stdout, res.Stderr, c.want)
			}
			if got := w.traffic() != before; got != c.traffic {
				t.Fatalf("OCI traffic: %v, want %v", got, c.traffic)
			}
		})
	}
}

// noSecrets fails when stderr holds what looks like a token (the
// emulator's tokens are JWTs), a security token keyId or key material.
func noSecrets(t *testing.T, stderr string) {
	t.Helper()
	for _, secret := range []string{"eyJ", "PRIVATE KEY", "BEGIN", "ST$"} {
		if strings.Contains(stderr, secret) {
			t.Fatalf("stderr holds %q:\n%s", secret, stderr)
		}
	}
}

// TestExecSDKKnobs: the SDK's own settings reach the instance principal:
// OCI_SDK_AUTH_CLIENT_REGION_URL replaces the federation host, and a
// dedicated region taught by OCI_REGION_METADATA gets its registry
// recognised and its realm's federation host.
func TestExecSDKKnobs(t *testing.T) {
	t.Run("auth client URL", func(t *testing.T) {
		w := newWorld(t)
		w.proxy.Route(w.oci.AuthHost(), nil)
		env := []string{"OCI_SDK_AUTH_CLIENT_REGION_URL=" + w.metaURL, "KCRED_CACHE_DIR=" + t.TempDir()}
		w.answer(t, w.run(t, roleNames[0], nil, env, mainImage), mainHost)
		calls := w.oci.Calls(fakecloud.OpOCIFederation)
		if len(calls) != 1 || !strings.HasPrefix(calls[0].Host, "127.0.0.1:") {
			t.Fatalf("federation calls %+v, want one to the loopback URL", calls)
		}
	})
	t.Run("dedicated region", func(t *testing.T) {
		w := newWorld(t)
		const host = "ocir.us-dedicated-1.oci.dedicated.example"
		w.oci.Region = "us-dedicated-1"
		w.oci.RegionInfo = fakecloud.OCIRegionInfo{RealmKey: "oc77", RealmDomainComponent: "dedicated.example", RegionKey: "DDX", RegionIdentifier: "us-dedicated-1"}
		w.oci.Install(w.proxy, host)
		env := []string{
			`OCI_REGION_METADATA={"realmKey":"OC77","realmDomainComponent":"dedicated.example","regionKey":"DDX","regionIdentifier":"us-dedicated-1"}`,
			"KCRED_CACHE_DIR=" + t.TempDir(),
		}
		w.answer(t, w.run(t, roleNames[0], nil, env, host+"/ns/app:v1"), host)
		calls := w.oci.Calls(fakecloud.OpOCIFederation)
		if len(calls) != 1 || calls[0].Host != "auth.us-dedicated-1.dedicated.example" {
			t.Fatalf("federation calls %+v, want one to the dedicated realm's auth host", calls)
		}
		// Without the region metadata the host is not OCIR: no answer, no call.
		before := w.traffic()
		res := w.run(t, roleNames[0], nil, []string{"OCI_REGION_METADATA="}, host+"/ns/app:v1")
		if res.Code != 0 || strings.Contains(res.Stdout, "BEARER_TOKEN") || w.traffic() != before {
			t.Fatalf("unknown region: exit %d, stdout %q, %d calls", res.Code, res.Stdout, w.traffic()-before)
		}
	})
}
