package kubelet

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// checkResponseVsKubelet fails when DecodeResponse reads a plugin's stdout
// otherwise than the kubelet's codec (the oracle) does.
func checkResponseVsKubelet(t *testing.T, data []byte, apiVersion string) {
	t.Helper()
	want, wantErr := oracleDecodeResponse(data, apiVersion)
	got, err := DecodeResponse(data, apiVersion)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeResponse(%q, %s)\n = %+v, %v\nthe kubelet's codec: %+v, %v", data, apiVersion, got, err, want, wantErr)
	}
}

// responseDocs are plugin outputs that exercise every path of the
// kubelet's response decoding; %s is the apiVersion.
var responseDocs = []string{
	`{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Image","cacheDuration":"1h","auth":{"r.io":{"username":"u","password":"p"},"*.b.io":{}}}`,
	` {"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"","auth":null}` + "\n\n",
	`{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheDuration":"-1m","cacheKeyType":"image"}`,
	`{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheDuration":null}`,
	`{"kind":"CredentialProviderResponse","apiVersion":"%s","CacheKeyType":"Image"}`,
	`{"Kind":"CredentialProviderResponse","apiVersion":"%s"}`,
	`{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Image","cacheKeyType":"Image"}`,
	`{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheDuration":300}`,
	`{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheDuration":"5"}`,
	`{"kind":"CredentialProviderResponse","apiVersion":"%s","auth":{"r.io":{"username":"u","email":"e"}}}`,
	`{"kind":"CredentialProviderResponse","apiVersion":"%s","auth":{"r.io":{"username":1}}}`,
	`{"kind":"CredentialProviderResponse","apiVersion":"%s","auth":[]}`,
	`{"kind":"CredentialProviderRequest","apiVersion":"%s","image":"x"}`,
	`{"kind":"ListOptions","apiVersion":"%s"}`,
	`{"kind":"Status","apiVersion":"%s"}`,
	`{"kind":"Other","apiVersion":"%s"}`,
	`{"apiVersion":"%s"}`,
	`{"kind":"CredentialProviderResponse","apiVersion":"%s"} x`,
	`{"kind":"CredentialProviderResponse","apiVersion":"%s/x"}`,
	`{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v2"}`,
	`{"kind":"CredentialProviderResponse"}`,
	"kind: CredentialProviderResponse\napiVersion: %s\n",
	"null",
	"",
	"[]",
	`{"kind":"CredentialProviderResponse","apiVersion":"%s","auth":{"r.io":{"username":"\ud800"}}}`,
}

func TestDecodeResponseVsKubelet(t *testing.T) {
	for _, v := range apiVersions {
		for _, doc := range responseDocs {
			checkResponseVsKubelet(t, []byte(strings.ReplaceAll(doc, "%s", v)), v)
		}
	}
}

// checkRequestVsKubelet fails when the request kcred check writes to a
// plugin differs by one byte from the kubelet's.
func checkRequestVsKubelet(t *testing.T, req Request, apiVersion string) {
	t.Helper()
	want, err := oracleEncodeRequest(req, apiVersion)
	if err != nil {
		t.Fatal(err)
	}
	if got := encodeRequest(req, apiVersion); string(got) != string(want) {
		t.Fatalf("encodeRequest(%+v, %s)\n = %s\nthe kubelet's codec: %s", req, apiVersion, got, want)
	}
}

func TestEncodeRequestVsKubelet(t *testing.T) {
	for _, v := range apiVersions {
		for _, req := range []Request{
			{Image: "r.io/a"},
			{},
			{Image: "r.io/a<&>\u2028\xff", ServiceAccountToken: "t", ServiceAccountAnnotations: map[string]string{"b.io/x": "1", "a.io/y": ""}},
			{Image: "r.io/a", ServiceAccountAnnotations: map[string]string{}},
		} {
			checkRequestVsKubelet(t, req, v)
		}
	}
}

// FuzzEncodeRequestVsKubelet: any request kcred check sends is the
// kubelet's, byte for byte.
func FuzzEncodeRequestVsKubelet(f *testing.F) {
	f.Add(uint8(0), "r.io/a", "tok", "a.io/b", "v")
	f.Add(uint8(1), "<>&\u2028", "", "", "")
	f.Fuzz(func(t *testing.T, v uint8, image, token, key, value string) {
		req := Request{Image: image, ServiceAccountToken: token}
		if key != "" {
			req.ServiceAccountAnnotations = map[string]string{key: value}
		}
		checkRequestVsKubelet(t, req, apiVersions[int(v)%len(apiVersions)])
	})
}
