package ocir

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kcred/kcred/kubelet"
	"github.com/kcred/kcred/match"
)

// TestDocConfigMatchesEveryHost loads the kubelet configuration of
// docs/providers/ocir.md as the kubelet does and checks that its
// matchImages cover every OCIR host form of every region the SDK knows,
// and that its names and env are ones the role accepts.
func TestDocConfigMatchesEveryHost(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "providers", "ocir.md"))
	if err != nil {
		t.Fatal(err)
	}
	var yaml string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		if strings.Contains(m[1], "kind: CredentialProviderConfig") {
			yaml = m[1]
		}
	}
	if yaml == "" {
		t.Fatal("no kubelet config in the doc")
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := kubelet.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := kubelet.Validate(cfg); err != nil {
		t.Fatalf("the kubelet refuses the documented config: %v", err)
	}
	p := cfg.Providers[0]
	if p.Name != Role.Name {
		t.Fatalf("provider name %q, want %q", p.Name, Role.Name)
	}
	env := map[string]string{}
	for _, e := range p.Env {
		env[e.Name] = e.Value
	}
	if _, err := LoadConfig("", func(k string) string { return env[k] }); err != nil {
		t.Fatalf("the documented env is refused: %v", err)
	}
	hosts := []string{"ocir.us-dedicated-1.oci.dedicated.example"} // matched only with its own line
	for _, r := range sdkRegions(t) {
		hosts = append(hosts, "ocir."+r.RegionIdentifier+".oci."+r.RealmDomainComponent)
		if r.RealmKey == "oc1" {
			hosts = append(hosts, r.RegionKey+".ocir.io", r.RegionIdentifier+".ocir.io")
		}
	}
	for _, h := range hosts[1:] {
		if _, ok := ParseHost(h); !ok {
			t.Fatalf("%s is not an OCIR host", h)
		}
		if !matchesAny(p.MatchImages, h+"/ns/app:v1") {
			t.Errorf("no matchImages entry matches %s", h)
		}
	}
	if matchesAny(p.MatchImages, hosts[0]+"/ns/app") {
		t.Errorf("the documented globs match a dedicated realm they do not name")
	}
}

func matchesAny(globs []string, image string) bool {
	for _, g := range globs {
		if match.URLsMatch(g, image) {
			return true
		}
	}
	return false
}
