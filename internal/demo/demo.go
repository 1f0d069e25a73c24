// Package demo is `kcred demo`: the whole flow on one machine. It starts
// loopback emulators of AWS, Azure, Google Cloud and Oracle Cloud and a real
// OCI registry behind each cloud registry host, writes a
// CredentialProviderConfig and a bin dir of links to the kcred binary, runs
// the kubelet simulator for a handful of images, pulls each with the
// credential the kubelet would try first, and runs again to show the caches
// at work. It dials nothing but loopback.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kcred/kcred/internal/registrytest"
	"github.com/kcred/kcred/kubelet"
	"github.com/kcred/kcred/plugin"
)

// Images are what the demo pulls, one per case it shows.
var Images = []string{
	ecrHost + "/team/api:v1",               // ECR, node identity from instance metadata
	ecrHost + "/team/web:v1",               // same registry: the kubelet's Registry cache answers
	ecrPublicHost + "/kcred/tools:v1",      // ECR Public's own token API
	acrHost + "/apps/frontend:v1",          // ACR: managed identity, token exchange
	mirrorHost + "/dotnet/runtime:8.0",     // ACR registry mirror: the source's name, the target's credential
	arHost + "/kcred-demo/apps/backend:v1", // Artifact Registry: the node's service account, GCE metadata server
	ocirHost + "/kcreddemo/app:v1",         // OCIR: instance principal, X.509 federation, BEARER_TOKEN
	harborHost + "/team/tool:v1",           // any registry: static credentials from a file the operator owns
	"nginx:1.27",                           // Docker Hub: no provider matches, anonymous pull
}

// Row is one image in one round.
type Row struct {
	Round int
	Image string
	// Provider, Key and User describe the credential the kubelet tries
	// first; empty for an anonymous pull.
	Provider, Key, User string
	// Cache says where the credential came from: "cloud" (the plugin asked
	// the cloud), "node cache" (the plugin answered from kcred's on-disk
	// token cache), "kubelet cache" (no exec at all), "static file"
	// (static-credential-provider read its file), or "-".
	Cache string
	// CloudCalls is how many cloud requests this lookup made.
	CloudCalls int
	// Pull is "ok", or why the pull failed.
	Pull string
	OK   bool
}

// Result is everything the demo did.
type Result struct {
	Rows []Row
	// WrongRefused counts pulls with a tampered credential, and how many the
	// registries refused (all of them, or the demo failed).
	WrongTried, WrongRefused int
	// CloudCalls per round.
	CloudCalls [2]int
}

// Failed reports whether any step failed.
func (r *Result) Failed() bool {
	for _, row := range r.Rows {
		if !row.OK {
			return true
		}
	}
	return r.WrongRefused != r.WrongTried || r.CloudCalls[1] != 0
}

// Options configure Run.
type Options struct {
	// Kcred is the kcred binary to link into the bin dir.
	Kcred string
	// Dir is a scratch directory (config, bin dir, token cache).
	Dir string
	// Log receives progress lines; nil for none.
	Log io.Writer
}

// Run sets up the world and runs both rounds.
func Run(ctx context.Context, o Options) (*Result, error) {
	logf := func(format string, a ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", a...)
		}
	}
	w, err := newWorld()
	if err != nil {
		return nil, err
	}
	defer w.close()
	logf("emulated AWS (instance metadata, ECR, ECR Public, STS) on %s", w.awsURL)
	logf("emulated Azure (managed identity, Entra ID, ACR exchange), googleapis.com, OCI federation and the registries behind HTTPS proxy %s (test CA)", w.proxy.URL())
	logf("emulated Google Cloud metadata server on %s", w.mdHost)
	logf("emulated OCI instance metadata on %s", w.ociMeta)

	binDir, configPath, err := setup(o)
	if err != nil {
		return nil, err
	}
	logf("kubelet config %s, bin dir %s", configPath, binDir)
	for _, img := range Images {
		if err := w.seed(ctx, reference(img)); err != nil {
			return nil, fmt.Errorf("seed %s: %w", img, err)
		}
	}

	cfg, err := kubelet.Startup(configPath, binDir)
	if err != nil {
		return nil, fmt.Errorf("the kubelet would not start with the demo config: %w", err)
	}
	res := &Result{}
	env := w.env(o.Dir)
	for round := 1; round <= 2; round++ {
		// A new simulator is a kubelet (re)start: its in-memory cache is
		// empty, kcred's on-disk token cache is not.
		sim := kubelet.NewSimulator(cfg, binDir)
		sim.Environ = func() []string { return env }
		before := w.cloudCalls()
		for _, img := range Images {
			res.Rows = append(res.Rows, w.lookupAndPull(ctx, sim, round, img))
		}
		res.CloudCalls[round-1] = w.cloudCalls() - before
	}
	w.tryWrongCredentials(ctx, cfg, binDir, env, res)
	return res, nil
}

