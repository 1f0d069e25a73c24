package acr

import (
	"encoding/base64"
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
		{"opaque", 0},
	}
	for _, tt := range tests {
		got, ok := jwtExpiry(tt.tok)
		if ok != (tt.want != 0) || (ok && !got.Equal(time.Unix(tt.want, 0))) {
			t.Errorf("jwtExpiry(%q) = %v, %v; want %d", tt.tok, got, ok, tt.want)
		}
	}
}
