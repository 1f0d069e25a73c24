package kubelet

import (
	"strings"
	"testing"
)

func TestServiceAccountCacheKeyLimits(t *testing.T) {
	sa := &ServiceAccount{Name: "sa", UID: "uid"}
	tests := []struct {
		name        string
		annotations map[string]string
		wantErr     bool
	}{
		{"small", map[string]string{"a.io/k": "v"}, false},
		{"value at the 2-byte limit", map[string]string{"a.io/k": strings.Repeat("v", 0xFFFF)}, false},
		{"value past the limit: the kubelet fails the lookup", map[string]string{"a.io/k": strings.Repeat("v", 0x10000)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := serviceAccountCacheKey("ns", sa, tt.annotations, CacheTypeServiceAccount, "tok")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "exceeds 2-byte length prefix") {
				t.Errorf("err = %v", err)
			}
		})
	}
}
