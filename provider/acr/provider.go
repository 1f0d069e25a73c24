package acr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/tokencache"
)

const userAgent = "kcred acr-credential-provider"

// fallbackLifetime is assumed for a refresh token whose exp cannot be read
// (ACR's last about 3 hours).
const fallbackLifetime = time.Hour

// Provider answers kubelet requests for ACR images.
type Provider struct {
	role        string
	cfg         Config
	cloud       Cloud
	mirrors     []Mirror
	passthrough bool
	cache       *tokencache.Cache
	log         *slog.Logger
	getenv      func(string) string
	http        *http.Client
}

// Options configure a Provider beyond azure.json.
type Options struct {
	// Mirrors are the --registry-mirror mappings.
	Mirrors []Mirror
	// Passthrough returns a service principal's client ID and secret as the
	// registry credential, as upstream does, instead of exchanging a token.
	Passthrough bool
}

// New returns a Provider for the azure.json at configPath.
func New(env plugin.Env, configPath string, o Options) (*Provider, error) {
	cfg, err := LoadConfig(configPath)
	if err != nil {
		return nil, err
	}
	c, err := cloudByName(cfg.Cloud)
	if err != nil {
		return nil, err
	}
	for _, m := range o.Mirrors {
		if _, tc, _ := loginServer(m.Target); tc.Name != c.Name {
			return nil, fmt.Errorf("registry mirror %s:%s: target is in %s, the Azure config's cloud is %s (mirror to a registry of the configured cloud)", m.Source, m.Target, tc.Name, c.Name)
		}
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	return &Provider{
		role:        env.Role,
		cfg:         cfg,
		cloud:       c,
		mirrors:     o.Mirrors,
		passthrough: o.Passthrough,
		cache:       env.Cache,
		log:         log,
		getenv:      os.Getenv,
		http:        &http.Client{Transport: transport, Timeout: 30 * time.Second},
	}, nil
}

// Credentials returns the ACR credential for req's registry, or an empty
// answer when the image is neither on an ACR of the configured cloud nor on
// a mirror source.
func (p *Provider) Credentials(ctx context.Context, req plugin.Request) (plugin.Answer, error) {
	var target string
	var keys []string
	if m, ok := matchMirror(p.mirrors, req.Image); ok {
		target, keys = m.Target, []string{m.Source, m.Target}
		p.log.Info("mirrored image: credentials of the mirror target", "source", m.Source, "target", m.Target)
	} else {
		host, c, ok := loginServer(req.Registry)
		if !ok {
			p.log.Info("not an Azure Container Registry host: no credentials", "registry", req.Registry)
			return plugin.Answer{}, nil
		}
		if c.Name != p.cloud.Name {
			p.log.Warn("registry belongs to another Azure cloud than the Azure config's: no credentials", "registry", host, "registryCloud", c.Name, "cloud", p.cloud.Name)
			return plugin.Answer{}, nil
		}
		target, keys = host, []string{req.Registry}
	}

	id, err := newIdentity(p.cfg, saRequest{token: req.ServiceAccountToken, annotations: req.ServiceAccountAnnotations}, identitySettings{
		cloud: p.cloud, getenv: p.getenv, transport: p.http, passthrough: p.passthrough,
	})
	if err != nil {
		return plugin.Answer{}, err
	}
	p.log.Info("identity chosen", "identity", id.kind, "registry", target)
	if id.passthrough != nil {
		return answer(keys, id.passthrough[0], id.passthrough[1], time.Time{}), nil
	}

	key := tokencache.Key{Role: p.role, Identity: id.fingerprint, Scope: target}
	tok, hit, err := p.cache.Do(ctx, key, func(ctx context.Context) (tokencache.Token, error) {
		ctx, cancel := context.WithTimeout(ctx, plugin.FetchTimeout)
		defer cancel()
		tok, err := p.fetch(ctx, id, target)
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (gave up after %s; check that the node reaches the identity endpoint, Entra ID and %s, and HTTPS_PROXY/NO_PROXY)", err, plugin.FetchTimeout, target)
		}
		return tok, err
	})
	if err != nil {
		return plugin.Answer{}, err
	}
	p.log.Info("ACR refresh token ready", "registry", target, "cached", hit, "expiresAt", tok.ExpiresAt)
	return answer(keys, tok.Username, tok.Password, tok.ExpiresAt), nil
}

func answer(keys []string, user, pass string, exp time.Time) plugin.Answer {
	auth := make(map[string]plugin.AuthConfig, len(keys))
	for _, k := range keys {
		auth[k] = plugin.AuthConfig{Username: user, Password: pass}
	}
	return plugin.Answer{Auth: auth, CacheKeyType: plugin.CacheKeyRegistry, ExpiresAt: exp}
}

// fetch runs the full flow: Entra token, registry challenge, exchange.
func (p *Provider) fetch(ctx context.Context, id identity, registry string) (tokencache.Token, error) {
	aad, err := id.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
	if err != nil {
		return tokencache.Token{}, fmt.Errorf("get Entra ID token with %s: %s (check the identity in the Azure config and that its endpoint is reachable from the node)", id.kind, describeAuthError(err))
	}
	p.log.Debug("Entra ID token obtained", "identity", id.kind, "expiresOn", aad.ExpiresOn)
	ch, err := getChallenge(ctx, p.http, registry)
	if err != nil {
		return tokencache.Token{}, err
	}
	p.log.Debug("registry challenge", "registry", registry, "realm", ch.Realm, "service", ch.Service)
	opts := identitySettings{cloud: p.cloud, getenv: p.getenv, transport: p.http}.clientOptions()
	refresh, err := exchange(ctx, opts, registry, ch, id.tenant, aad.Token)
	if err != nil {
		return tokencache.Token{}, err
	}
	exp, ok := jwtExpiry(refresh)
	if !ok {
		exp = time.Now().Add(fallbackLifetime)
		p.log.Warn("ACR refresh token has no readable expiry; assuming one hour", "registry", registry)
	}
	p.log.Debug("ACR refresh token obtained", "registry", registry, "expiresAt", exp)
	return tokencache.Token{Username: NullGUID, Password: refresh, ExpiresAt: exp}, nil
}

// describeAuthError shortens azidentity's multi-line errors (which dump the
// whole response) to the status, host and Entra error code and description.
func describeAuthError(err error) string {
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil {
		return firstLine(err.Error())
	}
	r := afe.RawResponse
	where := ""
	if r.Request != nil {
		where = " from " + r.Request.URL.Host
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if b, err := runtime.Payload(r); err == nil {
		_ = json.Unmarshal(b, &body)
	}
	desc := firstLine(body.Description)
	if len(desc) > 200 {
		desc = desc[:200] + "..."
	}
	msg := fmt.Sprintf("HTTP %d%s", r.StatusCode, where)
	if detail := strings.TrimSpace(body.Error + " " + desc); detail != "" {
		msg += ": " + detail
	}
	return msg
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(strings.TrimSuffix(s, "\r"))
}
