// Package ecr is the kcred role ecr-credential-provider: a drop-in
// replacement for cloud-provider-aws's binary that answers for every
// private ECR host form, ECR Public and (like upstream) any other host with
// the configured region, with node identity (the AWS SDK's default chain)
// or, in service-account mode, the pod's role, through the node's shared
// token cache.
package ecr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/tokencache"
)

// Provider answers kubelet requests for ECR credentials.
type Provider struct {
	role       string
	log        *slog.Logger
	cache      *tokencache.Cache
	annotation string
	envRoleARN string
	getenv     func(string) string
	now        func() time.Time
}

// Options configure a Provider.
type Options struct {
	// RoleAnnotation is the service-account annotation naming the role to
	// assume in service-account mode; empty means DefaultRoleAnnotation.
	RoleAnnotation string
	// Getenv reads the environment (AWS_ECR_ROLE_ARN and the variables that
	// fingerprint the node identity).
	Getenv func(string) string
}

// New returns a Provider using env's cache and logger.
func New(env plugin.Env, opts Options) (*Provider, error) {
	annotation := opts.RoleAnnotation
	if annotation == "" {
		annotation = DefaultRoleAnnotation
	}
	roleARN := opts.Getenv(RoleARNEnv)
	if err := checkRoleARN(roleARN, RoleARNEnv); err != nil {
		return nil, err
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Provider{
		role: env.Role, log: log, cache: env.Cache, annotation: annotation,
		envRoleARN: roleARN, getenv: opts.Getenv, now: time.Now,
	}, nil
}

// Credentials returns the ECR token for the request's registry, keyed by
// that registry exactly as requested (port kept).
//
// Identity rule: without a service-account token, node credentials. With
// one, the role named by the annotation, else by AWS_ECR_ROLE_ARN, is
// assumed with it, and failing to assume it is an error; when neither names
// a role, node credentials are used (as upstream does since v1.35).
func (p *Provider) Credentials(ctx context.Context, req plugin.Request) (plugin.Answer, error) {
	if req.Registry == "" {
		return plugin.Answer{}, fmt.Errorf("ecr: request for image %q has no registry host", req.Image)
	}
	h := ParseHost(req.Registry)
	id, err := p.identity(req)
	if err != nil {
		return plugin.Answer{}, err
	}
	// An ECR host names its region, so a cached token needs no SDK
	// configuration at all; other hosts take the configured region, which
	// only loading it tells.
	region := h.Region
	var cfg aws.Config
	loaded := false
	load := func(ctx context.Context) error {
		if loaded {
			return nil
		}
		var err error
		if cfg, err = loadConfig(ctx, region, p.log); err != nil {
			return fmt.Errorf("ecr: load AWS configuration: %w (check AWS_PROFILE, AWS_CONFIG_FILE and the provider's env)", err)
		}
		loaded = true
		return nil
	}
	if region == "" {
		if err := load(ctx); err != nil {
			return plugin.Answer{}, err
		}
		if region = cfg.Region; region == "" {
			return plugin.Answer{}, fmt.Errorf("ecr: no region for %s: the host is not an ECR host naming one and no region is configured (set AWS_REGION in the provider's env)", req.Registry)
		}
	}
	p.log.Info("ecr token needed", "registry", req.Registry, "host", h.String(), "region", region, "identity", id.kind(), "roleARN", id.roleARN)

	key := tokencache.Key{Role: p.role, Identity: id.fingerprint, Scope: scope(h, region)}
	var loadErr error
	res, err := p.cache.Do(ctx, key, func(ctx context.Context) (tokencache.Token, error) {
		if loadErr = load(ctx); loadErr != nil {
			return tokencache.Token{}, loadErr
		}
		return p.fetch(ctx, cfg, h, id)
	})
	if loadErr != nil {
		return plugin.Answer{}, loadErr
	}
	if err != nil {
		return plugin.Answer{}, fmt.Errorf("ecr: get token for %s: %w%s", req.Registry, err, hint(ctx, err, h))
	}
	tok, hit := res.Token, res.Source == tokencache.Cached
	p.log.Info("ecr token obtained", "registry", req.Registry, "cached", hit, "expiresAt", tok.ExpiresAt)
	return plugin.Answer{
		Auth:         map[string]plugin.AuthConfig{req.Registry: {Username: tok.Username, Password: tok.Password}},
		CacheKeyType: plugin.CacheKeyRegistry,
		ExpiresAt:    tok.ExpiresAt,
	}, nil
}

// fetch obtains a fresh token from AWS (a token-cache miss), within
// plugin.FetchTimeout: the role's credentials in service-account mode, else the
// node's, then the token.
func (p *Provider) fetch(ctx context.Context, cfg aws.Config, h Host, id identity) (tokencache.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, plugin.FetchTimeout)
	defer cancel()
	if id.roleARN != "" {
		var err error
		if cfg, err = assumeRole(ctx, cfg, id); err != nil {
			return tokencache.Token{}, err
		}
	} else if err := nodeCredentials(ctx, cfg); err != nil {
		return tokencache.Token{}, err
	}
	return getToken(ctx, cfg, h, p.now())
}

