package providertest

import "testing"

func TestCheckHint(t *testing.T) {
	tests := []struct {
		msg string
		ok  bool
	}{
		{"decode request: stdin is empty", true},
		{"get token: HTTP 403 (check the role)", true},
		{"get token: refused (check that the node reaches x (DNS, firewall), HTTPS_PROXY)", true},
		{`kind is "a (b)", want "c" (check the request)`, true},
		{`kind is "a \"(b" (check)`, true},
		{"read config: no such file (check --config) (see --help)", false},
		{"x is not a regular file (dir): parse", false},
		{"wrapped: inner (check a) (check b)", false},
		{"hint ((twice))", false},
		{"ends with a stray)", false},
		{"(only a hint)", false},
	}
	for _, tt := range tests {
		if got := checkHint(tt.msg); (got == "") != tt.ok {
			t.Errorf("checkHint(%q) = %q, want ok=%t", tt.msg, got, tt.ok)
		}
	}
}
