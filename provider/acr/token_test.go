package acr

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"
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

func TestJWTExpiry(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		tok  string
		want int64
	}{
		{"h." + enc([]byte(`{"exp":1767225600}`)) + ".s", 1767225600},
		{"h." + enc([]byte(`{"exp":1767225600.5}`)) + ".s", 1767225600},
		{"h." + enc([]byte(`{"exp":"x"}`)) + ".s", 0},
		{"h." + enc([]byte(`{}`)) + ".s", 0},
		{"h.!!.s", 0},
		{"h." + enc([]byte(`{"exp":1e300}`)) + ".s", 1e12},
		{"opaque", 0},
	}
	for _, tt := range tests {
		got, ok := jwtExpiry(tt.tok)
		if ok != (tt.want != 0) || (ok && !got.Equal(time.Unix(tt.want, 0))) {
			t.Errorf("jwtExpiry(%q) = %v, %v; want %d", tt.tok, got, ok, tt.want)
		}
	}
}

func TestRefreshExpiry(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	now := time.Unix(1767225600, 0)
	tok := func(exp string) string { return "h." + enc([]byte(`{"exp":`+exp+`}`)) + ".s" }
	unix := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	tests := []struct {
		name string
		tok  string
		want time.Time
		err  string
	}{
		{"ordinary", tok(unix(3 * time.Hour)), now.Add(3 * time.Hour), ""},
		{"short", tok(unix(time.Minute)), now.Add(time.Minute), ""},
		{"unreadable", "opaque", now.Add(fallbackLifetime), ""},
		{"already expired", tok(unix(-time.Hour)), time.Time{}, "refresh token already expired at 2025-12-31T23:00:00Z (check the node's clock)"},
		{"expiring now", tok(unix(0)), time.Time{}, "already expired"},
		{"a day", tok(unix(24 * time.Hour)), now.Add(MaxLifetime), ""},
		{"far future", tok("1e300"), now.Add(MaxLifetime), ""},
		{"int64 max", tok("9223372036854775807"), now.Add(MaxLifetime), ""},
	}
	for _, tt := range tests {
		got, err := refreshExpiry(tt.tok, now)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v, %v; want error %q", tt.name, got, err, tt.err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestDescribeTransportError(t *testing.T) {
	tests := map[string]string{
		"ClientSecretCredential: unable to resolve an endpoint: server response error:\n Get \"https://login.example/t\": proxyconnect tcp: dial tcp 127.0.0.1:1: connect: connection refused. To troubleshoot, visit https://aka.ms/x": "ClientSecretCredential: unable to resolve an endpoint: server response error: Get \"https://login.example/t\": proxyconnect tcp: dial tcp 127.0.0.1:1: connect: connection refused",
		// A body on a later line is never quoted.
		"unable to resolve an endpoint: server response error:\n http call(x) error: reply status code was 500:\n{\"secret\":\"body\"}": "unable to resolve an endpoint: server response error:",
		"one line": "one line",
	}
	for in, want := range tests {
		if got := describeTransportError(in); got != want {
			t.Errorf("describeTransportError(%q) = %q, want %q", in, got, want)
		}
	}
}
