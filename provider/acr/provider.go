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

// MaxLifetime bounds the expiry a refresh token claims: ACR issues them for
// about 3 hours, so neither the kubelet nor the node cache keeps one longer,
// whatever its exp says.
const MaxLifetime = 3 * time.Hour

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
	if p.passthrough && id.passthrough == nil {
		p.log.Warn("--service-principal-passthrough applies only to a service principal secret; exchanging a token with the chosen identity", "identity", id.kind)
	}
	if id.passthrough != nil {
		return answer(keys, id.passthrough[0], id.passthrough[1], time.Time{}), nil
	}

	key := tokencache.Key{Role: p.role, Identity: id.fingerprint, Scope: target}
	res, err := p.cache.Do(ctx, key, func(ctx context.Context) (tokencache.Token, error) {
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
	tok, hit := res.Token, res.Source == tokencache.Cached
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
		return tokencache.Token{}, fmt.Errorf("get Entra ID token with %s: %s (check the identity in the Azure config and that its endpoint is reachable from the node, HTTPS_PROXY/NO_PROXY and, for TLS errors, SSL_CERT_FILE)", id.kind, describeAuthError(err))
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
	exp, err := refreshExpiry(refresh, time.Now())
	if err != nil {
		return tokencache.Token{}, fmt.Errorf("exchange at https://%s/oauth2/exchange: %w", registry, err)
	}
	if claimed, ok := jwtExpiry(refresh); !ok {
		p.log.Warn("ACR refresh token has no readable expiry; assuming one hour", "registry", registry)
	} else if claimed.After(exp) {
		p.log.Warn("ACR refresh token claims a longer lifetime than ACR issues; capped", "registry", registry, "claimedExpiry", claimed, "max", MaxLifetime)
	}
	p.log.Debug("ACR refresh token obtained", "registry", registry, "expiresAt", exp)
	return tokencache.Token{Username: NullGUID, Password: refresh, ExpiresAt: exp}, nil
}

// refreshExpiry is when kcred stops using refresh token tok, fetched at now:
// its exp, capped at now+MaxLifetime, or now+fallbackLifetime when exp is
// unreadable. A token already expired is an error: serving it would fail
// every pull (and is most often a node clock running ahead).
func refreshExpiry(tok string, now time.Time) (time.Time, error) {
	exp, ok := jwtExpiry(tok)
	switch {
	case !ok:
		return now.Add(fallbackLifetime), nil
	case !exp.After(now):
		return time.Time{}, fmt.Errorf("refresh token already expired at %s (check the node's clock)", exp.UTC().Format(time.RFC3339))
	case exp.After(now.Add(MaxLifetime)):
		return now.Add(MaxLifetime), nil
	}
	return exp, nil
}

// describeAuthError shortens azidentity's multi-line errors (which dump the
// whole response) to the status, host and Entra error code and description.
func describeAuthError(err error) string {
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil {
		return describeTransportError(err.Error())
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

// describeTransportError is the first line of an SDK error, plus the later
// line that is a Go transport error (`Get "URL": dial tcp ...`, as MSAL puts
// it after its summary) if any. Other lines are dropped: they may hold a
// response body.
func describeTransportError(msg string) string {
	out := firstLine(msg)
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if !(strings.HasPrefix(l, `Get "https://`) || strings.HasPrefix(l, `Post "https://`)) || !strings.Contains(l, `": `) {
			continue
		}
		l, _, _ = strings.Cut(l, ". To troubleshoot")
		if len(l) > 300 {
			l = l[:300] + "..."
		}
		return out + " " + l
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(strings.TrimSuffix(s, "\r"))
}
