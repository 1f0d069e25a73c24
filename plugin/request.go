package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	credv1 "github.com/kcred/kcred/internal/kubeapi/v1"
	credv1alpha1 "github.com/kcred/kcred/internal/kubeapi/v1alpha1"
	credv1beta1 "github.com/kcred/kcred/internal/kubeapi/v1beta1"
	"github.com/kcred/kcred/match"
)

// The request apiVersions the kubelet speaks.
const (
	APIVersionV1       = "credentialprovider.kubelet.k8s.io/v1"
	APIVersionV1beta1  = "credentialprovider.kubelet.k8s.io/v1beta1"
	APIVersionV1alpha1 = "credentialprovider.kubelet.k8s.io/v1alpha1"
)

// MaxRequestSize bounds what is read from stdin. A real request is an image
// name plus, in service-account mode, a token and a few annotations: a few
// KiB. The bound keeps a runaway writer from exhausting memory.
const MaxRequestSize = 1 << 20

// ReadRequest reads and decodes one CredentialProviderRequest of any
// apiVersion the kubelet speaks. Unknown fields are ignored, because the
// kubelet adds request fields over time.
func ReadRequest(r io.Reader) (Request, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRequestSize+1))
	if err != nil {
		return Request{}, fmt.Errorf("read request from stdin: %w", err)
	}
	if len(data) > MaxRequestSize {
		return Request{}, Fail("read request from stdin", fmt.Errorf("larger than %d bytes", MaxRequestSize), "the kubelet sends a small JSON CredentialProviderRequest")
	}
	return DecodeRequest(data)
}

// DecodeRequest decodes one CredentialProviderRequest from data.
func DecodeRequest(data []byte) (Request, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return Request{}, Fail("decode request", errors.New("stdin is empty"), "run by the kubelet, which writes a CredentialProviderRequest; for a manual test pipe one in")
	}
	var tm credv1.TypeMeta
	if err := json.Unmarshal(data, &tm); err != nil {
		return Request{}, Fail("decode request", fmt.Errorf("not a JSON object: %s", OneLine(err.Error())), "the kubelet sends one JSON CredentialProviderRequest")
	}
	if tm.Kind != "CredentialProviderRequest" {
		return Request{}, fmt.Errorf("decode request: kind is %s, want \"CredentialProviderRequest\"", Quote(tm.Kind))
	}
	req := Request{APIVersion: tm.APIVersion}
	var err error
	switch tm.APIVersion {
	case APIVersionV1:
		var in credv1.CredentialProviderRequest
		err = json.Unmarshal(data, &in)
		req.Image, req.ServiceAccountToken, req.ServiceAccountAnnotations = in.Image, in.ServiceAccountToken, in.ServiceAccountAnnotations
	case APIVersionV1beta1:
		var in credv1beta1.CredentialProviderRequest
		err = json.Unmarshal(data, &in)
		req.Image = in.Image
	case APIVersionV1alpha1:
		var in credv1alpha1.CredentialProviderRequest
		err = json.Unmarshal(data, &in)
		req.Image = in.Image
	default:
		return Request{}, Fail("decode request", fmt.Errorf("unsupported apiVersion %s", Quote(tm.APIVersion)), fmt.Sprintf("supported: %s, %s, %s", APIVersionV1, APIVersionV1beta1, APIVersionV1alpha1))
	}
	if err != nil {
		return Request{}, fmt.Errorf("decode request: %s", OneLine(err.Error()))
	}
	if req.Image == "" {
		return Request{}, errors.New("decode request: image is missing or empty")
	}
	domain, _, err := match.SplitImage(req.Image)
	if err != nil {
		why := err.Error()
		if strings.HasSuffix(why, "must be lowercase") {
			// distribution/reference's text, which SplitImage keeps, names
			// the repository in parentheses: the error line keeps those for
			// its one hint.
			why = "repository name must be lowercase"
		}
		return Request{}, fmt.Errorf("decode request: image %s is invalid: %s", Quote(req.Image), why)
	}
	req.Registry = domain
	return req, nil
}

// OneLine folds a message onto one line, for stderr: every run of white
// space, newlines included, becomes one space.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
