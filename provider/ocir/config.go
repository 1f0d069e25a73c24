package ocir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kcred/kcred/internal/safefile"
	"github.com/kcred/kcred/plugin"
)

// AuthMethod is which OCI principal signs the token request.
type AuthMethod string

// The principals upstream's OCIR_AUTH_METHOD names.
const (
	// InstancePrincipal is the node's own identity (instance metadata and
	// X.509 federation); the default.
	InstancePrincipal AuthMethod = "INSTANCE_PRINCIPAL"
	// UserPrincipal is an API key from an OCI config file (~/.oci/config or
	// OCI_CONFIG_FILE).
	UserPrincipal AuthMethod = "USER_PRINCIPAL"
)

// DefaultTokenPath is OCIR's docker-token endpoint, used when
// REGISTRY_TOKEN_PATH is unset (upstream required it).
const DefaultTokenPath = "/20180419/docker/token"

// Config is the upstream plugin's configuration: the `-config` YAML file
// or, without one, the environment the kubelet's provider `env:` sets.
type Config struct {
	// TokenPath is appended to `<protocol>://<registry>` for the token call.
	TokenPath string
	// Protocol is "https" (default) or "http".
	Protocol string
	// Auth is the signing principal.
	Auth AuthMethod
	// Validate turns on token validation (TOKEN_VALIDATION=enabled).
	Validate bool
	// Ignored, when not empty, says which validation setting was neither
	// enabled nor disabled: upstream leaves validation off for any such
	// value, and so does kcred (a drop-in must not start failing pulls that
	// worked), with a warning the role logs.
	Ignored string
}

// The environment variables upstream reads, and its YAML keys.
const (
	envTokenPath  = "REGISTRY_TOKEN_PATH"
	envProtocol   = "REGISTRY_PROTOCOL"
	envAuthMethod = "OCIR_AUTH_METHOD"
	envValidation = "TOKEN_VALIDATION"
	// DEFAULT_USER / defaultUser is read by upstream and never used (the
	// username is always BEARER_TOKEN); kcred accepts and ignores it too.
)

// maxConfigSize bounds the -config file: upstream's holds five keys.
const maxConfigSize = 64 << 10

// rawConfig holds the upstream settings as given, before checking.
type rawConfig struct {
	TokenPath  scalar `json:"registryTokenPath"`
	Protocol   scalar `json:"registryProtocol"`
	AuthMethod scalar `json:"ocirAuthMethod"`
	Validation scalar `json:"tokenValidation"`
	// DefaultUser is accepted for compatibility and ignored.
	DefaultUser scalar `json:"defaultUser"`
}

// scalar is a YAML scalar read as its text, as upstream's yaml.v3 decoding
// into strings does (`tokenValidation: true` is the string "true").
type scalar string

// UnmarshalJSON accepts a string, number, boolean or null.
func (s *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		return fmt.Errorf("want a single value, not %s", map[byte]string{'{': "a mapping", '[': "a list"}[b[0]])
	default:
		*s = scalar(b)
	}
	return nil
}

// LoadConfig reads the configuration as upstream does: from the YAML file
// when file is set (the environment is then not consulted), else from the
// environment through getenv.
func LoadConfig(file string, getenv func(string) string) (Config, error) {
	if file == "" {
		return checkConfig(rawConfig{
			TokenPath:  scalar(getenv(envTokenPath)),
			Protocol:   scalar(getenv(envProtocol)),
			AuthMethod: scalar(getenv(envAuthMethod)),
			Validation: scalar(getenv(envValidation)),
		}, "$")
	}
	data, err := safefile.ReadFile(file, maxConfigSize)
	if err != nil {
		return Config{}, fmt.Errorf("read -config %s: %w", file, err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("-config %s: %w", file, err)
	}
	return c, nil
}

// ParseConfig parses and checks an upstream YAML config (keys
// registryTokenPath, registryProtocol, ocirAuthMethod, tokenValidation,
// defaultUser; unknown keys are ignored, as upstream does).
func ParseConfig(data []byte) (Config, error) {
	var raw rawConfig
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return Config{}, fmt.Errorf("not valid YAML with upstream's keys: %s", strings.TrimPrefix(err.Error(), "error unmarshaling JSON: "))
	}
	return checkConfig(raw, "")
}

// checkConfig applies the defaults and refuses values upstream would have
// misused; names are prefixed with prefix ("$" for env, "" for YAML keys).
func checkConfig(raw rawConfig, prefix string) (Config, error) {
	name := func(env, key string) string {
		if prefix == "$" {
			return env
		}
		return key
	}
	c := Config{
		TokenPath: strings.TrimSpace(string(raw.TokenPath)),
		Protocol:  strings.ToLower(strings.TrimSpace(string(raw.Protocol))),
		Auth:      AuthMethod(strings.ToUpper(strings.TrimSpace(string(raw.AuthMethod)))),
	}
	if c.TokenPath == "" {
		c.TokenPath = DefaultTokenPath
	}
	if !strings.HasPrefix(c.TokenPath, "/") || strings.ContainsAny(c.TokenPath, " \t\r\n#") {
		return Config{}, fmt.Errorf("%s=%q: want a URL path such as %s", name(envTokenPath, "registryTokenPath"), c.TokenPath, DefaultTokenPath)
	}
	switch c.Protocol {
	case "":
		c.Protocol = "https"
	case "https", "http":
	default:
		return Config{}, fmt.Errorf("%s=%q: want https or http", name(envProtocol, "registryProtocol"), c.Protocol)
	}
	switch c.Auth {
	case "":
		c.Auth = InstancePrincipal
	case InstancePrincipal, UserPrincipal:
	default:
		return Config{}, fmt.Errorf("%s=%q: want %s or %s", name(envAuthMethod, "ocirAuthMethod"), string(raw.AuthMethod), InstancePrincipal, UserPrincipal)
	}
	switch v := strings.ToLower(strings.TrimSpace(string(raw.Validation))); v {
	case "enabled":
		c.Validate = true
	case "", "disabled":
	default:
		c.Ignored = fmt.Sprintf("%s=%s is neither enabled nor disabled: token validation stays off, as upstream", name(envValidation, "tokenValidation"), plugin.Quote(string(raw.Validation)))
	}
	return c, nil
}