// lookupAndPull asks the simulator which credentials the kubelet would hand
// the runtime and pulls with the first, as the runtime tries them in order.
func (w *world) lookupAndPull(ctx context.Context, sim *kubelet.Simulator, round int, img string) Row {
	row := Row{Round: round, Image: img, Cache: "-"}
	before := w.cloudCalls()
	rep := sim.Lookup(ctx, img)
	row.CloudCalls = w.cloudCalls() - before
	if rep.Error != "" {
		row.Pull = "image invalid: " + rep.Error
		return row
	}
	for _, p := range rep.Providers {
		switch {
		case p.Error != "":
			row.Pull = fmt.Sprintf("%s failed: %s", p.Name, p.Error)
			return row
		case p.CacheHit:
			row.Cache = "kubelet cache"
		case p.Executed && p.Name == staticRole:
			row.Cache = "static file"
		case p.Executed && row.CloudCalls > 0:
			row.Cache = "cloud"
		case p.Executed:
			row.Cache = "node cache"
		}
	}
	var user, pass string
	if len(rep.Credentials) > 0 {
		c := rep.Credentials[0]
		row.Provider, row.Key, row.User = c.Provider, c.Key, c.Username
		user, pass = c.Username, c.Password
	}
	if err := registrytest.Pull(ctx, reference(img), user, pass, w.transport()); err != nil {
		row.Pull = "pull failed: " + plugin.OneLine(err.Error())
		return row
	}
	row.Pull, row.OK = "ok", true
	if user == "" {
		row.Pull = "ok (anonymous)"
	}
	return row
}

// tryWrongCredentials pulls each private image with its credential's
// password altered: a registry that accepted it would prove nothing.
func (w *world) tryWrongCredentials(ctx context.Context, cfg *kubelet.Config, binDir string, env []string, res *Result) {
	sim := kubelet.NewSimulator(cfg, binDir)
	sim.Environ = func() []string { return env }
	for _, img := range Images {
		rep := sim.Lookup(ctx, img)
		if len(rep.Credentials) == 0 {
			continue
		}
		c := rep.Credentials[0]
		res.WrongTried++
		err := registrytest.Pull(ctx, reference(img), c.Username, c.Password+"x", w.transport())
		if registrytest.IsUnauthorized(err) {
			res.WrongRefused++
		}
	}
}

// setup writes the bin dir (links named as the kubelet config names the
// providers) and the CredentialProviderConfig.
func setup(o Options) (binDir, configPath string, err error) {
	binDir = filepath.Join(o.Dir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", "", err
	}
	for _, name := range []string{"ecr-credential-provider", "acr-credential-provider", "auth-provider-gcp", "oke-credential-provider", staticRole} {
		if err := os.Symlink(o.Kcred, filepath.Join(binDir, name)); err != nil {
			return "", "", fmt.Errorf("link %s: %w", name, err)
		}
	}
	azureJSON := filepath.Join(o.Dir, "azure.json")
	if err := os.WriteFile(azureJSON, []byte(`{"cloud":"AzurePublicCloud","tenantId":"72f988bf-86f1-41af-91ab-2d7cd011db47","useManagedIdentityExtension":true}`+"\n"), 0o600); err != nil {
		return "", "", err
	}
	staticYAML := filepath.Join(o.Dir, "static.yaml")
	if err := os.WriteFile(staticYAML, []byte(fmt.Sprintf("registries:\n- registry: %s\n  username: %s\n  password: %s\n", harborHost, harborUser, harborPass)), 0o600); err != nil {
		return "", "", err
	}
	configPath = filepath.Join(o.Dir, "credential-provider-config.yaml")
	config := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: ecr-credential-provider
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: ["*.dkr.ecr.*.amazonaws.com", "public.ecr.aws"]
  defaultCacheDuration: 12h
  args: [get-credentials]
- name: acr-credential-provider
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: ["*.azurecr.io", "mcr.microsoft.com"]
  defaultCacheDuration: 10m
  args: [%s, --registry-mirror=mcr.microsoft.com:%s]
- name: auth-provider-gcp
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: ["container.cloud.google.com", "gcr.io", "*.gcr.io", "*.pkg.dev"]
  defaultCacheDuration: 1m
  args: [get-credentials, --v=3]
- name: oke-credential-provider
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: ["*.ocir.io", "ocir.*.oci.*.com"]
  defaultCacheDuration: 55m
- name: %s
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: [%s]
  defaultCacheDuration: 10m
  args: [--config=%s]
`, azureJSON, acrHost, staticRole, harborHost, staticYAML)
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		return "", "", err
	}
	return binDir, configPath, nil
}

// staticRole serves the demo's registry without a token API.
const staticRole = "static-credential-provider"

// reference is the pull reference for an image as a pod names it.
func reference(img string) string {
	if hostOf(img) == "" {
		return dockerHubHost + "/library/" + img
	}
	return img
}

// hostOf returns the registry host of a reference, or "" for a Docker Hub
// short name.
func hostOf(ref string) string {
	host, _, ok := strings.Cut(ref, "/")
	if !ok || !strings.ContainsAny(host, ".:") {
		return ""
	}
	return host
}
