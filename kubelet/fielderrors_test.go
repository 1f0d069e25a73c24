package kubelet

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	configv1 "github.com/kcred/kcred/internal/kubeapi/v1"
)

// TestFieldErrorsVsApimachinery: each constructor, and a list's aggregate,
// print what apimachinery's field package prints for the same arguments.
func TestFieldErrorsVsApimachinery(t *testing.T) {
	p := field.NewPath("providers").Child("tokenAttributes")
	fp := "providers.tokenAttributes"
	pairs := []struct {
		got  fieldError
		want *field.Error
	}{
		{required(fp, ""), field.Required(p, "")},
		{required(fp, "at least 1"), field.Required(p, "at least 1")},
		{forbidden(fp, "no"), field.Forbidden(p, "no")},
		{invalid(fp, `a "b"`+"\n\xff", "bad"), field.Invalid(p, `a "b"`+"\n\xff", "bad")},
		{invalid(fp, "", ""), field.Invalid(p, "", "")},
		{invalid(fp, []string{"a", `"b"`}, "both"), field.Invalid(p, []string{"a", `"b"`}, "both")},
		{invalid(fp, &configv1.Duration{Duration: -90 * time.Second}, "negative"), field.Invalid(p, &metav1.Duration{Duration: -90 * time.Second}, "negative")},
		{duplicate(fp, "a"), field.Duplicate(p, "a")},
		{notSupported(fp, "x", []string{"a", `b"`}), field.NotSupported(p, "x", []string{"a", `b"`})},
	}
	var got fieldErrors
	var want field.ErrorList
	for _, c := range pairs {
		if c.got.Error() != c.want.Error() {
			t.Errorf("got  %s\nwant %s", c.got.Error(), c.want.Error())
		}
		got, want = append(got, c.got), append(want, c.want)
		// Repeats are dropped from the aggregate.
		got, want = append(got, c.got), append(want, c.want)
		if g, w := got.aggregate(), want.ToAggregate().Error(); g != w {
			t.Errorf("aggregate of %d:\ngot  %s\nwant %s", len(got), g, w)
		}
	}
}

// qualifiedNames are annotation keys for every branch of the check.
var qualifiedNames = []string{
	"a", "a.io/b", "A.io/B", "MyName", "my.name", "123-abc", "-a", "a-", "a_b", "a..b",
	"", "/", "a/", "/b", "a/b/c", "a.-b/c", "a_b.io/c", "A.io/b", ".a/b", "a./b", "a..b/c",
	strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a.", 126) + "a/b", strings.Repeat("a.", 127) + "a/b",
	strings.Repeat("-", 300) + "/" + strings.Repeat("_", 70), "a\n", "a/b\n", "é", "a b",
}

func TestQualifiedNameVsApimachinery(t *testing.T) {
	for _, k := range qualifiedNames {
		checkQualifiedName(t, k)
	}
}

// FuzzQualifiedNameVsApimachinery: isQualifiedName is
// validation.IsQualifiedName, messages included.
func FuzzQualifiedNameVsApimachinery(f *testing.F) {
	for _, k := range qualifiedNames {
		f.Add(k)
	}
	f.Fuzz(checkQualifiedName)
}

func checkQualifiedName(t *testing.T, k string) {
	got, want := isQualifiedName(k), validation.IsQualifiedName(k)
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
		t.Fatalf("isQualifiedName(%q)\n = %q\nwant %q", k, got, want)
	}
}
