package kubelet

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Startup does what the kubelet does with --image-credential-provider-config
// and --image-credential-provider-bin-dir before it starts, in its order:
// the bin dir must exist, the config must load and validate, and every
// provider's binary must exist in the bin dir and be executable. The first
// failure is returned with the kubelet's message; the kubelet would exit 1.
func Startup(configPath, binDir string) (*Config, error) {
	if _, err := os.Stat(binDir); err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("plugin binary directory %s did not exist", binDir)
		}
		return nil, fmt.Errorf("error inspecting binary directory %s: %w", binDir, err)
	}
	cfg, err := LoadConfig(configPath)
	if err != nil {
		return nil, err
	}
	if err := Validate(cfg); err != nil {
		return cfg, err
	}
	if err := CheckBinaries(cfg, binDir); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// CheckBinaries runs the kubelet's per-provider binary look-up: the binary
// must exist and be executable (exec.LookPath, so ".exe" on Windows). The
// messages are the kubelet's, including the empty path it prints for a
// missing binary.
func CheckBinaries(cfg *Config, binDir string) error {
	for _, p := range cfg.Providers {
		bin, err := exec.LookPath(filepath.Join(binDir, p.Name))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
				return fmt.Errorf("plugin binary executable %s did not exist", bin)
			}
			return fmt.Errorf("error inspecting binary executable %s: %w", bin, err)
		}
	}
	return nil
}
