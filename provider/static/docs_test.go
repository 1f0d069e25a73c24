package static

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kcred/kcred/kubelet"
)

// TestDocExamples keeps docs/providers/static.md and credhelper.md true:
// every kubelet config in them loads and validates as in the kubelet, and the
// static file example parses.
func TestDocExamples(t *testing.T) {
	files := 0
	for _, name := range []string{"static.md", "credhelper.md"} {
		doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "providers", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
			block := m[1]
			switch {
			case strings.Contains(block, "kind: CredentialProviderConfig"):
				path := filepath.Join(t.TempDir(), "config.yaml")
				if err := os.WriteFile(path, []byte(block), 0o600); err != nil {
					t.Fatal(err)
				}
				cfg, err := kubelet.LoadConfig(path)
				if err == nil {
					err = kubelet.Validate(cfg)
				}
				if err != nil {
					t.Errorf("%s: the kubelet refuses the config: %v\n%s", name, err, block)
				}
			case strings.HasPrefix(block, "registries:"):
				files++
				if _, err := Parse([]byte(block)); err != nil {
					t.Errorf("%s: static file example: %v", name, err)
				}
			}
		}
	}
	if files != 1 {
		t.Errorf("found %d static file examples, want 1", files)
	}
}
