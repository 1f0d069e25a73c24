package kubelet

import (
	"errors"
	"fmt"

	"github.com/kcred/kcred/internal/kubeapi"
	configv1 "github.com/kcred/kcred/internal/kubeapi/v1"
	configv1alpha1 "github.com/kcred/kcred/internal/kubeapi/v1alpha1"
	configv1beta1 "github.com/kcred/kcred/internal/kubeapi/v1beta1"
)

// configGroup is the API group of CredentialProviderConfig.
const configGroup = "kubelet.config.k8s.io"

// decodeConfig decodes one config file of any supported version as the
// kubelet does: strictly (unknown and duplicate fields are errors, JSON or
// YAML), with its messages.
func decodeConfig(data []byte) ([]Provider, error) {
	obj, gvk, err := kubeapi.Decode(data, newConfigObject)
	switch {
	case errors.Is(err, kubeapi.ErrMissingKind), errors.Is(err, kubeapi.ErrMissingVersion):
		// The kubelet quotes the whole document here, env values included.
		return nil, fmt.Errorf("%w in '<file contents not shown: they may hold secrets>'", err)
	case err != nil:
		return nil, err
	case obj == nil:
		return nil, fmt.Errorf("failed to decode %q (wrong Kind)", gvk.Kind)
	}
	var out []Provider
	switch c := obj.(type) {
	case *configv1.CredentialProviderConfig:
		for _, p := range c.Providers {
			np := newProvider(p.Name, p.MatchImages, p.DefaultCacheDuration, p.APIVersion, p.Args, p.Env)
			if t := p.TokenAttributes; t != nil {
				np.TokenAttributes = &TokenAttributes{
					ServiceAccountTokenAudience:          t.ServiceAccountTokenAudience,
					CacheType:                            string(t.CacheType),
					RequireServiceAccount:                t.RequireServiceAccount,
					RequiredServiceAccountAnnotationKeys: t.RequiredServiceAccountAnnotationKeys,
					OptionalServiceAccountAnnotationKeys: t.OptionalServiceAccountAnnotationKeys,
				}
			}
			out = append(out, np)
		}
	case *configv1beta1.CredentialProviderConfig:
		for _, p := range c.Providers {
			out = append(out, newProvider(p.Name, p.MatchImages, p.DefaultCacheDuration, p.APIVersion, p.Args, p.Env))
		}
	case *configv1alpha1.CredentialProviderConfig:
		for _, p := range c.Providers {
			out = append(out, newProvider(p.Name, p.MatchImages, p.DefaultCacheDuration, p.APIVersion, p.Args, p.Env))
		}
	default:
		return nil, fmt.Errorf("decode config: kcred has no conversion for %T (a bug: please report it)", obj)
	}
	return out, nil
}

// execEnvVar is every version's ExecEnvVar.
type execEnvVar interface {
	~struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
}

// newProvider is a Provider from the fields every version's CredentialProvider
// has.
func newProvider[E execEnvVar](name string, matchImages []string, d *configv1.Duration, apiVersion string, args []string, env []E) Provider {
	p := Provider{Name: name, MatchImages: matchImages, APIVersion: apiVersion, Args: args}
	if d != nil {
		v := d.Duration
		p.DefaultCacheDuration = &v
	}
	for _, e := range env {
		p.Env = append(p.Env, EnvVar(e))
	}
	return p
}
