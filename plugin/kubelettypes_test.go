package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
	credv1alpha1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1alpha1"
	credv1beta1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1beta1"

	"github.com/kcred/kcred/match"
)

// The wire types of internal/kubeapi replace k8s.io/kubelet's in the node
// binary (issue 16). These tests keep the kubelet's types as the oracle.

// kubeletDecodeRequest is DecodeRequest as kcred wrote it with
// k8s.io/kubelet's types, before it had its own: the result, and the error
// text, DecodeRequest must reproduce.
func kubeletDecodeRequest(data []byte) (Request, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return Request{}, Fail("decode request", errors.New("stdin is empty"), "run by the kubelet, which writes a CredentialProviderRequest; for a manual test pipe one in")
	}
	var tm metav1.TypeMeta
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

// checkRequestVsKubelet fails when DecodeRequest decodes data otherwise than
// with the kubelet's types.
func checkRequestVsKubelet(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := kubeletDecodeRequest(data)
	got, err := DecodeRequest(data)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeRequest(%q) = %+v, %v\nwith the kubelet's types: %+v, %v", data, got, err, want, wantErr)
	}
}

func TestDecodeRequestVsKubelet(t *testing.T) {
	head := `{"kind":"CredentialProviderRequest","apiVersion":"`
	for _, data := range []string{
		head + APIVersionV1 + `","image":"r.io/a","serviceAccountToken":"t","serviceAccountAnnotations":{"a.io/b":"c"}}`,
		head + APIVersionV1beta1 + `","image":"r.io/a","serviceAccountToken":"t"}`,
		head + APIVersionV1alpha1 + `","image":"r.io/a","serviceAccountToken":5}`,
		head + APIVersionV1 + `","image":"r.io/a","serviceAccountToken":5}`,
		head + APIVersionV1 + `","image":5}`,
		head + APIVersionV1 + `","IMAGE":"r.io/a","Image":"r.io/b"}`,
		head + APIVersionV1 + `","image":"r.io/a","image":"r.io/b"}`,
		head + APIVersionV1 + `","image":"r.io/a","serviceAccountAnnotations":{"a":1}}`,
		head + APIVersionV1 + `","image":"r.io/a","serviceAccountAnnotations":null}`,
		`{"KIND":"CredentialProviderRequest","ApiVersion":"` + APIVersionV1 + `","image":"r.io/a"}`,
		`{"kind":5}`,
		`[1]`,
		`null`,
		head + APIVersionV1 + `","image":"r.io/a"} x`,
		head + APIVersionV1 + `","image":"\ud800"}`,
	} {
		checkRequestVsKubelet(t, []byte(data))
	}
}

