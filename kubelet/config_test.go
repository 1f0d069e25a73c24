package kubelet

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const v1Provider = `apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: %s
  matchImages: ["*.registry.io"]
  defaultCacheDuration: 10m
  apiVersion: credentialprovider.kubelet.k8s.io/v1
`

func provider(name string) string { return strings.Replace(v1Provider, "%s", name, 1) }

func TestLoadConfigVersions(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"v1.yaml": provider("a") + `  args: ["--x"]
  env:
  - name: K
    value: V
  tokenAttributes:
    serviceAccountTokenAudience: aud
    cacheType: Token
    requireServiceAccount: true
    optionalServiceAccountAnnotationKeys: ["a.io/b"]
`,
		"v1beta1.json": `{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"CredentialProviderConfig","providers":[{"name":"b","matchImages":["r.io"],"defaultCacheDuration":"1h","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1"}]}`,
		"v1alpha1.yml": `apiVersion: kubelet.config.k8s.io/v1alpha1
kind: CredentialProviderConfig
providers:
- name: c
  matchImages: ["r.io"]
  apiVersion: credentialprovider.kubelet.k8s.io/v1alpha1
`,
	}
	for name, content := range cases {
		p := writeFile(t, dir, name, content)
		cfg, err := LoadConfig(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(cfg.Providers) != 1 || len(cfg.Files) != 1 || cfg.Files[0] != p || !strings.HasPrefix(cfg.Hash, "sha256:") {
			t.Fatalf("%s: got %+v", name, cfg)
		}
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range cfg.Providers {
		names = append(names, p.Name)
	}
	// Sorted by path: v1.yaml, v1alpha1.yml, v1beta1.json.
	if got := strings.Join(names, ","); got != "a,c,b" {
		t.Fatalf("directory order = %s, want a,c,b", got)
	}
	a := cfg.Providers[0]
	if a.TokenAttributes == nil || a.TokenAttributes.CacheType != "Token" || *a.TokenAttributes.RequireServiceAccount != true ||
		a.Env[0] != (EnvVar{"K", "V"}) || a.Args[0] != "--x" || *a.DefaultCacheDuration != 10*time.Minute {
		t.Fatalf("v1 provider decoded as %+v", a)
	}
	if cfg.Providers[1].DefaultCacheDuration != nil {
		t.Fatalf("absent defaultCacheDuration decoded as %v", *cfg.Providers[1].DefaultCacheDuration)
	}
}

// TestConfigHash pins the kubelet's hash: SHA-256 over, per file, an 8-byte
// big-endian length and the bytes.
func TestConfigHash(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", provider("a"))
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	// sha256(00 00 00 00 00 00 00 len ‖ content), computed independently.
	want := hashOf(provider("a"))
	if cfg.Hash != want {
		t.Fatalf("hash = %s, want %s", cfg.Hash, want)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	writeFile(t, empty, "notes.txt", "x")
	writeFile(t, empty, "upper.YAML", provider("a"))
	os.Mkdir(filepath.Join(empty, "sub.yaml"), 0o755)

	dup := filepath.Join(dir, "dup")
	os.Mkdir(dup, 0o755)
	writeFile(t, dup, "1.yaml", provider("a"))
	writeFile(t, dup, "2.yaml", provider("a"))

	cases := []struct{ name, content, want string }{
		{"unknown.yaml", provider("a") + "  unknownField: 1\n", `strict decoding error: unknown field "providers[0].unknownField"`},
		{"token-v1beta1.yaml", strings.Replace(provider("a"), "kubelet.config.k8s.io/v1\n", "kubelet.config.k8s.io/v1beta1\n", 1) + "  tokenAttributes: {}\n", `strict decoding error: unknown field "providers[0].tokenAttributes"`},
		{"wrongkind.yaml", "apiVersion: kubelet.config.k8s.io/v1\nkind: ImagePullIntent\n", `no kind "ImagePullIntent" is registered`},
		{"nokind.yaml", "providers: []\n", `Object 'Kind' is missing`},
		{"samefile.yaml", provider("a") + strings.SplitN(provider("a"), "providers:\n", 2)[1], `duplicate provider name "a" found in configuration file(s)`},
	}
	for _, c := range cases {
		p := writeFile(t, dir, c.name, c.content)
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "error decoding config") && !strings.HasPrefix(err.Error(), "duplicate") {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
	for path, want := range map[string]string{
		empty:                         `no configuration files found in directory "` + empty + `"`,
		dup:                           `duplicate provider name "a" found in configuration file(s)`,
		filepath.Join(dir, "missing"): `unable to access path "` + filepath.Join(dir, "missing") + `": stat ` + filepath.Join(dir, "missing") + `: no such file or directory`,
		"":                            "credential provider config path is empty",
	} {
		if _, err := LoadConfig(path); err == nil || err.Error() != want {
			t.Errorf("LoadConfig(%q) = %v, want %q", path, err, want)
		}
	}
}
func hashOf(files ...string) string {
	h := sha256.New()
	for _, f := range files {
		n := len(f)
		h.Write([]byte{0, 0, 0, 0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		h.Write([]byte(f))
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}
