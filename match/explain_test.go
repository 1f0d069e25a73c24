package match

import (
	"fmt"
	"testing"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		glob, image, want string
	}{
		{"*.io", "registry.k8s.io/pause", `label count differs: pattern has 2 labels, image host has 3 ('*' never matches a '.')`},
		{"registry.io", "registry.io:5000/foo", `port differs: pattern "" vs image "5000"`},
		{"registry.io:443", "registry.io/foo", `port differs: pattern "443" vs image ""`},
		{"k*.io", "quay.io/foo", `label 1 differs: pattern "k*" vs image "quay"`},
		{"a.*.c", "x.b.y/foo", `label 1 differs: pattern "a" vs image "x"; label 3 differs: pattern "c" vs image "y"`},
		{"registry.io/team", "registry.io/other/app", `path prefix differs: image path "/other/app" does not start with pattern path "/team"`},
		{"*.registry.io/*", "a.registry.io/foo", `pattern has a glob in its path: the kubelet never matches it (a path is a plain prefix; write "*.registry.io")`},
		{"*.registry.io/*", "registry.io/foo", `label count differs: pattern has 3 labels, image host has 2 ('*' never matches a '.'); pattern has a glob in its path: the kubelet never matches it (a path is a plain prefix; write "*.registry.io")`},
		{"registry.io/team/*", "registry.io/team/app", `pattern has a glob in its path: the kubelet never matches it (a path is a plain prefix; write "registry.io/team/")`},
		{"registry.io/%2A", "registry.io/foo", `pattern has a glob in its path: the kubelet never matches it (a path is a plain prefix)`},
		{"https://registry.io", "registry.io/foo", `pattern has a scheme (https://): the kubelet never matches it (matchImages entries are used verbatim; write "registry.io")`},
		{"oci+https://registry.io/x", "registry.io/x/y", `pattern has a scheme (oci+https://): the kubelet never matches it (matchImages entries are used verbatim; write "registry.io/x")`},
		{"%invalid%", "registry.io/foo", `pattern is not a valid URL: parse "https://%invalid%": invalid URL escape "%in"`},
		{"[a-z].io", "a.io/foo", `pattern is not a valid URL: parse "https://[a-z].io": invalid port ".io" after host (only '*' is a glob; '[' starts an IPv6 address)`},
		{"registry.io", "registry.io:x/foo", `image is not a valid URL: parse "https://registry.io:x/foo": invalid port ":x" after host`},
		{"reg?stry.io", "registry.io/foo", `pattern has '?': it starts a URL query, so the kubelet matches only "reg" (only '*' is a glob); label count differs: pattern has 1 label, image host has 2`},
		{"registry.io#x", "other.io/foo", `pattern has '#': it starts a URL fragment, so the kubelet matches only "registry.io" (only '*' is a glob); label 1 differs: pattern "registry" vs image "other"`},
		{"*", "registry.io/foo", `label count differs: pattern has 1 label, image host has 2 ('*' never matches a '.')`},
		{"[::1]:5000", "[::2]:5000/foo", `label 1 differs: pattern "::1" vs image "::2"`},
		{"[::1]:5000", "[::1]:5000/foo", ``},
		{"[::1]", "[::1]/foo", `label 1 differs: pattern "[::1]" vs image "[::1]" (only '*' is a glob; '[' and '\' are glob syntax)`},
		{"a[.io", "a[.io/foo", `pattern is not a valid URL: parse "https://a[.io": invalid IP-literal (only '*' is a glob; '[' starts an IPv6 address)`},
		{"registry.io", "registry.io/foo", ``},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%d_%s", i, tc.glob), func(t *testing.T) {
			got := Explain(tc.glob, tc.image)
			if got.Reason != tc.want {
				t.Errorf("Explain(%q, %q).Reason =\n%s\nwant\n%s", tc.glob, tc.image, got.Reason, tc.want)
			}
			if got.Match != (tc.want == "") {
				t.Errorf("Explain(%q, %q).Match = %v with reason %q", tc.glob, tc.image, got.Match, got.Reason)
			}
			if got.Match != URLsMatch(tc.glob, tc.image) {
				t.Errorf("Explain(%q, %q).Match = %v disagrees with URLsMatch", tc.glob, tc.image, got.Match)
			}
		})
	}
}