// identity picks the request's credential source (see Credentials).
func (p *Provider) identity(req plugin.Request) (identity, error) {
	if req.ServiceAccountToken == "" {
		return nodeIdentity(p.getenv), nil
	}
	arn := roleARNFor(req.ServiceAccountAnnotations, p.annotation, p.envRoleARN)
	if err := checkRoleARN(arn, "service-account annotation "+p.annotation); err != nil {
		return identity{}, fmt.Errorf("ecr: %w", err)
	}
	if arn == "" {
		p.log.Info("service-account mode without a role: using node credentials", "annotation", p.annotation, "env", RoleARNEnv)
		return nodeIdentity(p.getenv), nil
	}
	return serviceAccountIdentity(arn, req.ServiceAccountToken), nil
}

// scope is what a token is good for: ECR tokens cover every registry the
// principal reaches in one region, so private and other hosts in the same
// region share one; the endpoint variant is kept apart.
func scope(h Host, region string) string {
	if h.Kind == Public {
		return fmt.Sprintf("public/dualstack=%t", h.DualStack)
	}
	return fmt.Sprintf("private/%s/fips=%t/dualstack=%t", region, h.FIPS, h.DualStack)
}

// hint adds what to check: when the cloud could not be reached in time or
// at all, or answered with something that is not an ECR answer. It names
// the endpoint and the settings that choose it, never the response body.
func hint(ctx context.Context, err error, h Host) string {
	if ctx.Err() == nil && isDeadline(err) {
		return fmt.Sprintf(" (gave up after %s; check that the node reaches the ECR and STS endpoints, and HTTPS_PROXY/NO_PROXY)", plugin.FetchTimeout)
	}
	if isNetwork(err) {
		return fmt.Sprintf(" (check that the node reaches %s, and HTTPS_PROXY/NO_PROXY)", endpointOf(err, h))
	}
	var de *smithy.DeserializationError
	var me *malformedError
	if errors.As(err, &de) || errors.As(err, &me) {
		return fmt.Sprintf(" (the answer is not an ECR answer: check that %s is ECR's and that no proxy answers in its place)", endpointOf(err, h))
	}
	var ae smithy.APIError
	var oe *smithy.OperationError
	if errors.As(err, &ae) && errors.As(err, &oe) && oe.ServiceID != "STS" { // STS errors carry their own hint
		if strings.Contains(ae.ErrorCode(), "Throttl") || ae.ErrorCode() == "TooManyRequestsException" {
			return " (AWS throttled every attempt: retry later, or raise AWS_MAX_ATTEMPTS)"
		}
		return fmt.Sprintf(" (check the credentials in use and that the identity may call %s:GetAuthorizationToken)", signingName(h))
	}
	return ""
}

// signingName is the IAM service prefix of h's token call.
func signingName(h Host) string {
	if h.Kind == Public {
		return "ecr-public"
	}
	return "ecr"
}

// isNetwork reports whether err is a failure to send the request or read
// the answer: refused, reset, unresolvable, TLS.
func isNetwork(err error) bool {
	var se *smithyhttp.RequestSendError
	var oe *net.OpError
	var dnse *net.DNSError
	return errors.As(err, &se) || errors.As(err, &oe) || errors.As(err, &dnse)
}

// endpointOf names the endpoint the failed call went to, by the service
// the SDK reports (else by h), with the settings that choose it.
func endpointOf(err error, h Host) string {
	var oe *smithy.OperationError
	service := "ECR"
	if h.Kind == Public {
		service = "ECR PUBLIC"
	}
	if errors.As(err, &oe) {
		service = oe.ServiceID
	}
	switch service {
	case "STS":
		return "the STS endpoint (AWS_ENDPOINT_URL_STS when set, else the region's sts endpoint)"
	case "ECR PUBLIC":
		return "the ECR Public endpoint (AWS_ENDPOINT_URL_ECR_PUBLIC when set, else api.ecr-public.us-east-1.amazonaws.com)"
	case "ECR":
		return "the ECR endpoint (AWS_ENDPOINT_URL_ECR when set, else the region's api.ecr endpoint)"
	}
	return "the credentials endpoint (instance metadata, container credentials or the profile's)"
}

// isDeadline reports whether err is a timeout: the fetch deadline or an
// HTTP attempt's.
func isDeadline(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
