// Package kubelet simulates what the kubelet does with image credential
// provider plugins: it loads and validates a CredentialProviderConfig with the
// kubelet's rules and messages, execs the matching plugins as the kubelet
// does, validates their responses, applies the kubelet's cache and
// service-account rules, and merges the answers into the credential list the
// kubelet would hand to the container runtime. Reference: k8s.io/kubernetes
// v1.37.2, pkg/credentialprovider/plugin.
package kubelet

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/kcred/kcred/internal/safefile"
)

// Config is the merged CredentialProviderConfig the kubelet would run with.
type Config struct {
	// Files are the files read, in the order the kubelet reads them.
	Files []string
	// Hash is the kubelet's config hash (metric
	// kubelet_credential_provider_config_info): "sha256:" + hex.
	Hash string
	// Providers are all providers of all files, in order.
	Providers []Provider
}

// Provider is one provider entry, independent of the config's apiVersion.
type Provider struct {
	Name        string
	MatchImages []string
	// DefaultCacheDuration is nil when the field is absent.
	DefaultCacheDuration *time.Duration
	// APIVersion is the CredentialProviderRequest/Response apiVersion.
	APIVersion string
	Args       []string
	Env        []EnvVar
	// TokenAttributes is set for service-account mode (config v1 only).
	TokenAttributes *TokenAttributes
}

// EnvVar is one entry of a provider's env.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TokenAttributes is a provider's service-account token configuration.
type TokenAttributes struct {
	ServiceAccountTokenAudience string
	CacheType                   string
	// RequireServiceAccount is nil when the field is absent.
	RequireServiceAccount                *bool
	RequiredServiceAccountAnnotationKeys []string
	OptionalServiceAccountAnnotationKeys []string
}

// The service-account cache types.
const (
	CacheTypeToken          = "Token"
	CacheTypeServiceAccount = "ServiceAccount"
)

// maxConfigFile bounds one config file kcred check reads (the kubelet's
// are a few KiB).
const maxConfigFile = 16 << 20

// LoadConfig reads a CredentialProviderConfig file, or a directory of them,
// exactly as the kubelet (1.34+) does: in a directory, the non-directory
// entries named *.json, *.yaml or *.yml (case-sensitive, no recursion), sorted
// by full path; each file decoded strictly on its own; providers concatenated
// in file order; a provider name seen twice is refused. Error messages are the
// kubelet's.
func LoadConfig(path string) (*Config, error) {
	if path == "" {
		return nil, fmt.Errorf("credential provider config path is empty")
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("unable to access path %q: %w", path, err)
	}
	var files []string
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("unable to read directory %q: %w", path, err)
		}
		for _, e := range entries {
			ext := filepath.Ext(e.Name())
			if !e.IsDir() && (ext == ".json" || ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		sort.Strings(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("no configuration files found in directory %q", path)
		}
	} else {
		files = []string{path}
	}

	cfg := &Config{Files: files}
	h := sha256.New()
	var perFile [][]Provider
	for _, f := range files {
		// The kubelet reads with os.ReadFile; a FIFO or device there would
		// hang it, and must not hang kcred check.
		data, err := safefile.ReadFile(f, maxConfigFile)
		if err != nil {
			return nil, fmt.Errorf("unable to read file %q: %w", f, err)
		}
		// Length prefix, as the kubelet hashes it.
		_ = binary.Write(h, binary.BigEndian, uint64(len(data)))
		h.Write(data)
		ps, err := decodeConfig(data)
		if err != nil {
			return nil, fmt.Errorf("error decoding config %q: %w", f, err)
		}
		perFile = append(perFile, ps)
	}
	seen := map[string]bool{}
	for _, ps := range perFile {
		for _, p := range ps {
			if seen[p.Name] {
				return nil, fmt.Errorf("duplicate provider name %q found in configuration file(s)", p.Name)
			}
			seen[p.Name] = true
			cfg.Providers = append(cfg.Providers, p)
		}
	}
	cfg.Hash = fmt.Sprintf("sha256:%x", h.Sum(nil))
	return cfg, nil
}
