package ecr

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"

	"github.com/kcred/kcred/tokencache"
)

// assumedLifetime is used when an answer carries no expiresAt (ECR always
// sends one; its tokens live 12 hours): short, so that the kubelet is never
// told to cache a token of unknown lifetime for its default duration.
const assumedLifetime = time.Hour

// maxLifetime is the longest an ECR token lives: a later expiresAt is
// clamped to it, so that neither the kubelet nor the token cache keeps a
// token longer than ECR could have issued it for.
const maxLifetime = 12 * time.Hour

// privateClient is the ECR client for h: FIPS and dual-stack hosts send the
// token call to the matching endpoint (the environment can turn these on
// for other hosts too, never off). A configured endpoint URL (a VPC
// endpoint, AWS_ENDPOINT_URL_ECR) wins: the SDK refuses both together.
func privateClient(cfg aws.Config, h Host) *ecr.Client {
	return ecr.NewFromConfig(cfg, func(o *ecr.Options) {
		if o.BaseEndpoint != nil {
			return
		}
		if h.FIPS {
			o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
		}
		if h.DualStack {
			o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateEnabled
		}
	})
}

// publicClient is the ECR Public client; its API lives in us-east-1 only.
func publicClient(cfg aws.Config, h Host) *ecrpublic.Client {
	return ecrpublic.NewFromConfig(cfg, func(o *ecrpublic.Options) {
		o.Region = publicRegion
		if h.DualStack && o.BaseEndpoint == nil {
			o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateEnabled
		}
	})
}

// getToken calls GetAuthorizationToken (ECR Public's for public hosts, ECR's
// in cfg's region otherwise) and decodes the answer.
func getToken(ctx context.Context, cfg aws.Config, h Host, now time.Time) (tokencache.Token, error) {
	if h.Kind == Public {
		out, err := publicClient(cfg, h).GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{})
		if err != nil {
			return tokencache.Token{}, fmt.Errorf("ECR Public GetAuthorizationToken: %w", err)
		}
		if out == nil || out.AuthorizationData == nil {
			return tokencache.Token{}, malformed("ECR Public GetAuthorizationToken: answer has no authorizationData")
		}
		tok, err := decodeToken(out.AuthorizationData.AuthorizationToken, out.AuthorizationData.ExpiresAt, now)
		if err != nil {
			return tokencache.Token{}, fmt.Errorf("ECR Public GetAuthorizationToken: %w", err)
		}
		return tok, nil
	}
	out, err := privateClient(cfg, h).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return tokencache.Token{}, fmt.Errorf("ECR GetAuthorizationToken in %s: %w", cfg.Region, err)
	}
	if out == nil || len(out.AuthorizationData) == 0 {
		return tokencache.Token{}, malformed(fmt.Sprintf("ECR GetAuthorizationToken in %s: answer has no authorizationData", cfg.Region))
	}
	d := out.AuthorizationData[0]
	tok, err := decodeToken(d.AuthorizationToken, d.ExpiresAt, now)
	if err != nil {
		return tokencache.Token{}, fmt.Errorf("ECR GetAuthorizationToken in %s: %w", cfg.Region, err)
	}
	return tok, nil
}

// decodeToken splits a base64 "user:password" authorization token and
// attaches its expiry, at most maxLifetime after now. Errors never quote
// the token.
func decodeToken(auth *string, expiresAt *time.Time, now time.Time) (tokencache.Token, error) {
	if auth == nil || *auth == "" {
		return tokencache.Token{}, malformed("answer has no authorizationToken")
	}
	raw, err := base64.StdEncoding.DecodeString(*auth)
	if err != nil {
		return tokencache.Token{}, malformed("authorizationToken is not valid base64")
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" || pass == "" {
		return tokencache.Token{}, malformed("authorizationToken is not a user:password pair")
	}
	exp := now.Add(assumedLifetime)
	if expiresAt != nil && !expiresAt.IsZero() {
		exp = *expiresAt
	}
	if limit := now.Add(maxLifetime); exp.After(limit) {
		exp = limit
	}
	if !exp.After(now) {
		return tokencache.Token{}, fmt.Errorf("token expired at %s, before it was received at %s (check the node's clock)",
			exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return tokencache.Token{Username: user, Password: pass, ExpiresAt: exp}, nil
}

// malformedError is an answer that parsed but is not a usable token: hint
// adds what to check.
type malformedError struct{ msg string }

func (e *malformedError) Error() string { return e.msg }

func malformed(msg string) error { return &malformedError{msg} }
