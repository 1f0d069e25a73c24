package kubelet

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/kcred/kcred/match"
)

// Simulator runs image lookups as one kubelet would, with one cache per
// provider shared by all lookups of the Simulator (so a repeated image shows
// a cache hit). It is not safe for concurrent use.
type Simulator struct {
	cfg    *Config
	binDir string
	// Timeout is the exec timeout; DefaultTimeout when zero.
	Timeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Environ is the environment the kubelet passes on; os.Environ when nil.
	Environ func() []string
	// Pod is the pod the lookups are for; its ServiceAccount drives
	// service-account mode. The zero Pod has no service account.
	Pod Pod

	caches map[string]*providerCache
}

// Pod is the pod whose image is looked up.
type Pod struct {
	Namespace, Name, UID string
	// ServiceAccount is nil for a pod without a service-account name.
	ServiceAccount *ServiceAccount
}

// ServiceAccount is what the kubelet reads from the API server and the token
// it is issued for a provider's audience.
type ServiceAccount struct {
	Name        string
	UID         string
	Annotations map[string]string
	// Token is what the TokenRequest would return; empty means the request
	// fails.
	Token string
}

// NewSimulator returns a Simulator for a loaded config and bin dir.
func NewSimulator(cfg *Config, binDir string) *Simulator {
	return &Simulator{cfg: cfg, binDir: binDir, caches: map[string]*providerCache{}}
}

func (s *Simulator) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Lookup simulates the kubelet's plugin keyring for image: normalise it, ask
// every provider in config order (match, service-account mode, cache, exec,
// validate, cache), add all answers to one keyring and look the image up.
func (s *Simulator) Lookup(ctx context.Context, image string) *ImageReport {
	rep := &ImageReport{Image: image, Providers: []*ProviderReport{}, Credentials: []Credential{}}
	norm, err := match.Normalize(image)
	if err != nil {
		rep.Error = fmt.Sprintf("couldn't parse image name %q: %v", image, err)
		return rep
	}
	rep.Normalized = norm
	var kr match.Keyring
	for _, p := range s.cfg.Providers {
		pr, auth := s.provide(ctx, p, norm)
		rep.Providers = append(rep.Providers, pr)
		if len(auth) > 0 {
			m := make(map[string]match.AuthConfig, len(auth))
			for k, v := range auth {
				m[k] = match.AuthConfig{Username: v.Username, Password: v.Password}
			}
			kr.Add(p.Name, m)
		}
	}
	for _, c := range kr.Lookup(norm) {
		rep.Credentials = append(rep.Credentials, Credential{Key: c.Key, Provider: c.Source, Username: c.Username, Password: c.Password})
	}
	return rep
}

