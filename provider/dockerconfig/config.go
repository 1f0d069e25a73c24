// Package dockerconfig is a generic provider that serves node-wide static
// credentials from a Docker config.json file (the "auths" map) kept on the
// node, for registries with no cloud token API: a Docker Hub account against
// rate limits, a robot account on a private registry.
package dockerconfig

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/kcred/kcred/internal/safefile"
	"github.com/kcred/kcred/plugin"
)

// maxFileSize bounds what is read: a credentials file is a few KiB.
const maxFileSize = 1 << 20

// file is the part of a Docker config.json this provider reads.
type file struct {
	Auths map[string]entry `json:"auths"`
}

type entry struct {
	Auth     string `json:"auth"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// load reads the auths of the Docker config file at path. Each entry gives
// either "auth" (base64 of user:password) or username and password.
func load(path string) (map[string]plugin.AuthConfig, os.FileMode, error) {
	// Non-blocking and regular files only: --config naming a FIFO or a
	// device fails here instead of hanging the exec or filling its memory.
	f, err := safefile.Open(path)
	if err != nil {
		return nil, 0, plugin.Fail("read docker config", err, "check --config")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("read docker config %s: %w", path, err)
	}
	data, err := safefile.ReadAll(f, maxFileSize)
	if errors.Is(err, safefile.ErrTooLarge) {
		return nil, 0, plugin.Fail("read docker config "+path, fmt.Errorf("larger than %d bytes", maxFileSize), "is --config the right file?")
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read docker config %s: %w", path, err)
	}
	var cfg file
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, 0, plugin.Fail("parse docker config "+path, err, `want JSON like {"auths":{"registry.example.com":{"auth":"<base64 user:password>"}}}`)
	}
	if len(cfg.Auths) == 0 {
		return nil, 0, fmt.Errorf("parse docker config %s: no \"auths\" entries", path)
	}
	out, err := credentials(cfg.Auths)
	if err != nil {
		return nil, 0, fmt.Errorf("parse docker config %s: %w", path, err)
	}
	return out, fi.Mode().Perm(), nil
}

// Parse reads the credentials of a Docker config.json ({"auths":{...}}) or
// of a legacy .dockercfg (the same map at the top level), the two formats
// the kubelet reads, e.g. from a cloud's instance metadata.
func Parse(data []byte) (map[string]plugin.AuthConfig, error) {
	var cfg file
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("not a Docker config: %v", err)
	}
	if len(cfg.Auths) == 0 {
		// A legacy .dockercfg holds the auths at the top level.
		if err := json.Unmarshal(data, &cfg.Auths); err != nil || len(cfg.Auths) == 0 {
			return nil, errors.New(`no credentials: want {"auths":{"HOST":{"auth":"<base64 user:password>"}}} or the legacy {"HOST":{"auth":...}}`)
		}
	}
	return credentials(cfg.Auths)
}

// credentials decodes the entries of an auths map.
func credentials(auths map[string]entry) (map[string]plugin.AuthConfig, error) {
	out := make(map[string]plugin.AuthConfig, len(auths))
	for key, e := range auths {
		ac, err := e.credential()
		if err != nil {
			return nil, fmt.Errorf("auths[%q]: %w", key, err)
		}
		if strings.TrimSpace(key) == "" {
			return nil, errors.New("an auths key is empty")
		}
		out[key] = ac
	}
	return out, nil
}

func (e entry) credential() (plugin.AuthConfig, error) {
	if e.Auth != "" {
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return plugin.AuthConfig{}, errors.New(`"auth" is not valid base64 (want base64 of user:password)`)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return plugin.AuthConfig{}, errors.New(`"auth" does not decode to user:password`)
		}
		return plugin.AuthConfig{Username: user, Password: pass}, nil
	}
	if e.Username == "" && e.Password == "" {
		return plugin.AuthConfig{}, errors.New(`no credential: set "auth", or "username" and "password"`)
	}
	return plugin.AuthConfig{Username: e.Username, Password: e.Password}, nil
}
