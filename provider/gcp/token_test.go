package gcp

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLibraryErrorKeepsTheCause(t *testing.T) {
	tests := []struct{ in, want string }{
		{`oauth2/google: status code 403: {"error":"access_denied"}`, `status 403: "access_denied"`},
		{`oauth2/google: unable to generate access token: Post "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/a@b.iam.gserviceaccount.com:generateAccessToken": oauth2/google: status code 400: {"error":"invalid_target"}`,
			`status 400: "invalid_target"`},
		{`oauth2/google: invalid response from Secure Token Server: Post "https://sts.googleapis.com/v1/token": dial tcp: connection refused`,
			`invalid response from Secure Token Server: dial tcp: connection refused`},
		{`oauth2: server response missing access_token`, `oauth2: server response missing access_token`},
		// An endpoint (or a proxy) echoing the request: only the status.
		{`oauth2/google: status code 400: grant_type=urn%3Aietf&subject_token=opaque-subject-SECRET123&subject_token_type=jwt`, `status 400`},
		{`oauth2/google: status code 400: {"error":"invalid_grant","error_description":"bad subject_token=opaque-subject-SECRET123"}`,
			`status 400: "invalid_grant": "bad subject_token=[redacted]"`},
		{`oauth2/google/externalaccount: status code 500: boom`, `status 500`},
		// A library message that quotes a field, and a known secret.
		{`oauth2/google/externalaccount: subject_token=opaque-subject-SECRET123 refused`, `subject_token=[redacted] refused`},
		{`oauth2/google: could not use known-secret-42`, `could not use [redacted]`},
	}
	for _, tt := range tests {
		inner := errors.New(tt.in)
		e := libraryError{inner, []string{"known-secret-42"}}
		if got := e.Error(); got != tt.want {
			t.Errorf("%q\n got %q\nwant %q", tt.in, got, tt.want)
		}
		if !errors.Is(e, inner) {
			t.Errorf("%q: the cause is lost", tt.in)
		}
	}
}

func TestExplainLibraryShowsNoBody(t *testing.T) {
	// The library's text and the traced body both echo the request: the
	// error keeps the status and the OAuth 2.0 error fields only.
	echo := `{"error":"invalid_request","error_description":"subject_token=opaque-subject-SECRET123","echo":"opaque-subject-SECRET123"}`
	last := &lastCall{}
	last.start("sts.googleapis.com", "/v1/token")
	last.set(400, nil)
	last.keep([]byte(echo))
	id := fileIdentity("adc.json", []byte(`{"type":"external_account","credential_source":{"url":"http://169.254.169.254/token"}}`))
	err := explainLibrary(errors.New("oauth2/google: status code 400: "+echo), last, id, nil)
	want := `exchange the token at Google STS endpoint sts.googleapis.com: status 400: "invalid_request": "subject_token=[redacted]" (check that the workload identity pool provider exists and trusts the token's issuer and audience)`
	if err.Error() != want {
		t.Fatalf("got  %s\nwant %s", err, want)
	}
}

