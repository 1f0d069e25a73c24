package fakecloud

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/common/auth"
)

// ociHarness is the OCI emulator behind a loopback metadata server and the
// proxy, with a client that reaches the metadata server directly and every
// other host through the proxy (as NO_PROXY does for loopback).
type ociHarness struct {
	oci    *OCI
	proxy  *Proxy
	meta   *httptest.Server
	client *http.Client
}

func startOCI(t *testing.T, registries ...string) *ociHarness {
	t.Helper()
	o, err := NewOCI()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	o.Install(p, registries...)
	meta := httptest.NewServer(o)
	t.Cleanup(meta.Close)
	c := p.Client()
	proxyURL, _ := url.Parse(p.URL())
	c.Transport.(*http.Transport).Proxy = func(r *http.Request) (*url.URL, error) {
		if strings.HasPrefix(r.URL.Host, "127.0.0.1:") {
			return nil, nil
		}
		return proxyURL, nil
	}
	c.Timeout = 10 * time.Second
	t.Setenv("OCI_METADATA_BASE_URL", meta.URL+"/opc/v2")
	t.Setenv("OCI_SDK_AUTH_CLIENT_CIRCUIT_BREAKER_ENABLED", "false")
	return &ociHarness{oci: o, proxy: p, meta: meta, client: c}
}

// sdkDispatcher hands the harness client to oci-go-sdk.
func (h *ociHarness) sdkDispatcher(common.HTTPRequestDispatcher) (common.HTTPRequestDispatcher, error) {
	return h.client, nil
}

// signedTokenGet makes the docker-token call signed by provider, as the
// OCIR provider does.
func (h *ociHarness) signedTokenGet(t *testing.T, provider common.KeyProvider, host string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "https://"+host+OCIRTokenPath, nil)
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if err := common.DefaultRequestSigner(provider).Sign(req); err != nil {
		t.Fatal(err)
	}
	return h.do(t, req)
}

func (h *ociHarness) do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestOCIInstancePrincipalWithSDK(t *testing.T) {
	h := startOCI(t, "iad.ocir.io", "ocir.us-ashburn-1.oci.oraclecloud.com")
	provider, err := auth.InstancePrincipalConfigurationProviderWithCustomClient(h.sdkDispatcher)
	if err != nil {
		t.Fatal(err)
	}
	if ten, _ := provider.TenancyOCID(); ten != h.oci.Tenancy {
		t.Fatalf("SDK read tenancy %q from the leaf certificate, want %q", ten, h.oci.Tenancy)
	}
	if reg, _ := provider.Region(); reg != "us-ashburn-1" {
		t.Fatalf("SDK region %q", reg)
	}
	for _, host := range []string{"iad.ocir.io", "ocir.us-ashburn-1.oci.oraclecloud.com"} {
		status, body := h.signedTokenGet(t, provider, host)
		if status != http.StatusOK {
			t.Fatalf("%s: docker token status %d: %v", host, status, body)
		}
		tok, _ := body["token"].(string)
		if g, ok := h.oci.ValidToken(tok); !ok || g.Registry != host || g.Identity != "instance:"+h.oci.Instance {
			t.Fatalf("%s: grant %+v %v", host, g, ok)
		}
		if body["access_token"] != tok || body["expires_in"] != float64(3600) {
			t.Fatalf("%s: answer %v", host, body)
		}
	}
	if n := h.oci.Count(OpOCIFederation); n != 1 {
		t.Fatalf("%d federation calls, want 1 (the SDK reuses its security token)", n)
	}
	for _, op := range []string{OpOCIRegion, OpOCICert, OpOCIKey, OpOCIIntermediate} {
		calls := h.oci.Calls(op)
		if len(calls) == 0 || calls[0].Header.Get("Authorization") != "Bearer Oracle" {
			t.Fatalf("%s: calls %+v", op, calls)
		}
	}
	if got := h.oci.Calls(OpOCIRToken)[0].Form["principal"]; got != "instance" {
		t.Fatalf("principal %q", got)
	}
}

func TestOCIUserPrincipalWithSDK(t *testing.T) {
	h := startOCI(t, "fra.ocir.io")
	u, err := h.oci.AddUser("ocid1.user.oc1..aaaauser")
	if err != nil {
		t.Fatal(err)
	}
	good := common.NewRawConfigurationProvider(u.Tenancy, u.User, "eu-frankfurt-1", u.Fingerprint, string(u.KeyPEM), nil)
	status, body := h.signedTokenGet(t, good, "fra.ocir.io")
	if status != http.StatusOK {
		t.Fatalf("user principal: %d %v", status, body)
	}
	if g, ok := h.oci.ValidToken(body["token"].(string)); !ok || g.Identity != "user:"+u.User {
		t.Fatalf("grant %+v", g)
	}

	other, _ := h.oci.AddUser("ocid1.user.oc1..other")
	forged := common.NewRawConfigurationProvider(u.Tenancy, u.User, "eu-frankfurt-1", u.Fingerprint, string(other.KeyPEM), nil)
	if status, body := h.signedTokenGet(t, forged, "fra.ocir.io"); status != http.StatusUnauthorized || !strings.Contains(body["message"].(string), "does not verify") {
		t.Fatalf("wrong key: %d %v", status, body)
	}
	unknown := common.NewRawConfigurationProvider(u.Tenancy, "ocid1.user.oc1..nobody", "eu-frankfurt-1", u.Fingerprint, string(u.KeyPEM), nil)
	if status, _ := h.signedTokenGet(t, unknown, "fra.ocir.io"); status != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d", status)
	}

	// A request altered after signing (another path) is refused.
	req, _ := http.NewRequest(http.MethodGet, "https://fra.ocir.io"+OCIRTokenPath, nil)
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	_ = common.DefaultRequestSigner(good).Sign(req)
	req.URL.RawQuery = "scope=repository:x:pull"
	if status, _ := h.do(t, req); status != http.StatusUnauthorized {
		t.Fatalf("tampered: %d", status)
	}
	// Unsigned: 401.
	req, _ = http.NewRequest(http.MethodGet, "https://fra.ocir.io"+OCIRTokenPath, nil)
	if status, _ := h.do(t, req); status != http.StatusUnauthorized {
		t.Fatalf("unsigned: %d", status)
	}
}

