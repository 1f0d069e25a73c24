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
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/provider/acr"
)

// These tests hold what is ACR's own (each identity, clouds, mirrors,
// challenge and exchange errors, service-account annotations); the
// contracts every cloud role keeps are the conformance suite's. They run
// the role in-process, its HTTPS traffic going through the test binary's
// proxy (providertest.Main) to the Azure emulator.

func TestMain(m *testing.M) { providertest.Main(m) }

// registries are the login servers the emulator serves.
var registries = []string{"myreg.azurecr.io", "xxx.azurecr.io", "yyy.azurecr.io", "zzz.azurecr.io", "myreg.azurecr.cn", "myreg.azurecr.us", "myreg.westeurope.geo.azurecr.io"}

// cloud is an Azure emulator behind the test binary's proxy and the role
// wired to it.
type cloud struct {
	az    *fakecloud.Azure
	proxy *fakecloud.Proxy
	dir   string
	world *providertest.World
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	exectest.RequireIsolatedNetwork(t)
	p := providertest.Proxy(t)
	az := fakecloud.NewAzure()
	// MSAL keeps managed-identity tokens in a process-wide cache that
	// in-process runs would share (a node runs one exec per process). It
	// never serves a token with under 5 minutes left: with these, every run
	// asks this emulator.
	az.AccessTTL = 4 * time.Minute
	p.Route("identity.appservice.test", az.AppServiceIdentity("platform-secret"))
	az.Install(p, registries...)
	return &cloud{az: az, proxy: p, dir: t.TempDir(), world: &providertest.World{
		Role: acr.Role, Env: p.Env(), Image: "myreg.azurecr.io/team/app", Registry: "myreg.azurecr.io",
	}}
}

// file writes content to a new file and returns its path.
func (c *cloud) file(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs the role in-process with args (azure.json first, then flags),
// env and the token cache off.
func (c *cloud) run(t *testing.T, args, env []string, req providertest.Request) providertest.Result {
	t.Helper()
	w := *c.world
	w.Args = args
	w.Setenv(t, append([]string{"KCRED_CACHE=off"}, env...)...)
	return w.Main(t, t.TempDir(), req)
}

func request(image string) providertest.Request { return providertest.NewRequest(image) }

func saRequest(image, token string, ann map[string]string) providertest.Request {
	r := request(image)
	r.SAToken, r.Annotations = token, ann
	return r
}

// checkCredential checks a full-flow answer for registry under keys, and
// returns the one exchange behind it.
func (c *cloud) checkCredential(t *testing.T, res providertest.Result, registry string, keys ...string) fakecloud.Call {
	t.Helper()
	out := res.Response(t)
	if out.CacheKeyType != "Registry" {
		t.Errorf("cacheKeyType %q, want Registry", out.CacheKeyType)
	}
	d, err := time.ParseDuration(out.CacheDuration)
	// The emulator's refresh tokens live 3h; the runtime subtracts 5m.
	if err != nil || d < 2*time.Hour+50*time.Minute || d > 2*time.Hour+55*time.Minute {
		t.Errorf("cacheDuration %q, want about 2h55m (refresh token expiry minus the margin)", out.CacheDuration)
	}
	if len(out.Auth) != len(keys) {
		t.Errorf("auth keys %v, want %v", out.Auth, keys)
	}
	var pass string
	for _, k := range keys {
		a, ok := out.Auth[k]
		if !ok || a.Username != acr.NullGUID || a.Password == "" {
			t.Fatalf("auth[%q] = %+v, want the null GUID and a refresh token", k, a)
		}
		pass = a.Password
	}
	g, ok := c.az.ValidRefreshToken(pass)
	if !ok || g.Registry != registry {
		t.Fatalf("password is not a refresh token for %s: %+v %v", registry, g, ok)
	}
	ex := c.az.Calls(fakecloud.OpACRExchange)
	if len(ex) != 1 {
		t.Fatalf("%d exchanges, want 1", len(ex))
	}
	f := ex[0].Form
	if f["grant_type"] != "access_token" || f["service"] != registry || f["api-version"] != "2021-07-01" || f["access_token"] == "" || f["refresh_token"] != "" {
		t.Errorf("exchange form %v", f)
	}
	if ex[0].Host != registry {
		t.Errorf("exchange sent to %q, want %q", ex[0].Host, registry)
	}
	if g.Identity != f["identity"] {
		t.Errorf("refresh token identity %q, exchange identity %q", g.Identity, f["identity"])
	}
	return ex[0]
}

func selfSignedPEM(t *testing.T) string {
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
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) + string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}))
}