func TestFailedStep(t *testing.T) {
	file := func(cfg string) identity { return fileIdentity("adc.json", []byte(cfg)) }
	const imp = `"service_account_impersonation_url":"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/a@b.iam.gserviceaccount.com:generateAccessToken"`
	regional := file(`{"type":"external_account","token_url":"https://sts.us-east1.rep.googleapis.com/v1/token","credential_source":{"file":"/x"}}`)
	private := file(`{"type":"external_account","token_url":"https://gw.corp.example:8443/sts/v1/token",` +
		`"service_account_impersonation_url":"https://gw.corp.example:8443/iam/v1/projects/-/serviceAccounts/a@b.iam.gserviceaccount.com:generateAccessToken",` +
		`"credential_source":{"url":"https://gw.corp.example:8443/subject"}}`)
	urlSource := file(`{"type":"external_account",` + imp + `,"credential_source":{"url":"http://169.254.169.254/computeMetadata/v1/token"}}`)
	aws := file(`{"type":"external_account","credential_source":{"environment_id":"aws1"}}`)
	user := file(`{"type":"authorized_user","refresh_token":"r"}`)
	extUser := file(`{"type":"external_account_authorized_user","token_url":"https://sts.googleapis.com/v1/oauthtoken","refresh_token":"r"}`)
	key := file(`{"type":"service_account","token_uri":"https://oauth2.corp.example/token"}`)
	pod := identity{source: fromFederation, impersonate: "a@b.iam.gserviceaccount.com",
		endpoints: endpoints{sts: stsTokenURL, impersonation: impersonationURL("a@b.iam.gserviceaccount.com")}}
	tests := []struct {
		name       string
		id         identity
		host, path string
		what       string
	}{
		{"default STS", urlSource, "sts.googleapis.com", "/v1/token", "Google STS"},
		{"regional STS", regional, "sts.us-east1.rep.googleapis.com", "/v1/token", "Google STS endpoint sts.us-east1.rep.googleapis.com"},
		{"private STS", private, "gw.corp.example:8443", "/sts/v1/token", "Google STS"},
		{"private IAM", private, "gw.corp.example:8443", "/iam/v1/projects/-/serviceAccounts/a@b.iam.gserviceaccount.com:generateAccessToken", "impersonate service account a@b"},
		{"private subject", private, "gw.corp.example:8443", "/subject", "subject token from gw.corp.example:8443"},
		{"IAM", urlSource, "iamcredentials.googleapis.com", "/v1/projects/-/serviceAccounts/a@b.iam.gserviceaccount.com:generateAccessToken", "impersonate service account a@b"},
		{"url source", urlSource, "169.254.169.254", "/computeMetadata/v1/token", "subject token from 169.254.169.254"},
		{"AWS source", aws, "169.254.169.254", "/latest/meta-data/placement/region", "subject token from 169.254.169.254"},
		{"refresh token", user, "oauth2.googleapis.com", "/token", "OAuth 2.0"},
		{"external account user", extUser, "sts.googleapis.com", "/v1/oauthtoken", "OAuth 2.0"},
		{"key with its token_uri", key, "oauth2.corp.example", "/token", "OAuth 2.0"},
		{"key, another host", key, "proxy.example", "/x", "get a Google token from proxy.example"},
		{"pod STS", pod, "sts.googleapis.com", "/v1/token", "Google STS"},
		{"pod IAM", pod, "iamcredentials.googleapis.com", "/v1/projects/-/serviceAccounts/a@b.iam.gserviceaccount.com:generateAccessToken", "impersonate service account a@b"},
		{"no call", urlSource, "", "", "get a Google token"},
	}
	for _, tt := range tests {
		what, check := failedStep(tt.host, tt.path, tt.id)
		if !strings.Contains(what, tt.what) || check == "" {
			t.Errorf("%s: %q (%q), want %q", tt.name, what, check, tt.what)
		}
	}
}

func TestFileSecrets(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	js := filepath.Join(dir, "json")
	if err := os.WriteFile(plain, []byte("opaque-subject-SECRET123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(js, []byte(`{"tok":"opaque-json-SECRET456"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cfg  string
		want string
	}{
		{`{"type":"external_account","credential_source":{"file":"` + plain + `"}}`, "opaque-subject-SECRET123"},
		{`{"type":"external_account","credential_source":{"file":"` + js + `","format":{"type":"json","subject_token_field_name":"tok"}}}`, "opaque-json-SECRET456"},
		{`{"type":"authorized_user","refresh_token":"1//refresh-SECRET","client_secret":"cs-SECRET"}`, "1//refresh-SECRET"},
		{`{"type":"impersonated_service_account","source_credentials":{"type":"authorized_user","client_secret":"cs-SECRET"}}`, "cs-SECRET"},
	}
	for _, tt := range tests {
		if got := fileSecrets([]byte(tt.cfg)); !slices.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q among them", tt.cfg, got, tt.want)
		}
	}
}

func TestParseMetadataToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		raw     string
		life    time.Duration
		wantErr bool
	}{
		{`{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}`, 3599 * time.Second, false},
		{`{"access_token":"ya29.x","expires_in":120}`, 2 * time.Minute, false},
		{`{"access_token":"ya29.x","expires_in":1e300}`, maxTokenLife, false},
		{`{"access_token":"ya29.x","expires_in":0}`, 0, true},
		{`{"access_token":"ya29.x","expires_in":-5}`, 0, true},
		{`{"access_token":"ya29.x","expires_in":1e-300}`, 0, true},
		{`{"access_token":"","expires_in":60}`, 0, true},
		{`{"access_token":"ya29.x","expires_in":"60"}`, 0, true},
		{`{"access_token":`, 0, true},
		{`[]`, 0, true},
	}
	for _, tt := range tests {
		tok, err := parseMetadataToken(tt.raw, now)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tt.raw)
			} else if strings.Contains(err.Error(), "ya29") {
				t.Errorf("%s: the error quotes the token", tt.raw)
			}
			continue
		}
		if err != nil || tok.Username != Username || tok.Password != "ya29.x" || tok.ExpiresAt.Sub(now) != tt.life {
			t.Errorf("%s: %+v %v", tt.raw, tok, err)
		}
	}
}

func FuzzParseMetadataToken(f *testing.F) {
	f.Add(`{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}`)
	f.Add(`{"access_token":"a","expires_in":1e308}`)
	now := time.Now()
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := parseMetadataToken(raw, now)
		if err == nil && (tok.Password == "" || !tok.ExpiresAt.After(now) || tok.ExpiresAt.Sub(now) > maxTokenLife) {
			t.Fatalf("accepted %q as %+v", raw, tok)
		}
	})
}
