package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/registrytest"
)

// Role is one credential provider the node runs, with the registries behind
// its cloud. Adding a cloud to the live node is adding a Role to Roles.
type Role struct {
	// Provider is the provider's name in the CredentialProviderConfig and
	// its link in the kubelet's bin dir.
	Provider    string
	MatchImages []string
	// CacheDuration is the config's defaultCacheDuration.
	CacheDuration string
	// Images are run as pods one after another. The first makes the kubelet
	// exec the provider; with cacheKeyType Registry the others, from the
	// same registry, are served from the kubelet's cache.
	Images []string
	// Denied, when set, is an image whose pod is started after the cloud
	// was made to refuse (Refuse): the provider fails, the pull is
	// anonymous and the registry refuses it.
	Denied string
	// Hosts are the registry hosts to serve, each with options built from
	// the world's emulators.
	Hosts func(w *World) map[string]registrytest.Options
	// Args and Env are the provider's args (none: no args key) and env in
	// the config; dir is a directory for files they name.
	Args func(w *World, dir string) ([]string, error)
	Env  func(w *World) []string
	// Issued reports whether a secret the registry received (a Basic
	// password or a refresh token) was issued by this role's cloud.
	Issued func(w *World, user, secret string) bool
	// Execs is how many credentials the cloud has issued: one per provider
	// exec, since the node runs kcred with its token cache off.
	Execs func(w *World) int
	// Refuse makes the cloud refuse every later credential request.
	Refuse func(w *World)
}

// Registry hosts of the node's images: real cloud host names, served through
// the test proxy with the test CA.
const (
	ECRHost       = "123456789012.dkr.ecr.eu-west-3.amazonaws.com"
	ECRDeniedHost = "210987654321.dkr.ecr.eu-west-3.amazonaws.com"
	ACRHost       = "kcrednode.azurecr.io"
	ARHost        = "europe-docker.pkg.dev"
	OCIRHost      = "iad.ocir.io"
)

// Roles are the providers the live node runs.
var Roles = []Role{
	{
		Provider:      "ecr-credential-provider",
		MatchImages:   []string{"*.dkr.ecr.*.amazonaws.com"},
		CacheDuration: "12h",
		Images:        []string{ECRHost + "/team/api:v1", ECRHost + "/team/web:v1"},
		Denied:        ECRDeniedHost + "/team/api:v1",
		Hosts: func(w *World) map[string]registrytest.Options {
			o := registrytest.Options{Basic: w.AWS.ValidCredential}
			return map[string]registrytest.Options{ECRHost: o, ECRDeniedHost: o}
		},
		Args: func(*World, string) ([]string, error) { return []string{"get-credentials"}, nil },
		Env: func(w *World) []string {
			// Node identity from instance metadata, as on EC2.
			return append([]string{
				"AWS_EC2_METADATA_DISABLED=false",
				"AWS_CONFIG_FILE=/nonexistent",
				"AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
			}, fakecloud.Env(w.AWSURL)...)
		},
		Issued: func(w *World, user, secret string) bool { return w.AWS.ValidCredential(user, secret) },
		Execs:  func(w *World) int { return w.AWS.Count(fakecloud.OpECRToken) },
		Refuse: func(w *World) {
			w.AWS.Inject(fakecloud.OpECRToken, fakecloud.Fault{Status: http.StatusBadRequest,
				Body: `{"__type":"AccessDeniedException","message":"User is not authorized to perform: ecr:GetAuthorizationToken"}`})
		},
	},
	{
		Provider:      "acr-credential-provider",
		MatchImages:   []string{"*.azurecr.io"},
		CacheDuration: "10m",
		Images:        []string{ACRHost + "/apps/frontend:v1", ACRHost + "/apps/backend:v1"},
		Hosts: func(w *World) map[string]registrytest.Options {
			return map[string]registrytest.Options{ACRHost: {
				Service: ACRHost,
				Refresh: func(tok string) bool { return acrIssued(w, "", tok) },
				// ACR's exchange endpoint, on the registry host.
				Other: w.Azure.Registry(),
			}}
		},
		Args: func(_ *World, dir string) ([]string, error) {
			// Node identity from managed identity (IMDS), as on AKS.
			p := filepath.Join(dir, "azure.json")
			err := os.WriteFile(p, []byte(`{"cloud":"AzurePublicCloud","tenantId":"72f988bf-86f1-41af-91ab-2d7cd011db47","useManagedIdentityExtension":true}`+"\n"), 0o600)
			return []string{p}, err
		},
		Env:    func(*World) []string { return nil },
		Issued: acrIssued,
		Execs:  func(w *World) int { return w.Azure.Count(fakecloud.OpACRExchange) },
		Refuse: func(w *World) {
			w.Azure.Inject(fakecloud.OpACRExchange, fakecloud.Fault{Status: http.StatusUnauthorized})
		},
	},
	{
		Provider:      "auth-provider-gcp",
		MatchImages:   []string{"*.pkg.dev"},
		CacheDuration: "1m",
		Images:        []string{ARHost + "/kcred-node/apps/api:v1", ARHost + "/kcred-node/apps/web:v1"},
		Hosts: func(w *World) map[string]registrytest.Options {
			return map[string]registrytest.Options{ARHost: {Basic: func(user, pass string) bool { return gcpIssued(w, user, pass) }}}
		},
		Args: func(*World, string) ([]string, error) { return []string{"get-credentials"}, nil },
		Env: func(w *World) []string {
			// The node's service account from the GCE metadata server.
			return []string{"GCE_METADATA_HOST=" + w.GCPMetadataHost, "CLOUDSDK_CONFIG=/nonexistent"}
		},
		Issued: gcpIssued,
		Execs:  func(w *World) int { return w.GCP.Count(fakecloud.OpGCEToken) },
	},
	{
		Provider: "oke-credential-provider",
		// Every OCIR host form of every realm, as deploy/overlays/oke.
		MatchImages:   []string{"*.ocir.io", "ocir.*.oci.*.com", "ocir.*.oci.oraclegovcloud.uk", "ocir.*.oci.oraclecloud.eu"},
		CacheDuration: "55m",
		Images:        []string{OCIRHost + "/kcrednode/apps/api:v1", OCIRHost + "/kcrednode/apps/web:v1"},
		Hosts: func(w *World) map[string]registrytest.Options {
			return map[string]registrytest.Options{OCIRHost: {
				Basic: func(user, pass string) bool { return ocirIssued(w, user, pass) },
				// OCIR's docker-token endpoint, on the registry host.
				Other: w.OCI,
			}}
		},
		Args: func(*World, string) ([]string, error) { return nil, nil },
		Env: func(w *World) []string {
			// The node's instance principal from instance metadata, as on OKE.
			return []string{"OCIR_AUTH_METHOD=INSTANCE_PRINCIPAL", "OCI_METADATA_BASE_URL=" + w.OCIMetadataURL}
		},
		Issued: ocirIssued,
		Execs:  func(w *World) int { return w.OCI.Count(fakecloud.OpOCIRToken) },
	},
}

