package cloudtoken

import (
	"encoding/base64"
	"math"
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
