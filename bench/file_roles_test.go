package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
)

// fileScenario runs a role that answers from a file the operator keeps on
// the node (no cloud, no token cache): every exec reads and parses the file,
// so its "warm" exec is every exec.
func fileScenario(b *testing.B, role, name, content string) Scenario {
	cfg := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
		b.Fatal(err)
	}
	return Scenario{
		Role:    role,
		Args:    []string{"--config=" + cfg},
		Env:     exectest.CleanEnv(b),
		Request: Request("registry.example.com/team/app"),
		Calls:   func() int { return 0 },
	}
}

func BenchmarkStaticWarm(b *testing.B) {
	Warm(b, fileScenario(b, "static-credential-provider", "static.yaml",
		"registries:\n- registry: \"*.example.com\"\n  username: robot\n  password: s3cret\n"))
}

func BenchmarkDockerconfigWarm(b *testing.B) {
	Warm(b, fileScenario(b, "dockerconfig-credential-provider", "config.json",
		`{"auths":{"registry.example.com":{"auth":"cm9ib3Q6czNjcmV0"}}}`))
}