// acrIssued: an ACR refresh token the Azure emulator issued for ACRHost
// (sent as a password or a refresh_token form value; the user is not checked).
func acrIssued(w *World, _, secret string) bool {
	g, ok := w.Azure.ValidRefreshToken(secret)
	return ok && g.Registry == ACRHost
}

// gcpIssued: an access token of the node's service account, under the user
// name Artifact Registry expects.
func gcpIssued(w *World, user, secret string) bool {
	_, ok := w.GCP.ValidAccessToken(secret)
	return ok && user == "oauth2accesstoken"
}

// ocirIssued: an OCIR docker token the OCI emulator issued for OCIRHost,
// under the user name OCIR expects with a token.
func ocirIssued(w *World, user, secret string) bool {
	g, ok := w.OCI.ValidToken(secret)
	return ok && g.Registry == OCIRHost && user == "BEARER_TOKEN"
}

// World is the clouds and registries the node pulls from: the AWS, Azure,
// Google and Oracle emulators and one real registry per host, reached
// through a loopback HTTPS proxy that serves the real host names with a
// test CA.
type World struct {
	Proxy  *fakecloud.Proxy
	AWS    *fakecloud.AWS
	AWSURL string
	Azure  *fakecloud.Azure
	GCP    *fakecloud.GCP
	// GCPMetadataHost is the GCE metadata server's host:port
	// (GCE_METADATA_HOST: plain HTTP on loopback, as on GCE).
	GCPMetadataHost string
	OCI             *fakecloud.OCI
	// OCIMetadataURL is OCI instance metadata's base URL
	// (OCI_METADATA_BASE_URL: plain HTTP on loopback, as on OCI).
	OCIMetadataURL string

	mu      sync.Mutex
	log     []Access
	admins  map[string][2]string
	closers []func()
}

// Access is one request a registry served, as its access log shows it.
type Access struct {
	Host, Method, Path string
	Status             int
	// User is the Basic user name, "" when none.
	User string
	// Cred says what authenticated the request: "cloud:PROVIDER" for a
	// secret that provider's cloud issued, "registry token" for a bearer
	// token the registry's token endpoint issued, "admin" for the seeding
	// credential, "anonymous" or "unknown"; "cloud API" marks a request
	// to the cloud's own API served on the registry host (ACR's exchange,
	// OCIR's docker token).
	Cred string
}

