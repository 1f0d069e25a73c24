package fakecloud

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/compute/metadata"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// startMetadata serves g's metadata server on loopback and points
// GCE_METADATA_HOST at it, as a test of a node off Google Cloud would.
func startMetadata(t *testing.T, g *GCP) *metadata.Client {
	t.Helper()
	srv := httptest.NewServer(g.Metadata())
	t.Cleanup(srv.Close)
	t.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(srv.URL, "http://"))
	return metadata.NewClient(&http.Client{Timeout: 5 * time.Second})
}

func TestGCPMetadataThroughLibrary(t *testing.T) {
	g := NewGCP()
	g.AddAccount("puller@kcred-test.iam.gserviceaccount.com", CloudPlatformScope)
	g.SetAttribute("google-dockercfg", `{"gcr.io":{"auth":"eDp5"}}`)
	g.SetTokenLifetime(4 * time.Minute) // metadata tokens may have minutes left
	mc := startMetadata(t, g)
	ctx := context.Background()

	for _, acct := range []string{"default", "puller@kcred-test.iam.gserviceaccount.com"} {
		raw, err := mc.GetWithContext(ctx, "instance/service-accounts/"+acct+"/token")
		if err != nil {
			t.Fatalf("%s token: %v", acct, err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int    `json:"expires_in"`
			TokenType   string `json:"token_type"`
		}
		if err := json.Unmarshal([]byte(raw), &tok); err != nil {
			t.Fatal(err)
		}
		gr, ok := g.ValidAccessToken(tok.AccessToken)
		want := acct
		if acct == "default" {
			want = g.DefaultAccount()
		}
		if !ok || gr.Identity != "gce:"+want || tok.ExpiresIn > 240 || tok.ExpiresIn < 230 || tok.TokenType != "Bearer" {
			t.Fatalf("%s: token %+v grant %+v %v", acct, tok, gr, ok)
		}
	}
	if email, err := mc.EmailWithContext(ctx, "default"); err != nil || email != g.DefaultAccount() {
		t.Fatalf("email %q %v", email, err)
	}
	if scopes, err := mc.ScopesWithContext(ctx, ""); err != nil || len(scopes) != 1 || scopes[0] != CloudPlatformScope {
		t.Fatalf("scopes %q %v", scopes, err)
	}
	if v, err := mc.InstanceAttributeValueWithContext(ctx, "google-dockercfg"); err != nil || !strings.Contains(v, "gcr.io") {
		t.Fatalf("attribute %q %v", v, err)
	}
	var nd metadata.NotDefinedError
	if _, err := mc.InstanceAttributeValueWithContext(ctx, "google-dockercfg-url"); !errors.As(err, &nd) {
		t.Fatalf("missing attribute: %v, want NotDefinedError", err)
	}
	if _, err := mc.GetWithContext(ctx, "instance/service-accounts/nobody@x.iam.gserviceaccount.com/token"); !errors.As(err, &nd) {
		t.Fatalf("unknown account: %v, want NotDefinedError", err)
	}
	if id, err := mc.ProjectIDWithContext(ctx); err != nil || id != "kcred-test" {
		t.Fatalf("project %q %v", id, err)
	}
	if n := g.Count(OpGCEToken); n != 3 { // the unknown account is recorded too
		t.Fatalf("%d token calls recorded, want 3", n)
	}
	calls := g.Calls(OpGCEToken)
	if calls[1].Form["account"] != "puller@kcred-test.iam.gserviceaccount.com" {
		t.Fatalf("recorded account %+v", calls[1].Form)
	}
}

func TestGCPMetadataFlavorBothWays(t *testing.T) {
	g := NewGCP()
	srv := httptest.NewServer(g.Metadata())
	defer srv.Close()
	tests := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"flavored", map[string]string{"Metadata-Flavor": "Google"}, http.StatusOK},
		{"no flavor", nil, http.StatusForbidden},
		{"wrong flavor", map[string]string{"Metadata-Flavor": "google"}, http.StatusForbidden},
		{"proxied", map[string]string{"Metadata-Flavor": "Google", "X-Forwarded-For": "10.0.0.1"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		resp, body := awsDo(t, "GET", srv.URL+"/computeMetadata/v1/instance/service-accounts/default/email", tt.header, "")
		if resp.StatusCode != tt.status || resp.Header.Get("Metadata-Flavor") != "Google" {
			t.Errorf("%s: %d (flavor %q) %s, want %d", tt.name, resp.StatusCode, resp.Header.Get("Metadata-Flavor"), body, tt.status)
		}
	}
}

func TestGCPMetadataFaults(t *testing.T) {
	g := NewGCP()
	mc := startMetadata(t, g)
	ctx := context.Background()

	g.Inject(OpGCEToken, Fault{Body: `{"access_token":`, Times: 1})
	if raw, err := mc.GetWithContext(ctx, "instance/service-accounts/default/token"); err != nil || json.Valid([]byte(raw)) {
		t.Fatalf("malformed fault: %q %v", raw, err)
	}
	g.Inject(OpGCEToken, Fault{Status: http.StatusForbidden, Body: "scope missing", Times: 1})
	var me *metadata.Error
	if _, err := mc.GetWithContext(ctx, "instance/service-accounts/default/token"); !errors.As(err, &me) || me.Code != 403 {
		t.Fatalf("status fault: %v", err)
	}

	g.Inject(OpGCEToken, Fault{Hang: true})
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := mc.GetWithContext(short, "instance/service-accounts/default/token"); err == nil {
		t.Fatal("black-holed metadata answered")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("black hole held the client %v past its deadline", d)
	}
	g.Clear()
	if _, err := mc.GetWithContext(ctx, "instance/service-accounts/default/token"); err != nil {
		t.Fatalf("after black hole: %v", err)
	}
}

// unsignedJWT makes a JWT with claims (STS in the emulator checks shape
// and expiry, not the issuer's signature).
func unsignedJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	b, _ := json.Marshal(claims)
	return enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(b) + ".c2ln"
}

