package cloudtoken

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/tokencache"
)

// defaultLifetime is assumed for a token that carries no expiry when the
// role sets no Limits.DefaultLifetime: short, so that neither the kubelet
// nor the cache keeps a token of unknown lifetime long.
const defaultLifetime = time.Hour

// clockSlack is how far in the past an expiry may be and still be blamed
// on the node's clock rather than on a malformed answer.
const clockSlack = 24 * time.Hour

// Driver is the plugin.Provider of a cloud-token role.
type Driver struct {
	role   string
	cloud  Cloud
	limits Limits
	cache  *tokencache.Cache
	log    *slog.Logger
	now    func() time.Time
}

// New returns the driver for cloud, with env's cache and logger.
func New(env plugin.Env, cloud Cloud, limits Limits) *Driver {
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if limits.DefaultLifetime == 0 {
		limits.DefaultLifetime = defaultLifetime
	}
	return &Driver{role: env.Role, cloud: cloud, limits: limits, cache: env.Cache, log: log, now: time.Now}
}

// Credentials answers req: empty for a registry that is not the cloud's,
// else the cached token when fresh, else a fetched one (one fetch per node
// for concurrent execs), else, when the refresh of a token inside its last
// minutes fails, that token while more than plugin.StaleMargin of it is
// left, with a warning.
//
// Any failed refresh falls back so, a 401 or 403 included: the refusal is
// about issuing a new token; whether the one already issued still pulls is
// the registry's to decide until it expires, so failing the exec would fail
// pulls minutes early for nothing (docs/cache.md says more).
func (d *Driver) Credentials(ctx context.Context, req plugin.Request) (plugin.Answer, error) {
	plan, err := d.cloud.Plan(req)
	if err != nil {
		return plugin.Answer{}, err
	}
	if req.ServiceAccountToken != "" && plan.Identity.ServiceAccount &&
		!strings.Contains(plan.Identity.Fingerprint, ServiceAccountFingerprint(req.ServiceAccountToken)) {
		// One pod's credential must never be served to another.
		return plugin.Answer{}, errors.New("internal error (please report it): a service-account identity is not keyed by its token")
	}
	if len(plan.Keys) == 0 {
		d.log.Info("not this provider's registry: no credentials", "registry", req.Registry)
		return plugin.Answer{}, nil
	}
	id := plan.Identity
	if plan.Direct != nil {
		d.log.Info("credentials without a token call", "identity", id.Description, "registry", req.Registry)
		return answer(plan.Keys, *plan.Direct, false), nil
	}
	d.log.Info("token needed", "registry", req.Registry, "scope", plan.Scope, "identity", id.Description)
	start := d.now()
	if d.limits.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.limits.Deadline)
		defer cancel()
	}
	key := tokencache.Key{Role: d.role, Identity: id.Fingerprint, Scope: plan.Scope, MaxLifetime: d.limits.MaxLifetime}
	res, err := d.cache.Do(ctx, key, func(ctx context.Context) (Token, error) {
		return d.fetch(ctx, plan, start)
	})
	if err != nil {
		return plugin.Answer{}, &plugin.Error{What: "get credentials for " + req.Registry + " as " + id.Description, Err: err}
	}
	tok := res.Token
	switch res.Source {
	case tokencache.Stale:
		if tok.ExpiresAt.Sub(d.now()) <= plugin.StaleMargin {
			// Too little left for a pull to start with it: the cloud's
			// error says more than a 401 would.
			return plugin.Answer{}, &plugin.Error{What: "get credentials for " + req.Registry + " as " + id.Description, Err: res.FetchErr}
		}
		d.log.Warn("refresh failed; serving the cached token for the minutes it still works",
			"registry", req.Registry, "identity", id.Description, "expiresAt", tok.ExpiresAt, "err", plugin.Sanitize(res.FetchErr.Error(), req.ServiceAccountToken))
	case tokencache.Cached:
		d.log.Info("token from the node cache", "registry", req.Registry, "expiresAt", tok.ExpiresAt)
	default:
		d.log.Info("token fetched", "registry", req.Registry, "expiresAt", tok.ExpiresAt)
	}
	return answer(plan.Keys, tok, res.Source == tokencache.Stale), nil
}

