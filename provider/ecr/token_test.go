package ecr

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestDecodeToken(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	b64 := func(s string) *string { e := base64.StdEncoding.EncodeToString([]byte(s)); return &e }
	ptr := func(s string) *string { return &s }
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	far := func() *time.Time { x := time.Unix(1e15, 0); return &x }() // expiresAt: 1e15
	tests := []struct {
		name     string
		auth     *string
		exp      *time.Time
		wantUser string
		wantPass string
		wantExp  time.Time
		wantErr  string
	}{
		{"ok", b64("AWS:s3cret:with:colons"), at(12 * time.Hour), "AWS", "s3cret:with:colons", now.Add(12 * time.Hour), ""},
		{"expiry beyond 12h is clamped", b64("AWS:pw"), far, "AWS", "pw", now.Add(12 * time.Hour), ""},
		{"no expiry assumes an hour", b64("AWS:pw"), nil, "AWS", "pw", now.Add(assumedLifetime), ""},
		{"zero expiry assumes an hour", b64("AWS:pw"), &time.Time{}, "AWS", "pw", now.Add(assumedLifetime), ""},
		{"nil token", nil, at(time.Hour), "", "", time.Time{}, "no authorizationToken"},
		{"empty token", ptr(""), at(time.Hour), "", "", time.Time{}, "no authorizationToken"},
		{"not base64", ptr("AWS:pw!"), at(time.Hour), "", "", time.Time{}, "not valid base64"},
		{"no colon", b64("AWSpw"), at(time.Hour), "", "", time.Time{}, "not a user:password pair"},
		{"empty password", b64("AWS:"), at(time.Hour), "", "", time.Time{}, "not a user:password pair"},
		{"already expired", b64("AWS:pw"), at(-time.Minute), "", "", time.Time{}, "check the node's clock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := decodeToken(tt.auth, tt.exp, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Fatalf("error %q quotes the token", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.Username != tt.wantUser || tok.Password != tt.wantPass || !tok.ExpiresAt.Equal(tt.wantExp) {
				t.Fatalf("got %q/%q expiring %s, want %q/%q expiring %s", tok.Username, tok.Password, tok.ExpiresAt, tt.wantUser, tt.wantPass, tt.wantExp)
			}
		})
	}
}

func FuzzDecodeToken(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString([]byte("AWS:pw")), int64(3600))
	f.Add("%%%", int64(-1))
	f.Fuzz(func(t *testing.T, auth string, secs int64) {
		now := time.Unix(1_800_000_000, 0)
		exp := now.Add(time.Duration(secs) * time.Second)
		tok, err := decodeToken(&auth, &exp, now)
		if err == nil && (tok.Username == "" || tok.Password == "" || !tok.ExpiresAt.After(now) || tok.ExpiresAt.After(now.Add(12*time.Hour))) {
			t.Fatalf("accepted an unusable token: %+v", tok)
		}
	})
}