// googleCtx makes the Google libraries use the proxy's client.
func googleCtx(p *Proxy) context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, p.Client())
}

func startGCP(t *testing.T) (*GCP, *Proxy) {
	t.Helper()
	p, err := NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	g := NewGCP()
	g.Install(p)
	return g, p
}

const testPool = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/nodes/providers/eks"

func externalAccount(t *testing.T, source map[string]any, subjectType, impersonate string) []byte {
	t.Helper()
	cfg := map[string]any{
		"type": "external_account", "audience": testPool, "subject_token_type": subjectType,
		"token_url": "https://sts.googleapis.com/v1/token", "credential_source": source,
	}
	if impersonate != "" {
		cfg["service_account_impersonation_url"] = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/" + impersonate + ":generateAccessToken"
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGCPExternalAccountThroughProxy(t *testing.T) {
	const sa = "puller@kcred-test.iam.gserviceaccount.com"
	file := filepath.Join(t.TempDir(), "token")
	subject := unsignedJWT(map[string]any{"sub": "system:serviceaccount:kube-system:node", "exp": time.Now().Add(time.Hour).Unix()})
	if err := os.WriteFile(file, []byte(subject), 0o600); err != nil {
		t.Fatal(err)
	}
	fileSource := map[string]any{"file": file}

	tests := []struct {
		name        string
		trust       bool
		allow       bool
		impersonate string
		wantID      string
		wantErr     string
		sts, iam    int
	}{
		{"federated", true, false, "", "federated:" + testPool + ":system:serviceaccount:kube-system:node", "", 1, 0},
		{"impersonated", true, true, sa, "sa:" + sa, "", 1, 1},
		{"untrusted audience", false, true, sa, "", "invalid_target", 1, 0},
		{"impersonation refused", true, false, sa, "", "PERMISSION_DENIED", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, p := startGCP(t)
			if tt.trust {
				g.TrustAudience(testPool)
			}
			if tt.allow {
				g.AllowImpersonation(sa)
			}
			creds, err := google.CredentialsFromJSON(googleCtx(p), externalAccount(t, fileSource, TokenTypeJWT, tt.impersonate), CloudPlatformScope)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := creds.TokenSource.Token()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %s", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				gr, ok := g.ValidAccessToken(tok.AccessToken)
				if !ok || gr.Identity != tt.wantID || time.Until(tok.Expiry) < 50*time.Minute {
					t.Fatalf("grant %+v %v, expiry %v", gr, ok, tok.Expiry)
				}
			}
			if g.Count(OpGoogleSTS) != tt.sts || g.Count(OpIAMGenerateAccessToken) != tt.iam {
				t.Fatalf("calls: sts %d iam %d", g.Count(OpGoogleSTS), g.Count(OpIAMGenerateAccessToken))
			}
			if c := g.Calls(OpGoogleSTS)[0]; c.Form["subject_token"] != subject || c.Host != "sts.googleapis.com" || c.Form["format"] != "form" {
				t.Fatalf("recorded STS call %+v", c.Form)
			}
		})
	}
}

