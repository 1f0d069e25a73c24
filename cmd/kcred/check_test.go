package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/kubeletcorpus"
	"github.com/kcred/kcred/kubelet"
)

const (
	checkSecret = "s3cr3t-password"
	checkToken  = "sa-t0ken-value"
)

// checkScenario: provider "ok" answers (after checking it got the token),
// provider "bad" fails with stderr, provider "sa" runs in service-account mode.
func checkScenario(t *testing.T) kubeletcorpus.Materialized {
	t.Helper()
	resp := `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"1h","auth":{"registry.io":{"username":"AWS","password":"` + checkSecret + `"}}}`
	sc := kubeletcorpus.Scenario{
		Files: map[string]string{"c.yaml": `apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: ok
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: ["registry.io"]
  defaultCacheDuration: 10m
- name: bad
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: ["registry.io", "https://other.io"]
  defaultCacheDuration: 10m
- name: sa
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: ["registry.io"]
  defaultCacheDuration: 10m
  tokenAttributes: {serviceAccountTokenAudience: registry.io, cacheType: Token, requireServiceAccount: true, optionalServiceAccountAnnotationKeys: [kcred.io/role]}
`},
		Plugins: map[string]kubeletcorpus.Plugin{
			"ok":  {Stdout: resp},
			"bad": {Stderr: "bad: no instance profile (attach a role to the node)", Exit: 1},
			"sa":  {Stdout: strings.Replace(resp, "Registry", "Image", 1)},
		},
	}
	m, err := sc.Materialize(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func runCheckT(args ...string) (int, string, string) {
	var out, errOut strings.Builder
	code := runCheck(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheckUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--config", "x"},
		{"--config", "x", "--bin-dir", "y", "--sa-uid", "u"},
		{"--config", "x", "--bin-dir", "y", "--service-account", "noslash"},
		{"--config", "x", "--bin-dir", "y", "--timeout", "0s"},
		{"--nope"},
	} {
		if code, _, stderr := runCheckT(args...); code != 2 || !strings.Contains(stderr, "see kcred check --help") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if code, stdout, _ := runCheckT("--help"); code != 0 || !strings.Contains(stdout, "--fail-on-error") {
		t.Errorf("--help: exit %d, %q", code, stdout)
	}
}

func TestCheckInvalidConfig(t *testing.T) {
	m := checkScenario(t)
	os.Remove(filepath.Join(m.BinDir, "sa"))
	code, stdout, _ := runCheckT("--config", m.Config, "--bin-dir", m.BinDir, "registry.io/app")
	if code != 1 || !strings.Contains(stdout, "REFUSES TO START") || !strings.Contains(stdout, "plugin binary executable  did not exist") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	if !strings.Contains(stdout, `warning: provider "bad": matchImages entry "https://other.io" has a scheme`) {
		t.Fatalf("missing scheme warning:\n%s", stdout)
	}
}

func TestCheckJSON(t *testing.T) {
	m := checkScenario(t)
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte(checkToken+"\n"), 0o600)
	args := []string{"--config", m.Config, "--json", "registry.io/app:v1", "--bin-dir", m.BinDir, "registry.io/app",
		"--service-account", "team/puller", "--sa-annotation", "kcred.io/role=reader", "--sa-token", tok}
	code, stdout, stderr := runCheckT(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout, checkSecret) || strings.Contains(stdout, checkToken) {
		t.Fatalf("secret in output:\n%s", stdout)
	}
	var rep kubelet.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Images) != 2 {
		t.Fatalf("images: %+v", rep.Images)
	}
	first, second := rep.Images[0], rep.Images[1]
	if first.Normalized != "registry.io/app" || len(first.Providers) != 3 {
		t.Fatalf("first image: %+v", first)
	}
	ok, bad, sa := first.Providers[0], first.Providers[1], first.Providers[2]
	if !ok.Executed || ok.CacheKeyType != "Registry" || ok.CacheDuration != "1h0m0s" || ok.CachedUntil == nil {
		t.Errorf("ok: %+v", ok)
	}
	if bad.ErrorClass != "exec" || !strings.Contains(bad.Error, "attach a role to the node") {
		t.Errorf("bad: %+v", bad)
	}
	if !sa.Executed || !strings.Contains(sa.Request, `"serviceAccountToken":"<redacted>"`) || !strings.Contains(sa.Request, `"serviceAccountAnnotations":{"kcred.io/role":"reader"}`) {
		t.Errorf("sa: %+v", sa)
	}
	if !second.Providers[0].CacheHit || second.Providers[0].Executed || !second.Providers[1].Executed || !second.Providers[2].CacheHit {
		t.Errorf("second lookup: %+v %+v %+v", second.Providers[0], second.Providers[1], second.Providers[2])
	}
	want := []kubelet.Credential{
		{Key: "registry.io", Provider: "ok", Username: "AWS", Password: kubelet.Redacted},
		{Key: "registry.io", Provider: "sa", Username: "AWS", Password: kubelet.Redacted},
	}
	for _, img := range rep.Images {
		if len(img.Credentials) != 2 || img.Credentials[0] != want[0] || img.Credentials[1] != want[1] {
			t.Errorf("%s credentials: %+v", img.Image, img.Credentials)
		}
	}

	code, stdout, _ = runCheckT(append(args, "--show-secrets")...)
	if code != 0 || !strings.Contains(stdout, checkSecret) || !strings.Contains(stdout, checkToken) {
		t.Fatalf("--show-secrets: exit %d\n%s", code, stdout)
	}
	if code, _, _ := runCheckT(append(args, "--fail-on-error")...); code != 3 {
		t.Fatalf("--fail-on-error: exit %d, want 3", code)
	}
}

func TestCheckHuman(t *testing.T) {
	m := checkScenario(t)
	code, stdout, _ := runCheckT("--config", m.Config, "--bin-dir", m.BinDir, "registry.io/app", "registry.io/app", "other.io/x", "registry.io/Upper")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"kubelet: starts (config hash sha256:",
		"looked up as registry.io/app",
		"- ok: matches \"registry.io\"",
		`sent:     {"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"registry.io/app"}`,
		"returned: cacheKeyType Registry, cacheDuration 1h0m0s",
		"cached under registry.io until",
		"ERROR:    failed to get credential from external registry credential provider: error execing credential provider plugin bad for image registry.io/app: exit status 1: bad: no instance profile (attach a role to the node)",
		"skipped silently: the pod has no service account",
		"cache hit under registry.io (expires",
		"1.  registry.io  ok  AWS  <redacted>",
		"- ok: not matched:",
		"credentials: none from plugins",
		"invalid: ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(stdout, checkSecret) {
		t.Error("password printed without --show-secrets")
	}
	if t.Failed() || os.Getenv("KCRED_SHOW") != "" {
		t.Log(stdout)
	}
}

