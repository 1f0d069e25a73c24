package registrytest

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kcred/kcred/internal/exectest"
)

// credStore stands in for a cloud emulator: it knows which credentials it
// issued and until when they are valid.
type credStore map[string]time.Time

func (c credStore) valid(secret string) bool {
	exp, ok := c[secret]
	return ok && time.Now().Before(exp)
}

func listen(t *testing.T, opts Options) *Server {
	t.Helper()
	exectest.RequireIsolatedNetwork(t)
	s, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close registry: %v", err)
		}
	})
	return s
}

// seed pushes an image with the admin credential and returns its reference.
func seed(t *testing.T, s *Server, repo string) string {
	t.Helper()
	ref := s.Addr + "/" + repo + ":v1"
	user, pass := s.Admin()
	if _, err := Push(context.Background(), ref, user, pass); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestBasicModePull(t *testing.T) {
	now := time.Now()
	creds := credStore{"good": now.Add(time.Hour), "old": now.Add(-time.Minute)}
	s := listen(t, Options{Basic: func(user, pass string) bool { return user == "AWS" && creds.valid(pass) }})
	ref := seed(t, s, "team/app")

	tests := []struct {
		name       string
		user, pass string
		ok         bool
	}{
		{"right credential", "AWS", "good", true},
		{"wrong password", "AWS", "bad", false},
		{"wrong user", "someone", "good", false},
		{"expired credential", "AWS", "old", false},
		{"anonymous", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Pull(context.Background(), ref, tt.user, tt.pass)
			checkPull(t, err, tt.ok)
		})
	}
}

func TestBasicModePushNeedsCredential(t *testing.T) {
	s := listen(t, Options{Basic: func(user, pass string) bool { return false }})
	_, err := Push(context.Background(), s.Addr+"/app:v1", "AWS", "anything")
	if !IsUnauthorized(err) {
		t.Fatalf("push with a refused credential: got %v, want 401", err)
	}
}

func TestTokenModePull(t *testing.T) {
	now := time.Now()
	refresh := credStore{"refresh-good": now.Add(time.Hour), "refresh-old": now.Add(-time.Minute)}
	s := listen(t, Options{Service: "myreg.azurecr.io", Refresh: refresh.valid})
	ref := seed(t, s, "app")

	tests := []struct {
		name       string
		user, pass string
		ok         bool
	}{
		{"refresh token as ACR user", ACRUser, "refresh-good", true},
		{"wrong refresh token", ACRUser, "refresh-bad", false},
		{"expired refresh token", ACRUser, "refresh-old", false},
		{"right token, other user", "AWS", "refresh-good", false},
		{"anonymous", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Pull(context.Background(), ref, tt.user, tt.pass)
			checkPull(t, err, tt.ok)
		})
	}
}

// go-containerregistry with an IdentityToken (and containerd with an
// identity token) use POST grant_type=refresh_token instead of GET.
func TestTokenModeIdentityToken(t *testing.T) {
	refresh := credStore{"refresh-good": time.Now().Add(time.Hour)}
	s := listen(t, Options{Service: "myreg.azurecr.io", Refresh: refresh.valid})
	ref := seed(t, s, "app")
	for _, tt := range []struct {
		token string
		ok    bool
	}{{"refresh-good", true}, {"refresh-bad", false}} {
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		_, err = remote.Image(r, remote.WithAuth(authn.FromConfig(authn.AuthConfig{IdentityToken: tt.token})))
		checkPull(t, err, tt.ok)
	}
}

func checkPull(t *testing.T, err error, ok bool) {
	t.Helper()
	switch {
	case ok && err != nil:
		t.Fatalf("pull: %v", err)
	case !ok && err == nil:
		t.Fatal("pull succeeded, want it refused")
	case !ok && !IsUnauthorized(err):
		t.Fatalf("pull failed for another reason than the credential: %v", err)
	}
}

