package v1beta1

import v1 "github.com/kcred/kcred/internal/kubeapi/v1"

// CredentialProviderConfig is the kubelet's --image-credential-provider-config.
type CredentialProviderConfig struct {
	v1.TypeMeta `json:""`
	Providers   []CredentialProvider `json:"providers"`
}

// CredentialProvider is one plugin of a CredentialProviderConfig.
type CredentialProvider struct {
	Name                 string       `json:"name"`
	MatchImages          []string     `json:"matchImages"`
	DefaultCacheDuration *v1.Duration `json:"defaultCacheDuration"`
	APIVersion           string       `json:"apiVersion"`
	Args                 []string     `json:"args,omitempty"`
	Env                  []ExecEnvVar `json:"env,omitempty"`
}

// ExecEnvVar is one environment variable a plugin is run with.
type ExecEnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}
