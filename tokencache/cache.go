// Package tokencache is a per-node on-disk cache of cloud tokens shared by
// every exec of every kcred role, so that a node asks its cloud once per
// token lifetime rather than once per kubelet cache miss.
package tokencache

import (
	"context"
	"log/slog"
	"time"
)

// Key identifies one cached token. All three parts take part in the file
// name (hashed), so two identities never share an entry.
type Key struct {
	// Role is the provider role, e.g. "ecr-credential-provider".
	Role string
	// Identity fingerprints the credential source (role ARN, profile, client
	// ID, a hash of a service-account token...). Never put a secret here in
	// clear: it is hashed, but keep it a fingerprint anyway.
	Identity string
	// Scope is what the token is for: a registry host, a region.
	Scope string
}

// Token is one cached credential.
type Token struct {
	Username  string    `json:"username"`
	Password  string    `json:"password"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Cache is the on-disk token cache. The zero value and nil are a disabled
// cache that always fetches.
type Cache struct {
	dir    string
	log    *slog.Logger
	margin time.Duration
	now    func() time.Time
	wait   time.Duration
}

// Fetch obtains a fresh token from the cloud.
type Fetch func(ctx context.Context) (Token, error)

var _ = context.Background
