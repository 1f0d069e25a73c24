package acr_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/provider/acr"
)

// harness runs the built binary as acr-credential-provider with its HTTP(S)
// traffic sent through a fakecloud proxy that serves the Azure emulator.
type harness struct {
	t     *testing.T
	az    *fakecloud.Azure
	proxy *fakecloud.Proxy
	bin   string
	env   []string
	dir   string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	exectest.RequireIsolatedNetwork(t)
	p, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	az := fakecloud.NewAzure()
	p.Route("identity.appservice.test", az.AppServiceIdentity("platform-secret"))
	az.Install(p, "myreg.azurecr.io", "xxx.azurecr.io", "yyy.azurecr.io", "zzz.azurecr.io", "myreg.azurecr.cn", "myreg.azurecr.us", "myreg.westeurope.geo.azurecr.io")
	return &harness{
		t: t, az: az, proxy: p,
		bin: exectest.Link(t, "acr-credential-provider"),
		env: append(exectest.CleanEnv(t), p.Env()...),
		dir: t.TempDir(),
	}
}

// file writes content to a new file and returns its path.
func (h *harness) file(name, content string) string {
	h.t.Helper()
	path := filepath.Join(h.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return path
}

type request struct {
	APIVersion  string            `json:"apiVersion"`
	Kind        string            `json:"kind"`
	Image       string            `json:"image"`
	SAToken     string            `json:"serviceAccountToken,omitempty"`
	Annotations map[string]string `json:"serviceAccountAnnotations,omitempty"`
}

func req(image string) request {
	return request{APIVersion: "credentialprovider.kubelet.k8s.io/v1", Kind: "CredentialProviderRequest", Image: image}
}

type response struct {
	APIVersion    string `json:"apiVersion"`
	CacheKeyType  string `json:"cacheKeyType"`
	CacheDuration string `json:"cacheDuration"`
	Auth          map[string]struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"auth"`
}

// with returns h reporting to t (a subtest).
func (h *harness) with(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

func (h *harness) run(args, env []string, r request) exectest.Result {
	h.t.Helper()
	b, _ := json.Marshal(r)
	return exectest.Run(h.t, h.bin, args, append(append([]string{}, h.env...), env...), string(b))
}

func (h *harness) ok(args, env []string, r request) response {
	h.t.Helper()
	res := h.run(args, env, r)
	if res.Code != 0 {
		h.t.Fatalf("exit %d\nstderr: %s", res.Code, res.Stderr)
	}
	var out response
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		h.t.Fatalf("response %q: %v", res.Stdout, err)
	}
	return out
}

// fail runs a request that must fail and returns its one-line error.
func (h *harness) fail(args, env []string, r request) string {
	line, _ := h.failStderr(args, env, r)
	return line
}

// failStderr is fail that also returns all of stderr (logs included).
func (h *harness) failStderr(args, env []string, r request) (string, string) {
	h.t.Helper()
	res := h.run(args, env, r)
	if res.Code != 1 || res.Stdout != "" {
		h.t.Fatalf("exit %d, stdout %q; want exit 1 and no output\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	// Log lines (at --v) come first; the error is the last line.
	lines := strings.Split(strings.TrimSuffix(res.Stderr, "\n"), "\n")
	line := lines[len(lines)-1]
	if !strings.HasPrefix(line, "acr-credential-provider: ") || !strings.HasSuffix(res.Stderr, "\n") {
		h.t.Fatalf("stderr does not end with one prefixed error line: %q", res.Stderr)
	}
	return line, res.Stderr
}

// checkCredential asserts a full-flow answer for registry keys, and returns
// the exchange call behind it.
func (h *harness) checkCredential(out response, registry string, keys ...string) fakecloud.Call {
	h.t.Helper()
	if out.CacheKeyType != "Registry" {
		h.t.Errorf("cacheKeyType %q, want Registry", out.CacheKeyType)
	}
	d, err := time.ParseDuration(out.CacheDuration)
	// The emulator's refresh tokens live 3h; the runtime subtracts 5m.
	if err != nil || d < 2*time.Hour+50*time.Minute || d > 2*time.Hour+55*time.Minute {
		h.t.Errorf("cacheDuration %q, want about 2h55m (refresh token expiry minus the margin)", out.CacheDuration)
	}
	if len(out.Auth) != len(keys) {
		h.t.Errorf("auth keys %v, want %v", out.Auth, keys)
	}
	var pass string
	for _, k := range keys {
		a, ok := out.Auth[k]
		if !ok || a.Username != acr.NullGUID || a.Password == "" {
			h.t.Fatalf("auth[%q] = %+v, want the null GUID and a refresh token", k, a)
		}
		pass = a.Password
	}
	g, ok := h.az.ValidRefreshToken(pass)
	if !ok || g.Registry != registry {
		h.t.Fatalf("password is not a refresh token for %s: %+v %v", registry, g, ok)
	}
	ex := h.az.Calls(fakecloud.OpACRExchange)
	if len(ex) != 1 {
		h.t.Fatalf("%d exchanges, want 1", len(ex))
	}
	f := ex[0].Form
	if f["grant_type"] != "access_token" || f["service"] != registry || f["api-version"] != "2021-07-01" || f["access_token"] == "" || f["refresh_token"] != "" {
		h.t.Errorf("exchange form %v", f)
	}
	if ex[0].Host != registry {
		h.t.Errorf("exchange sent to %q, want %q", ex[0].Host, registry)
	}
	if g.Identity != f["identity"] {
		h.t.Errorf("refresh token identity %q, exchange identity %q", g.Identity, f["identity"])
	}
	return ex[0]
}

func selfSignedPEM(t *testing.T) (string, string) {
	t.Helper()
	// MSAL signs client assertions with RSA only.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "sp"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})), base64.RawURLEncoding.EncodeToString(der)
}

// saToken is a service-account-like JWT (the plugin never verifies it).
func saToken(sub string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"iss":"https://oidc.example","sub":"`+sub+`","aud":["api://AzureADTokenExchange"]}`)) + ".c2ln"
}

