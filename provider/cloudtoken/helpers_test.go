package cloudtoken

import (
	"encoding/base64"
	"math"
	"strings"
	"testing"
	"time"
)

func TestJWTExpiry(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		tok  string
		want int64
	}{
		{"h." + enc([]byte(`{"exp":1767225600}`)) + ".s", 1767225600},
		{"h." + enc([]byte(`{"exp":1767225600.5}`)) + ".s", 1767225600},
		{"h." + enc([]byte(`{"exp":"x"}`)) + ".s", 0},
		{"h." + enc([]byte(`{"exp":-5}`)) + ".s", 0},
		{"h." + enc([]byte(`{}`)) + ".s", 0},
		{"h.!!.s", 0},
		{"h." + enc([]byte(`{"exp":1e300}`)) + ".s", 1e12},
		{"opaque", 0},
	}
	for _, tt := range tests {
		got, ok := JWTExpiry(tt.tok)
		if ok != (tt.want != 0) || (ok && !got.Equal(time.Unix(tt.want, 0))) {
			t.Errorf("JWTExpiry(%q) = %v, %v; want %d", tt.tok, got, ok, tt.want)
		}
	}
}

func FuzzJWTExpiry(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	f.Add("h." + enc([]byte(`{"exp":1767225600}`)) + ".s")
	f.Add("h." + enc([]byte(`{"exp":NaN}`)) + ".s")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		if exp, ok := JWTExpiry(tok); ok && (exp.Unix() <= 0 || exp.Unix() > 1e12) {
			t.Fatalf("JWTExpiry(%q) = %v", tok, exp)
		}
	})
}

func TestSeconds(t *testing.T) {
	tests := []struct {
		in   float64
		want time.Duration
		ok   bool
	}{
		{3600, time.Hour, true},
		{0, 0, true},
		{-1, 0, false},
		{math.NaN(), 0, false},
		{math.Inf(1), 0, false},
		{1e308, 0, false},
		{math.MaxInt64, 0, false},
	}
	for _, tt := range tests {
		got, err := Seconds(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Seconds(%v) = %v, %v; want %v ok=%t", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !IsMalformed(err) {
			t.Errorf("Seconds(%v): error %v is not a malformed answer", tt.in, err)
		}
	}
}

func TestServiceAccountFingerprint(t *testing.T) {
	a, b := ServiceAccountFingerprint("token-a"), ServiceAccountFingerprint("token-b")
	if a == b || a != ServiceAccountFingerprint("token-a") {
		t.Fatalf("fingerprints %q %q", a, b)
	}
	if len(a) != len("sa:")+64 {
		t.Fatalf("fingerprint %q is not a hash", a)
	}
}

func TestErrorAnswer(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   string
	}{
		{400, `{"error":"invalid_grant","error_description":"ID Token expired."}`, `status 400: "invalid_grant": "ID Token expired."`},
		{403, `{"error":{"code":403,"message":"Permission denied.","status":"PERMISSION_DENIED"}}`, `status 403: "PERMISSION_DENIED": "Permission denied."`},
		// An echo of the request: nothing of it is kept.
		{400, "grant_type=x&subject_token=opaque-SECRET1", "status 400"},
		{502, "<html>Bad gateway</html>", "status 502"},
		{400, `{"error":"invalid_request","subject_token":"opaque-SECRET1"}`, `status 400: "invalid_request"`},
		{400, `{"error":"invalid_request","error_description":"got subject_token=opaque-SECRET1 and known-SECRET2"}`,
			`status 400: "invalid_request": "got subject_token=[redacted] and [redacted]"`},
		{400, `{"error":"bad\nline","error_description":"` + strings.Repeat("x", 2000) + `"}`, `status 400: "bad line": "` + strings.Repeat("x", 512) + `"...[cut]`},
		{500, "", "status 500"},
	}
	for _, tt := range tests {
		if got := ErrorAnswer(tt.status, []byte(tt.body), "known-SECRET2"); got != tt.want {
			t.Errorf("ErrorAnswer(%d, %.60q)\n got %.200q\nwant %.200q", tt.status, tt.body, got, tt.want)
		}
	}
}
