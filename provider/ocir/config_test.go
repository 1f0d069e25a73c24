package ocir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigEnv(t *testing.T) {
	def := Config{TokenPath: DefaultTokenPath, Protocol: "https", Auth: InstancePrincipal}
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{"nothing set: defaults", nil, def, ""},
		{"upstream's shipped env", map[string]string{
			"REGISTRY_TOKEN_PATH": "/20180419/docker/token", "DEFAULT_USER": "BEARER_TOKEN",
			"REGISTRY_PROTOCOL": "https", "OCIR_AUTH_METHOD": "INSTANCE_PRINCIPAL", "TOKEN_VALIDATION": "enabled",
		}, Config{TokenPath: DefaultTokenPath, Protocol: "https", Auth: InstancePrincipal, Validate: true}, ""},
		{"user principal, case-insensitive values", map[string]string{
			"OCIR_AUTH_METHOD": "user_principal", "TOKEN_VALIDATION": "Enabled", "REGISTRY_PROTOCOL": "HTTP",
		}, Config{TokenPath: DefaultTokenPath, Protocol: "http", Auth: UserPrincipal, Validate: true}, ""},
		{"validation disabled", map[string]string{"TOKEN_VALIDATION": "disabled"}, def, ""},
		{"bad protocol", map[string]string{"REGISTRY_PROTOCOL": "ftp"}, Config{}, `REGISTRY_PROTOCOL="ftp": want https or http`},
		{"bad auth method", map[string]string{"OCIR_AUTH_METHOD": "RESOURCE_PRINCIPAL"}, Config{}, `OCIR_AUTH_METHOD="RESOURCE_PRINCIPAL": want INSTANCE_PRINCIPAL or USER_PRINCIPAL`},
		{"validation neither enabled nor disabled", map[string]string{"TOKEN_VALIDATION": "true"}, withIgnored(def, `TOKEN_VALIDATION="true" is neither enabled nor disabled: token validation stays off, as upstream`), ""},
		{"relative token path", map[string]string{"REGISTRY_TOKEN_PATH": "20180419/docker/token"}, Config{}, "REGISTRY_TOKEN_PATH=\"20180419/docker/token\": want a URL path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadConfig("", func(k string) string { return tt.env[k] })
			checkConfigResult(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    Config
		wantErr string
	}{
		{"upstream's example", "registryTokenPath: /20180419/docker/token\ndefaultUser: BEARER_TOKEN\nregistryProtocol: https\nocirAuthMethod: USER_PRINCIPAL\n",
			Config{TokenPath: DefaultTokenPath, Protocol: "https", Auth: UserPrincipal}, ""},
		{"validation and unknown keys", "tokenValidation: enabled\nsomethingElse: [1, 2]\n",
			Config{TokenPath: DefaultTokenPath, Protocol: "https", Auth: InstancePrincipal, Validate: true}, ""},
		{"empty file: defaults", "", Config{TokenPath: DefaultTokenPath, Protocol: "https", Auth: InstancePrincipal}, ""},
		{"null values", "registryProtocol: null\ntokenValidation:\n", Config{TokenPath: DefaultTokenPath, Protocol: "https", Auth: InstancePrincipal}, ""},
		{"a YAML boolean is read as its text", "tokenValidation: true\n", Config{TokenPath: DefaultTokenPath, Protocol: "https", Auth: InstancePrincipal,
			Ignored: `tokenValidation="true" is neither enabled nor disabled: token validation stays off, as upstream`}, ""},
		{"a list where a value belongs", "ocirAuthMethod: [USER_PRINCIPAL]\n", Config{}, "want a single value, not a list"},
		{"not YAML", "registryProtocol: [unclosed\n", Config{}, "not valid YAML"},
		{"bad protocol", "registryProtocol: ftp\n", Config{}, `registryProtocol="ftp": want https or http`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tt.yaml))
			checkConfigResult(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestLoadConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(file, []byte("ocirAuthMethod: USER_PRINCIPAL\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// With -config the environment is not consulted, as upstream.
	got, err := LoadConfig(file, func(string) string { return "INSTANCE_PRINCIPAL" })
	checkConfigResult(t, got, err, Config{TokenPath: DefaultTokenPath, Protocol: "https", Auth: UserPrincipal}, "")

	_, err = LoadConfig(filepath.Join(dir, "missing.yaml"), os.Getenv)
	checkConfigResult(t, Config{}, err, Config{}, "read -config "+filepath.Join(dir, "missing.yaml"))

	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("# padding\n", 10000)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadConfig(big, os.Getenv)
	checkConfigResult(t, Config{}, err, Config{}, "larger than 65536 bytes")
}

func checkConfigResult(t *testing.T, got Config, err error, want Config, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v, want one containing %q", err, wantErr)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error spans lines: %q", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{"registryTokenPath: /20180419/docker/token\nocirAuthMethod: USER_PRINCIPAL\n", "tokenValidation: enabled", "[", "a: {b: c}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if !strings.HasPrefix(c.TokenPath, "/") || (c.Protocol != "https" && c.Protocol != "http") ||
			(c.Auth != InstancePrincipal && c.Auth != UserPrincipal) {
			t.Fatalf("ParseConfig(%q) = %+v: not a checked config", data, c)
		}
	})
}

// withIgnored is c with Ignored set.
func withIgnored(c Config, ignored string) Config {
	c.Ignored = ignored
	return c
}