func TestIdentities(t *testing.T) {
	certPEM, _ := selfSignedPEM(t)
	const resID = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet"
	sa := saToken("system:serviceaccount:app:puller")
	tests := []struct {
		name      string
		config    string
		env       []string
		request   request
		registry  string
		identity  string // the emulator's name for the identity exchanged
		tenant    string // the exchange's tenant field
		authority string // Entra host, "" for IMDS
		form      map[string]string
		miOp      string // the managed-identity endpoint called, default IMDS
	}{
		{
			name: "system-assigned managed identity", config: `{"cloud":"AzurePublicCloud","tenantId":"t1","useManagedIdentityExtension":true}`,
			registry: "myreg.azurecr.io", identity: "mi:system", tenant: "t1",
		},
		{
			name: "user-assigned managed identity by client ID", config: `{"tenantId":"t1","useManagedIdentityExtension":true,"userAssignedIdentityID":"11111111-aaaa"}`,
			registry: "myreg.azurecr.io", identity: "mi:client_id=11111111-aaaa", tenant: "t1",
		},
		{
			name: "user-assigned managed identity by resource ID", config: `{"tenantId":"t1","useManagedIdentityExtension":true,"userAssignedIdentityID":"` + resID + `"}`,
			registry: "myreg.azurecr.io", identity: "mi:msi_res_id=" + resID, tenant: "t1",
		},
		{
			name: "App Service managed identity", config: `{"tenantId":"t1","useManagedIdentityExtension":true,"userAssignedIdentityID":"app-client"}`,
			env:      []string{"IDENTITY_ENDPOINT=http://identity.appservice.test/msi/token", "IDENTITY_HEADER=platform-secret"},
			registry: "myreg.azurecr.io", identity: "mi:client_id=app-client", tenant: "t1", miOp: fakecloud.OpAzureAppMI,
		},
		{
			name: "service principal secret", config: `{"tenantId":"t1","aadClientId":"c1","aadClientSecret":"s3cret-value"}`,
			registry: "myreg.azurecr.io", identity: "sp:t1/c1:secret", tenant: "t1", authority: "login.microsoftonline.com",
			form: map[string]string{"client_secret": "s3cret-value", "client_id": "c1"},
		},
		{
			name: "service principal secret, YAML config", config: "tenantID: t1\naadClientID: c1\naadClientSecret: s3cret-value\n",
			registry: "myreg.azurecr.io", identity: "sp:t1/c1:secret", tenant: "t1", authority: "login.microsoftonline.com",
		},
		{
			name: "service principal certificate", config: `{"tenantId":"t1","aadClientId":"c1","aadClientCertPath":"CERT"}`,
			registry: "myreg.azurecr.io", identity: "sp:t1/c1:assertion", tenant: "t1", authority: "login.microsoftonline.com",
			form: map[string]string{"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		},
		{
			name: "workload identity from azure.json", config: `{"tenantId":"t1","aadClientId":"c1","useFederatedWorkloadIdentityExtension":true,"aadFederatedTokenFile":"WITOKEN"}`,
			registry: "myreg.azurecr.io", identity: "sp:t1/c1:assertion", tenant: "t1", authority: "login.microsoftonline.com",
			form: map[string]string{"client_assertion": "federated-jwt"},
		},
		{
			name: "workload identity from the environment", config: `{}`,
			env:      []string{"AZURE_FEDERATED_TOKEN_FILE=WITOKEN", "AZURE_CLIENT_ID=c2", "AZURE_TENANT_ID=t2"},
			registry: "myreg.azurecr.io", identity: "sp:t2/c2:assertion", tenant: "t2", authority: "login.microsoftonline.com",
			form: map[string]string{"client_assertion": "federated-jwt", "client_id": "c2"},
		},
		{
			name: "service principal secret from the environment", config: `{}`,
			env:      []string{"AZURE_CLIENT_SECRET=env-secret", "AZURE_CLIENT_ID=c3", "AZURE_TENANT_ID=t3"},
			registry: "myreg.azurecr.io", identity: "sp:t3/c3:secret", tenant: "t3", authority: "login.microsoftonline.com",
		},
		{
			name: "service-account token, managed identity switch off", config: `{"tenantId":"node-tenant","useManagedIdentityExtension":false}`,
			request:  request{SAToken: sa, Annotations: map[string]string{acr.AnnotationClientID: "pod-client", acr.AnnotationTenantID: "pod-tenant"}},
			registry: "myreg.azurecr.io", identity: "sp:pod-tenant/pod-client:assertion", tenant: "pod-tenant", authority: "login.microsoftonline.com",
			form: map[string]string{"client_assertion": sa, "client_id": "pod-client"},
		},
		{
			name: "service-account token, managed identity switch on", config: `{"tenantId":"node-tenant","useManagedIdentityExtension":true}`,
			request:  request{SAToken: sa, Annotations: map[string]string{acr.AnnotationClientID: "pod-client", acr.AnnotationTenantID: "pod-tenant"}},
			registry: "myreg.azurecr.io", identity: "sp:pod-tenant/pod-client:assertion", tenant: "pod-tenant", authority: "login.microsoftonline.com",
		},
		{
			name: "service-account token without annotations: node identity", config: `{"tenantId":"t1","useManagedIdentityExtension":true}`,
			request:  request{SAToken: sa},
			registry: "myreg.azurecr.io", identity: "mi:system", tenant: "t1",
		},
		{
			name: "China cloud", config: `{"cloud":"AzureChinaCloud","tenantId":"t1","aadClientId":"c1","aadClientSecret":"s"}`,
			registry: "myreg.azurecr.cn", identity: "sp:t1/c1:secret", tenant: "t1", authority: "login.chinacloudapi.cn",
		},
		{
			name: "US Government cloud", config: `{"cloud":"AzureUSGovernmentCloud","tenantId":"t1","aadClientId":"c1","aadClientSecret":"s"}`,
			registry: "myreg.azurecr.us", identity: "sp:t1/c1:secret", tenant: "t1", authority: "login.microsoftonline.us",
		},
		{
			name: "US Government cloud, managed identity", config: `{"cloud":"AzureUSGovernment","useManagedIdentityExtension":true}`,
			registry: "myreg.azurecr.us", identity: "mi:system",
		},
		{
			name: "regional endpoint", config: `{"tenantId":"t1","useManagedIdentityExtension":true}`,
			registry: "myreg.westeurope.geo.azurecr.io", identity: "mi:system", tenant: "t1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			cfg := strings.ReplaceAll(tt.config, "CERT", h.file("sp.pem", certPEM))
			cfg = strings.ReplaceAll(cfg, "WITOKEN", h.file("wi-token", "federated-jwt"))
			var env []string
			for _, e := range tt.env {
				env = append(env, strings.ReplaceAll(e, "WITOKEN", filepath.Join(h.dir, "wi-token")))
			}
			r := req(tt.registry + "/team/app")
			r.SAToken, r.Annotations = tt.request.SAToken, tt.request.Annotations
			out := h.ok([]string{h.file("azure.json", cfg)}, env, r)
			ex := h.checkCredential(out, tt.registry, tt.registry)
			if ex.Form["identity"] != tt.identity || ex.Form["tenant"] != tt.tenant {
				t.Errorf("exchanged identity %q tenant %q, want %q %q", ex.Form["identity"], ex.Form["tenant"], tt.identity, tt.tenant)
			}
			if tt.authority == "" {
				op, other := fakecloud.OpAzureIMDS, fakecloud.OpAzureAppMI
				if tt.miOp != "" {
					op, other = tt.miOp, fakecloud.OpAzureIMDS
				}
				mi := h.az.Calls(op)
				if len(mi) != 1 || mi[0].Form["resource"] != "https://containerregistry.azure.net" || h.az.Count(other) != 0 {
					t.Fatalf("%s calls %+v, %d %s calls", op, mi, h.az.Count(other), other)
				}
				if op == fakecloud.OpAzureIMDS && mi[0].Header.Get("Metadata") != "true" {
					t.Fatalf("IMDS call without Metadata: true: %+v", mi[0])
				}
				return
			}
			tok := h.az.Calls(fakecloud.OpAzureToken)
			if len(tok) != 1 || tok[0].Host != tt.authority || tok[0].Form["grant_type"] != "client_credentials" || !strings.Contains(" "+tok[0].Form["scope"]+" ", " "+acr.Scope+" ") {
				t.Fatalf("Entra token calls %+v, want one to %s", tok, tt.authority)
			}
			for k, v := range tt.form {
				if tok[0].Form[k] != v {
					t.Errorf("Entra form %s = %q, want %q", k, tok[0].Form[k], v)
				}
			}
			if n := h.az.Count(fakecloud.OpAzureIMDS); n != 0 {
				t.Errorf("%d IMDS calls, want 0", n)
			}
		})
	}
}

func TestCertificateAssertionNamesTheCertificate(t *testing.T) {
	h := newHarness(t)
	certPEM, derB64 := selfSignedPEM(t)
	cfg := h.file("azure.json", `{"tenantId":"t1","aadClientId":"c1","aadClientCertPath":"`+h.file("sp.pem", certPEM)+`"}`)
	h.ok([]string{cfg}, nil, req("myreg.azurecr.io/app"))
	assertion := h.az.Calls(fakecloud.OpAzureToken)[0].Form["client_assertion"]
	head, _, _ := strings.Cut(assertion, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("assertion header: %v", err)
	}
	var hdr map[string]any
	_ = json.Unmarshal(b, &hdr)
	der, _ := base64.RawURLEncoding.DecodeString(derB64)
	if hdr["x5t#S256"] == nil && hdr["x5t"] == nil {
		t.Fatalf("assertion header %v names no certificate (%d-byte cert)", hdr, len(der))
	}
}

func TestSeedConfigAndMirrors(t *testing.T) {
	h := newHarness(t)
	// Every run does the full flow: targets repeat across cases.
	h.env = append(h.env, "KCRED_CACHE=off")
	cfg := h.file("azure.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)

	// The seed: --registry-mirror=mcr.microsoft.com:xxx.azurecr.io, the
	// positional argument first, as in its kubelet config.
	out := h.ok([]string{cfg, "--registry-mirror=mcr.microsoft.com:xxx.azurecr.io"}, nil, req("mcr.microsoft.com/oss/nginx/nginx"))
	h.checkCredential(out, "xxx.azurecr.io", "mcr.microsoft.com", "xxx.azurecr.io")

	// Several mirrors, ports, the repeated flag and its shorthand.
	args := []string{cfg, "--registry-mirror=mcrx.microsoft.com:xxx.azurecr.io,reg.local:5000:yyy.azurecr.io", "-r", "ghcr.io/team:zzz.azurecr.io"}
	for image, want := range map[string][2]string{
		"reg.local:5000/app":   {"reg.local:5000", "yyy.azurecr.io"},
		"mcrx.microsoft.com/x": {"mcrx.microsoft.com", "xxx.azurecr.io"},
		"ghcr.io/team/app":     {"ghcr.io/team", "zzz.azurecr.io"},
	} {
		h.az.Reset()
		out := h.ok(args, nil, req(image))
		h.checkCredential(out, want[1], want[0], want[1])
	}
	// A source without its port, or another path, is not mirrored.
	for _, image := range []string{"reg.local/app", "ghcr.io/other/app"} {
		h.az.Reset()
		if out := h.ok(args, nil, req(image)); len(out.Auth) != 0 || h.az.Count("") != 0 {
			t.Errorf("%s: auth %v after %d calls, want an empty answer", image, out.Auth, h.az.Count(""))
		}
	}
	// A malformed mapping is an error, not silently skipped.
	if msg := h.fail([]string{cfg, "--registry-mirror=mcr.microsoft.com"}, nil, req("mcr.microsoft.com/x")); !strings.Contains(msg, "registry mirror") {
		t.Errorf("error %q", msg)
	}
}

func TestNonACRHostsGetAnEmptyAnswer(t *testing.T) {
	h := newHarness(t)
	cfg := h.file("azure.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)
	for _, image := range []string{
		"docker.io/library/nginx", "evilazurecr.io/app", "myreg.azurecr.io.example.com/app",
		"myreg.azurecr.io:5000/app", "a.b.azurecr.io/app", "myreg.azurecr.cn/app", "myreg.azurecr.de/app",
	} {
		res := h.run([]string{cfg}, nil, req(image))
		if res.Code != 0 {
			t.Fatalf("%s: exit %d: %s", image, res.Code, res.Stderr)
		}
		var out response
		if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil || len(out.Auth) != 0 {
			t.Errorf("%s: answer %q, want no credentials", image, res.Stdout)
		}
	}
	if n := h.az.Count(""); n != 0 {
		t.Errorf("%d emulator calls for non-ACR hosts, want 0", n)
	}
}

func TestCache(t *testing.T) {
	h := newHarness(t)
	cfg := h.file("azure.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)
	first := h.ok([]string{cfg}, nil, req("myreg.azurecr.io/a"))
	h.az.Reset()
	warm := h.ok([]string{cfg}, nil, req("myreg.azurecr.io/b"))
	if n := h.az.Count(""); n != 0 {
		t.Fatalf("warm cache: %d network calls, want 0", n)
	}
	if warm.Auth["myreg.azurecr.io"] != first.Auth["myreg.azurecr.io"] {
		t.Fatal("warm cache answered another credential")
	}
	// Another registry and another identity are other entries.
	h.ok([]string{cfg}, nil, req("xxx.azurecr.io/a"))
	h.ok([]string{h.file("uami.json", `{"useManagedIdentityExtension":true,"userAssignedIdentityID":"u1"}`)}, nil, req("myreg.azurecr.io/a"))
	if n := h.az.Count(fakecloud.OpACRExchange); n != 2 {
		t.Fatalf("%d exchanges for a new registry and a new identity, want 2", n)
	}

	// Concurrent cold execs (a fresh cache directory): one exchange.
	h.env = append(h.env, "KCRED_CACHE_DIR="+filepath.Join(t.TempDir(), "cold"))
	h.az.Reset()
	var wg sync.WaitGroup
	results := make([]exectest.Result, 6)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(req("myreg.azurecr.io/app"))
			results[i] = exectest.Run(t, h.bin, []string{cfg}, h.env, string(b))
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.Code != 0 {
			t.Fatalf("concurrent exec: exit %d: %s", r.Code, r.Stderr)
		}
	}
	if n := h.az.Count(fakecloud.OpACRExchange); n != 1 {
		t.Fatalf("%d exchanges for concurrent cold execs, want 1", n)
	}
}

func TestErrors(t *testing.T) {
	h := newHarness(t)
	mi := h.file("mi.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)
	sp := h.file("sp.json", `{"tenantId":"t1","aadClientId":"c1","aadClientSecret":"s3cret-value"}`)
	image := req("myreg.azurecr.io/app")
	tests := []struct {
		name  string
		setup func()
		args  []string
		env   []string
		r     request
		want  []string
		calls map[string]int
	}{
		{
			name: "unreachable identity endpoint", args: []string{mi},
			setup: func() { h.proxy.Route(fakecloud.IMDSHost, nil) },
			want:  []string{"Entra ID token", "managed identity"}, calls: map[string]int{fakecloud.OpACRExchange: 0},
		},
		{
			name: "Entra refuses the client", args: []string{sp},
			setup: func() {
				h.az.Inject(fakecloud.OpAzureToken, fakecloud.Fault{Status: 401, Body: `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}`})
			},
			want: []string{"HTTP 401 from login.microsoftonline.com", "invalid_client", "AADSTS7000215"},
		},
		{
			name: "401 from the exchange", args: []string{mi},
			setup: func() {
				h.az.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Status: 401, Body: `{"errors":[{"code":"UNAUTHORIZED","message":"body-text-never-echoed"}]}`})
			},
			want: []string{"exchange at https://myreg.azurecr.io/oauth2/exchange: HTTP 401", "AcrPull"},
		},
		{
			name: "malformed challenge", args: []string{mi},
			setup: func() {
				h.az.SetChallenge("myreg.azurecr.io", `Bearer realm="https://myreg.azurecr.io/oauth2/token,service=x`)
			},
			want: []string{"malformed challenge", "unterminated"}, calls: map[string]int{fakecloud.OpACRExchange: 0},
		},
		{
			name: "challenge realm on another host", args: []string{mi},
			setup: func() {
				h.az.SetChallenge("myreg.azurecr.io", `Bearer realm="https://evil.example/oauth2/token",service="myreg.azurecr.io"`)
			},
			want: []string{"not an https URL on myreg.azurecr.io"}, calls: map[string]int{fakecloud.OpACRExchange: 0},
		},
		{
			name: "service-account mode without the client annotation", args: []string{mi},
			r:    request{SAToken: saToken("system:serviceaccount:a:b"), Annotations: map[string]string{acr.AnnotationTenantID: "t"}},
			want: []string{acr.AnnotationClientID, "missing or empty"}, calls: map[string]int{"": 0},
		},
		{
			name: "refresh token already expired", args: []string{mi},
			setup: func() { h.az.RefreshTTL = -time.Hour },
			want:  []string{"token expired at ", "(check the node's clock)"},
		},
		{
			name: "registry unreachable", args: []string{mi},
			setup: func() { h.proxy.Route("myreg.azurecr.io", nil) },
			want:  []string{"GET https://myreg.azurecr.io/v2/: ", "(check that the node reaches myreg.azurecr.io on port 443 (DNS, firewall), HTTPS_PROXY/NO_PROXY and, for TLS errors, SSL_CERT_FILE)"},
			calls: map[string]int{fakecloud.OpACRExchange: 0},
		},
		{
			name: "proxy refuses connections", args: []string{sp}, env: []string{"HTTPS_PROXY=http://127.0.0.1:1"},
			want: []string{"get Entra ID token", "connection refused", "HTTPS_PROXY/NO_PROXY", "SSL_CERT_FILE)"}, calls: map[string]int{"": 0},
		},
		{
			name: "exchange answer not JSON", args: []string{mi},
			setup: func() {
				h.az.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Body: `<html>body-text-never-echoed`})
			},
			want: []string{"exchange at https://myreg.azurecr.io/oauth2/exchange: malformed answer", "no proxy rewrites its answers)"},
		},
		{
			name: "exchange answer without a refresh token", args: []string{mi},
			setup: func() {
				h.az.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Body: `{"access_token":"body-text-never-echoed"}`})
			},
			want: []string{"no refresh_token in the answer", "no proxy rewrites its answers)"},
		},
		{name: "mirror to another cloud", args: []string{mi, "--registry-mirror=mcr.microsoft.com:myreg.azurecr.cn"}, want: []string{"target is in AzureChinaCloud"}},
		{name: "no config argument", want: []string{"config file is not specified"}},
		{name: "two config arguments", args: []string{mi, sp}, want: []string{"exactly one argument"}},
		{name: "missing config file", args: []string{"/nonexistent/azure.json"}, want: []string{"read Azure config", "no such file"}},
		{
			name: "unparsable config", args: []string{h.file("bad.json", `{"aadClientSecret": "s3cret-value", "tenantId": [}`)},
			want: []string{"parse Azure config"},
		},
		{name: "unknown cloud", args: []string{h.file("cloud.json", `{"cloud":"AzureGermanCloud","useManagedIdentityExtension":true}`)}, want: []string{"unknown cloud"}},
		{name: "no identity", args: []string{h.file("none.json", `{"tenantId":"t1"}`)}, want: []string{"no Azure identity configured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.with(t)
			h.az.Reset()
			h.az.Clear()
			h.az.SetChallenge("myreg.azurecr.io", "")
			h.az.RefreshTTL = 3 * time.Hour
			h.proxy.Route(fakecloud.IMDSHost, h.az.IMDS())
			h.proxy.Route("myreg.azurecr.io", h.az.Registry())
			if tt.setup != nil {
				tt.setup()
			}
			r := image
			r.SAToken, r.Annotations = tt.r.SAToken, tt.r.Annotations
			start := time.Now()
			msg, stderr := h.failStderr(append(tt.args, "--v=10"), tt.env, r)
			if !strings.HasSuffix(msg, ")") {
				t.Errorf("error %q does not end with a hint in parentheses", msg)
			}
			t.Log(msg)
			// Bounded time, generously: well inside the kubelet's minute.
			if d := time.Since(start); d > 45*time.Second {
				t.Errorf("failed after %s", d)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for _, secret := range []string{"s3cret-value", "body-text-never-echoed", tt.r.SAToken} {
				if secret != "" && strings.Contains(stderr, secret) {
					t.Errorf("stderr at --v=10 contains a secret:\n%s", stderr)
				}
			}
			for op, n := range tt.calls {
				if got := h.az.Count(op); got != n {
					t.Errorf("%d %q calls, want %d", got, op, n)
				}
			}
		})
	}
}