func TestTokenEndpoint(t *testing.T) {
	reg, err := New(Options{Service: "myreg.azurecr.io", Refresh: func(r string) bool { return r == "good" }})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	form := func(v url.Values) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "http://myreg.azurecr.io"+TokenPath, strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	get := func(user, pass, service string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://myreg.azurecr.io"+TokenPath+"?service="+service+"&scope=repository:app:pull", nil)
		if user != "" {
			r.SetBasicAuth(user, pass)
		}
		return r
	}
	tests := []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"GET basic refresh", get(ACRUser, "good", "myreg.azurecr.io"), http.StatusOK},
		{"GET basic admin", get(reg.admin[0], reg.admin[1], "myreg.azurecr.io"), http.StatusOK},
		{"GET wrong admin password", get(reg.admin[0], "good", "myreg.azurecr.io"), http.StatusUnauthorized},
		{"GET wrong refresh", get(ACRUser, "bad", "myreg.azurecr.io"), http.StatusUnauthorized},
		{"GET anonymous", get("", "", "myreg.azurecr.io"), http.StatusUnauthorized},
		{"GET other service", get(ACRUser, "good", "other.azurecr.io"), http.StatusBadRequest},
		{"POST refresh_token", form(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"good"}, "service": {"myreg.azurecr.io"}}), http.StatusOK},
		{"POST wrong refresh_token", form(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"bad"}, "service": {"myreg.azurecr.io"}}), http.StatusUnauthorized},
		// ACR refuses the password grant with 400; containerd falls back to GET.
		{"POST password grant", form(url.Values{"grant_type": {"password"}, "username": {ACRUser}, "password": {"good"}, "service": {"myreg.azurecr.io"}}), http.StatusBadRequest},
		{"DELETE", httptest.NewRequest(http.MethodDelete, "http://myreg.azurecr.io"+TokenPath, nil), http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			reg.ServeHTTP(w, tt.req)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status == http.StatusOK && !strings.Contains(w.Body.String(), `"access_token":"ey`) {
				t.Fatalf("no token in %s", w.Body)
			}
		})
	}
}

// The registry itself rejects a token that is expired, signed by another
// key, or issued for another service, and accepts a fresh one.
func TestRegistryVerifiesTokens(t *testing.T) {
	reg, err := New(Options{Service: "myreg.azurecr.io", Refresh: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	other, err := newTokenServer("myreg.azurecr.io", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherService, err := newTokenServer("other.azurecr.io", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherService.signer = reg.tokens.signer
	catalog := parseScopes([]string{"registry:catalog:*"})
	now := time.Now()
	tests := []struct {
		name   string
		ts     *tokenServer
		at     time.Time
		status int
	}{
		{"fresh", reg.tokens, now, http.StatusOK},
		{"expired", reg.tokens, now.Add(-2 * reg.opts.TokenTTL), http.StatusUnauthorized},
		{"other key", other, now, http.StatusUnauthorized},
		{"other service", otherService, now, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := tt.ts.issue(ACRUser, catalog, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "http://myreg.azurecr.io/v2/_catalog", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			reg.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
		})
	}
}

// The challenge names the host the client used, so the realm stays on the
// registry's own listener whatever name it is reached by.
func TestChallenge(t *testing.T) {
	tokenReg, err := New(Options{Service: "myreg.azurecr.io", Refresh: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	defer tokenReg.Close()
	basicReg, err := New(Options{Basic: func(string, string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	defer basicReg.Close()
	tests := []struct {
		name string
		reg  *Registry
		url  string
		tls  bool
		want string
	}{
		{"token loopback", tokenReg, "http://127.0.0.1:5000/v2/", false, `Bearer realm="http://127.0.0.1:5000/oauth2/token",service="myreg.azurecr.io"`},
		{"token cloud host", tokenReg, "https://myreg.azurecr.io/v2/", true, `Bearer realm="https://myreg.azurecr.io/oauth2/token",service="myreg.azurecr.io"`},
		{"basic cloud host", basicReg, "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/", true, `Basic realm="https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.url, nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			} else {
				r.TLS = nil
			}
			w := httptest.NewRecorder()
			tt.reg.ServeHTTP(w, r)
			if got := w.Header().Get("WWW-Authenticate"); w.Code != http.StatusUnauthorized || got != tt.want {
				t.Fatalf("status %d, WWW-Authenticate %q; want 401, %q", w.Code, got, tt.want)
			}
		})
	}
}

func TestOtherPaths(t *testing.T) {
	other := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	with, err := New(Options{Refresh: func(string) bool { return true }, Other: other})
	if err != nil {
		t.Fatal(err)
	}
	defer with.Close()
	without, err := New(Options{Basic: func(string, string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	defer without.Close()
	for _, tt := range []struct {
		reg    *Registry
		path   string
		status int
	}{
		{with, "/oauth2/exchange", http.StatusTeapot},
		{without, "/oauth2/exchange", http.StatusNotFound},
		// Basic mode has no token endpoint.
		{without, TokenPath, http.StatusNotFound},
	} {
		w := httptest.NewRecorder()
		tt.reg.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "http://myreg.azurecr.io"+tt.path, nil))
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.path, w.Code, tt.status)
		}
	}
}

func TestNewNeedsOneMode(t *testing.T) {
	for _, opts := range []Options{
		{},
		{Basic: func(string, string) bool { return true }, Refresh: func(string) bool { return true }},
		{Refresh: func(string) bool { return true }, AnonymousPull: true},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", opts)
		}
	}
}