func TestCheckTimeout(t *testing.T) {
	sc := kubeletcorpus.Scenario{
		Files:   map[string]string{"c.yaml": "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: slow\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  matchImages: [registry.io]\n  defaultCacheDuration: 1m\n"},
		Plugins: map[string]kubeletcorpus.Plugin{"slow": {Script: "exec sleep 60"}},
	}
	m, err := sc.Materialize(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := runCheckT("--config", m.Config, "--bin-dir", m.BinDir, "--timeout", "200ms", "--fail-on-error", "registry.io/app")
	if code != 3 || !strings.Contains(stdout, "error execing credential provider plugin slow for image registry.io/app: context deadline exceeded") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
}

// TestCheckShowsMirroredKey runs kcred check over the real binary as
// static-credential-provider with --registry-mirror: the report shows the
// mirror source's key, and that key is the credential the runtime gets.
func TestCheckShowsMirroredKey(t *testing.T) {
	exectest.RequireIsolatedNetwork(t)
	dir := t.TempDir()
	binDir := filepath.Join(dir, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(exectest.Binary(t), filepath.Join(binDir, "static-credential-provider")); err != nil {
		t.Fatal(err)
	}
	static := filepath.Join(dir, "static.yaml")
	writeFile(t, static, "registries:\n- {registry: \"registry.internal:5000\", username: robot, password: "+checkSecret+"}\n")
	config := filepath.Join(dir, "config.yaml")
	writeFile(t, config, `apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: static-credential-provider
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: ["registry.internal:5000", "docker.io"]
  defaultCacheDuration: 10m
  args: [--config=`+static+`, --registry-mirror=docker.io:registry.internal:5000]
`)
	code, out, errOut := runCheckT("--config", config, "--bin-dir", binDir, "nginx:1.27")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	for _, want := range []string{"auth:     docker.io, registry.internal:5000\n", "1.  docker.io  static-credential-provider  robot  <redacted>\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, checkSecret) {
		t.Errorf("report shows the password:\n%s", out)
	}
}
