package gcp

import (
	"errors"
	"strings"
	"testing"
)

func TestLibraryErrorKeepsTheCause(t *testing.T) {
	tests := []struct{ in, want string }{
		{`oauth2/google: status code 403: {"error":"access_denied"}`, `status code 403: {"error":"access_denied"}`},
		{`oauth2/google: unable to generate access token: Post "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/a@b.iam.gserviceaccount.com:generateAccessToken": oauth2/google: status code 400: {"error":"invalid_target"}`,
			`status code 400: {"error":"invalid_target"}`},
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
