package gcp

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLibraryErrorKeepsTheCause(t *testing.T) {
	tests := []struct{ in, want string }{
		{`oauth2/google: status code 403: {"error":"access_denied"}`, `status code 403: "{\"error\":\"access_denied\"}"`},
		{`oauth2/google: unable to generate access token: Post "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/a@b.iam.gserviceaccount.com:generateAccessToken": oauth2/google: status code 400: {"error":"invalid_target"}`,
			`status code 400: "{\"error\":\"invalid_target\"}"`},
		{`oauth2/google: invalid response from Secure Token Server: Post "https://sts.googleapis.com/v1/token": dial tcp: connection refused`,
			`invalid response from Secure Token Server: dial tcp: connection refused`},
		{`oauth2: server response missing access_token`, `oauth2: server response missing access_token`},
	}
	for _, tt := range tests {
		inner := errors.New(tt.in)
		e := libraryError{inner}
		if got := e.Error(); got != tt.want {
			t.Errorf("%q\n got %q\nwant %q", tt.in, got, tt.want)
		}
		if !errors.Is(e, inner) {
			t.Errorf("%q: the cause is lost", tt.in)
		}
	}
}

func TestFailedStep(t *testing.T) {
	id := identity{audience: "//iam.googleapis.com/x", impersonate: "a@b.iam.gserviceaccount.com"}
	tests := []struct{ host, what, check string }{
		{"sts.googleapis.com", "Google STS", "pool provider"},
		{"iamcredentials.googleapis.com", "impersonate service account a@b", "workloadIdentityUser"},
		{"oauth2.googleapis.com", "OAuth 2.0", "revoked"},
		{"169.254.169.254", "subject token from 169.254.169.254", "credential_source"},
		{"", "get a Google token", ""},
	}
	for _, tt := range tests {
		what, check := failedStep(tt.host, id)
		if !strings.Contains(what, tt.what) || !strings.Contains(check, tt.check) {
			t.Errorf("%q: %q (%q)", tt.host, what, check)
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
