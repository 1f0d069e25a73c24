package v1

// CredentialProviderRequest is what the kubelet writes to a plugin's stdin.
type CredentialProviderRequest struct {
	TypeMeta                  `json:""`
	Image                     string            `json:"image"`
	ServiceAccountToken       string            `json:"serviceAccountToken,omitempty"`
	ServiceAccountAnnotations map[string]string `json:"serviceAccountAnnotations,omitempty"`
}

// PluginCacheKeyType says what a response's credentials are cached by:
// Image, Registry or Global.
type PluginCacheKeyType string

// CredentialProviderResponse is what a plugin writes to stdout.
type CredentialProviderResponse struct {
	TypeMeta      `json:""`
	CacheKeyType  PluginCacheKeyType    `json:"cacheKeyType"`
	CacheDuration *Duration             `json:"cacheDuration,omitempty"`
	Auth          map[string]AuthConfig `json:"auth,omitempty"`
}

// AuthConfig is one registry's username and password.
type AuthConfig struct {
	Username string `json:"username"`
	Password string `json:"password"`
}
