package static

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/kcred/kcred/match"
	"github.com/kcred/kcred/plugin"
)

// DefaultPath is where the role looks for its file without --config.
const DefaultPath = "/etc/kcred/static.yaml"

// Role is the static-credential-provider role.
var Role = plugin.Role{
	Name:    "static-credential-provider",
	Summary: "credentials for any registry from a file the operator owns, e.g. a mounted Secret (re-read on every exec)",
	Setup: func(fs *flag.FlagSet) func(plugin.Env, []string) (plugin.Provider, error) {
		path := fs.String("config", DefaultPath, "YAML (or JSON) file of registries: [{registry, username, password | passwordFile}]; must not be writable by group or others")
		return func(env plugin.Env, args []string) (plugin.Provider, error) {
			if len(args) > 0 {
				return nil, plugin.Fail("unexpected argument "+plugin.Quote(args[0]), nil, "the file is given with --config")
			}
			return &Provider{path: *path, env: env}, nil
		}
	},
}

// Provider answers from the config file, read on every exec.
type Provider struct {
	path string
	env  plugin.Env
}

// Credentials answers the entries on the image's registry: those whose key
// matches its host (globs as the kubelet matches them), path-scoped ones
// included. The kubelet caches the answer per registry (cacheKeyType
// Registry) and picks, for each image on it, the entry its path matches, so
// the answer must hold every entry of the host, not only the one this image
// matches. Only matching entries' password files are read. No expiry is
// known: the kubelet's defaultCacheDuration applies.
func (p *Provider) Credentials(ctx context.Context, req plugin.Request) (plugin.Answer, error) {
	cfg, perm, err := load(p.path)
	if err != nil {
		check := "check --config and that the file exists and is readable"
		var hinted *plugin.Error
		switch {
		case errors.Is(err, errInsecure):
			check = "chmod go-w the file: whoever can write it chooses the node's registry credentials"
		case errors.As(err, &hinted) && hinted.Hint() != "":
			check = "" // the parser's own hint says what the file should hold
		}
		return plugin.Answer{}, plugin.Fail("read static config", err, check)
	}
	image, err := match.Normalize(req.Image)
	if err != nil {
		return plugin.Answer{}, plugin.Fail("normalise image", err, "")
	}
	registry := match.Registry(image)
	hub := match.IsDefaultRegistryMatch(image)
	auth := map[string]plugin.AuthConfig{}
	for _, e := range cfg.Registries {
		host, _, _ := strings.Cut(e.key, "/")
		if !match.URLsMatch(host, registry) && !(hub && host == "index.docker.io") {
			continue
		}
		secret, err := e.secret()
		if err != nil {
			return plugin.Answer{}, plugin.Fail(fmt.Sprintf("static credentials for %s", e.Registry), err, "check the entry's passwordFile: it must exist and not be writable by group or others")
		}
		auth[e.key] = plugin.AuthConfig{Username: e.Username, Password: secret}
	}
	if len(auth) > 0 && perm&0o044 != 0 && hasInline(cfg) {
		p.env.Log.Warn("static config holds passwords but is readable by others; chmod 600 it or use passwordFile", "file", p.path, "mode", perm.String())
	}
	p.env.Log.Info("static credentials", "registry", registry, "keys", len(auth))
	return plugin.Answer{Auth: auth, CacheKeyType: plugin.CacheKeyRegistry}, nil
}

func hasInline(cfg *Config) bool {
	for _, e := range cfg.Registries {
		if e.Password != "" {
			return true
		}
	}
	return false
}