func answer(keys []string, tok Token, stale bool) plugin.Answer {
	auth := make(map[string]plugin.AuthConfig, len(keys))
	for _, k := range keys {
		auth[k] = plugin.AuthConfig{Username: tok.Username, Password: tok.Password}
	}
	return plugin.Answer{Auth: auth, CacheKeyType: plugin.CacheKeyRegistry, ExpiresAt: tok.ExpiresAt, Stale: stale}
}

// fetch runs plan.Fetch within plugin.FetchTimeout, then checks and clamps
// what it returned. It returns when ctx ends even if Fetch does not (an SDK
// blocked in a read that takes no context, such as a FIFO where a token file
// should be). A panic inside Fetch (an SDK choking on a hostile answer) is a
// malformed answer, not a crash. start is when the request began, for
// saying how long it waited.
func (d *Driver) fetch(ctx context.Context, plan Plan, start time.Time) (Token, error) {
	ctx, cancel := context.WithTimeout(ctx, plugin.FetchTimeout)
	defer cancel()
	type result struct {
		tok Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				d.log.Debug("panic while reading the cloud's answer", "panic", fmt.Sprint(r))
				done <- result{err: &plugin.Error{What: "read the cloud's answer", Err: Malformed("the SDK could not process it"),
					Check: "check that the endpoints are the cloud's and that no proxy answers in their place"}}
			}
		}()
		tok, err := plan.Fetch(ctx)
		done <- result{tok, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	if r.err != nil {
		return Token{}, d.explain(r.err, d.now().Sub(start))
	}
	return d.clamp(r.tok, d.now())
}

// explain adds what actually happened and what to check, when the role's
// error does not already say.
func (d *Driver) explain(err error, took time.Duration) error {
	var pe *plugin.Error
	hinted := errors.As(err, &pe) && pe.Hint() != ""
	switch {
	case IsTimeout(err):
		e := &plugin.Error{What: fmt.Sprintf("no answer after %s", took.Round(100*time.Millisecond)), Err: err}
		if !hinted {
			e.Check = "check that the node reaches the cloud's endpoints: DNS, firewall, HTTPS_PROXY/NO_PROXY"
		}
		return e
	case hinted:
		return err
	case IsMalformed(err):
		return &plugin.Error{Err: err, Check: "the answer is not the cloud's: check the endpoint settings and that no proxy answers in its place"}
	case IsNetwork(err):
		return &plugin.Error{Err: err, Check: "check that the node reaches the cloud's endpoints: DNS, firewall, HTTPS_PROXY/NO_PROXY and, for TLS errors, SSL_CERT_FILE"}
	}
	return err
}

// clamp checks a fetched token and bounds its expiry: none means
// DefaultLifetime; more than MaxLifetime is capped; one already past is the
// node's clock when recent, a malformed answer otherwise.
func (d *Driver) clamp(tok Token, now time.Time) (Token, error) {
	if tok.Username == "" || tok.Password == "" {
		return Token{}, &plugin.Error{What: "read the cloud's answer", Err: Malformed("no username or no password in it"),
			Check: "check that the endpoints are the cloud's and that no proxy answers in their place"}
	}
	exp := tok.ExpiresAt
	switch {
	case exp.IsZero():
		exp = now.Add(d.limits.DefaultLifetime)
		d.log.Info("token carries no expiry; assuming a lifetime", "lifetime", d.limits.DefaultLifetime)
	case exp.Before(now.Add(-clockSlack)):
		return Token{}, &plugin.Error{What: "read the cloud's answer",
			Err:   Malformed("token expiry %s is not a plausible expiry", exp.UTC().Format(time.RFC3339)),
			Check: "check that the endpoints are the cloud's and that no proxy answers in their place"}
	case !exp.After(now):
		return Token{}, &plugin.Error{What: "token expired at " + exp.UTC().Format(time.RFC3339) + ", before it was received at " + now.UTC().Format(time.RFC3339),
			Check: "check the node's clock"}
	}
	if max := d.limits.MaxLifetime; max > 0 && exp.After(now.Add(max)) {
		d.log.Info("token claims a longer lifetime than the cloud issues; capped", "claimedExpiry", exp, "max", max)
		exp = now.Add(max)
	}
	tok.ExpiresAt = exp
	return tok, nil
}
