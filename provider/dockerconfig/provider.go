package dockerconfig

import (
	"context"

	"github.com/kcred/kcred/plugin"
)

// Provider answers every request with the whole auths map of its file.
type Provider struct {
	path string
	env  plugin.Env
}

// New returns a Provider for the Docker config file at path.
func New(env plugin.Env, path string) *Provider {
	return &Provider{path: path, env: env}
}

// Credentials reads the file on every exec, so a rotated credential takes
// effect at the kubelet's next cache miss without a restart. The answer is
// the whole map with cache key type Global: the kubelet stores it once and
// re-matches its keys against each image, exactly as it matches a node's
// docker config, so one exec serves every image until defaultCacheDuration.
func (p *Provider) Credentials(ctx context.Context, req plugin.Request) (plugin.Answer, error) {
	auth, perm, err := load(p.path)
	if err != nil {
		return plugin.Answer{}, err
	}
	if perm&0o077 != 0 {
		p.env.Log.Warn("docker config holds secrets but is readable by others; chmod 600 it", "file", p.path, "mode", perm.String())
	}
	return plugin.Answer{Auth: auth, CacheKeyType: plugin.CacheKeyGlobal}, nil
}
