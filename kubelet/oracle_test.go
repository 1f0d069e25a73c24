package kubelet

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	configv1 "k8s.io/kubelet/config/v1"
	configv1alpha1 "k8s.io/kubelet/config/v1alpha1"
	credapi "k8s.io/kubelet/pkg/apis/credentialprovider"
	"k8s.io/kubelet/pkg/apis/credentialprovider/install"
	"sigs.k8s.io/yaml"
)

// The oracle: the kubelet's decoding and encoding written with
// k8s.io/apimachinery and k8s.io/kubelet, as kcred did before it had its
// own (issue 16). The differential tests hold kcred's code to it.

// oracleScheme is the kubelet's scheme for configs and plugin responses,
// and oracleCodecs its strict codec factory (unknown and duplicate fields
// are errors, JSON or YAML).
var (
	oracleScheme = sync.OnceValue(func() *runtime.Scheme {
		scheme := runtime.NewScheme()
		install.Install(scheme)
		for _, add := range []func(*runtime.Scheme) error{configv1.AddToScheme, configv1alpha1.AddToScheme} {
			if err := add(scheme); err != nil {
				panic(err)
			}
		}
		// v1beta1's CredentialProviderConfig has exactly v1alpha1's fields;
		// its package would link component-base and Prometheus into this
		// module's tests. Decoding v1beta1 into the v1alpha1 type accepts and
		// refuses the same documents, with type names that oracleText
		// corrects.
		scheme.AddKnownTypeWithName(schema.GroupVersion{Group: configGroup, Version: "v1beta1"}.WithKind("CredentialProviderConfig"), &configv1alpha1.CredentialProviderConfig{})
		return scheme
	})
	oracleCodecs = sync.OnceValue(func() serializer.CodecFactory {
		return serializer.NewCodecFactory(oracleScheme(), serializer.EnableStrict)
	})
)

// oracleText is the text of an oracle error for document data, as the
// kubelet words it: the oracle scheme's name replaced by schemeName (a no-op
// while both name apimachinery's own line, as builds from module paths do:
// the judge in test/kubelet holds schemeName to the real kubelet), and for a
// v1beta1 document the v1beta1 type names the kubelet's types have.
func oracleText(err error, data []byte) string {
	if err == nil {
		return "<nil>"
	}
	s := strings.ReplaceAll(err.Error(), fmt.Sprintf("in scheme %q", oracleScheme().Name()), fmt.Sprintf("in scheme %q", schemeName))
	if g, ok := oraclePeekGVK(data); ok && g.Group == configGroup && g.Version == "v1beta1" {
		s = strings.NewReplacer("v1alpha1.CredentialProvider", "v1beta1.CredentialProvider", "v1alpha1.ExecEnvVar", "v1beta1.ExecEnvVar").Replace(s)
	}
	return s
}

// oracleDecodeConfig is decodeConfig as it was written with the codec.
func oracleDecodeConfig(data []byte) ([]Provider, error) {
	obj, gvk, err := oracleCodecs().UniversalDeserializer().Decode(data, nil, nil)
	switch {
	case err == nil:
	case runtime.IsMissingKind(err):
		return nil, errors.New("Object 'Kind' is missing in '<file contents not shown: they may hold secrets>'")
	case runtime.IsMissingVersion(err):
		return nil, errors.New("Object 'apiVersion' is missing in '<file contents not shown: they may hold secrets>'")
	case runtime.IsNotRegisteredError(err):
		if g, ok := oraclePeekGVK(data); ok && g.Group == configGroup && g.Version == "v1beta1" && contains(otherKinds[configGroup+"/v1beta1"], g.Kind) {
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
			np := Provider{Name: p.Name, MatchImages: p.MatchImages, DefaultCacheDuration: oracleDur(p.DefaultCacheDuration), APIVersion: p.APIVersion, Args: p.Args}
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
			np := Provider{Name: p.Name, MatchImages: p.MatchImages, DefaultCacheDuration: oracleDur(p.DefaultCacheDuration), APIVersion: p.APIVersion, Args: p.Args}
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

// oraclePeekGVK reads a document's apiVersion and kind, JSON or YAML.
func oraclePeekGVK(data []byte) (schema.GroupVersionKind, bool) {
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

func oracleDur(d *metav1.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := d.Duration
	return &v
}

// oracleDecodeResponse is DecodeResponse as it was written with the codec.
func oracleDecodeResponse(data []byte, apiVersion string) (*Response, error) {
	gvk, err := kjson.DefaultMetaFactory.Interpret(data)
	if err != nil {
		return nil, fmt.Errorf("error reading GVK from response: %w", err)
	}
	if got := gvk.GroupVersion().String(); got != apiVersion {
		return nil, fmt.Errorf("apiVersion from credential plugin response did not match expected apiVersion:%s, actual apiVersion:%s", apiVersion, got)
	}
	obj, gvk2, err := oracleCodecs().UniversalDecoder().Decode(data, nil, nil)
	r, ok := obj.(*credapi.CredentialProviderResponse)
	if err != nil || gvk2.Kind != "CredentialProviderResponse" || gvk2.Group != credapi.GroupName || !ok {
		return nil, errors.New("error decoding credential provider plugin response from stdout")
	}
	out := &Response{CacheKeyType: string(r.CacheKeyType), Auth: map[string]AuthConfig{}}
	if r.CacheDuration != nil {
		d := r.CacheDuration.Duration
		out.CacheDuration = &d
	}
	for k, v := range r.Auth {
		out.Auth[k] = AuthConfig{Username: v.Username, Password: v.Password}
	}
	return out, nil
}

// oracleEncodeRequest is the request Exec wrote with the codec.
func oracleEncodeRequest(req Request, apiVersion string) ([]byte, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, err
	}
	info, _ := runtime.SerializerInfoForMediaType(oracleCodecs().SupportedMediaTypes(), runtime.ContentTypeJSON)
	in := &credapi.CredentialProviderRequest{Image: req.Image, ServiceAccountToken: req.ServiceAccountToken, ServiceAccountAnnotations: req.ServiceAccountAnnotations}
	return runtime.Encode(oracleCodecs().EncoderForVersion(info.Serializer, gv), in)
}

func schemaGVK(group, version, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
}