// saToken is a service-account-like JWT (the plugin never verifies it).
func saToken(sub string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"iss":"https://oidc.example","sub":"`+sub+`","aud":["api://AzureADTokenExchange"]}`)) + ".c2ln"
}

func TestIdentities(t *testing.T) {
	c := newCloud(t)
	certFile := c.file(t, "sp.pem", selfSignedPEM(t))
	wiToken := c.file(t, "wi-token", "federated-jwt")
	const resID = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet"
	sa := saToken("system:serviceaccount:app:puller")
	podAnn := map[string]string{acr.AnnotationClientID: "pod-client", acr.AnnotationTenantID: "pod-tenant"}
	tests := []struct {
		name      string
		config    string
		env       []string
		saToken   string
		ann       map[string]string
		registry  string
		identity  string // the emulator's name for the identity exchanged
		tenant    string // the exchange's tenant field
		authority string // Entra host, "" for a managed identity endpoint
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
			name: "service principal certificate", config: `{"tenantId":"t1","aadClientId":"c1","aadClientCertPath":"` + certFile + `"}`,
			registry: "myreg.azurecr.io", identity: "sp:t1/c1:assertion", tenant: "t1", authority: "login.microsoftonline.com",
			form: map[string]string{"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		},
		{
			name: "workload identity from azure.json", config: `{"tenantId":"t1","aadClientId":"c1","useFederatedWorkloadIdentityExtension":true,"aadFederatedTokenFile":"` + wiToken + `"}`,
			registry: "myreg.azurecr.io", identity: "sp:t1/c1:assertion", tenant: "t1", authority: "login.microsoftonline.com",
			form: map[string]string{"client_assertion": "federated-jwt"},
		},
		{
			name: "workload identity from the environment", config: `{}`,
			env:      []string{"AZURE_FEDERATED_TOKEN_FILE=" + wiToken, "AZURE_CLIENT_ID=c2", "AZURE_TENANT_ID=t2"},
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
			saToken: sa, ann: podAnn,
			registry: "myreg.azurecr.io", identity: "sp:pod-tenant/pod-client:assertion", tenant: "pod-tenant", authority: "login.microsoftonline.com",
			form: map[string]string{"client_assertion": sa, "client_id": "pod-client"},
		},
		{
			name: "service-account token, managed identity switch on", config: `{"tenantId":"node-tenant","useManagedIdentityExtension":true}`,
			saToken: sa, ann: podAnn,
			registry: "myreg.azurecr.io", identity: "sp:pod-tenant/pod-client:assertion", tenant: "pod-tenant", authority: "login.microsoftonline.com",
		},
		{
			name: "service-account token without annotations: node identity", config: `{"tenantId":"t1","useManagedIdentityExtension":true}`,
			saToken:  sa,
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
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.az.Reset()
			cfg := c.file(t, "azure-"+strconv.Itoa(i)+".json", tt.config)
			res := c.run(t, []string{cfg}, tt.env, saRequest(tt.registry+"/team/app", tt.saToken, tt.ann))
			ex := c.checkCredential(t, res, tt.registry, tt.registry)
			if ex.Form["identity"] != tt.identity || ex.Form["tenant"] != tt.tenant {
				t.Errorf("exchanged identity %q tenant %q, want %q %q", ex.Form["identity"], ex.Form["tenant"], tt.identity, tt.tenant)
			}
			if tt.authority == "" {
				op, other := fakecloud.OpAzureIMDS, fakecloud.OpAzureAppMI
				if tt.miOp != "" {
					op, other = tt.miOp, fakecloud.OpAzureIMDS
				}
				mi := c.az.Calls(op)
				if len(mi) != 1 || mi[0].Form["resource"] != "https://containerregistry.azure.net" || c.az.Count(other) != 0 {
					t.Fatalf("%s calls %+v, %d %s calls", op, mi, c.az.Count(other), other)
				}
				if op == fakecloud.OpAzureIMDS && mi[0].Header.Get("Metadata") != "true" {
					t.Fatalf("IMDS call without Metadata: true: %+v", mi[0])
				}
				return
			}
			tok := c.az.Calls(fakecloud.OpAzureToken)
			if len(tok) != 1 || tok[0].Host != tt.authority || tok[0].Form["grant_type"] != "client_credentials" || !strings.Contains(" "+tok[0].Form["scope"]+" ", " "+acr.Scope+" ") {
				t.Fatalf("Entra token calls %+v, want one to %s", tok, tt.authority)
			}
			for k, v := range tt.form {
				if tok[0].Form[k] != v {
					t.Errorf("Entra form %s = %q, want %q", k, tok[0].Form[k], v)
				}
			}
			if n := c.az.Count(fakecloud.OpAzureIMDS); n != 0 {
				t.Errorf("%d IMDS calls, want 0", n)
			}
			if tt.name == "service principal certificate" {
				checkNamesCertificate(t, tok[0].Form["client_assertion"])
			}
		})
	}
}

// checkNamesCertificate checks that a client assertion's header names the
// certificate it was signed with, as Entra requires.
func checkNamesCertificate(t *testing.T, assertion string) {
	t.Helper()
	head, _, _ := strings.Cut(assertion, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("assertion header: %v", err)
	}
	var hdr map[string]any
	_ = json.Unmarshal(b, &hdr)
	if hdr["x5t#S256"] == nil && hdr["x5t"] == nil {
		t.Fatalf("assertion header %v names no certificate", hdr)
	}
}

func TestSeedConfigAndMirrors(t *testing.T) {
	c := newCloud(t)
	cfg := c.file(t, "azure.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)

	// The seed: --registry-mirror=mcr.microsoft.com:xxx.azurecr.io, the
	// positional argument first, as in its kubelet config.
	c.checkCredential(t, c.run(t, []string{cfg, "--registry-mirror=mcr.microsoft.com:xxx.azurecr.io"}, nil, request("mcr.microsoft.com/oss/nginx/nginx")),
		"xxx.azurecr.io", "mcr.microsoft.com", "xxx.azurecr.io")

	// Several mirrors, ports, the repeated flag and its shorthand.
	args := []string{cfg, "--registry-mirror=mcrx.microsoft.com:xxx.azurecr.io,reg.local:5000:yyy.azurecr.io", "-r", "ghcr.io/team:zzz.azurecr.io"}
	for image, want := range map[string][2]string{
		"reg.local:5000/app":   {"reg.local:5000", "yyy.azurecr.io"},
		"mcrx.microsoft.com/x": {"mcrx.microsoft.com", "xxx.azurecr.io"},
		"ghcr.io/team/app":     {"ghcr.io/team", "zzz.azurecr.io"},
	} {
		c.az.Reset()
		c.checkCredential(t, c.run(t, args, nil, request(image)), want[1], want[0], want[1])
	}
	// A source without its port, or another path, is not mirrored; nor is
	// a look-alike of an ACR host, or another cloud's registry.
	for _, image := range []string{"reg.local/app", "ghcr.io/other/app", "evilazurecr.io/app", "myreg.azurecr.io:5000/app", "myreg.azurecr.cn/app"} {
		c.az.Reset()
		if out := c.run(t, args, nil, request(image)).Response(t); len(out.Auth) != 0 || c.az.Count("") != 0 {
			t.Errorf("%s: auth %v after %d calls, want an empty answer", image, out.Auth, c.az.Count(""))
		}
	}
	// A malformed mapping is an error, not silently skipped.
	for flag, want := range map[string]string{
		"--registry-mirror=mcr.microsoft.com":                  "registry mirror",
		"--registry-mirror=mcr.microsoft.com:ghcr.io":          "is not an Azure Container Registry login server",
		"--registry-mirror=mcr.microsoft.com:myreg.azurecr.cn": "target is in AzureChinaCloud",
	} {
		if line := c.run(t, []string{cfg, flag}, nil, request("mcr.microsoft.com/x")).Failure(t, acr.Role.Name); !strings.Contains(line, want) {
			t.Errorf("%s: error %q lacks %q", flag, line, want)
		}
	}
}

// TestCacheEntries: a token is good for one registry and one identity.
func TestCacheEntries(t *testing.T) {
	c := newCloud(t)
	c.world.Setenv(t)
	dir := t.TempDir()
	main := func(config, image string) {
		t.Helper()
		w := *c.world
		w.Args = []string{c.file(t, config, `{"tenantId":"t1","useManagedIdentityExtension":true,"userAssignedIdentityID":"`+strings.TrimSuffix(config, ".json")+`"}`)}
		w.Main(t, dir, request(image)).Response(t)
	}
	main("u1.json", "myreg.azurecr.io/a")
	main("u1.json", "myreg.azurecr.io/b")
	if n := c.az.Count(fakecloud.OpACRExchange); n != 1 {
		t.Fatalf("%d exchanges for two images of one registry, want 1", n)
	}
	main("u1.json", "xxx.azurecr.io/a")
	main("u2.json", "myreg.azurecr.io/a")
	if n := c.az.Count(fakecloud.OpACRExchange); n != 3 {
		t.Fatalf("%d exchanges after a new registry and a new identity, want 3", n)
	}
}

func TestErrors(t *testing.T) {
	c := newCloud(t)
	mi := c.file(t, "mi.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)
	sp := c.file(t, "sp.json", `{"tenantId":"t1","aadClientId":"c1","aadClientSecret":"s3cret-value"}`)
	tests := []struct {
		name    string
		setup   func()
		args    []string
		env     []string
		saToken string
		ann     map[string]string
		want    []string
		calls   map[string]int
	}{
		{
			name: "unreachable identity endpoint", args: []string{mi},
			setup: func() { c.proxy.Route(fakecloud.IMDSHost, nil) },
			want:  []string{"Entra ID token", "managed identity"}, calls: map[string]int{fakecloud.OpACRExchange: 0},
		},
		{
			name: "Entra refuses the client", args: []string{sp},
			setup: func() {
				c.az.Inject(fakecloud.OpAzureToken, fakecloud.Fault{Status: 401, Body: `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}`})
			},
			want: []string{"HTTP 401 from login.microsoftonline.com", "invalid_client", "AADSTS7000215"},
		},
		{
			name: "401 from the exchange", args: []string{mi},
			setup: func() {
				c.az.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Status: 401, Body: `{"errors":[{"code":"UNAUTHORIZED","message":"body-text-never-echoed"}]}`})
			},
			want: []string{"exchange at https://myreg.azurecr.io/oauth2/exchange: HTTP 401", "AcrPull"},
		},
		{
			name: "malformed challenge", args: []string{mi},
			setup: func() {
				c.az.SetChallenge("myreg.azurecr.io", `Bearer realm="https://myreg.azurecr.io/oauth2/token,service=x`)
			},
			want: []string{"malformed challenge", "unterminated"}, calls: map[string]int{fakecloud.OpACRExchange: 0},
		},
		{
			name: "challenge realm on another host", args: []string{mi},
			setup: func() {
				c.az.SetChallenge("myreg.azurecr.io", `Bearer realm="https://evil.example/oauth2/token",service="myreg.azurecr.io"`)
			},
			want: []string{"not an https URL on myreg.azurecr.io"}, calls: map[string]int{fakecloud.OpACRExchange: 0},
		},
		{
			name: "service-account mode without the client annotation", args: []string{mi},
			saToken: saToken("system:serviceaccount:a:b"), ann: map[string]string{acr.AnnotationTenantID: "t"},
			want: []string{acr.AnnotationClientID, "missing or empty"}, calls: map[string]int{"": 0},
		},
		{
			name: "refresh token already expired", args: []string{mi},
			setup: func() { c.az.RefreshTTL = -time.Hour },
			want:  []string{"token expired at ", "(check the node's clock)"},
		},
		{
			name: "registry unreachable", args: []string{mi},
			setup: func() { c.proxy.Route("myreg.azurecr.io", nil) },
			want:  []string{"GET https://myreg.azurecr.io/v2/: ", "(check that the node reaches myreg.azurecr.io on port 443 (DNS, firewall), HTTPS_PROXY/NO_PROXY and, for TLS errors, SSL_CERT_FILE)"},
			calls: map[string]int{fakecloud.OpACRExchange: 0},
		},
		{
			name: "Entra endpoint refuses connections", args: []string{sp}, env: []string{"AZURE_AUTHORITY_HOST=https://127.0.0.1:1/"},
			want: []string{"get Entra ID token", "connection refused", "HTTPS_PROXY/NO_PROXY", "SSL_CERT_FILE)"}, calls: map[string]int{"": 0},
		},
		{
			name: "exchange answer not JSON", args: []string{mi},
			setup: func() {
				c.az.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Body: `<html>body-text-never-echoed`})
			},
			want: []string{"exchange at https://myreg.azurecr.io/oauth2/exchange: malformed answer", "no proxy rewrites its answers)"},
		},
		{
			name: "exchange answer without a refresh token", args: []string{mi},
			setup: func() {
				c.az.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Body: `{"access_token":"body-text-never-echoed"}`})
			},
			want: []string{"no refresh_token in the answer", "no proxy rewrites its answers)"},
		},
		{name: "no config argument", want: []string{"config file is not specified"}},
		{name: "two config arguments", args: []string{mi, sp}, want: []string{"exactly one argument"}},
		{name: "missing config file", args: []string{"/nonexistent/azure.json"}, want: []string{"read Azure config", "no such file"}},
		{
			name: "unparsable config", args: []string{c.file(t, "bad.json", `{"aadClientSecret": "s3cret-value", "tenantId": [}`)},
			want: []string{"parse Azure config"},
		},
		{name: "unknown cloud", args: []string{c.file(t, "cloud.json", `{"cloud":"AzureGermanCloud","useManagedIdentityExtension":true}`)}, want: []string{"unknown cloud"}},
		{name: "no identity", args: []string{c.file(t, "none.json", `{"tenantId":"t1"}`)}, want: []string{"no Azure identity configured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.az.Reset()
			c.az.Clear()
			c.az.SetChallenge("myreg.azurecr.io", "")
			c.az.RefreshTTL = 3 * time.Hour
			c.proxy.Route(fakecloud.IMDSHost, c.az.IMDS())
			c.proxy.Route("myreg.azurecr.io", c.az.Registry())
			if tt.setup != nil {
				tt.setup()
			}
			res := c.run(t, append(tt.args, "--v=10"), tt.env, saRequest("myreg.azurecr.io/app", tt.saToken, tt.ann))
			for _, secret := range []string{"s3cret-value", "body-text-never-echoed", tt.saToken} {
				if secret != "" && strings.Contains(res.Stderr, secret) {
					t.Errorf("stderr at --v=10 contains a secret:\n%s", res.Stderr)
				}
			}
			// Log lines (at --v=10) come first; the error is the last line.
			lines := strings.Split(strings.TrimSuffix(res.Stderr, "\n"), "\n")
			res.Stderr = lines[len(lines)-1] + "\n"
			msg := res.Failure(t, acr.Role.Name)
			if !strings.HasSuffix(msg, ")") {
				t.Errorf("error %q does not end with a hint", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for op, n := range tt.calls {
				if got := c.az.Count(op); got != n {
					t.Errorf("%d %q calls, want %d", got, op, n)
				}
			}
		})
	}
}

