package kubelet

import (
	"testing"
)

// FuzzDecodeResponse: any plugin stdout yields a response or one of the
// kubelet's errors, never a panic, and an accepted response has the
// configured apiVersion's shape.
func FuzzDecodeResponse(f *testing.F) {
	const v1 = "credentialprovider.kubelet.k8s.io/v1"
	for _, s := range []string{
		`{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"Registry","cacheDuration":"1h","auth":{"r.io":{"username":"u","password":"p"}}}`,
		`{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `"} x`,
		"kind: CredentialProviderResponse\n",
		"",
		`{"apiVersion":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeResponse(data, v1)
		if (r == nil) == (err == nil) {
			t.Fatalf("response %v and error %v", r, err)
		}
		if r != nil && r.Auth == nil {
			t.Fatal("nil auth map")
		}
	})
}

// FuzzDecodeConfig: any config file decodes or fails, never panics.
func FuzzDecodeConfig(f *testing.F) {
	f.Add([]byte("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  matchImages: [r.io]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  tokenAttributes: {serviceAccountTokenAudience: a, requireServiceAccount: true, cacheType: Token}\n"))
	f.Add([]byte(`{"apiVersion":"kubelet.config.k8s.io/v1alpha1","kind":"CredentialProviderConfig","providers":[{"name":"a"}]}`))
	f.Add([]byte("kind: CredentialProviderConfig\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := decodeConfig(data)
		if err != nil && ps != nil {
			t.Fatalf("providers %v with error %v", ps, err)
		}
		if err == nil {
			_ = validateProviders(ps, true)
		}
	})
}
