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
	at := now.Add(12 * time.Hour)
	tests := []struct {
		name     string
		auth     *string
		exp      *time.Time
		wantUser string
		wantPass string
		wantExp  time.Time
		wantErr  string
	}{
		{"ok", b64("AWS:s3cret:with:colons"), &at, "AWS", "s3cret:with:colons", at, ""},
		{"no expiry is left to the driver", b64("AWS:pw"), nil, "AWS", "pw", time.Time{}, ""},
		{"nil token", nil, &at, "", "", time.Time{}, "no authorizationToken"},
		{"empty token", ptr(""), &at, "", "", time.Time{}, "no authorizationToken"},
		{"not base64", ptr("AWS:pw!"), &at, "", "", time.Time{}, "not valid base64"},
		{"no colon", b64("AWSpw"), &at, "", "", time.Time{}, "not a user:password pair"},
		{"empty password", b64("AWS:"), &at, "", "", time.Time{}, "not a user:password pair"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := decodeToken(tt.auth, tt.exp)
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
	f.Add(base64.StdEncoding.EncodeToString([]byte("AWS:pw")))
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, auth string) {
		exp := time.Unix(1_800_000_000, 0)
		tok, err := decodeToken(&auth, &exp)
		if err == nil && (tok.Username == "" || tok.Password == "") {
			t.Fatalf("accepted an unusable token: %+v", tok)
		}
	})
}
