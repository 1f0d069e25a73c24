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
	"github.com/kcred/kcred/internal/httpbound"
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/cloudtoken"
)

const userAgent = "kcred acr-credential-provider"

// Limits are ACR's refresh-token lifetimes: issued for about 3 hours, so
// neither the kubelet nor the node cache keeps one longer, whatever its exp
// says; one whose exp cannot be read is assumed to last an hour.
var Limits = cloudtoken.Limits{MaxLifetime: 3 * time.Hour, DefaultLifetime: time.Hour}

// source is ACR's part of the driver: its token source.
type source struct {
	cfg         Config
	cloud       Cloud
	mirrors     []Mirror
	passthrough bool
	log         *slog.Logger
	getenv      func(string) string
	http        *http.Client
}

// Options configure the role beyond azure.json.
type Options struct {
	// Mirrors are the --registry-mirror mappings.
	Mirrors []Mirror
	// Passthrough returns a service principal's client ID and secret as the
	// registry credential, as upstream does, instead of exchanging a token.
	Passthrough bool
}

// New returns the acr-credential-provider for the azure.json at configPath.
func New(env plugin.Env, configPath string, o Options) (*cloudtoken.Driver, error) {
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
			return nil, &plugin.Error{What: "registry mirror " + m.Source + ":" + m.Target,
				Err: fmt.Errorf("target is in %s, the Azure config's cloud is %s", tc.Name, c.Name), Check: "mirror to a registry of the configured cloud"}
		}
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return cloudtoken.New(env, &source{
		cfg:         cfg,
		cloud:       c,
		mirrors:     o.Mirrors,
		passthrough: o.Passthrough,
		log:         log,
		getenv:      os.Getenv,
		http:        cloudtoken.HTTPClient(30 * time.Second),
	}, Limits), nil
}

// Plan answers for an ACR of the configured cloud or a mirror source, with
// the identity chosen from the request and azure.json; nothing is built or
// read until a cache miss.
func (p *source) Plan(req plugin.Request) (cloudtoken.Plan, error) {
	var target string
	var keys []string
	if m, ok := matchMirror(p.mirrors, req.Image); ok {
		target, keys = m.Target, []string{m.Source, m.Target}
		p.log.Info("mirrored image: credentials of the mirror target", "source", m.Source, "target", m.Target)
	} else {
		host, c, ok := loginServer(req.Registry)
		if !ok {
			return cloudtoken.Plan{}, nil
		}
		if c.Name != p.cloud.Name {
			p.log.Info("registry belongs to another Azure cloud than the Azure config's: no credentials", "registry", host, "registryCloud", c.Name, "cloud", p.cloud.Name)
			return cloudtoken.Plan{}, nil
		}
		target, keys = host, []string{req.Registry}
	}

	id, err := chooseIdentity(p.cfg, saRequest{token: req.ServiceAccountToken, annotations: req.ServiceAccountAnnotations}, identitySettings{
		cloud: p.cloud, getenv: p.getenv, transport: p.http, passthrough: p.passthrough,
	})
	if err != nil {
		return cloudtoken.Plan{}, err
	}
	plan := cloudtoken.Plan{
		Keys:     keys,
		Scope:    target,
		Identity: cloudtoken.Identity{Fingerprint: id.fingerprint, Description: id.kind, ServiceAccount: id.serviceAccount},
	}
	if id.passthrough != nil {
		plan.Direct = &cloudtoken.Token{Username: id.passthrough[0], Password: id.passthrough[1]}
		return plan, nil
	}
	if p.passthrough {
		p.log.Info("--service-principal-passthrough applies only to a service principal secret; exchanging a token with the chosen identity", "identity", id.kind)
	}
	plan.Fetch = func(ctx context.Context) (cloudtoken.Token, error) { return p.fetch(ctx, id, target) }
	return plan, nil
}

// fetch runs the full flow: Entra token, registry challenge, exchange.
func (p *source) fetch(ctx context.Context, id identity, registry string) (cloudtoken.Token, error) {
	cred, err := id.build()
	if err != nil {
		return cloudtoken.Token{}, err
	}
	aad, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
	if err != nil {
		return cloudtoken.Token{}, &plugin.Error{What: "get Entra ID token with " + id.kind, Err: errors.New(describeAuthError(err)),
			Check: "check the identity in the Azure config and that its endpoint is reachable from the node, HTTPS_PROXY/NO_PROXY and, for TLS errors, SSL_CERT_FILE"}
	}
	p.log.Debug("Entra ID token obtained", "identity", id.kind, "expiresOn", aad.ExpiresOn)
	ch, err := getChallenge(ctx, p.http, registry)
	if err != nil {
		return cloudtoken.Token{}, err
	}
	p.log.Debug("registry challenge", "registry", registry, "realm", ch.Realm, "service", ch.Service)
	opts := identitySettings{cloud: p.cloud, getenv: p.getenv, transport: p.http}.clientOptions()
	refresh, err := exchange(ctx, opts, registry, ch, id.tenant, aad.Token)
	if err != nil {
		return cloudtoken.Token{}, err
	}
	exp, _ := cloudtoken.JWTExpiry(refresh)
	return cloudtoken.Token{Username: NullGUID, Password: refresh, ExpiresAt: exp}, nil
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
	// Both are Entra's text: quoted, bounded on a rune boundary.
	msg := fmt.Sprintf("HTTP %d%s", r.StatusCode, where)
	if body.Error != "" {
		msg += ": Entra error " + plugin.Quote(body.Error)
	}
	if desc := strings.TrimSpace(firstLine(body.Description)); desc != "" {
		msg += ": " + plugin.Quote(desc)
	}
	return msg
}

// describeTransportError is the first line of an SDK error, plus the later
// line that is a Go transport error (`Get "URL": dial tcp ...`, as MSAL puts
// it after its summary) or httpbound's, if any. Other lines are dropped:
// they may hold a response body.
func describeTransportError(msg string) string {
	out := firstLine(msg)
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if isTooLargeLine(l) {
			return out + " " + httpbound.ErrTooLarge.Error()
		}
		if !(strings.HasPrefix(l, `Get "https://`) || strings.HasPrefix(l, `Post "https://`)) || !strings.Contains(l, `": `) {
			continue
		}
		l, _, _ = strings.Cut(l, ". To troubleshoot")
		// Quoted: a transport error carries parentheses of its own
		// ("(Client.Timeout exceeded ...)") that would read as a hint.
		return out + " " + plugin.Quote(l)
	}
	return out
}

// isTooLargeLine reports whether l, a later line of an MSAL or azcore
// error, is httpbound's error, which they keep as text only: all of the
// line, but for azcore's prefix and MSAL's troubleshooting link. A body
// that merely contains the text is not it.
func isTooLargeLine(l string) bool {
	l, _, _ = strings.Cut(l, ". To troubleshoot")
	l = strings.TrimPrefix(l, "body download policy: ")
	return l == httpbound.ErrTooLarge.Error()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(strings.TrimSuffix(s, "\r"))
}
