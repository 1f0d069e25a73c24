package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	credv1 "github.com/kcred/kcred/internal/kubeapi/v1"
	credv1alpha1 "github.com/kcred/kcred/internal/kubeapi/v1alpha1"
	credv1beta1 "github.com/kcred/kcred/internal/kubeapi/v1beta1"
)

// CacheDuration is how long the kubelet may cache answer a at now: up to
// Margin before its expiry (StaleMargin for a stale answer), never negative,
// whole seconds. ok is false when the expiry is unknown: then no
// cacheDuration is sent and the kubelet applies its defaultCacheDuration.
func CacheDuration(a Answer, now time.Time) (d time.Duration, ok bool) {
	if a.ExpiresAt.IsZero() {
		return 0, false
	}
	margin := Margin
	if a.Stale {
		margin = StaleMargin
	}
	d = a.ExpiresAt.Sub(now) - margin
	if d < 0 {
		d = 0
	}
	return d.Truncate(time.Second), true
}

// checkAnswer enforces what every provider's answer must satisfy.
func checkAnswer(a Answer) (CacheKeyType, error) {
	kt := a.CacheKeyType
	if kt == "" {
		kt = CacheKeyRegistry
	}
	switch kt {
	case CacheKeyImage, CacheKeyRegistry, CacheKeyGlobal:
	default:
		return "", fmt.Errorf("internal error: provider returned cache key type %q, want Image, Registry or Global", kt)
	}
	for k := range a.Auth {
		if k == "" {
			return "", errors.New("internal error: provider returned a credential with an empty registry key")
		}
	}
	return kt, nil
}

// EncodeResponse encodes the answer as a CredentialProviderResponse in the
// request's apiVersion: one compact JSON object and a newline.
func EncodeResponse(req Request, a Answer, now time.Time) ([]byte, error) {
	kt, err := checkAnswer(a)
	if err != nil {
		return nil, err
	}
	var dur *credv1.Duration
	if d, ok := CacheDuration(a, now); ok {
		dur = &credv1.Duration{Duration: d}
	}
	tm := credv1.TypeMeta{Kind: "CredentialProviderResponse", APIVersion: req.APIVersion}
	var out any
	switch req.APIVersion {
	case APIVersionV1:
		out = credv1.CredentialProviderResponse{TypeMeta: tm, CacheKeyType: credv1.PluginCacheKeyType(kt), CacheDuration: dur, Auth: convertAuth[credv1.AuthConfig](a.Auth)}
	case APIVersionV1beta1:
		out = credv1beta1.CredentialProviderResponse{TypeMeta: tm, CacheKeyType: credv1beta1.PluginCacheKeyType(kt), CacheDuration: dur, Auth: convertAuth[credv1beta1.AuthConfig](a.Auth)}
	case APIVersionV1alpha1:
		out = credv1alpha1.CredentialProviderResponse{TypeMeta: tm, CacheKeyType: credv1alpha1.PluginCacheKeyType(kt), CacheDuration: dur, Auth: convertAuth[credv1alpha1.AuthConfig](a.Auth)}
	default:
		return nil, fmt.Errorf("internal error: encode response: unsupported apiVersion %q", req.APIVersion)
	}
	data, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return append(data, '\n'), nil
}

// wireAuth is the shape every apiVersion's AuthConfig shares.
type wireAuth interface {
	~struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
}

// convertAuth converts the auth map to an apiVersion's type; nil when empty,
// so the response omits auth.
func convertAuth[T wireAuth](m map[string]AuthConfig) map[string]T {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]T, len(m))
	for k, v := range m {
		out[k] = T(v)
	}
	return out
}
