package kubelet

import (
	"bytes"
	"testing"
)

// FuzzDecodeResponse: any plugin stdout yields a response or one of the
// kubelet's errors, never a panic, exactly as with the kubelet's codec
// (checkResponseVsKubelet), and an accepted response has the configured
// apiVersion's shape.
func FuzzDecodeResponse(f *testing.F) {
	for _, doc := range responseDocs {
		f.Add(uint8(0), []byte(doc))
	}
	f.Fuzz(func(t *testing.T, v uint8, data []byte) {
		apiVersion := apiVersions[int(v)%len(apiVersions)]
		data = bytes.ReplaceAll(data, []byte("%s"), []byte(apiVersion))
		checkResponseVsKubelet(t, data, apiVersion)
		r, err := DecodeResponse(data, apiVersion)
		if (r == nil) == (err == nil) {
			t.Fatalf("response %v and error %v", r, err)
		}
		if r != nil && r.Auth == nil {
			t.Fatal("nil auth map")
		}
	})
}

// FuzzDecodeConfig: any config file decodes as with the kubelet's codec
// (checkConfigVsKubelet), never panics, and validates.
func FuzzDecodeConfig(f *testing.F) {
	for _, doc := range configDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkConfigVsKubelet(t, data)
		ps, err := decodeConfig(data)
		if err != nil && ps != nil {
			t.Fatalf("providers %v with error %v", ps, err)
		}
		if err == nil {
			_ = validateProviders(ps, true)
		}
	})
}
