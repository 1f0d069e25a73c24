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

	"github.com/kcred/kcred/provider/cloudtoken"
)

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
func getToken(ctx context.Context, cfg aws.Config, h Host) (cloudtoken.Token, error) {
	if h.Kind == Public {
		out, err := publicClient(cfg, h).GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{})
		if err != nil {
			return cloudtoken.Token{}, fmt.Errorf("ECR Public GetAuthorizationToken: %w", err)
		}
		if out == nil || out.AuthorizationData == nil {
			return cloudtoken.Token{}, cloudtoken.Malformed("ECR Public GetAuthorizationToken: answer has no authorizationData")
		}
		tok, err := decodeToken(out.AuthorizationData.AuthorizationToken, out.AuthorizationData.ExpiresAt)
		if err != nil {
			return cloudtoken.Token{}, fmt.Errorf("ECR Public GetAuthorizationToken: %w", err)
		}
		return tok, nil
	}
	out, err := privateClient(cfg, h).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return cloudtoken.Token{}, fmt.Errorf("ECR GetAuthorizationToken in %s: %w", cfg.Region, err)
	}
	if out == nil || len(out.AuthorizationData) == 0 {
		return cloudtoken.Token{}, cloudtoken.Malformed("ECR GetAuthorizationToken in %s: answer has no authorizationData", cfg.Region)
	}
	d := out.AuthorizationData[0]
	tok, err := decodeToken(d.AuthorizationToken, d.ExpiresAt)
	if err != nil {
		return cloudtoken.Token{}, fmt.Errorf("ECR GetAuthorizationToken in %s: %w", cfg.Region, err)
	}
	return tok, nil
}

// decodeToken splits a base64 "user:password" authorization token and
// attaches its expiry (the driver bounds it). Errors never quote the token.
func decodeToken(auth *string, expiresAt *time.Time) (cloudtoken.Token, error) {
	if auth == nil || *auth == "" {
		return cloudtoken.Token{}, cloudtoken.Malformed("answer has no authorizationToken")
	}
	raw, err := base64.StdEncoding.DecodeString(*auth)
	if err != nil {
		return cloudtoken.Token{}, cloudtoken.Malformed("authorizationToken is not valid base64")
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" || pass == "" {
		return cloudtoken.Token{}, cloudtoken.Malformed("authorizationToken is not a user:password pair")
	}
	tok := cloudtoken.Token{Username: user, Password: pass}
	if expiresAt != nil {
		tok.ExpiresAt = *expiresAt
	}
	return tok, nil
}