func (a Access) String() string {
	return fmt.Sprintf("%s %s %s -> %d (%s)", a.Method, a.Host, a.Path, a.Status, a.Cred)
}

// NewWorld starts the emulators (AWS, Azure, Google, Oracle), the proxy and
// the registries of roles.
func NewWorld(roles []Role) (*World, error) {
	p, err := fakecloud.NewProxy()
	if err != nil {
		return nil, fmt.Errorf("start the HTTPS proxy: %w", err)
	}
	w := &World{Proxy: p, AWS: fakecloud.NewAWS(), Azure: fakecloud.NewAzure(), admins: map[string][2]string{}}
	w.closers = append(w.closers, func() { p.Close() })
	srv := httptest.NewServer(w.AWS.Handler())
	w.AWSURL = srv.URL
	w.closers = append(w.closers, srv.Close)
	w.Azure.Install(p)
	w.GCP = fakecloud.NewGCP()
	w.GCP.Install(p)
	md := httptest.NewServer(w.GCP.Metadata())
	w.GCPMetadataHost = strings.TrimPrefix(md.URL, "http://")
	w.closers = append(w.closers, md.Close)
	if w.OCI, err = fakecloud.NewOCI(); err != nil {
		w.Close()
		return nil, err
	}
	// Federation through the proxy; the registry host is the registry's,
	// which hands the docker-token path to the emulator (Options.Other).
	w.OCI.Install(p)
	omd := httptest.NewServer(w.OCI)
	w.OCIMetadataURL = omd.URL + "/opc/v2"
	w.closers = append(w.closers, omd.Close)
	for i := range roles {
		role := &roles[i]
		for host, opts := range role.Hosts(w) {
			reg, err := registrytest.New(opts)
			if err != nil {
				w.Close()
				return nil, fmt.Errorf("start the registry for %s: %w", host, err)
			}
			w.closers = append(w.closers, func() { reg.Close() })
			user, pass := reg.Admin()
			w.admins[host] = [2]string{user, pass}
			p.Route(host, w.logged(host, reg, role))
		}
	}
	return w, nil
}

// Close stops everything NewWorld started.
func (w *World) Close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
	w.closers = nil
}

// Env is what the kubelet's providers need to reach the emulators: the
// proxy (HTTPS and instance metadata) and the test CA.
func (w *World) Env() []string { return w.Proxy.Env() }

// Log returns the registries' access log so far.
func (w *World) Log() []Access {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Access(nil), w.log...)
}

// ResetLog forgets the access log (after seeding).
func (w *World) ResetLog() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = nil
}

// Seed pushes img to its registry with the registry's admin credential.
func (w *World) Seed(ctx context.Context, ref string, img v1.Image) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	admin, ok := w.admins[r.Context().RegistryStr()]
	if !ok {
		return fmt.Errorf("no registry serves %s", ref)
	}
	return remote.Write(r, img, remote.WithContext(ctx),
		remote.WithAuth(&authn.Basic{Username: admin[0], Password: admin[1]}),
		remote.WithTransport(w.Proxy.Client().Transport))
}

// logged records every request reg serves for host, classifying its
// credential without keeping it.
func (w *World) logged(host string, reg http.Handler, role *Role) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		a := Access{Host: host, Method: r.Method, Path: r.URL.Path, Cred: "anonymous"}
		if r.URL.Path != "/v2" && !strings.HasPrefix(r.URL.Path, "/v2/") && r.URL.Path != registrytest.TokenPath {
			// The cloud's own API on the registry host (ACR's
			// /oauth2/exchange, OCIR's docker token), which kcred
			// calls: not registry traffic.
			a.Cred = "cloud API"
		}
		user, secret, basic := r.BasicAuth()
		if r.Method == http.MethodPost && r.URL.Path == registrytest.TokenPath {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			r.Body = io.NopCloser(bytes.NewReader(body))
			if err := r.ParseForm(); err == nil {
				switch r.PostForm.Get("grant_type") {
				case "refresh_token":
					secret, basic = r.PostForm.Get("refresh_token"), true
				case "password":
					user, secret, basic = r.PostForm.Get("username"), r.PostForm.Get("password"), true
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.PostForm, r.Form = nil, nil
		}
		switch {
		case basic && w.admins[host] == [2]string{user, secret}:
			a.Cred = "admin"
		case basic && role.Issued(w, user, secret):
			a.Cred = "cloud:" + role.Provider
		case basic:
			a.Cred = "unknown"
		case strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "):
			a.Cred = "registry token"
		}
		a.User = user
		sw := &statusWriter{ResponseWriter: rw, status: http.StatusOK}
		reg.ServeHTTP(sw, r)
		a.Status = sw.status
		w.mu.Lock()
		w.log = append(w.log, a)
		w.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// waitFor polls cond every 200ms until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
	return true
}
