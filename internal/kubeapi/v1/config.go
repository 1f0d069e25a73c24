package v1

// CredentialProviderConfig is the kubelet's --image-credential-provider-config.
type CredentialProviderConfig struct {
	TypeMeta  `json:""`
	Providers []CredentialProvider `json:"providers"`
}

// CredentialProvider is one plugin of a CredentialProviderConfig.
type CredentialProvider struct {
	Name                 string                         `json:"name"`
	MatchImages          []string                       `json:"matchImages"`
	DefaultCacheDuration *Duration                      `json:"defaultCacheDuration"`
	APIVersion           string                         `json:"apiVersion"`
	Args                 []string                       `json:"args,omitempty"`
	Env                  []ExecEnvVar                   `json:"env,omitempty"`
	TokenAttributes      *ServiceAccountTokenAttributes `json:"tokenAttributes,omitempty"`
}

// ServiceAccountTokenCacheType says whether the kubelet caches a
// service-account-mode answer by token or by service account.
type ServiceAccountTokenCacheType string

// ServiceAccountTokenAttributes configures service-account mode.
type ServiceAccountTokenAttributes struct {
	ServiceAccountTokenAudience          string                       `json:"serviceAccountTokenAudience"`
	CacheType                            ServiceAccountTokenCacheType `json:"cacheType"`
	RequireServiceAccount                *bool                        `json:"requireServiceAccount"`
	RequiredServiceAccountAnnotationKeys []string                     `json:"requiredServiceAccountAnnotationKeys,omitempty"`
	OptionalServiceAccountAnnotationKeys []string                     `json:"optionalServiceAccountAnnotationKeys,omitempty"`
}

// ExecEnvVar is one environment variable a plugin is run with.
type ExecEnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}
