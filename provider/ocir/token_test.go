package ocir

import (
	"strings"
	"testing"
	"time"
)

func TestDecodeToken(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	tests := []struct {
		body     string
		password string
		expires  time.Time
		wantErr  string
	}{
		{`{"token":"t1","access_token":"t1","scope":"","expires_in":3600}`, "t1", start.Add(time.Hour), ""},
		{`{"access_token":"a1","expires_in":120.5}`, "a1", start.Add(120500 * time.Millisecond), ""},
		{`{"token":"t2"}`, "t2", time.Time{}, ""},
		{`{"token":"","access_token":""}`, "", time.Time{}, "holds no token"},
		{`{"token":`, "", time.Time{}, "not the token JSON"},
		{`<html>proxy error</html>`, "", time.Time{}, "not the token JSON"},
		{`{"token":"t","expires_in":-5}`, "", time.Time{}, "not a token lifetime"},
		{`{"token":"t","expires_in":1e300}`, "", time.Time{}, "not a token lifetime"},
		{`{"token":"t","expires_in":"3600"}`, "", time.Time{}, "not the token JSON"},
	}
	for _, tt := range tests {
		tok, err := decodeToken([]byte(tt.body), start)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("decodeToken(%s) error %v, want %q", tt.body, err, tt.wantErr)
			}
			continue
		}
		if err != nil || tok.Username != Username || tok.Password != tt.password || !tok.ExpiresAt.Equal(tt.expires) {
			t.Errorf("decodeToken(%s) = %+v, %v", tt.body, tok, err)
		}
	}
}

func TestRepositoryAndReference(t *testing.T) {
	tests := []struct{ registry, image, repo, ref string }{
		{"iad.ocir.io", "iad.ocir.io/ns/app:v1", "ns/app", "v1"},
		{"iad.ocir.io", "iad.ocir.io/ns/app", "ns/app", "latest"},
		{"iad.ocir.io", "iad.ocir.io/ns/team/app@sha256:abc", "ns/team/app", "sha256:abc"},
		{"iad.ocir.io", "iad.ocir.io/ns/app:v1@sha256:abc", "ns/app", "sha256:abc"},
		{"iad.ocir.io:443", "iad.ocir.io:443/ns/app:v2", "ns/app", "v2"},
		{"iad.ocir.io", "fra.ocir.io/ns/app", "", ""},
		{"iad.ocir.io", "iad.ocir.io", "", ""},
	}
	for _, tt := range tests {
		repo, ref := repositoryAndReference(tt.registry, tt.image)
		if repo != tt.repo || ref != tt.ref {
			t.Errorf("repositoryAndReference(%q, %q) = %q, %q; want %q, %q", tt.registry, tt.image, repo, ref, tt.repo, tt.ref)
		}
	}
}

func FuzzDecodeToken(f *testing.F) {
	for _, s := range []string{`{"token":"t","expires_in":3600}`, `{"access_token":"a"}`, `{`, `{"expires_in":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		start := time.Now()
		tok, err := decodeToken(body, start)
		if err != nil {
			return
		}
		if tok.Password == "" || tok.Username != Username || (!tok.ExpiresAt.IsZero() && tok.ExpiresAt.Before(start)) {
			t.Fatalf("decodeToken(%q) = %+v", body, tok)
		}
	})
}

func FuzzRepositoryAndReference(f *testing.F) {
	for _, s := range []string{"iad.ocir.io/ns/app:v1", "iad.ocir.io/a@b", "iad.ocir.io/::", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, image string) {
		repo, ref := repositoryAndReference("iad.ocir.io", image)
		if (repo == "") != (ref == "") {
			t.Fatalf("repositoryAndReference(%q) = %q, %q", image, repo, ref)
		}
	})
}
