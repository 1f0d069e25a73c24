package kubeapi

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
)

// interpretDocs exercise apiVersion and kind the way configs and plugin
// answers write them, and the ways they go wrong.
var interpretDocs = []string{
	`{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig"}`,
	`{"apiVersion":"v1","kind":"Status"}`,
	`{"APIVERSION":"a/b","KIND":"K"}`,
	`{"apiVersion":"a/b/c","kind":"K"}`,
	`{"apiVersion":"/","kind":"K"}`,
	`{"apiVersion":"/v1","kind":""}`,
	`{"apiVersion":"g/","kind":"K"}`,
	`{"kind":"K"}`,
	`{}`,
	`{"apiVersion":1}`,
	`[1]`,
	`not json`,
	``,
}

// TestInterpretVsApimachinery: Interpret reads what apimachinery's
// DefaultMetaFactory reads, with the same error text.
func TestInterpretVsApimachinery(t *testing.T) {
	for _, doc := range interpretDocs {
		compareInterpret(t, []byte(doc))
	}
}

func FuzzInterpretVsApimachinery(f *testing.F) {
	for _, doc := range interpretDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) { compareInterpret(t, data) })
}

func compareInterpret(t *testing.T, data []byte) {
	t.Helper()
	got, err := Interpret(data)
	want, wantErr := kjson.DefaultMetaFactory.Interpret(data)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("Interpret(%q) error %v, apimachinery %v", data, err, wantErr)
	}
	if err == nil && (got.Group != want.Group || got.Version != want.Version || got.Kind != want.Kind) {
		t.Fatalf("Interpret(%q) = %+v, apimachinery %+v", data, got, *want)
	}
	if err == nil {
		if gv, err := schema.ParseGroupVersion(got.GroupVersion()); err != nil || gv.Group != got.Group || gv.Version != got.Version {
			t.Fatalf("GroupVersion() %q does not parse back to %+v: %v, %v", got.GroupVersion(), got, gv, err)
		}
	}
}

// FuzzDecode: any input decodes or fails without a panic, and the same
// input always gives the same result.
func FuzzDecode(f *testing.F) {
	for _, doc := range append(interpretDocs, "apiVersion: a/v1\nkind: K\nx: 1\n", "apiVersion: a/v1\nkind: K\nx: 1\nx: 2\n", "k8s\x00\x01") {
		f.Add([]byte(doc))
	}
	newObject := func(gvk GroupVersionKind) (any, error) {
		if gvk.Kind == "K" {
			return &struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				X          int    `json:"x"`
			}{}, nil
		}
		return nil, fmt.Errorf("no kind %q", gvk.Kind)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obj1, gvk1, err1 := Decode(data, newObject)
		obj2, gvk2, err2 := Decode(data, newObject)
		if fmt.Sprint(obj1, gvk1, err1) != fmt.Sprint(obj2, gvk2, err2) {
			t.Fatalf("Decode(%q) differs between two calls", data)
		}
	})
}
