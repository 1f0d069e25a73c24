package kubelet

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/kubeapi"
	"github.com/kcred/kcred/internal/kubeletcorpus"
)

// checkConfigVsKubelet fails when decodeConfig decodes data to other
// providers, or fails with another text, than the kubelet's codec (the
// oracle), outside the two documented differences.
func checkConfigVsKubelet(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := oracleDecodeConfig(data)
	got, err := decodeConfig(data)
	if fmt.Sprint(err) == oracleText(wantErr, data) && reflect.DeepEqual(got, want) {
		return
	}
	if err != nil && wantErr != nil {
		// A YAML key that is a sequence or map: kcred does not print it.
		if o := oracleText(wantErr, data); strings.Contains(o, "invalid map key:") && err.Error() == o[:strings.Index(o, "invalid map key:")+len("invalid map key:")]+kubeapi.MapKeyHidden {
			return
		}
		// A protobuf-prefixed document: both refuse it, with other texts.
		if bytes.HasPrefix(data, []byte("k8s\x00")) && errors.Is(err, kubeapi.ErrProtobuf) {
			return
		}
		// A kind the kubelet knows but refuses (otherKinds): the kubelet
		// reports the document's decoding errors first, kcred the kind.
		if obj, gvk, derr := kubeapi.Decode(data, newConfigObject); derr == nil && obj == nil && err.Error() == fmt.Sprintf("failed to decode %q (wrong Kind)", gvk.Kind) {
			return
		}
	}
	t.Fatalf("decodeConfig(%q)\n = %+v, %v\nthe kubelet's codec: %+v, %s", data, got, err, want, oracleText(wantErr, data))
}

// configDocs are config documents that exercise every path of the
// kubelet's decoding, JSON and YAML.
var configDocs = []string{
	// Accepted, each version.
	provider("a"),
	"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  matchImages: [r.io]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  args: [a]\n  env: [{name: K, value: V}]\n  tokenAttributes: {serviceAccountTokenAudience: a, requireServiceAccount: true, cacheType: Token, requiredServiceAccountAnnotationKeys: [k1], optionalServiceAccountAnnotationKeys: [k2]}\n",
	`{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"CredentialProviderConfig","providers":[{"name":"b","matchImages":["r.io"],"defaultCacheDuration":"1h","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","env":[{"name":"a","value":"b"}]}]}`,
	"apiVersion: kubelet.config.k8s.io/v1alpha1\nkind: CredentialProviderConfig\nproviders: []\n",
	" \n\t{\"kind\":\"CredentialProviderConfig\",\"apiVersion\":\"kubelet.config.k8s.io/v1\",\"providers\":null}",
	"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\n",
	"{apiVersion: kubelet.config.k8s.io/v1, kind: CredentialProviderConfig}",
	"---\napiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\n---\nkind: Other\n",
	// Strict: unknown, duplicate and case-mismatched fields.
	provider("a") + "  unknownField: 1\n",
	provider("a") + "  name: again\n",
	provider("a") + "  Name: x\n  MATCHIMAGES: [y]\n",
	strings.Replace(provider("a"), "kubelet.config.k8s.io/v1\n", "kubelet.config.k8s.io/v1beta1\n", 1) + "  tokenAttributes: {}\n",
	strings.Replace(provider("a"), "kubelet.config.k8s.io/v1\n", "kubelet.config.k8s.io/v1alpha1\n", 1) + "  tokenAttributes: {}\n  x: 1\n",
	`{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[],"providers":[]}`,
	`{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","Kind":"CredentialProviderConfig","providers":[]}`,
	`{"APIVERSION":"kubelet.config.k8s.io/v1","KIND":"CredentialProviderConfig"}`,
	"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nkind: CredentialProviderConfig\nproviders: []\nextra: 1\n",
	// Wrong types and bad durations.
	`{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":"x"}`,
	`{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"CredentialProviderConfig","providers":[{"env":"x"}]}`,
	`{"apiVersion":"kubelet.config.k8s.io/v1alpha1","kind":"CredentialProviderConfig","providers":[{"env":[{"name":1}]}]}`,
	`{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[{"tokenAttributes":{"requireServiceAccount":"yes"}}]}`,
	`{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[{"matchImages":[1,2]}],"x":1}`,
	provider("a") + "  defaultCacheDuration: 10\n",
	strings.Replace(provider("a"), "10m", "ten minutes", 1),
	strings.Replace(provider("a"), "10m", "[1]", 1),
	strings.Replace(provider("a"), "10m", "null", 1),
	strings.Replace(provider("a"), "10m", "-1s", 1),
	// Kind and apiVersion.
	"providers: []\n",
	"",
	"null",
	"kind: CredentialProviderConfig\n",
	"apiVersion: kubelet.config.k8s.io/v1\n",
	`{"kind":"CredentialProviderConfig","apiVersion":""}`,
	"apiVersion: a/b/c\nkind: CredentialProviderConfig\n",
	"apiVersion: /\nkind: CredentialProviderConfig\n",
	"apiVersion: kubelet.config.k8s.io/v2\nkind: CredentialProviderConfig\n",
	"apiVersion: kubelet.config.k8s.io/v1\nkind: ImagePullIntent\n",
	"apiVersion: kubelet.config.k8s.io/__internal\nkind: CredentialProviderConfig\n",
	"apiVersion: credentialprovider.kubelet.k8s.io/__internal\nkind: Foo\n",
	"apiVersion: v1\nkind: CredentialProviderConfig\n",
	"apiVersion: other.io/v1\nkind: CredentialProviderConfig\n",
	`{"kind":5}`,
	`{"apiVersion":["x"]}`,
	// Kinds the kubelet knows but refuses.
	"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
	"apiVersion: kubelet.config.k8s.io/v1alpha1\nkind: ImagePullIntent\nimage: x\n",
	"apiVersion: credentialprovider.kubelet.k8s.io/v1\nkind: CredentialProviderRequest\nimage: x\n",
	"apiVersion: credentialprovider.kubelet.k8s.io/v1\nkind: CredentialProviderRequest\nimage: 5\nfoo: 1\n",
	"apiVersion: credentialprovider.kubelet.k8s.io/v1beta1\nkind: ListOptions\n",
	"apiVersion: credentialprovider.kubelet.k8s.io/__internal\nkind: WatchEvent\n",
	"apiVersion: any.io/v9\nkind: Status\n",
	// Syntax.
	"a: b: c",
	"a:\n\t- b\n",
	`{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig"} x`,
	`{"apiVersion":"kubelet.config.k8s.io/v1",`,
	"[1, 2]",
	"- a\n- b\n",
	"just text",
	"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  env:\n    ? [SECRET-KEY-VALUE]\n    : x\n",
	"\xff\xfe",
	"k8s\x00\x0a\x02\x08\x01",
}

