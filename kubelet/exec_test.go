package kubelet

import (
	"reflect"
	"strings"
	"testing"
)

func TestAnswerSecrets(t *testing.T) {
	tests := []struct {
		name, stdout string
		want         []string
	}{
		{"accepted answer", `{"auth":{"r.io":{"username":"u","password":"p1"}}}`, []string{"p1"}},
		{"escaped value", `{"auth":{"r.io":{"password":"a\"b\u0063"}}}`, []string{`a\"b\u0063`, `a"bc`}},
		{"any secret-looking key", `{"identityToken":"t1","clientSecret":"s1","Password" : "P"}`, []string{"t1", "s1", "P"}},
		{"YAML", "auth:\n  r.io:\n    password: 'y1'\n    registryToken: y2\n", []string{"y1", "y2"}},
		{"truncated JSON", `{"auth":{"r.io":{"password":"trunc`, nil},
		{"no secrets", `{"username":"u"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := answerSecrets([]byte(tt.stdout)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("answerSecrets = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCutNeverSplitsASecret(t *testing.T) {
	secret := "0123456789-secret"
	for shift := -len(secret); shift <= len(secret); shift++ {
		stderr := strings.Repeat("x", MaxShownStderr+shift) + secret + strings.Repeat("y", 100)
		got := cut([]byte(stderr), []string{"", secret})
		shown, _, _ := strings.Cut(got, "…")
		if strings.Contains(shown, secret[:1]) && !strings.Contains(shown, secret) {
			t.Fatalf("shift %d: a part of the secret is shown: %q", shift, shown[len(shown)-20:])
		}
		if len(shown) > MaxShownStderr {
			t.Fatalf("shift %d: %d bytes shown", shift, len(shown))
		}
	}
	if got := cut([]byte("short"), nil); got != "short" {
		t.Errorf("cut(short) = %q", got)
	}
}

// FuzzAnswerSecrets: any stdout is scanned without panic, and cutting it
// for display with what was found keeps it whole when short.
func FuzzAnswerSecrets(f *testing.F) {
	f.Add([]byte(`{"auth":{"r.io":{"username":"u","password":"p1"}}}`))
	f.Add([]byte("password: y1\n"))
	f.Add([]byte(`{"password":"\u00e9\\"}`))
	f.Fuzz(func(t *testing.T, stdout []byte) {
		secrets := answerSecrets(stdout)
		if out := cut(stdout, secrets); len(stdout) <= MaxShownStderr && out != string(stdout) {
			t.Fatalf("cut changed a short text: %q", out)
		}
	})
}
