package kubelet

import (
	"fmt"

	"github.com/kcred/kcred/internal/kubeapi"
	configv1 "github.com/kcred/kcred/internal/kubeapi/v1"
	configv1alpha1 "github.com/kcred/kcred/internal/kubeapi/v1alpha1"
	configv1beta1 "github.com/kcred/kcred/internal/kubeapi/v1beta1"
)

// schemeName is how the kubelet's scheme names itself in its errors, as
// the real kubelet built from module paths prints it (test/kubelet's judge):
// apimachinery means to name the runtime.NewScheme call site, but its filter
// of its own frames misses a versioned path (k8s.io/apimachinery@v0.37.2/...)
// and names its own line. A kubelet built from the kubernetes tree, where
// apimachinery is vendored, may name its NewScheme call instead
// (pkg/credentialprovider/plugin/plugin.go:69).
const schemeName = "pkg/runtime/scheme.go:111"

// credentialProviderGroup is the API group of the plugin request and response.
const credentialProviderGroup = "credentialprovider.kubelet.k8s.io"

// otherKinds are the kinds, by apiVersion, that the kubelet's scheme knows
// besides CredentialProviderConfig: its credentialprovider API (which adds
// meta/v1's option kinds to each version) and the config kinds its
// k8s.io/kubelet/config packages register. A config file of one of them is
// refused as the wrong kind. The kubelet decodes such a file before
// refusing it, so when the file also has unknown fields or wrong types, the
// kubelet reports those instead: kcred does not carry every one of these
// types.
var otherKinds = map[string][]string{
	credentialProviderGroup + "/v1":         credentialProviderKinds,
	credentialProviderGroup + "/v1beta1":    credentialProviderKinds,
	credentialProviderGroup + "/v1alpha1":   credentialProviderKinds,
	credentialProviderGroup + "/__internal": {"CredentialProviderRequest", "CredentialProviderResponse", "WatchEvent"},
	configGroup + "/v1beta1":                {"KubeletConfiguration", "SerializedNodeConfigSource", "ImagePullIntent", "ImagePulledRecord"},
	configGroup + "/v1alpha1":               {"ImagePullIntent", "ImagePulledRecord"},
}

// credentialProviderKinds are the kinds of each external version of the
// credentialprovider API.
var credentialProviderKinds = []string{"CredentialProviderRequest", "CredentialProviderResponse", "WatchEvent", "ListOptions", "GetOptions", "DeleteOptions", "CreateOptions", "UpdateOptions", "PatchOptions"}

// unversionedKinds are meta/v1's kinds that the kubelet's scheme knows in
// every apiVersion.
var unversionedKinds = []string{"Status", "APIVersions", "APIGroupList", "APIGroup", "APIResourceList"}

// newConfigObject is the object a config document of kind gvk decodes into,
// nil for a kind the kubelet knows but refuses, or the kubelet's
// not-registered error.
func newConfigObject(gvk kubeapi.GroupVersionKind) (any, error) {
	if gvk.Group == configGroup && gvk.Kind == "CredentialProviderConfig" {
		switch gvk.Version {
		case "v1":
			return &configv1.CredentialProviderConfig{}, nil
		case "v1beta1":
			return &configv1beta1.CredentialProviderConfig{}, nil
		case "v1alpha1":
			return &configv1alpha1.CredentialProviderConfig{}, nil
		}
	}
	if contains(otherKinds[gvk.GroupVersion()], gvk.Kind) || contains(unversionedKinds, gvk.Kind) {
		return nil, nil
	}
	if gvk.Version == "__internal" {
		return nil, fmt.Errorf("no kind %q is registered for the internal version of group %q in scheme %q", gvk.Kind, gvk.Group, schemeName)
	}
	return nil, fmt.Errorf("no kind %q is registered for version %q in scheme %q", gvk.Kind, gvk.GroupVersion(), schemeName)
}
