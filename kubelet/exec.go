package kubelet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	credapi "k8s.io/kubelet/pkg/apis/credentialprovider"
)

// DefaultTimeout is the kubelet's fixed exec timeout.
const DefaultTimeout = time.Minute

// Request is what the kubelet sends a plugin.
type Request struct {
	Image                     string
	ServiceAccountToken       string
	ServiceAccountAnnotations map[string]string
}

// Response is a validated CredentialProviderResponse.
type Response struct {
	CacheKeyType string
	// CacheDuration is nil when the plugin did not send one.
	CacheDuration *time.Duration
	Auth          map[string]AuthConfig
}

// AuthConfig is one username/password pair of a response.
type AuthConfig struct {
	Username string
	Password string
}

// Exchange is one plugin exec: what was sent and what came back.
type Exchange struct {
	// Stdin is the encoded request exactly as written to the plugin. It holds
	// the service-account token in service-account mode.
	Stdin  []byte
	Stdout []byte
	Stderr []byte
}

// Exec runs provider p from binDir as the kubelet does: binDir/name with the
// args verbatim, environ followed by the config's env (the last duplicate
// wins, so the config does), the request encoded for the provider's
// apiVersion on stdin, killed after timeout. It then validates stdout in the
// kubelet's order. Errors carry the kubelet's messages.
func Exec(ctx context.Context, binDir string, p Provider, req Request, environ []string, timeout time.Duration) (*Response, Exchange, error) {
	var ex Exchange
	gv, err := schema.ParseGroupVersion(p.APIVersion)
	if err != nil || !contains(apiVersions, p.APIVersion) {
		return nil, ex, fmt.Errorf("invalid apiVersion: %q", p.APIVersion)
	}
	info, _ := runtime.SerializerInfoForMediaType(codecs().SupportedMediaTypes(), runtime.ContentTypeJSON)
	in := &credapi.CredentialProviderRequest{Image: req.Image, ServiceAccountToken: req.ServiceAccountToken, ServiceAccountAnnotations: req.ServiceAccountAnnotations}
	ex.Stdin, err = runtime.Encode(codecs().EncoderForVersion(info.Serializer, gv), in)
	if err != nil {
		return nil, ex, fmt.Errorf("failed to encode auth request: error encoding request: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, p.Name), p.Args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(ex.Stdin), &stdout, &stderr
	env := append([]string(nil), environ...)
	for _, e := range p.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	cmd.Env = env
	runErr := cmd.Run()
	ex.Stdout, ex.Stderr = stdout.Bytes(), stderr.Bytes()
	if ctx.Err() != nil {
		runErr = ctx.Err()
	}
	if runErr != nil {
		return nil, ex, fmt.Errorf("error execing credential provider plugin %s for image %s: %w: %s", p.Name, req.Image, runErr, stderr.String())
	}
	resp, err := DecodeResponse(ex.Stdout, p.APIVersion)
	return resp, ex, err
}

// DecodeResponse validates a plugin's stdout in the kubelet's order: one JSON
// object with a GVK, the apiVersion equal to the configured one, then a strict
// decode (whose error the kubelet replaces by a fixed message).
func DecodeResponse(data []byte, apiVersion string) (*Response, error) {
	gvk, err := json.DefaultMetaFactory.Interpret(data)
	if err != nil {
		return nil, fmt.Errorf("error reading GVK from response: %w", err)
	}
	if got := gvk.GroupVersion().String(); got != apiVersion {
		return nil, fmt.Errorf("apiVersion from credential plugin response did not match expected apiVersion:%s, actual apiVersion:%s", apiVersion, got)
	}
	obj, gvk2, err := codecs().UniversalDecoder().Decode(data, nil, nil)
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
