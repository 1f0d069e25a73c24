// Package plugin is the kubelet exec credential provider runtime that every
// kcred role runs inside: it decodes the request (any apiVersion the kubelet
// speaks), calls the role's Provider, checks the answer and encodes it in the
// request's apiVersion. It knows the wire protocol and nothing about clouds.
package plugin

import (
	"context"
	"time"

	"github.com/kcred/kcred/tokencache"
)

// CacheKeyType tells the kubelet how widely it may reuse an answer.
type CacheKeyType string

// The cache key types the kubelet accepts (exact case).
const (
	CacheKeyImage    CacheKeyType = "Image"
	CacheKeyRegistry CacheKeyType = "Registry"
	CacheKeyGlobal   CacheKeyType = "Global"
)

// Request is a CredentialProviderRequest, independent of its apiVersion.
type Request struct {
	// APIVersion is the request's apiVersion; the response uses the same one.
	APIVersion string
	// Image is the image exactly as the kubelet sent it (normally the
	// normalised, tagless repository, e.g. "docker.io/library/nginx").
	Image string
	// Registry is the image's host with its port, if any ("registry.io:5000"),
	// after Docker Hub defaulting ("docker.io" for "nginx").
	Registry string
	// ServiceAccountToken is the pod's service-account token (KEP-4412,
	// apiVersion v1 only); empty outside service-account mode.
	ServiceAccountToken string
	// ServiceAccountAnnotations are the service account's annotations the
	// kubelet was configured to pass along.
	ServiceAccountAnnotations map[string]string
}

// AuthConfig is one username/password pair.
type AuthConfig struct {
	Username string
	Password string
}

// Answer is what a Provider returns for a Request.
//
// An empty Auth means "not my registry" (or nothing to offer): the runtime
// answers with no credentials, which is not an error.
type Answer struct {
	// Auth maps a registry key (host[:port][/path], globs allowed as the
	// kubelet defines them) to its credential.
	Auth map[string]AuthConfig
	// CacheKeyType is how the kubelet should key its cache; empty means
	// Registry.
	CacheKeyType CacheKeyType
	// ExpiresAt is when the credentials stop working. The runtime derives
	// cacheDuration from it (minus Margin), so no provider can tell the kubelet
	// to cache a credential past its expiry. Zero means unknown: cacheDuration
	// is omitted and the kubelet applies its defaultCacheDuration.
	ExpiresAt time.Time
	// Stale marks a credential served because its refresh failed while it
	// was already within Margin of ExpiresAt: the kubelet may cache it only
	// for what remains minus StaleMargin, so that it asks again soon.
	Stale bool
}

// StaleMargin is what a stale answer's cacheDuration keeps back from its
// expiry.
const StaleMargin = time.Minute

// Provider obtains credentials for one request. Errors should read
// "what failed: why (what to check)"; the runtime prefixes the role name and
// prints them on one line.
type Provider interface {
	Credentials(ctx context.Context, req Request) (Answer, error)
}

// ProviderFunc adapts a function to a Provider.
type ProviderFunc func(ctx context.Context, req Request) (Answer, error)

// Credentials calls f.
func (f ProviderFunc) Credentials(ctx context.Context, req Request) (Answer, error) {
	return f(ctx, req)
}

// Margin is how long before its expiry a credential is treated as expired:
// the kubelet is never told to cache past ExpiresAt-Margin, and the token
// cache never serves a token that close to its expiry. It covers clock skew
// and an image pull that starts just before expiry.
const Margin = tokencache.Margin