// FuzzDecodeRequestVsKubelet: any stdin decodes with kcred's types exactly
// as with the kubelet's.
func FuzzDecodeRequestVsKubelet(f *testing.F) {
	f.Add([]byte(`{"kind":"CredentialProviderRequest","apiVersion":"` + APIVersionV1 + `","image":"r.io/a","serviceAccountToken":"t","serviceAccountAnnotations":{"a.io/b":"c"}}`))
	f.Add([]byte(`{"kind":"CredentialProviderRequest","apiVersion":"` + APIVersionV1beta1 + `","image":"r.io/a","serviceAccountToken":5}`))
	f.Add([]byte(`{"Kind":"CredentialProviderRequest","apiversion":"` + APIVersionV1alpha1 + `","Image":["x"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRequestVsKubelet(t, data)
	})
}

// kubeletEncodeResponse is EncodeResponse's encoding step written with
// k8s.io/kubelet's types, as kcred did before it had its own.
func kubeletEncodeResponse(version string, a Answer, now time.Time) []byte {
	kt, _ := checkAnswer(a)
	var dur *metav1.Duration
	if d, ok := CacheDuration(a, now); ok {
		dur = &metav1.Duration{Duration: d}
	}
	tm := metav1.TypeMeta{Kind: "CredentialProviderResponse", APIVersion: version}
	var out any
	switch version {
	case APIVersionV1:
		out = credv1.CredentialProviderResponse{TypeMeta: tm, CacheKeyType: credv1.PluginCacheKeyType(kt), CacheDuration: dur, Auth: convertAuth[credv1.AuthConfig](a.Auth)}
	case APIVersionV1beta1:
		out = credv1beta1.CredentialProviderResponse{TypeMeta: tm, CacheKeyType: credv1beta1.PluginCacheKeyType(kt), CacheDuration: dur, Auth: convertAuth[credv1beta1.AuthConfig](a.Auth)}
	default:
		out = credv1alpha1.CredentialProviderResponse{TypeMeta: tm, CacheKeyType: credv1alpha1.PluginCacheKeyType(kt), CacheDuration: dur, Auth: convertAuth[credv1alpha1.AuthConfig](a.Auth)}
	}
	data, _ := json.Marshal(out)
	return append(data, '\n')
}

// jsonString is s as it reads back from JSON (invalid UTF-8 replaced).
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

// checkResponseVsKubelet fails when kcred encodes a response otherwise than
// the kubelet's types would, or when these read it back to other values.
func checkResponseVsKubelet(t *testing.T, version string, a Answer, now time.Time) {
	t.Helper()
	data, err := EncodeResponse(Request{APIVersion: version}, a, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := kubeletEncodeResponse(version, a, now); string(data) != string(want) {
		t.Fatalf("kcred encodes %s; the kubelet's types encode %s", data, want)
	}
	var decoded any
	switch version {
	case APIVersionV1:
		decoded = &credv1.CredentialProviderResponse{}
	case APIVersionV1beta1:
		decoded = &credv1beta1.CredentialProviderResponse{}
	default:
		decoded = &credv1alpha1.CredentialProviderResponse{}
	}
	if err := json.Unmarshal(data, decoded); err != nil {
		t.Fatalf("the kubelet's types cannot read %s: %v", data, err)
	}
	v := reflect.ValueOf(decoded).Elem()
	wantKT := a.CacheKeyType
	if wantKT == "" {
		wantKT = CacheKeyRegistry
	}
	if v.FieldByName("Kind").String() != "CredentialProviderResponse" || v.FieldByName("APIVersion").String() != version || v.FieldByName("CacheKeyType").String() != string(wantKT) {
		t.Fatalf("the kubelet's types read %s as %+v", data, decoded)
	}
	dur := v.FieldByName("CacheDuration").Interface().(*metav1.Duration)
	if d, ok := CacheDuration(a, now); ok != (dur != nil) || ok && dur.Duration != d {
		t.Fatalf("the kubelet's types read cacheDuration %v from %s; want %v (sent: %v)", dur, data, d, ok)
	}
	auth := v.FieldByName("Auth")
	if auth.Len() != len(a.Auth) {
		t.Fatalf("the kubelet's types read %d credentials from %s; want %d", auth.Len(), data, len(a.Auth))
	}
	for k, c := range a.Auth {
		got := auth.MapIndex(reflect.ValueOf(jsonString(k)))
		if !got.IsValid() || got.FieldByName("Username").String() != jsonString(c.Username) || got.FieldByName("Password").String() != jsonString(c.Password) {
			t.Fatalf("the kubelet's types read credential %q from %s as %v; want %+v", k, data, got, c)
		}
	}
}

func TestEncodeResponseVsKubelet(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, version := range []string{APIVersionV1, APIVersionV1beta1, APIVersionV1alpha1} {
		for _, a := range []Answer{
			{},
			{CacheKeyType: CacheKeyImage, ExpiresAt: now.Add(90 * time.Minute), Auth: map[string]AuthConfig{"r.io": {Username: "u", Password: `p<>&"\` + "\u2028\xff"}}},
			{CacheKeyType: CacheKeyGlobal, ExpiresAt: now.Add(-time.Hour), Auth: map[string]AuthConfig{"*.r.io:5000/x": {}, "b.io": {Username: "u"}}},
			{ExpiresAt: now.Add(10000 * time.Hour), Stale: true},
		} {
			checkResponseVsKubelet(t, version, a, now)
		}
	}
}

// FuzzEncodeResponseVsKubelet: any answer kcred encodes reads back through
// the kubelet's types as sent, and its cacheDuration is formatted as
// metav1.Duration formats it.
func FuzzEncodeResponseVsKubelet(f *testing.F) {
	f.Add(uint8(0), int64(time.Hour), "r.io", "u", "p")
	f.Add(uint8(1), int64(-1), "*.r.io:5000/x", "", "\x00<\xff")
	f.Add(uint8(2), int64(1<<62), "r.io", "\u2028", "p")
	f.Fuzz(func(t *testing.T, v uint8, expiry int64, key, user, pass string) {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		versions := []string{APIVersionV1, APIVersionV1beta1, APIVersionV1alpha1}
		kinds := []CacheKeyType{CacheKeyRegistry, CacheKeyImage, CacheKeyGlobal}
		a := Answer{CacheKeyType: kinds[int(v/3)%3], ExpiresAt: now.Add(time.Duration(expiry)), Stale: v >= 128}
		if key != "" {
			a.Auth = map[string]AuthConfig{key: {Username: user, Password: pass}}
		}
		checkResponseVsKubelet(t, versions[int(v)%3], a, now)
	})
}
