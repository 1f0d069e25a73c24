// Package registrytest runs a real OCI registry (distribution/v3, in memory)
// in process, guarded by the authentication a cloud registry would enforce,
// so that an end-to-end test pulls an image with exactly the credential kcred
// produced and fails when that credential is wrong. Tests and `kcred demo`
// use it; product packages never import it.
//
// Two policies exist, chosen by Options:
//   - Basic (ECR-style): every request carries HTTP Basic credentials that a
//     callback accepts.
//   - Token (ACR-style): the registry challenges with Bearer, its token
//     endpoint on the same host exchanges an ACR refresh token (user
//     00000000-0000-0000-0000-000000000000) for an RS256 JWT that the
//     registry's own token authentication verifies.
package registrytest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/sirupsen/logrus"

	// Registered by import: the storage driver and token authentication the
	// configuration below names.
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// ACRUser is the user name ACR expects with a refresh token as password.
const ACRUser = "00000000-0000-0000-0000-000000000000"

// TokenPath is where the token endpoint is served (ACR's path), on the
// registry's own host: go-containerregistry refuses a realm on another
// loopback host:port.
const TokenPath = "/oauth2/token"

// Options choose the registry's authentication. Exactly one of Basic and
// Refresh must be set.
type Options struct {
	// Service is the registry's service name, the audience of its tokens
	// (ACR uses the login server, e.g. "myreg.azurecr.io"). Defaults to
	// "registrytest".
	Service string
	// Basic, when set, selects ECR-style Basic authentication: a request is
	// served only if Basic(user, password) returns true.
	Basic func(user, pass string) bool
	// Refresh, when set, selects ACR-style token authentication: the token
	// endpoint issues a registry token only for a refresh token Refresh
	// accepts (sent as the password of ACRUser with GET, or as
	// grant_type=refresh_token with POST).
	Refresh func(refresh string) bool
	// AnonymousPull, with Basic, also serves reads (GET and HEAD) that carry
	// no credentials at all, as a public registry such as Docker Hub does.
	AnonymousPull bool
	// TokenTTL is the lifetime of issued registry tokens; defaults to 10
	// minutes.
	TokenTTL time.Duration
	// Other, when set, serves every path that is neither the registry API
	// (/v2/) nor the token endpoint, e.g. an ACR emulator's /oauth2/exchange
	// on the same host.
	Other http.Handler
}

// Registry is an http.Handler serving the registry API and, in token mode,
// its token endpoint. Mount it on a loopback listener (see Listen) or behind
// a proxy under a cloud host name; it answers under any Host.
type Registry struct {
	opts    Options
	app     *handlers.App
	api     http.Handler
	tokens  *tokenServer
	admin   [2]string
	service string
}

// New builds a registry with in-memory storage. Close releases it.
func New(opts Options) (*Registry, error) {
	if (opts.Basic == nil) == (opts.Refresh == nil) {
		return nil, errors.New("registrytest: set exactly one of Options.Basic and Options.Refresh")
	}
	if opts.AnonymousPull && opts.Basic == nil {
		return nil, errors.New("registrytest: Options.AnonymousPull needs Options.Basic")
	}
	// The registry logs through the global logrus logger; tests and the demo
	// want silence.
	logrus.SetOutput(io.Discard)
	r := &Registry{opts: opts, service: opts.Service, admin: [2]string{"registrytest-admin", rand.Text()}}
	if r.service == "" {
		r.service = "registrytest"
	}
	if opts.TokenTTL <= 0 {
		r.opts.TokenTTL = 10 * time.Minute
	}
	cfg := &configuration.Configuration{}
	cfg.Storage = configuration.Storage{
		"inmemory": configuration.Parameters{},
		// The purger would start a background goroutine per registry.
		"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
	}
	cfg.HTTP.Secret = rand.Text()
	cfg.HTTP.RelativeURLs = true
	cfg.Log.AccessLog.Disabled = true
	if opts.Refresh != nil {
		ts, err := newTokenServer(r.service, r.opts.TokenTTL)
		if err != nil {
			return nil, err
		}
		// distribution reads the JWKS from a file, once, in NewApp.
		dir, err := os.MkdirTemp("", "registrytest-")
		if err != nil {
			return nil, fmt.Errorf("registrytest: temporary directory: %w", err)
		}
		defer os.RemoveAll(dir)
		jwksPath := filepath.Join(dir, "jwks.json")
		if err := os.WriteFile(jwksPath, ts.jwks, 0o600); err != nil {
			return nil, fmt.Errorf("registrytest: write JWKS: %w", err)
		}
		r.tokens = ts
		cfg.Auth = configuration.Auth{"token": ts.authParameters(jwksPath)}
	}
	app := handlers.NewApp(context.Background(), cfg)
	r.app = app
	r.api = app
	if opts.Basic != nil {
		r.api = basicAuth(app, r.acceptBasic, opts.AnonymousPull)
	}
	return r, nil
}

// Close stops the registry's background work.
func (r *Registry) Close() error {
	return r.app.Shutdown()
}

// Service returns the service name the registry's tokens are issued for.
func (r *Registry) Service() string { return r.service }

// Admin returns a credential the registry always accepts, in either mode,
// for seeding images (Push) without going through a cloud emulator.
func (r *Registry) Admin() (user, pass string) { return r.admin[0], r.admin[1] }

// ServeHTTP routes /v2/ to the registry, the token endpoint to the token
// server, and anything else to Options.Other (404 without it).
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// The registry builds its token realm from Host and X-Forwarded-Proto
	// (autoredirect): tell it whether the client came over TLS so a realm
	// on a plain loopback listener reads http://.
	if req.Header.Get("X-Forwarded-Proto") == "" {
		req = req.Clone(req.Context())
		proto := "http"
		if req.TLS != nil {
			proto = "https"
		}
		req.Header.Set("X-Forwarded-Proto", proto)
	}
	switch {
	case req.URL.Path == "/v2" || strings.HasPrefix(req.URL.Path, "/v2/"):
		r.api.ServeHTTP(w, req)
	case req.URL.Path == TokenPath && r.tokens != nil:
		r.tokens.serve(w, req, r.acceptBasic, r.opts.Refresh)
	case r.opts.Other != nil:
		r.opts.Other.ServeHTTP(w, req)
	default:
		http.NotFound(w, req)
	}
}

// acceptBasic reports whether a Basic credential is accepted: the admin
// credential always, otherwise what the mode's callback says.
func (r *Registry) acceptBasic(user, pass string) bool {
	if user == r.admin[0] {
		return pass == r.admin[1]
	}
	if r.opts.Basic != nil {
		return r.opts.Basic(user, pass)
	}
	return user == ACRUser && r.opts.Refresh(pass)
}
