// Package ocir is the Oracle Cloud Infrastructure Registry role, a drop-in
// for Oracle's oke-credential-provider-for-ocir: an OCI-signed GET of OCIR's
// docker token, as the node's instance principal (default) or a user
// principal from an OCI config file, answered as username BEARER_TOKEN.
//
// It runs on the cloudtoken driver: Plan recognises OCIR hosts and describes
// the principal without any network I/O; Fetch does the rest (instance
// metadata, X.509 federation, the token call) within its own bound, since
// the SDK's retries would otherwise wait minutes.
package ocir

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"

	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/cloudtoken"
	"github.com/kcred/kcred/tokencache"
)

// Role is the OCIR role under the seed's name, with upstream's binary name
// and a kcred-style name as aliases.
var Role = plugin.Role{
	Name:    "oke-credential-provider",
	Aliases: []string{"credential-provider-oke", "ocir-credential-provider"},
	Summary: "Oracle Cloud (OCIR) credentials by instance or user principal (drop-in for oke-credential-provider-for-ocir)",
	Setup:   setup,
}

func setup(fs *flag.FlagSet) func(plugin.Env, []string) (plugin.Provider, error) {
	file := fs.String("config", "", "upstream's YAML config (registryTokenPath, registryProtocol, ocirAuthMethod, tokenValidation); without it the same settings come from REGISTRY_TOKEN_PATH, REGISTRY_PROTOCOL, OCIR_AUTH_METHOD, TOKEN_VALIDATION")
	return func(env plugin.Env, _ []string) (plugin.Provider, error) {
		cfg, err := LoadConfig(*file, os.Getenv)
		if err != nil {
			return nil, &plugin.Error{What: "configuration", Err: err, Check: "check the provider's env and -config in the kubelet's credential provider config"}
		}
		if cfg.Ignored != "" {
			env.Log.Warn(cfg.Ignored + " (set enabled to validate)")
		}
		return New(env, cfg, os.Getenv), nil
	}
}

// requestDeadline bounds a whole request, a wait for another exec's fetch
// included: with many execs against a dead cloud each still fails within
// the 20 s an operator is promised.
const requestDeadline = 18 * time.Second

// fetchBudget bounds one fetch (metadata, federation, token, validation):
// every failure is reported well inside the 20 s an operator waits for.
const fetchBudget = 15 * time.Second

// attemptTimeout bounds one HTTP attempt, so a black-holed endpoint fails
// its attempt instead of the whole budget.
const attemptTimeout = 5 * time.Second

// maxLifetime caps the lifetime OCIR or federation may claim for a token
// (OCIR issues hour-long tokens, federation shorter ones): a larger claim is
// not kept longer than this by the kubelet or the node cache.
const maxLifetime = 3 * time.Hour

// cloud is the OCIR part of the role.
type cloud struct {
	role   string
	cfg    Config
	getenv func(string) string
	cache  *tokencache.Cache
	log    *slog.Logger
	client *http.Client
}

var quietSDK sync.Once

// New returns the OCIR provider for cfg.
func New(env plugin.Env, cfg Config, getenv func(string) string) plugin.Provider {
	// The SDK logs to stderr when OCI_GO_SDK_DEBUG is set, request dumps
	// included: nothing of it may reach the kubelet's log.
	quietSDK.Do(func() { common.SetSDKLogger(silentSDK{}) })
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &cloud{role: env.Role, cfg: cfg, getenv: getenv, cache: env.Cache, log: log, client: cloudtoken.HTTPClient(attemptTimeout)}
	return cloudtoken.New(env, c, cloudtoken.Limits{MaxLifetime: maxLifetime, Deadline: requestDeadline})
}

// Plan recognises OCIR hosts and the principal, reading local files only.
func (c *cloud) Plan(req plugin.Request) (cloudtoken.Plan, error) {
	host, ok := ParseHost(req.Registry)
	if !ok {
		return cloudtoken.Plan{}, nil
	}
	plan := cloudtoken.Plan{Keys: []string{req.Registry}, Scope: req.Registry}
	var sign func(ctx context.Context) (common.KeyProvider, error)
	switch c.cfg.Auth {
	case UserPrincipal:
		u, err := loadUserPrincipal(c.getenv)
		if err != nil {
			return cloudtoken.Plan{}, err
		}
		plan.Identity = u.identity
		sign = func(context.Context) (common.KeyProvider, error) { return u.signer() }
	default:
		plan.Identity = instanceIdentity(c.getenv)
		sign = c.instanceSigner
	}
	u := tokenURL(c.cfg, req.Registry)
	plan.Fetch = func(ctx context.Context) (cloudtoken.Token, error) {
		ctx, cancel := context.WithTimeout(ctx, fetchBudget)
		defer cancel()
		c.log.Debug("OCIR token", "region", host.Region, "realm", host.Realm, "url", u, "principal", string(c.cfg.Auth))
		kp, err := sign(ctx)
		if err != nil {
			return cloudtoken.Token{}, err
		}
		tok, err := fetchToken(ctx, c.client, kp, u, string(c.cfg.Auth))
		if err != nil {
			return cloudtoken.Token{}, err
		}
		if c.cfg.Validate {
			tok = validate(ctx, c.client, c.log, c.cfg, req.Registry, req.Image, tok)
		}
		return tok, nil
	}
	return plan, nil
}

// cacheDo caches a federation session on the node beside the tokens.
func (c *cloud) cacheDo(ctx context.Context, key tokencache.Key, fetch tokencache.Fetch) (tokencache.Token, error) {
	res, err := c.cache.Do(ctx, key, fetch)
	if err == nil && res.Source == tokencache.Stale {
		// The driver's rule for a stale session: only while a pull can
		// still use it, and never silently.
		if time.Until(res.Token.ExpiresAt) <= plugin.StaleMargin {
			return tokencache.Token{}, res.FetchErr
		}
		c.log.Warn("federation refresh failed; using the cached session for the minutes it still works", "expiresAt", res.Token.ExpiresAt, "err", plugin.Sanitize(res.FetchErr.Error()))
	}
	return res.Token, err
}

// silentSDK is an oci-go-sdk logger that logs nothing.
type silentSDK struct{}

// LogLevel implements the SDK's logger: no logging.
func (silentSDK) LogLevel() int { return 0 }

// Log implements the SDK's logger.
func (silentSDK) Log(int, string, ...interface{}) error { return nil }
