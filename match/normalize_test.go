package match

import (
	"slices"
	"strings"
	"testing"

	"github.com/kcred/kcred/match/matchtest"
)

// TestNormalize holds the examples of kubelet.md §1 and the extra cases.
func TestNormalize(t *testing.T) {
	for _, tc := range slices.Concat(matchtest.NormalizeExamples, matchtest.NormalizeExtras) {
		t.Run(tc.Image, func(t *testing.T) {
			got, err := Normalize(tc.Image)
			if tc.Err != "" {
				if err == nil || err.Error() != tc.Err {
					t.Fatalf("Normalize(%q) = %q, %v; want error %q", tc.Image, got, err, tc.Err)
				}
				return
			}
			if err != nil || got != tc.Want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tc.Image, got, err, tc.Want)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	tests := []struct{ image, want string }{
		{"docker.io/library/nginx", "docker.io"},
		{"registry.io:5000/foo/bar", "registry.io:5000"},
		{"localhost", "localhost"},
		{"", ""},
		{"/foo", ""},
	}
	for _, tc := range tests {
		if got := Registry(tc.image); got != tc.want {
			t.Errorf("Registry(%q) = %q, want %q", tc.image, got, tc.want)
		}
	}
}

// FuzzNormalize checks the invariants other code relies on: an error
// comes with no name, a name has no tag or digest and does not
// change when ":latest" is appended (the kubelet's applyDefaultImageTag),
// Normalize is idempotent, and Registry is the host, which matches the
// image. Fidelity to the kubelet is checked against the real code by
// FuzzNormalizeVsKubelet in test/kubelet.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"nginx", "nginx:1.25", "library/nginx", "docker.io/nginx", "index.docker.io/library/nginx",
		"registry.io:5000/foo/bar:tag", "Registry.io/foo", "registry.io/Foo", "localhost:5000/foo",
		"[::1]:5000/foo", "[::1]/foo", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"registry.io/foo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, image string) {
		got, err := Normalize(image)
		if err != nil {
			if got != "" || err.Error() == "" {
				t.Fatalf("Normalize(%q) = %q, %v; want no name and a message", image, got, err)
			}
			return
		}
		if last := got[strings.LastIndexByte(got, '/')+1:]; got == "" || strings.ContainsAny(last, ":@") {
			t.Fatalf("Normalize(%q) = %q, want a name without tag or digest", image, got)
		}
		// The kubelet appends ":latest" to an untagged image before taking
		// the name (applyDefaultImageTag); Normalize relies on that not
		// changing the name.
		if !strings.Contains(image, "@") {
			if tagged, err := Normalize(image + ":latest"); err == nil && tagged != got {
				t.Fatalf("Normalize(%q) = %q but Normalize(%q) = %q", image, got, image+":latest", tagged)
			}
		}
		if again, err := Normalize(got); again != got || err != nil {
			t.Fatalf("Normalize(%q) = %q, %v; not idempotent for %q", got, again, err, image)
		}
		reg := Registry(got)
		if reg == "" || !strings.HasPrefix(got, reg+"/") {
			t.Fatalf("Registry(%q) = %q, want the host of a host/path name", got, reg)
		}
		// A registry key matches its images, except a bracketed IPv6 host
		// without port, whose '[' the kubelet's glob reads as a class.
		if !strings.Contains(reg, "[") && !URLsMatch(reg, got) {
			t.Fatalf("URLsMatch(%q, %q) = false for the image's own registry", reg, got)
		}
	})
}