func TestSecretsNeverOnStderr(t *testing.T) {
	h := newHarness(t)
	sa := saToken("system:serviceaccount:app:puller")
	cases := []struct {
		config string
		r      request
	}{
		{`{"tenantId":"t1","aadClientId":"c1","aadClientSecret":"s3cret-value"}`, req("myreg.azurecr.io/app")},
		{`{"tenantId":"t1"}`, request{SAToken: sa, Annotations: map[string]string{acr.AnnotationClientID: "c", acr.AnnotationTenantID: "t"}}},
		{`{"useManagedIdentityExtension":true}`, req("mcr.microsoft.com/app")},
	}
	for _, c := range cases {
		r := c.r
		if r.Image == "" {
			r = req("myreg.azurecr.io/app")
			r.SAToken, r.Annotations = c.r.SAToken, c.r.Annotations
		}
		h.az.Reset()
		b, _ := json.Marshal(r)
		res := exectest.Run(t, h.bin, []string{h.file("azure.json", c.config), "--v=10", "--registry-mirror=mcr.microsoft.com:xxx.azurecr.io"}, h.env, string(b))
		if res.Code != 0 {
			t.Fatalf("exit %d: %s", res.Code, res.Stderr)
		}
		if res.Stderr == "" {
			t.Fatal("nothing logged at --v=10")
		}
		var out response
		_ = json.Unmarshal([]byte(res.Stdout), &out)
		secrets := []string{"s3cret-value", sa}
		for _, a := range out.Auth {
			secrets = append(secrets, a.Password)
		}
		for _, call := range h.az.Calls(fakecloud.OpACRExchange) {
			secrets = append(secrets, call.Form["access_token"])
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(res.Stderr, s) {
				t.Fatalf("stderr at --v=10 contains a secret:\n%s", res.Stderr)
			}
		}
	}
}