// provide is the kubelet's pluginProvider.provide for one image.
func (s *Simulator) provide(ctx context.Context, p Provider, image string) (*ProviderReport, map[string]AuthConfig) {
	pr := &ProviderReport{Name: p.Name}
	pr.Matched, pr.MatchReason = explainMatch(p.MatchImages, image)
	if !pr.Matched {
		return pr, nil
	}
	fail := func(err error) (*ProviderReport, map[string]AuthConfig) {
		pr.Error = err.Error()
		pr.ErrorClass = ErrorClass(pr.Error)
		return pr, nil
	}

	req := Request{Image: image}
	var saKey string
	sa := s.Pod.ServiceAccount
	if t := p.TokenAttributes; t != nil {
		if sa == nil && t.RequireServiceAccount != nil && *t.RequireServiceAccount {
			pr.Skipped = "the pod has no service account and tokenAttributes.requireServiceAccount is true"
			return pr, nil
		}
		if sa != nil {
			annotations := map[string]string{}
			for _, k := range t.RequiredServiceAccountAnnotationKeys {
				v, ok := sa.Annotations[k]
				if !ok {
					pr.Skipped = fmt.Sprintf("required annotation %s not found on service account %s/%s", k, s.Pod.Namespace, sa.Name)
					return pr, nil
				}
				annotations[k] = v
			}
			for _, k := range t.OptionalServiceAccountAnnotationKeys {
				if v, ok := sa.Annotations[k]; ok {
					annotations[k] = v
				}
			}
			if sa.Token == "" {
				return fail(fmt.Errorf("failed to get service account token: no token for audience %q (give the token the kubelet would be issued)", t.ServiceAccountTokenAudience))
			}
			req.ServiceAccountToken, req.ServiceAccountAnnotations = sa.Token, annotations
			var err error
			if saKey, err = serviceAccountCacheKey(s.Pod.Namespace, sa, annotations, t.CacheType, sa.Token); err != nil {
				return fail(fmt.Errorf("error generating service account cache key: %w", err))
			}
		}
	}

	c := s.caches[p.Name]
	if c == nil {
		c = &providerCache{}
		s.caches[p.Name] = c
	}
	now := s.now()
	for _, base := range []string{image, registryOf(image), globalCacheKey} {
		if e, ok := c.get(cacheKey(base, saKey), now); ok {
			pr.CacheHit, pr.CacheKey = true, base
			until := e.expiresAt
			pr.CachedUntil = &until
			pr.Auth = sortedKeys(e.auth)
			pr.notePasswords(e.auth)
			return pr, e.auth
		}
	}

	timeout := s.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	environ := os.Environ
	if s.Environ != nil {
		environ = s.Environ
	}
	pr.Executed = true
	resp, ex, err := Exec(ctx, s.binDir, p, req, environ(), timeout)
	pr.Request, pr.Stderr = string(ex.Stdin), cut(ex.Stderr, ex.secretsWith(req))
	pr.passwords = append(pr.passwords, ex.Secrets...)
	if err != nil {
		return fail(fmt.Errorf("failed to get credential from external registry credential provider: %w", err))
	}
	pr.CacheKeyType = resp.CacheKeyType
	if resp.CacheDuration != nil {
		pr.CacheDuration = resp.CacheDuration.String()
	}
	pr.Auth = sortedKeys(resp.Auth)
	pr.notePasswords(resp.Auth)
	if req.ServiceAccountToken != "" && p.TokenAttributes.CacheType != CacheTypeToken {
		for _, a := range resp.Auth {
			if a.Password == req.ServiceAccountToken {
				return fail(fmt.Errorf("credential provider plugin returned the service account token as the password which is not allowed when service account cache type is not set to 'Token'"))
			}
		}
	}
	var base string
	switch resp.CacheKeyType {
	case "Image":
		base = image
	case "Registry":
		base = registryOf(image)
	case "Global":
		base = globalCacheKey
	default:
		return fail(fmt.Errorf("credential provider plugin did not return a valid cacheKeyType: %s", resp.CacheKeyType))
	}
	var d time.Duration
	switch {
	case resp.CacheDuration != nil:
		d = *resp.CacheDuration
	case p.DefaultCacheDuration != nil:
		d = *p.DefaultCacheDuration
	}
	// The kubelet stores a negative duration (an entry already expired) but
	// never one of 0.
	if d != 0 {
		until := now.Add(d)
		c.add(cacheKey(base, saKey), cacheEntry{auth: resp.Auth, expiresAt: until})
		if !now.After(until) {
			pr.CacheKey, pr.CachedUntil = base, &until
		}
	}
	return pr, resp.Auth
}

// explainMatch is the kubelet's isImageAllowed, with the reason.
func explainMatch(matchImages []string, image string) (bool, string) {
	var reasons []string
	for _, mi := range matchImages {
		r := match.Explain(mi, image)
		if r.Match {
			return true, fmt.Sprintf("matches %q", mi)
		}
		reasons = append(reasons, fmt.Sprintf("%q: %s", mi, r.Reason))
	}
	return false, strings.Join(reasons, "; ")
}

// registryOf is the kubelet's parseRegistry: the text before the first "/".
func registryOf(image string) string {
	return strings.SplitN(image, "/", 2)[0]
}

// serviceAccountCacheKey is the kubelet's generateServiceAccountCacheKey,
// including its failure on a part longer than a 2-byte length prefix holds.
func serviceAccountCacheKey(namespace string, sa *ServiceAccount, annotations map[string]string, cacheType, token string) (string, error) {
	keys := sortedKeys(annotations)
	parts := []string{namespace, sa.Name, sa.UID}
	for _, k := range keys {
		parts = append(parts, k, annotations[k])
	}
	for _, p := range parts {
		if len(p) > 0xFFFF {
			return "", fmt.Errorf("cryptobyte: pending child length %d exceeds 2-byte length prefix", len(p))
		}
	}
	b := lengthPrefixed(nil, namespace)
	b = lengthPrefixed(b, sa.Name)
	b = lengthPrefixed(b, sa.UID)
	b = binary.BigEndian.AppendUint32(b, uint32(len(keys)))
	for _, k := range keys {
		b = lengthPrefixed(b, k)
		b = lengthPrefixed(b, annotations[k])
	}
	if cacheType == CacheTypeToken {
		b = lengthPrefixed(b, "token")
		b = lengthPrefixed(b, fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(token))))
	}
	return string(b), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
