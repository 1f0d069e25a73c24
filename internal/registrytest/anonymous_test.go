package registrytest

import (
	"context"
	"testing"
)

// A public registry (AnonymousPull) serves pulls without credentials, but a
// credential that is sent must still be valid, and pushes need one.
func TestAnonymousPull(t *testing.T) {
	s := listen(t, Options{Basic: func(u, p string) bool { return u == "AWS" && p == "good" }, AnonymousPull: true})
	ref := seed(t, s, "public/app")
	tests := []struct {
		name       string
		user, pass string
		ok         bool
	}{
		{"anonymous", "", "", true},
		{"right credential", "AWS", "good", true},
		{"wrong credential", "AWS", "bad", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkPull(t, Pull(context.Background(), ref, tt.user, tt.pass), tt.ok)
		})
	}
	if _, err := Push(context.Background(), s.Addr+"/public/other:v1", "", ""); !IsUnauthorized(err) {
		t.Fatalf("anonymous push: got %v, want 401", err)
	}
}
