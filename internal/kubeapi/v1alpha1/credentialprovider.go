package v1alpha1

import v1 "github.com/kcred/kcred/internal/kubeapi/v1"

// CredentialProviderRequest is what the kubelet writes to a plugin's stdin.
type CredentialProviderRequest struct {
	v1.TypeMeta `json:""`
	Image       string `json:"image"`
}

// PluginCacheKeyType says what a response's credentials are cached by:
// Image, Registry or Global.
type PluginCacheKeyType string

// CredentialProviderResponse is what a plugin writes to stdout.
type CredentialProviderResponse struct {
	v1.TypeMeta   `json:""`
	CacheKeyType  PluginCacheKeyType    `json:"cacheKeyType"`
	CacheDuration *v1.Duration          `json:"cacheDuration,omitempty"`
	Auth          map[string]AuthConfig `json:"auth,omitempty"`
}

// AuthConfig is one registry's username and password.
type AuthConfig struct {
	Username string `json:"username"`
	Password string `json:"password"`
}
