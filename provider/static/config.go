// Package static is the static-credential-provider role: username/password
// pairs for any registry from a file the operator owns (typically a mounted
// Kubernetes Secret), keyed with the kubelet's own glob semantics and re-read
// on every exec, so a rotated Secret takes effect without a restart.
package static

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kcred/kcred/internal/safefile"
	"github.com/kcred/kcred/match"
	"github.com/kcred/kcred/plugin"
)

// MaxConfigSize bounds the config file: a few entries take a few KiB.
const MaxConfigSize = 1 << 20

// maxPasswordSize bounds a passwordFile: registry tokens are at most a few
// KiB (a JWT).
const maxPasswordSize = 64 << 10

// Config is the file's schema.
type Config struct {
	// Registries are the credentials, one per registry key.
	Registries []Entry `json:"registries"`
}

// Entry is one credential.
type Entry struct {
	// Registry is the auth key: host[:port][/path], with the kubelet's
	// globs ("*.example.com" matches one label).
	Registry string `json:"registry"`
	// Username is the registry user.
	Username string `json:"username"`
	// Password is the secret inline; exclusive with PasswordFile.
	Password string `json:"password,omitempty"`
	// PasswordFile holds the secret (one trailing newline is dropped); a
	// relative path is relative to the config file's directory.
	PasswordFile string `json:"passwordFile,omitempty"`

	// key is Registry normalised as the kubelet normalises auth keys.
	key string
}

// Parse decodes and validates a config (YAML, or JSON, which is YAML).
// Unknown fields are errors: a misspelt "passwordfile" must not silently
// leave an entry without its secret. Errors never quote a password.
func Parse(data []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, plugin.Fail("not a static credential config", errors.New(decodeError(err)), "want YAML or JSON: registries: [{registry, username, password | passwordFile}]")
	}
	if len(c.Registries) == 0 {
		return nil, errors.New(`no "registries" entries`)
	}
	seen := make(map[string]int, len(c.Registries))
	for i := range c.Registries {
		e := &c.Registries[i]
		bad := func(format string, a ...any) error {
			return fmt.Errorf("registries[%d] %q: %s", i, e.Registry, fmt.Sprintf(format, a...))
		}
		if strings.TrimSpace(e.Registry) == "" {
			return nil, fmt.Errorf("registries[%d]: \"registry\" is empty", i)
		}
		key, ok := match.NormalizeKey(e.Registry)
		if !ok || key == "" || strings.HasPrefix(key, "/") {
			return nil, bad("not a registry key; want host[:port][/path], e.g. registry.example.com:5000/team or *.example.com")
		}
		if j, dup := seen[key]; dup {
			return nil, bad("same key as registries[%d]: which credential applies would be ambiguous", j)
		}
		seen[key] = i
		e.key = key
		if e.Username == "" {
			return nil, bad(`"username" is empty`)
		}
		switch {
		case e.Password != "" && e.PasswordFile != "":
			return nil, bad(`set "password" or "passwordFile", not both`)
		case e.Password == "" && e.PasswordFile == "":
			return nil, bad(`no secret: set "password" or "passwordFile"`)
		}
	}
	return &c, nil
}

// decodeError drops the layers sigs.k8s.io/yaml puts before the cause
// (YAML is converted to JSON, then decoded).
func decodeError(err error) string {
	msg := plugin.OneLine(err.Error())
	for _, layer := range []string{"error converting YAML to JSON: ", "error unmarshaling JSON: ", "while decoding JSON: ", "json: ", "yaml: "} {
		msg = strings.TrimPrefix(msg, layer)
	}
	return msg
}

// load reads and parses the config at path, refusing a file that others
// could rewrite.
func load(path string) (*Config, os.FileMode, error) {
	data, mode, err := readPrivate(path, MaxConfigSize)
	if err != nil {
		return nil, 0, err
	}
	c, err := Parse(data)
	if err != nil {
		return nil, 0, fmt.Errorf("parse %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	for i := range c.Registries {
		if f := c.Registries[i].PasswordFile; f != "" && !filepath.IsAbs(f) {
			c.Registries[i].PasswordFile = filepath.Join(dir, f)
		}
	}
	return c, mode, nil
}

// secret returns e's password, reading its file if it has one.
func (e Entry) secret() (string, error) {
	if e.PasswordFile == "" {
		return e.Password, nil
	}
	data, _, err := readPrivate(e.PasswordFile, maxPasswordSize)
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("password file %s is empty", e.PasswordFile)
	}
	return s, nil
}

// errInsecure marks a file others can write.
var errInsecure = errors.New("insecure file")

// readPrivate reads at most limit bytes of the regular file at path. It
// opens without blocking (a FIFO planted in its place must not hang the
// exec), checks the opened file itself (no race with a rename), and refuses
// a file writable by group or others: whoever can write it chooses which
// registry the node trusts with which password.
func readPrivate(path string, limit int64) ([]byte, os.FileMode, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	// Windows has ACLs, not these bits: Go reports every writable file as
	// 0666 there, so the check would refuse everything.
	if perm := fi.Mode().Perm(); perm&0o022 != 0 && runtime.GOOS != "windows" {
		return nil, 0, fmt.Errorf("%w: %s is writable by group or others, mode %s", errInsecure, path, perm)
	}
	if safefile.Foreign(fi) {
		return nil, 0, fmt.Errorf("%w: %s belongs to another user, who could rewrite it", errInsecure, path)
	}
	data, err := safefile.ReadAll(f, limit)
	if err != nil {
		return nil, 0, err
	}
	return data, fi.Mode().Perm(), nil
}