func TestSecretsNeverOnStderr(t *testing.T) {
	c := newCloud(t)
	sa := saToken("system:serviceaccount:app:puller")
	cases := []struct {
		config string
		req    providertest.Request
	}{
		{`{"tenantId":"t1","aadClientId":"c1","aadClientSecret":"s3cret-value"}`, request("myreg.azurecr.io/app")},
		{`{"tenantId":"t1"}`, saRequest("myreg.azurecr.io/app", sa, map[string]string{acr.AnnotationClientID: "c", acr.AnnotationTenantID: "t"})},
		{`{"useManagedIdentityExtension":true}`, request("mcr.microsoft.com/app")},
	}
	for i, tt := range cases {
		c.az.Reset()
		res := c.run(t, []string{c.file(t, "azure-"+strconv.Itoa(i)+".json", tt.config), "--v=10", "--registry-mirror=mcr.microsoft.com:xxx.azurecr.io"}, nil, tt.req)
		out := res.Response(t)
		if res.Stderr == "" {
			t.Fatal("nothing logged at --v=10")
		}
		secrets := []string{"s3cret-value", sa}
		for _, a := range out.Auth {
			secrets = append(secrets, a.Password)
		}
		for _, call := range c.az.Calls(fakecloud.OpACRExchange) {
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
	c := newCloud(t)
	for name, tt := range map[string]struct {
		config         string
		env            []string
		user, password string
	}{
		"azure.json":  {`{"tenantId":"t1","aadClientId":"c1","aadClientSecret":"s3cret-value"}`, nil, "c1", "s3cret-value"},
		"environment": {`{}`, []string{"AZURE_CLIENT_ID=c2", "AZURE_TENANT_ID=t2", "AZURE_CLIENT_SECRET=env-s3cret"}, "c2", "env-s3cret"},
	} {
		c.az.Reset()
		out := c.run(t, []string{c.file(t, name+".json", tt.config), "--service-principal-passthrough"}, tt.env, request("myreg.azurecr.io/app")).Response(t)
		if a := out.Auth["myreg.azurecr.io"]; a.Username != tt.user || a.Password != tt.password || out.CacheDuration != "" {
			t.Errorf("%s: answer %+v, want the client ID and secret with no cacheDuration", name, out)
		}
		if n := c.az.Count(""); n != 0 {
			t.Errorf("%s: %d network calls in passthrough mode, want 0", name, n)
		}
	}
}

func TestUnquotedChallenge(t *testing.T) {
	c := newCloud(t)
	// Upstream panics on this form; real ACR quotes, other fronts may not.
	c.az.SetChallenge("myreg.azurecr.io", `Bearer realm=https://myreg.azurecr.io/oauth2/token,service=myreg.azurecr.io`)
	cfg := c.file(t, "azure.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)
	c.checkCredential(t, c.run(t, []string{cfg}, nil, request("myreg.azurecr.io/app")), "myreg.azurecr.io", "myreg.azurecr.io")
}

// TestRefreshTokenLifetimes: ACR's limits on what its refresh tokens claim.
func TestRefreshTokenLifetimes(t *testing.T) {
	c := newCloud(t)
	cfg := c.file(t, "azure.json", `{"tenantId":"t1","useManagedIdentityExtension":true}`)
	t.Run("unreadable expiry: an hour", func(t *testing.T) {
		c.az.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Body: `{"refresh_token":"opaque-refresh"}`})
		defer c.az.Clear()
		out := c.run(t, []string{cfg}, nil, request("myreg.azurecr.io/app")).Response(t)
		d, err := time.ParseDuration(out.CacheDuration)
		if err != nil || d < 50*time.Minute || d > 55*time.Minute || out.Auth["myreg.azurecr.io"].Password != "opaque-refresh" {
			t.Fatalf("answer %+v, want the token for about 55m", out)
		}
	})
	t.Run("capped", func(t *testing.T) {
		enc := base64.RawURLEncoding.EncodeToString
		for _, exp := range []string{"1e300", "9223372036854775807", strconv.FormatInt(time.Now().Add(48*time.Hour).Unix(), 10)} {
			c.az.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Body: `{"refresh_token":"h.` + enc([]byte(`{"exp":`+exp+`}`)) + `.s"}`})
			// With the cache on: the disk entry is capped too.
			c.world.Setenv(t)
			w := *c.world
			w.Args = []string{cfg}
			out := w.Main(t, t.TempDir(), request("myreg.azurecr.io/app")).Response(t)
			d, err := time.ParseDuration(out.CacheDuration)
			if err != nil || d > acr.Limits.MaxLifetime || d < acr.Limits.MaxLifetime-10*time.Minute {
				t.Errorf("exp %s: cacheDuration %q, want at most %s", exp, out.CacheDuration, acr.Limits.MaxLifetime)
			}
		}
		c.az.Clear()
	})
	t.Run("expired: not cached", func(t *testing.T) {
		c.world.Setenv(t)
		w := *c.world
		w.Args = []string{cfg}
		dir := t.TempDir()
		c.az.RefreshTTL = -time.Minute
		if line := w.Main(t, dir, request("myreg.azurecr.io/app")).Failure(t, acr.Role.Name); !strings.Contains(line, "token expired at") {
			t.Fatalf("error %q", line)
		}
		c.az.RefreshTTL = 3 * time.Hour
		c.az.Reset()
		c.checkCredential(t, w.Main(t, dir, request("myreg.azurecr.io/app")), "myreg.azurecr.io", "myreg.azurecr.io")
	})
}
