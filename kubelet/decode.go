package kubelet

import (
	"errors"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	configv1 "k8s.io/kubelet/config/v1"
	configv1alpha1 "k8s.io/kubelet/config/v1alpha1"
	"k8s.io/kubelet/pkg/apis/credentialprovider/install"
	"sigs.k8s.io/yaml"
)

// codecs is the kubelet's one strict codec factory for configs and plugin
// responses (unknown and duplicate fields are errors, JSON or YAML). It is
// built on first use, not in init: the node binary links this package for
// `kcred check`, and every plugin exec would otherwise pay for the scheme.
var codecs = sync.OnceValue(func() serializer.CodecFactory {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	for _, add := range []func(*runtime.Scheme) error{configv1.AddToScheme, configv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err) // static registration: cannot fail at run time
		}
	}
	// v1beta1's CredentialProviderConfig has exactly v1alpha1's fields, but
	// its package also holds KubeletConfiguration, which would link
	// component-base and Prometheus into the node binary and run their
	// inits on every plugin exec. Decoding v1beta1 into the v1alpha1 type
	// accepts and refuses exactly the same documents.
	scheme.AddKnownTypeWithName(schema.GroupVersion{Group: configGroup, Version: "v1beta1"}.WithKind("CredentialProviderConfig"), &configv1alpha1.CredentialProviderConfig{})
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict)
})

// configGroup is the API group of CredentialProviderConfig.
const configGroup = "kubelet.config.k8s.io"

// v1beta1OtherKinds are the kinds k8s.io/kubelet/config/v1beta1 registers
// besides CredentialProviderConfig.
var v1beta1OtherKinds = map[string]bool{"KubeletConfiguration": true, "SerializedNodeConfigSource": true, "ImagePullIntent": true, "ImagePulledRecord": true}

// peekGVK reads a document's apiVersion and kind, JSON or YAML.
func peekGVK(data []byte) (schema.GroupVersionKind, bool) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return schema.GroupVersionKind{}, false
	}
	g, err := kjson.DefaultMetaFactory.Interpret(js)
	if err != nil || g == nil {
		return schema.GroupVersionKind{}, false
	}
	return *g, true
}

// decodeConfig decodes one config file of any supported version.
func decodeConfig(data []byte) ([]Provider, error) {
	obj, gvk, err := codecs().UniversalDeserializer().Decode(data, nil, nil)
	switch {
	case err == nil:
	case runtime.IsMissingKind(err):
		// The decoder quotes the whole document here, env values included.
		return nil, errors.New("Object 'Kind' is missing in '<file contents not shown: they may hold secrets>'")
	case runtime.IsMissingVersion(err):
		return nil, errors.New("Object 'apiVersion' is missing in '<file contents not shown: they may hold secrets>'")
	case runtime.IsNotRegisteredError(err):
		// The kubelet's scheme knows v1beta1's other kinds (see codecs) and
		// refuses them at the kind check.
		if g, ok := peekGVK(data); ok && g.Group == configGroup && g.Version == "v1beta1" && v1beta1OtherKinds[g.Kind] {
			return nil, fmt.Errorf("failed to decode %q (wrong Kind)", g.Kind)
		}
		return nil, err
	default:
		return nil, err
	}
	if gvk.Kind != "CredentialProviderConfig" {
		return nil, fmt.Errorf("failed to decode %q (wrong Kind)", gvk.Kind)
	}
	if gvk.Group != configGroup {
		return nil, fmt.Errorf("failed to decode CredentialProviderConfig, unexpected Group: %s", gvk.Group)
	}
	var out []Provider
	switch c := obj.(type) {
	case *configv1.CredentialProviderConfig:
		for _, p := range c.Providers {
			np := Provider{Name: p.Name, MatchImages: p.MatchImages, DefaultCacheDuration: dur(p.DefaultCacheDuration), APIVersion: p.APIVersion, Args: p.Args}
			for _, e := range p.Env {
				np.Env = append(np.Env, EnvVar{Name: e.Name, Value: e.Value})
			}
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
	case *configv1alpha1.CredentialProviderConfig: // v1alpha1 and v1beta1
		for _, p := range c.Providers {
			np := Provider{Name: p.Name, MatchImages: p.MatchImages, DefaultCacheDuration: dur(p.DefaultCacheDuration), APIVersion: p.APIVersion, Args: p.Args}
			for _, e := range p.Env {
				np.Env = append(np.Env, EnvVar{Name: e.Name, Value: e.Value})
			}
			out = append(out, np)
		}
	default:
		return nil, fmt.Errorf("unable to convert %T to *CredentialProviderConfig", obj)
	}
	return out, nil
}

func dur(d *metav1.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := d.Duration
	return &v
}