func TestOCIMetadata(t *testing.T) {
	h := startOCI(t)
	get := func(path string, bearer bool) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, h.meta.URL+"/opc/v2"+path, nil)
		if bearer {
			req.Header.Set("Authorization", "Bearer Oracle")
		}
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, _ := get("/instance/region", false); status != http.StatusUnauthorized {
		t.Fatalf("without Bearer Oracle: %d", status)
	}
	h.oci.Region = "iad"
	if status, body := get("/instance/region", true); status != 200 || body != "iad" {
		t.Fatalf("region: %d %q", status, body)
	}
	var info OCIRegionInfo
	_, body := get("/instance/regionInfo", true)
	if err := json.Unmarshal([]byte(body), &info); err != nil || info.RegionKey != "IAD" || info.RealmDomainComponent != "oraclecloud.com" {
		t.Fatalf("regionInfo %q: %v", body, err)
	}
	for _, p := range []string{"/identity/cert.pem", "/identity/intermediate.pem"} {
		if _, body := get(p, true); !strings.HasPrefix(body, "-----BEGIN CERTIFICATE-----") {
			t.Fatalf("%s: %q", p, body)
		}
	}
	if _, body := get("/identity/key.pem", true); !strings.HasPrefix(body, "-----BEGIN RSA PRIVATE KEY-----") {
		t.Fatal("key.pem is not a PKCS#1 key")
	}
	if status, _ := get("/instance/nothing", true); status != http.StatusNotFound {
		t.Fatalf("unknown path: %d", status)
	}
}

func TestOCIFaultsAndExpiry(t *testing.T) {
	h := startOCI(t, "iad.ocir.io")

	// A 500 from metadata, once; then the SDK gets through.
	h.oci.Inject(OpOCICert, Fault{Status: 500, Body: "boom", Times: 1})
	req, _ := http.NewRequest(http.MethodGet, h.meta.URL+"/opc/v2/identity/cert.pem", nil)
	req.Header.Set("Authorization", "Bearer Oracle")
	if status, _ := h.do(t, req); status != 500 {
		t.Fatalf("injected 500: %d", status)
	}

	// A black hole answers nothing and lets go when the client gives up.
	h.oci.Inject(OpOCIRegion, Fault{Hang: true, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, h.meta.URL+"/opc/v2/instance/region", nil)
	start := time.Now()
	if _, err := h.client.Do(req); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("black hole: %v after %v", err, time.Since(start))
	}

	// Expired security tokens: the SDK federates, but OCIR refuses them.
	h.oci.SetFederationTTL(-time.Minute)
	provider, err := auth.InstancePrincipalConfigurationProviderWithCustomClient(h.sdkDispatcher)
	if err != nil {
		t.Fatal(err)
	}
	status, body := h.signedTokenGet(t, provider, "iad.ocir.io")
	if status != http.StatusUnauthorized {
		t.Fatalf("expired security token: %d %v", status, body)
	}

	// Malformed federation answer.
	h.oci.SetFederationTTL(time.Hour)
	h.oci.Inject(OpOCIFederation, Fault{Body: `{"token":`})
	provider, err = auth.InstancePrincipalConfigurationProviderWithCustomClient(h.sdkDispatcher)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.KeyID(); err == nil {
		t.Fatal("a malformed federation answer gave a key ID")
	}
	h.oci.Clear()

	// Federation refuses a signature by another key than the leaf.
	u, _ := h.oci.AddUser("ocid1.user.oc1..x")
	bad := common.NewRawConfigurationProvider(u.Tenancy, u.User, "us-ashburn-1", u.Fingerprint, string(u.KeyPEM), nil)
	req, _ = http.NewRequest(http.MethodPost, "https://"+h.oci.AuthHost()+"/v1/x509", strings.NewReader(`{}`))
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	req.Header.Set("Content-Type", "application/json")
	_ = common.DefaultRequestSigner(bad).Sign(req)
	if status, body := h.do(t, req); status != http.StatusUnauthorized || !strings.Contains(body["message"].(string), "leaf") {
		t.Fatalf("federation with a user key: %d %v", status, body)
	}

	// Manifest reads: 401 without a token, 404 with one, injected 403.
	status, body = h.signedTokenGet(t, mustProvider(t, h), "iad.ocir.io")
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	manifest := func(tok string) int {
		req, _ := http.NewRequest(http.MethodGet, "https://iad.ocir.io/v2/ns/app/manifests/v1", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		s, _ := h.do(t, req)
		return s
	}
	if s := manifest(""); s != 401 {
		t.Fatalf("manifest without token: %d", s)
	}
	if s := manifest(body["token"].(string)); s != 404 {
		t.Fatalf("manifest with token: %d", s)
	}
	h.oci.Inject(OpOCIRManifest, Fault{Status: 403, Body: `{"errors":[{"code":"DENIED"}]}`})
	if s := manifest(body["token"].(string)); s != 403 {
		t.Fatalf("manifest with injected 403: %d", s)
	}
}

func mustProvider(t *testing.T, h *ociHarness) common.ConfigurationProvider {
	t.Helper()
	p, err := auth.InstancePrincipalConfigurationProviderWithCustomClient(h.sdkDispatcher)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
