package demo

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/registrytest"
)

// Registry hosts of the demo. Real host names: the plugins and the client
// reach them through the loopback HTTPS proxy, never the network.
const (
	ecrHost       = "123456789012.dkr.ecr.eu-west-3.amazonaws.com"
	ecrPublicHost = "public.ecr.aws"
	acrHost       = "kcreddemo.azurecr.io"
	arHost        = "europe-docker.pkg.dev"
	mirrorHost    = "mcr.microsoft.com"
	dockerHubHost = "index.docker.io"
	ocirHost      = "iad.ocir.io"
	// harborHost is a registry with no token API (Harbor, Artifactory, a
	// pull-through cache): a robot account's static password.
	harborHost = "harbor.kcred.example"
	harborUser = "robot$demo"
	harborPass = "demo-robot-password"
)

// world is the emulated clouds and the registries behind them.
type world struct {
	proxy   *fakecloud.Proxy
	aws     *fakecloud.AWS
	awsURL  string
	azure   *fakecloud.Azure
	gcp     *fakecloud.GCP
	mdHost  string // the GCE metadata server, for GCE_METADATA_HOST
	oci     *fakecloud.OCI
	ociMeta string
	admins  []adminCred
	closers []func()
}

// newWorld starts the emulators, one real registry per cloud, and the proxy
// that serves the registries and Azure under their real host names.
func newWorld() (*world, error) {
	w := &world{}
	p, err := fakecloud.NewProxy()
	if err != nil {
		return nil, fmt.Errorf("start the HTTPS proxy: %w", err)
	}
	w.proxy = p
	w.closers = append(w.closers, func() { p.Close() })

	w.aws = fakecloud.NewAWS()
	srv := httptest.NewServer(w.aws.Handler())
	w.awsURL = srv.URL
	w.closers = append(w.closers, srv.Close)

	w.azure = fakecloud.NewAzure()
	w.azure.Install(p)

	// Google: the metadata server on loopback (GCE_METADATA_HOST, plain
	// HTTP as on GCE), the googleapis.com hosts behind the proxy.
	w.gcp = fakecloud.NewGCP()
	w.gcp.Install(p)
	md := httptest.NewServer(w.gcp.Metadata())
	w.mdHost = strings.TrimPrefix(md.URL, "http://")
	w.closers = append(w.closers, md.Close)

	// ECR (private and Public) accepts exactly the tokens the AWS emulator
	// issued; ECR Public, like the real one, also serves anonymous pulls.
	if err := w.registry(registrytest.Options{Basic: w.aws.ValidCredential}, ecrHost); err != nil {
		return nil, err
	}
	if err := w.registry(registrytest.Options{Basic: w.aws.ValidCredential, AnonymousPull: true}, ecrPublicHost); err != nil {
		return nil, err
	}
	// The ACR accepts only refresh tokens the Azure emulator exchanged for
	// it, through its token endpoint. mcr.microsoft.com is served by the
	// same registry, as a containerd hosts.toml mirror would route it: the
	// runtime pulls the source name with the target's credential.
	acr := registrytest.Options{
		Service: acrHost,
		Refresh: func(tok string) bool {
			g, ok := w.azure.ValidRefreshToken(tok)
			return ok && g.Registry == acrHost
		},
		Other: w.azure.Registry(),
	}
	if err := w.registry(acr, acrHost, mirrorHost); err != nil {
		return nil, err
	}
	// Artifact Registry takes a Google access token as the password of
	// oauth2accesstoken: exactly the tokens the Google emulator issued.
	ar := func(user, pass string) bool {
		_, ok := w.gcp.ValidAccessToken(pass)
		return ok && user == "oauth2accesstoken"
	}
	if err := w.registry(registrytest.Options{Basic: ar}, arHost); err != nil {
		return nil, err
	}
	// OCIR: the OCI emulator serves instance metadata on loopback,
	// federation under its auth host, and the docker-token endpoint beside
	// the registry, which accepts BEARER_TOKEN with a token it issued.
	if w.oci, err = fakecloud.NewOCI(); err != nil {
		return nil, fmt.Errorf("start the OCI emulator: %w", err)
	}
	w.oci.Install(p)
	meta := httptest.NewServer(w.oci)
	w.ociMeta = meta.URL + "/opc/v2"
	w.closers = append(w.closers, meta.Close)
	ocir := registrytest.Options{
		Basic: func(user, pass string) bool {
			g, ok := w.oci.ValidToken(pass)
			return ok && user == "BEARER_TOKEN" && g.Registry == ocirHost
		},
		Other: w.oci,
	}
	if err := w.registry(ocir, ocirHost); err != nil {
		return nil, err
	}
	// The private registry accepts exactly its robot account.
	if err := w.registry(registrytest.Options{Basic: func(user, pass string) bool { return user == harborUser && pass == harborPass }}, harborHost); err != nil {
		return nil, err
	}
	// Docker Hub: public, no credentials.
	if err := w.registry(registrytest.Options{Basic: func(string, string) bool { return false }, AnonymousPull: true}, dockerHubHost, "registry-1.docker.io"); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *world) registry(opts registrytest.Options, hosts ...string) error {
	reg, err := registrytest.New(opts)
	if err != nil {
		return fmt.Errorf("start the registry for %s: %w", hosts[0], err)
	}
	w.closers = append(w.closers, func() { reg.Close() })
	for _, h := range hosts {
		w.proxy.Route(h, reg)
	}
	admin, pass := reg.Admin()
	w.admins = append(w.admins, adminCred{hosts: hosts, user: admin, pass: pass})
	return nil
}

func (w *world) close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
}

// transport makes go-containerregistry reach the registries through the
// proxy and trust its CA, as a node's runtime would reach the real ones.
func (w *world) transport() remote.Option {
	return remote.WithTransport(w.proxy.Client().Transport)
}

// seed pushes an image to ref with the registry's admin credential.
func (w *world) seed(ctx context.Context, ref string) error {
	for _, a := range w.admins {
		for _, h := range a.hosts {
			if hostOf(ref) == h {
				_, err := registrytest.Push(ctx, ref, a.user, a.pass, w.transport())
				return err
			}
		}
	}
	return fmt.Errorf("no registry for %s", ref)
}

type adminCred struct {
	hosts      []string
	user, pass string
}

// cloudCalls is how many requests the cloud emulators have served: token,
// identity and exchange endpoints (registry traffic is not counted).
func (w *world) cloudCalls() int {
	return w.aws.Count("") + w.azure.Count("") + w.gcp.Count("") + w.oci.Count("")
}

// env is the kubelet's environment as the plugins see it: the emulators'
// endpoints (standard SDK variables and the proxy), node identity through
// instance metadata on every cloud, a private token cache.
func (w *world) env(dir string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "absent"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "absent"),
		"AWS_EC2_METADATA_DISABLED=false",
		"KCRED_CACHE_DIR=" + filepath.Join(dir, "kcred-cache"),
		"CLOUDSDK_CONFIG=" + filepath.Join(dir, "absent"),
		"GCE_METADATA_HOST=" + w.mdHost,
	}
	env = append(env, fakecloud.Env(w.awsURL)...)
	env = append(env, "OCI_METADATA_BASE_URL="+w.ociMeta)
	return append(env, w.proxy.Env()...)
}
