package acr

import (
	"testing"

	"github.com/kcred/kcred/internal/httpbound"
)

func TestParseChallenge(t *testing.T) {
	ok := challenge{Realm: "https://r.azurecr.io/oauth2/token", Service: "r.azurecr.io"}
	tests := []struct {
		in   string
		want challenge
		err  bool
	}{
		{`Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io"`, ok, false},
		{`bearer service="r.azurecr.io", realm="https://r.azurecr.io/oauth2/token"`, ok, false},
		{`Bearer realm=https://r.azurecr.io/oauth2/token,service=r.azurecr.io`, ok, false},
		{`Bearer realm="https://r.azurecr.io/oauth2/token",service=r.azurecr.io`, ok, false},
		{`Bearer realm=https://r.azurecr.io/oauth2/token, service="r.azurecr.io", scope="a,b"`, ok, false},
		{`Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azure\"cr.io"`, challenge{ok.Realm, `r.azure"cr.io`}, false},
		{`Bearer realm="https://r.azurecr.io/oauth2/token"`, challenge{}, true},
		{`Basic realm="x",service="y"`, challenge{}, true},
		{`Bearer realm="https://r.azurecr.io/oauth2/token,service="r"`, challenge{}, true},
		{`Bearer realm`, challenge{}, true},
		{`Bearer =x`, challenge{}, true},
		{``, challenge{}, true},
		{`Bearer`, challenge{}, true},
	}
	for _, tt := range tests {
		got, err := parseChallenge(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseChallenge(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseChallenge(f *testing.F) {
	f.Add(`Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io"`)
	f.Add(`Bearer realm=x,service=y`)
	f.Add(`Bearer realm="a\"b`)
	f.Add(`Bearer ,,,=,"`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseChallenge(s)
		if err == nil && (c.Realm == "" || c.Service == "") {
			t.Fatalf("accepted %q without realm or service", s)
		}
	})
}

func TestDescribeTransportError(t *testing.T) {
	tests := map[string]string{
		"ClientSecretCredential: unable to resolve an endpoint: server response error:\n Get \"https://login.example/t\": proxyconnect tcp: dial tcp 127.0.0.1:1: connect: connection refused. To troubleshoot, visit https://aka.ms/x": "ClientSecretCredential: unable to resolve an endpoint: server response error: \"Get \\\"https://login.example/t\\\": proxyconnect tcp: dial tcp 127.0.0.1:1: connect: connection refused\"",
		// The transport's own parentheses stay inside the quotes.
		"unable to resolve an endpoint: server response error:\n Get \"https://login.example/t\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)": "unable to resolve an endpoint: server response error: \"Get \\\"https://login.example/t\\\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)\"",
		// A body on a later line is never quoted.
		"unable to resolve an endpoint: server response error:\n http call(x) error: reply status code was 500:\n{\"secret\":\"body\"}": "unable to resolve an endpoint: server response error:",
		// httpbound's error, which MSAL keeps only as text.
		"ClientSecretCredential: server response error:\n body download policy: " + httpbound.ErrTooLarge.Error() + ". To troubleshoot, visit https://aka.ms/x": "ClientSecretCredential: server response error: " + httpbound.ErrTooLarge.Error(),
		"unable to resolve an endpoint: server response error:\n " + httpbound.ErrTooLarge.Error() + ". To troubleshoot, visit https://aka.ms/x":                "unable to resolve an endpoint: server response error: " + httpbound.ErrTooLarge.Error(),
		// A body that holds the text does not make the error that one.
		"server response error:\n reply status code was 500:\n{\"e\":\"" + httpbound.ErrTooLarge.Error() + "\"}": "server response error:",
		"one line": "one line",
	}
	for in, want := range tests {
		if got := describeTransportError(in); got != want {
			t.Errorf("describeTransportError(%q) = %q, want %q", in, got, want)
		}
	}
}