func TestGCPExternalAccountAWSSource(t *testing.T) {
	g, p := startGCP(t)
	g.TrustAudience(testPool)
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	source := map[string]any{
		"environment_id":                 "aws1",
		"regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15",
	}
	creds, err := google.CredentialsFromJSON(googleCtx(p), externalAccount(t, source, TokenTypeAWS, ""), CloudPlatformScope)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := creds.TokenSource.Token()
	if err != nil {
		t.Fatal(err)
	}
	if gr, ok := g.ValidAccessToken(tok.AccessToken); !ok || gr.Identity != "federated:"+testPool+":aws:AKIAEXAMPLE" {
		t.Fatalf("grant %+v %v", gr, ok)
	}
}

func TestGCPSTSChecks(t *testing.T) {
	const gke = "identitynamespace:kcred-test.svc.id.goog:https://container.googleapis.com/v1/projects/kcred-test/locations/europe-west1/clusters/c1"
	g, p := startGCP(t)
	g.TrustAudience(gke)
	c := p.Client()
	valid := unsignedJWT(map[string]any{"sub": "system:serviceaccount:ns:sa", "exp": time.Now().Add(time.Hour).Unix()})
	expired := unsignedJWT(map[string]any{"sub": "system:serviceaccount:ns:sa", "exp": time.Now().Add(-time.Minute).Unix()})
	body := func(over map[string]string) string {
		m := map[string]string{
			"grantType": GrantTokenExchange, "requestedTokenType": TokenTypeAccessToken, "subjectTokenType": TokenTypeJWT,
			"subjectToken": valid, "scope": CloudPlatformScope, "audience": gke,
		}
		for k, v := range over {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"GKE JSON exchange", body(nil), 200, "access_token"},
		{"expired subject", body(map[string]string{"subjectToken": expired}), 400, "expired"},
		{"not a JWT", body(map[string]string{"subjectToken": "opaque"}), 400, "invalid_grant"},
		{"unknown audience", body(map[string]string{"audience": "identitynamespace:other.svc.id.goog:x"}), 400, "invalid_target"},
		{"wrong grant", body(map[string]string{"grantType": "client_credentials"}), 400, "unsupported_grant_type"},
		{"no scope", body(map[string]string{"scope": ""}), 400, "invalid_scope"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("POST", "https://sts.googleapis.com/v1/token", strings.NewReader(tt.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, resp.StatusCode, b, tt.status, tt.want)
		}
		if strings.Contains(string(b), valid) || strings.Contains(string(b), expired) {
			t.Errorf("%s: the answer echoes the subject token", tt.name)
		}
	}
	if c := g.Calls(OpGoogleSTS)[0]; c.Form["format"] != "json" || c.Form["audience"] != gke {
		t.Fatalf("recorded %+v", c.Form)
	}

	// Faults: a 403 and a malformed answer, each through the library.
	g.TrustAudience(testPool)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(valid), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []Fault{{Status: 403, Body: `{"error":"access_denied"}`}, {Body: `{"access_token":`}} {
		g.Inject(OpGoogleSTS, f)
		creds, err := google.CredentialsFromJSON(googleCtx(p), externalAccount(t, map[string]any{"file": file}, TokenTypeJWT, ""), CloudPlatformScope)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := creds.TokenSource.Token(); err == nil {
			t.Errorf("fault %+v: token issued", f)
		}
	}
	// An echoing STS sends the request back in its error: the library
	// quotes it, subject token included (what kcred must not print).
	g.Inject(OpGoogleSTS, Fault{Echo: true, Body: "bad request: "})
	creds, err := google.CredentialsFromJSON(googleCtx(p), externalAccount(t, map[string]any{"file": file}, TokenTypeJWT, ""), CloudPlatformScope)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := creds.TokenSource.Token(); err == nil || !strings.Contains(err.Error(), "status code 400: bad request: ") ||
		!strings.Contains(err.Error(), "subject_token="+valid) {
		t.Errorf("echo fault: %v", err)
	}
}

func TestGCPImpersonationChecks(t *testing.T) {
	const sa = "puller@kcred-test.iam.gserviceaccount.com"
	g, p := startGCP(t)
	g.AllowImpersonation(sa)
	bearer, _ := g.issue("gce:"+g.DefaultAccount(), nil, 0)
	post := func(auth, body string) (int, string) {
		req, _ := http.NewRequest("POST", "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"+sa+":generateAccessToken", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := p.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, auth, body string
		status           int
	}{
		{"ok", bearer, `{"scope":["` + CloudPlatformScope + `"],"lifetime":"600s"}`, 200},
		{"forged bearer", "ya29.forged", `{"scope":["` + CloudPlatformScope + `"]}`, 401},
		{"no bearer", "", `{"scope":["` + CloudPlatformScope + `"]}`, 401},
		{"no scope", bearer, `{}`, 400},
		{"bad lifetime", bearer, `{"scope":["x"],"lifetime":"forever"}`, 400},
	}
	for _, tt := range tests {
		status, body := post(tt.auth, tt.body)
		if status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, status, body, tt.status)
		}
		if status == 200 {
			var out struct{ AccessToken, ExpireTime string }
			if err := json.Unmarshal([]byte(body), &out); err != nil {
				t.Fatal(err)
			}
			exp, err := time.Parse(time.RFC3339, out.ExpireTime)
			if gr, ok := g.ValidAccessToken(out.AccessToken); err != nil || !ok || gr.Identity != "sa:"+sa || time.Until(exp) > 10*time.Minute {
				t.Errorf("%s: %+v %v %v", tt.name, gr, ok, exp)
			}
		}
	}
	if got := g.Calls(OpIAMGenerateAccessToken)[0].Form["email"]; got != sa {
		t.Fatalf("recorded email %q", got)
	}
}