func TestDecodeConfigVsKubelet(t *testing.T) {
	for _, doc := range configDocs {
		checkConfigVsKubelet(t, []byte(doc))
	}
}

// TestSchemeVsKubelet: newConfigObject knows the kinds the kubelet's scheme
// does (the oracle's, and for v1beta1, whose package the oracle does not
// link, the corpus's RefusedConfigKinds, which the judge holds to the real
// kubelet), by apiVersion.
func TestSchemeVsKubelet(t *testing.T) {
	s := oracleScheme()
	for gvk := range s.AllKnownTypes() {
		obj, err := newConfigObject(kubeapi.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind})
		if err != nil {
			t.Errorf("%v: the kubelet's scheme knows it; newConfigObject: %v", gvk, err)
		}
		if (obj != nil) != (gvk.Kind == "CredentialProviderConfig") {
			t.Errorf("%v: newConfigObject gives %T", gvk, obj)
		}
	}
	known := map[string]bool{}
	for gvk := range s.AllKnownTypes() {
		known[gvk.GroupVersion().String()+" "+gvk.Kind] = true
	}
	for _, gvk := range kubeletcorpus.RefusedConfigKinds {
		known[gvk] = true
		gv, kind, _ := strings.Cut(gvk, " ")
		group, version, _ := strings.Cut(gv, "/")
		if obj, err := newConfigObject(kubeapi.GroupVersionKind{Group: group, Version: version, Kind: kind}); obj != nil || err != nil {
			t.Errorf("%s: the kubelet refuses it as the wrong kind; newConfigObject gives %T, %v", gvk, obj, err)
		}
	}
	for gv, kinds := range otherKinds {
		for _, k := range kinds {
			if !known[gv+" "+k] {
				t.Errorf("otherKinds has %s %s; the kubelet's scheme does not", gv, k)
			}
		}
	}
	for _, k := range unversionedKinds {
		if _, err := s.New(schemaGVK("any.io", "v9", k)); err != nil {
			t.Errorf("unversioned kind %s: %v", k, err)
		}
	}
}

// TestDecodeConfigHidesMapKey: a sequence written as a key (under env, where
// values are secrets) is refused without printing it, unlike the kubelet.
func TestDecodeConfigHidesMapKey(t *testing.T) {
	doc := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  env:\n    ? [SECRET-KEY-VALUE]\n    : x\n"
	_, err := decodeConfig([]byte(doc))
	if err == nil || strings.Contains(err.Error(), "SECRET") || !strings.HasSuffix(err.Error(), kubeapi.MapKeyHidden) {
		t.Fatalf("decodeConfig: %v", err)
	}
	if _, want := oracleDecodeConfig([]byte(doc)); want == nil || !strings.Contains(want.Error(), "SECRET-KEY-VALUE") {
		t.Fatalf("the kubelet's codec no longer prints the key (%v): drop kubeapi.MapKeyHidden's difference", want)
	}
}