func TestServicePrincipalPassthrough(t *testing.T) {
	h := newHarness(t)
	cfg := h.file("azure.json", `{"tenantId":"t1","aadClientId":"c1","aadClientSecret":"s3cret-value"}`)
	out := h.ok([]string{cfg, "--service-principal-passthrough"}, nil, req("myreg.azurecr.io/app"))
	if a := out.Auth["myreg.azurecr.io"]; a.Username != "c1" || a.Password != "s3cret-value" || out.CacheDuration != "" {
		t.Fatalf("answer %+v, want the client id and secret with no cacheDuration", out)
	}
	if n := h.az.Count(""); n != 0 {
		t.Fatalf("%d network calls in passthrough mode, want 0", n)
	}
}

func TestUnquotedChallenge(t *testing.T) {
	h := newHarness(t)
	// Upstream panics on this form; real ACR quotes, other fronts may not.
	h.az.SetChallenge("myreg.azurecr.io", `Bearer realm=https://myreg.azurecr.io/oauth2/token,service=myreg.azurecr.io`)
	cfg := h.file("azure.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)
	h.checkCredential(h.ok([]string{cfg}, nil, req("myreg.azurecr.io/app")), "myreg.azurecr.io", "myreg.azurecr.io")
}

func TestRefreshTokenWithoutExpiry(t *testing.T) {
	h := newHarness(t)
	// A refresh token kcred cannot read: it assumes one hour, not more.
	h.az.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Body: `{"refresh_token":"opaque-refresh"}`})
	cfg := h.file("azure.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)
	out := h.ok([]string{cfg}, nil, req("myreg.azurecr.io/app"))
	d, err := time.ParseDuration(out.CacheDuration)
	if err != nil || d < 50*time.Minute || d > 55*time.Minute || out.Auth["myreg.azurecr.io"].Password != "opaque-refresh" {
		t.Fatalf("answer %+v, want the token for about 55m", out)
	}
}

