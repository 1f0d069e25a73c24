// Package cloudtoken is the driver every cloud-token role (ECR, ACR, GCP,
// OCIR) runs on. A role supplies only what is its own, as a Cloud: which
// registries it answers for, the identity it will use (described without
// any I/O), and a Fetch that does all the network work. The driver does the
// rest once for every role: node token cache and single flight, the fetch
// bound, the lifetime clamp, serving a still-valid token when the cloud
// fails, the answer, the log lines and the hints.
//
// "No network before the cache lookup" is structural: Plan has no context
// and runs before the lookup; only Fetch may touch the network, and it runs
// on a cache miss only.
//
// A new role is written as:
//
//	type cloud struct{ /* flags */ }
//
//	func (c cloud) Plan(req plugin.Request) (cloudtoken.Plan, error) {
//		if !isMine(req.Registry) {
//			return cloudtoken.Plan{}, nil // empty answer, no cloud call
//		}
//		id := c.identity(req) // no I/O: env, flags, annotations
//		return cloudtoken.Plan{
//			Keys:     []string{req.Registry},
//			Scope:    region(req.Registry),
//			Identity: id.describe(),
//			Fetch: func(ctx context.Context) (cloudtoken.Token, error) {
//				return c.token(ctx, id) // all network work, ctx bounded
//			},
//		}, nil
//	}
//
//	var Role = plugin.Role{
//		Name: "x-credential-provider", Summary: "...",
//		Setup: func(fs *flag.FlagSet) func(plugin.Env, []string) (plugin.Provider, error) {
//			var c cloud // register flags on fs
//			return func(env plugin.Env, _ []string) (plugin.Provider, error) {
//				return cloudtoken.New(env, c, cloudtoken.Limits{MaxLifetime: time.Hour}), nil
//			}
//		},
//	}
//
// and its test runs the conformance suite (internal/providertest).
package cloudtoken

import (
	"context"
	"time"

	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/tokencache"
)

// Cloud is one cloud's part of a cloud-token role.
type Cloud interface {
	// Plan recognises req's registry and chooses the identity, without any
	// network I/O (reading the node's configuration files is allowed, but
	// nothing that can block). A Plan with no Keys means "not this cloud's
	// registry": the answer is empty and nothing else runs. An error fails
	// the request (e.g. a service-account annotation that names no usable
	// identity).
	Plan(req plugin.Request) (Plan, error)
}

// CloudFunc adapts a function to a Cloud.
type CloudFunc func(req plugin.Request) (Plan, error)

// Plan calls f.
func (f CloudFunc) Plan(req plugin.Request) (Plan, error) { return f(req) }

// Plan is what one request needs from the cloud.
type Plan struct {
	// Keys are the registry keys the credential is answered under: usually
	// req.Registry exactly as sent (port kept); a mirror adds its source.
	Keys []string
	// Scope is what one token is good for (a region, a registry host). With
	// the role and Identity.Fingerprint it keys the node token cache.
	Scope string
	// Identity is who asks.
	Identity Identity
	// Fetch obtains a fresh token: all network work happens here, within
	// the ctx the driver bounds by plugin.FetchTimeout. It runs only on a
	// cache miss. A token without ExpiresAt gets Limits.DefaultLifetime.
	Fetch func(ctx context.Context) (Token, error)
	// Direct, when set, is the answer without any token call or cache (e.g.
	// ACR's service-principal passthrough); Fetch is then unused.
	Direct *Token
}

// Identity describes a credential source without any secret.
type Identity struct {
	// Fingerprint tells identities apart in the cache key: never a secret
	// in clear (hash secrets, e.g. with ServiceAccountFingerprint).
	Fingerprint string
	// Description names the identity for logs and errors, e.g.
	// "node credentials" or "service account with role arn:...". No
	// parentheses: the error line keeps them for its one hint.
	Description string
	// ServiceAccount is true when the pod's service-account token is the
	// credential source. The driver then refuses a Fingerprint that does not
	// contain ServiceAccountFingerprint of the token, so that one pod's
	// credential is never served to another.
	ServiceAccount bool
}

// Token is a registry credential and when it stops working.
type Token = tokencache.Token

// Limits are a role's bounds on the lifetimes its cloud claims.
type Limits struct {
	// MaxLifetime caps a token's claimed expiry (e.g. 12 h for ECR): neither
	// the kubelet nor the node cache keeps a token longer than the cloud
	// could have issued it for. Zero means no cap.
	MaxLifetime time.Duration
	// DefaultLifetime is assumed for a token that carries no expiry; zero
	// means an hour.
	DefaultLifetime time.Duration
	// Deadline, when set, bounds a whole request from its start: the wait
	// for another exec's fetch of the same token included, so that a
	// failure reaches the kubelet within it even when many execs start at
	// once against a dead cloud. Zero means plugin.FetchTimeout per fetch.
	Deadline time.Duration
}
