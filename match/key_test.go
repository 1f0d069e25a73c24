package match

import "testing"

func TestNormalizeKey(t *testing.T) {
	tests := []struct {
		name, key, want string
		ok              bool
	}{
		{"scheme dropped", "https://registry.io", "registry.io", true},
		{"http scheme dropped", "http://registry.io", "registry.io", true},
		{"scheme prefix is case-sensitive", "HTTPS://registry.io", "HTTPS://registry.io", true},
		{"docker hub v1 key", "https://index.docker.io/v1/", "index.docker.io", true},
		{"v2 stripped", "registry.io/v2/team", "registry.io/team", true},
		{"v1 without slash kept", "registry.io/v1", "registry.io/v1", true},
		{"trailing slash only", "registry.io/", "registry.io", true},
		{"path kept", "registry.io:5000/team/app", "registry.io:5000/team/app", true},
		{"glob kept", "*.registry.io", "*.registry.io", true},
		{"userinfo dropped", "user:pass@registry.io", "registry.io", true},
		{"query dropped", "registry.io/team?x=1", "registry.io/team", true},
		{"escape decoded", "registry.io/%74eam", "registry.io/team", true},
		{"only one v1 stripped", "registry.io/v1/v1/x", "registry.io/v1/x", true},
		{"invalid escape dropped", "registry.io/%zz", "", false},
		{"invalid port dropped", "registry.io:port", "", false},
		{"control character dropped", "registry.io/\n", "", false},
		{"empty key", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NormalizeKey(tc.key)
			if got != tc.want || ok != tc.ok {
				t.Errorf("NormalizeKey(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.ok)
			}
		})
	}
}
