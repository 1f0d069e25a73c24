// Package ecr is the kcred role ecr-credential-provider: a drop-in
// replacement for cloud-provider-aws's binary that answers for every
// private ECR host form, ECR Public and (like upstream) any other host with
// the configured region, with node identity (the AWS SDK's default chain)
// or, in service-account mode, the pod's role, on the cloudtoken driver.
package ecr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/cloudtoken"
)

// Limits are ECR's token lifetimes: 12 hours as issued; an answer without
// expiresAt (ECR always sends one) is assumed to last an hour.
var Limits = cloudtoken.Limits{MaxLifetime: 12 * time.Hour, DefaultLifetime: time.Hour}

// Options configure the role.
type Options struct {
	// RoleAnnotation is the service-account annotation naming the role to
	// assume in service-account mode; empty means DefaultRoleAnnotation.
	RoleAnnotation string
	// Getenv reads the environment (AWS_ECR_ROLE_ARN and the variables that
	// fingerprint the node identity).
	Getenv func(string) string
}

// source is ECR's part of the driver: its token source.
type source struct {
	log        *slog.Logger
	annotation string
	envRoleARN string
	getenv     func(string) string
}

// New returns the ecr-credential-provider for env.
func New(env plugin.Env, opts Options) (*cloudtoken.Driver, error) {
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
	c := &source{log: log, annotation: annotation, envRoleARN: roleARN, getenv: opts.Getenv}
	return cloudtoken.New(env, c, Limits), nil
}

// Plan answers for any host (upstream does: a non-ECR host gets a token of
// the configured region), keyed by the registry exactly as requested.
//
// Identity rule: without a service-account token, node credentials. With
// one, the role named by the annotation, else by AWS_ECR_ROLE_ARN, is
// assumed with it, and failing to assume it is an error; when neither names
// a role, node credentials are used (as upstream does since v1.35).
func (c *source) Plan(req plugin.Request) (cloudtoken.Plan, error) {
	if req.Registry == "" {
		return cloudtoken.Plan{}, &plugin.Error{What: "request for image " + plugin.Quote(req.Image) + " has no registry host"}
	}
	h := ParseHost(req.Registry)
	id, err := c.identity(req)
	if err != nil {
		return cloudtoken.Plan{}, err
	}
	// An ECR host names its region, so a cached token needs no SDK
	// configuration at all; another host takes the configured region,
	// which only the configuration (environment and local files) tells.
	region := h.Region
	if region == "" {
		if region, err = configuredRegion(c.log); err != nil {
			return cloudtoken.Plan{}, configError(err)
		}
		if region == "" {
			return cloudtoken.Plan{}, &plugin.Error{What: "no region for " + req.Registry,
				Err: errors.New("the host is not an ECR host naming one and no region is configured"), Check: "set AWS_REGION in the provider's env"}
		}
	}
	return cloudtoken.Plan{
		Keys:     []string{req.Registry},
		Scope:    scope(h, region),
		Identity: cloudtoken.Identity{Fingerprint: id.fingerprint, Description: id.describe(), ServiceAccount: id.roleARN != ""},
		Fetch: func(ctx context.Context) (cloudtoken.Token, error) {
			cfg, err := loadConfig(ctx, region, c.log)
			if err != nil {
				return cloudtoken.Token{}, configError(err)
			}
			tok, err := fetch(ctx, cfg, h, id)
			if err != nil {
				return cloudtoken.Token{}, explain(err, h)
			}
			return tok, nil
		},
	}, nil
}

func configError(err error) error {
	return &plugin.Error{What: "load AWS configuration", Err: err, Check: "check AWS_PROFILE, AWS_CONFIG_FILE and the provider's env"}
}

// fetch obtains a fresh token: the role's credentials in service-account
// mode, else the node's, then the token.
func fetch(ctx context.Context, cfg aws.Config, h Host, id identity) (cloudtoken.Token, error) {
	if id.roleARN != "" {
		var err error
		if cfg, err = assumeRole(ctx, cfg, id); err != nil {
			return cloudtoken.Token{}, err
		}
	} else if err := nodeCredentials(ctx, cfg); err != nil {
		return cloudtoken.Token{}, err
	}
	return getToken(ctx, cfg, h)
}

// identity picks the request's credential source (see Plan).
func (c *source) identity(req plugin.Request) (identity, error) {
	if req.ServiceAccountToken == "" {
		return nodeIdentity(c.getenv)
	}
	arn := roleARNFor(req.ServiceAccountAnnotations, c.annotation, c.envRoleARN)
	if err := checkRoleARN(arn, "service-account annotation "+c.annotation); err != nil {
		return identity{}, err
	}
	if arn == "" {
		c.log.Info("service-account mode without a role: using node credentials", "annotation", c.annotation, "env", RoleARNEnv)
		return nodeIdentity(c.getenv)
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

// explain adds what to check to an AWS error: which endpoint could not be
// reached or answered something that is not AWS's, or what the identity
// may lack. It names the endpoint and the settings that choose it, never
// the response body. Errors that already carry a hint pass unchanged.
func explain(err error, h Host) error {
	var pe *plugin.Error
	if errors.As(err, &pe) && pe.Hint() != "" {
		return err
	}
	check := ""
	var de *smithy.DeserializationError
	var ae smithy.APIError
	var oe *smithy.OperationError
	switch {
	// First: an answer that timed out while it came in (a trickling
	// body) is also a deserialization error, but says nothing against
	// the endpoint's identity.
	case cloudtoken.IsTimeout(err):
		check = "no complete answer from " + endpointOf(err, h) + " in time: check that the node reaches it, and HTTPS_PROXY/NO_PROXY"
	// Before the network check: the pinned SDK (go.mod) reports a body
	// cut short as a deserialization error wrapping io.ErrUnexpectedEOF.
	case errors.As(err, &de) || cloudtoken.IsMalformed(err):
		check = "the answer is not an AWS answer: check that " + endpointOf(err, h) + " is AWS's and that no proxy answers in its place"
	case cloudtoken.IsNetwork(err):
		check = "check that the node reaches " + endpointOf(err, h) + ", and HTTPS_PROXY/NO_PROXY"
	case errors.As(err, &ae) && errors.As(err, &oe):
		if isThrottled(err) {
			check = throttledHint
		} else {
			check = "check the credentials in use and that the identity may call " + signingName(h) + ":GetAuthorizationToken"
		}
	}
	return &plugin.Error{Err: err, Check: check}
}

// throttledHint is what to do when AWS throttled every attempt of a call.
const throttledHint = "AWS throttled every attempt: retry later, or raise AWS_MAX_ATTEMPTS"

// isThrottled reports whether err is AWS refusing for the call rate.
func isThrottled(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (strings.Contains(ae.ErrorCode(), "Throttl") || ae.ErrorCode() == "TooManyRequestsException")
}

// signingName is the IAM service prefix of h's token call.
func signingName(h Host) string {
	if h.Kind == Public {
		return "ecr-public"
	}
	return "ecr"
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
