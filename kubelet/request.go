package kubelet

import (
	"bytes"
	"encoding/json"

	credv1 "github.com/kcred/kcred/internal/kubeapi/v1"
	credv1alpha1 "github.com/kcred/kcred/internal/kubeapi/v1alpha1"
	credv1beta1 "github.com/kcred/kcred/internal/kubeapi/v1beta1"
)

// encodeRequest is the CredentialProviderRequest the kubelet writes for
// apiVersion (one of apiVersions), byte for byte: its JSON serializer's
// output, encoding/json's Encoder (HTML-escaping, a final newline), with
// v1beta1 and v1alpha1 dropping the service-account fields.
func encodeRequest(req Request, apiVersion string) []byte {
	tm := credv1.TypeMeta{Kind: "CredentialProviderRequest", APIVersion: apiVersion}
	var out any
	switch apiVersion {
	case credentialProviderGroup + "/v1":
		out = credv1.CredentialProviderRequest{TypeMeta: tm, Image: req.Image, ServiceAccountToken: req.ServiceAccountToken, ServiceAccountAnnotations: req.ServiceAccountAnnotations}
	case credentialProviderGroup + "/v1beta1":
		out = credv1beta1.CredentialProviderRequest{TypeMeta: tm, Image: req.Image}
	default:
		out = credv1alpha1.CredentialProviderRequest{TypeMeta: tm, Image: req.Image}
	}
	var b bytes.Buffer
	// Strings and a map of strings: encoding cannot fail.
	_ = json.NewEncoder(&b).Encode(out)
	return b.Bytes()
}