func TestExpiredRefreshTokenIsNotCached(t *testing.T) {
	h := newHarness(t)
	cfg := h.file("azure.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)
	h.az.RefreshTTL = -time.Minute
	if msg := h.fail([]string{cfg}, nil, req("myreg.azurecr.io/app")); !strings.Contains(msg, "token expired at") {
		t.Fatalf("error %q", msg)
	}
	h.az.RefreshTTL = 3 * time.Hour
	h.az.Reset()
	h.checkCredential(h.ok([]string{cfg}, nil, req("myreg.azurecr.io/app")), "myreg.azurecr.io", "myreg.azurecr.io")
}

func TestRefreshTokenLifetimeIsCapped(t *testing.T) {
	h := newHarness(t)
	enc := base64.RawURLEncoding.EncodeToString
	for _, exp := range []string{"1e300", "9223372036854775807", strconv.FormatInt(time.Now().Add(48*time.Hour).Unix(), 10)} {
		h.az.Reset()
		h.az.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Body: `{"refresh_token":"h.` + enc([]byte(`{"exp":`+exp+`}`)) + `.s"}`})
		// A fresh cache directory per case: the disk cache is capped too.
		env := []string{"KCRED_CACHE_DIR=" + t.TempDir()}
		out := h.ok([]string{h.file("azure.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)}, env, req("myreg.azurecr.io/app"))
		d, err := time.ParseDuration(out.CacheDuration)
		if err != nil || d > acr.Limits.MaxLifetime || d < acr.Limits.MaxLifetime-10*time.Minute {
			t.Errorf("exp %s: cacheDuration %q, want at most %s", exp, out.CacheDuration, acr.Limits.MaxLifetime)
		}
	}
}

func TestServiceAccountCacheIsPerToken(t *testing.T) {
	h := newHarness(t)
	cfg := h.file("azure.json", `{"tenantId":"t1"}`)
	ann := map[string]string{acr.AnnotationClientID: "c", acr.AnnotationTenantID: "t"}
	genuine := saToken("system:serviceaccount:app:puller")
	// Same header and claims, another signature: what anyone who saw a
	// token (or guessed its claims) could send.
	forged := genuine[:strings.LastIndexByte(genuine, '.')] + ".Zm9yZ2Vk"
	r := req("myreg.azurecr.io/app")
	r.SAToken, r.Annotations = genuine, ann
	first := h.ok([]string{cfg}, nil, r)
	h.az.Reset()
	r.SAToken = forged
	second := h.ok([]string{cfg}, nil, r)
	if second.Auth["myreg.azurecr.io"].Password == first.Auth["myreg.azurecr.io"].Password {
		t.Fatal("a forged service-account token got the cached credential of the genuine one")
	}
	if n := h.az.Count(fakecloud.OpAzureToken); n != 1 {
		t.Fatalf("%d Entra calls for another token, want 1 (Entra must check every token)", n)
	}
	// The genuine token again: a cache hit.
	h.az.Reset()
	r.SAToken = genuine
	if again := h.ok([]string{cfg}, nil, r); again.Auth["myreg.azurecr.io"] != first.Auth["myreg.azurecr.io"] || h.az.Count("") != 0 {
		t.Fatalf("the same token again: %d calls, want a cache hit", h.az.Count(""))
	}
}

func TestServicePrincipalPassthroughFromEnvironment(t *testing.T) {
	h := newHarness(t)
	cfg := h.file("azure.json", `{}`)
	env := []string{"AZURE_CLIENT_ID=c2", "AZURE_TENANT_ID=t2", "AZURE_CLIENT_SECRET=s3cret-value"}
	out := h.ok([]string{cfg, "--service-principal-passthrough"}, env, req("myreg.azurecr.io/app"))
	if a := out.Auth["myreg.azurecr.io"]; a.Username != "c2" || a.Password != "s3cret-value" || out.CacheDuration != "" {
		t.Fatalf("answer %+v, want AZURE_CLIENT_ID and AZURE_CLIENT_SECRET with no cacheDuration", out)
	}
	if n := h.az.Count(""); n != 0 {
		t.Fatalf("%d network calls in passthrough mode, want 0", n)
	}
}