func TestGCPOAuth2ADCFiles(t *testing.T) {
	g, p := startGCP(t)
	key, err := g.ServiceAccountKeyJSON("ci@kcred-test.iam.gserviceaccount.com")
	if err != nil {
		t.Fatal(err)
	}
	other := NewGCP()
	foreign, err := other.ServiceAccountKeyJSON("ci@kcred-test.iam.gserviceaccount.com")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		json   []byte
		wantID string
	}{
		{"authorized user", g.AuthorizedUserJSON(), "user:"},
		{"service-account key", key, "key:ci@kcred-test.iam.gserviceaccount.com"},
		{"unknown key", foreign, ""},
		{"unknown refresh token", other.AuthorizedUserJSON(), ""},
	}
	for _, tt := range tests {
		creds, err := google.CredentialsFromJSON(googleCtx(p), tt.json, CloudPlatformScope)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		tok, err := creds.TokenSource.Token()
		if tt.wantID == "" {
			if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Errorf("%s: %v, want invalid_grant", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if gr, ok := g.ValidAccessToken(tok.AccessToken); !ok || !strings.HasPrefix(gr.Identity, tt.wantID) {
			t.Errorf("%s: grant %+v %v", tt.name, gr, ok)
		}
	}
	if n := g.Count(OpGoogleOAuth2); n != 4 {
		t.Fatalf("%d OAuth 2.0 calls, want 4", n)
	}
}

func TestGCPExpiredTokensRefused(t *testing.T) {
	g := NewGCP()
	g.SetTokenLifetime(0)
	tok, _ := g.issue("gce:x", nil, 0)
	if _, ok := g.ValidAccessToken(tok); ok {
		t.Fatal("an expired token is valid")
	}
	if _, ok := g.ValidAccessToken("ya29.forged"); ok {
		t.Fatal("a forged token is valid")
	}
}
