package credhelper

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSummarise(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlMTIz"
	tests := []struct {
		in    string
		known []string
		want  string
	}{
		{in: "", want: ""},
		{in: "error: vault sealed\n", want: "error: vault sealed"},
		{in: "user robot got pa55word", known: []string{"robot", "pa55word"}, want: "user [redacted] got [redacted]"},
		{in: "password=hunter2, token: 'a b' Secret = x", want: "password=[redacted], token: [redacted] Secret = [redacted]"},
		{in: "Authorization: Bearer abc.def", want: "Authorization: Bearer [redacted]"},
		{in: "sent Basic dXNlcjpwYXNz", want: "sent Basic [redacted]"},
		{in: "GET https://alice:Hunter2!x@vault.example/v1/x failed", want: "GET https://alice:[redacted]@vault.example/v1/x failed"},
		{in: "dial redis://:p@ss:w0rd@cache:6379: refused", want: "dial redis://:[redacted]@cache:6379: refused"},
		{in: "see https://registry.example.com:5000/v2/ and user@host", want: "see https://registry.example.com:5000/v2/ and user@host"},
		{in: "got " + jwt + " from vault", want: "got [redacted] from vault"},
		{in: "hex 0123456789abcdef0123456789abcdef", want: "hex [redacted]"},
		{in: "AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY==", want: "[redacted]"},
		// Words, paths and host names stay readable.
		{in: "/usr/local/bin/docker-credential-secretservice: registry.example.com:5000 unreachable; AWS_REGION=eu-west-1", want: "/usr/local/bin/docker-credential-secretservice: registry.example.com:5000 unreachable; AWS_REGION=eu-west-1"},
		{in: "a\x1b[31mred\x00\x7f\xc2\x9b\xff\r\n\tb", want: `a\x1b[31mred\x00\x7f\x9b\xff b`},
		{in: "line one\u2028line two", want: "line one line two"},
	}
	for _, tt := range tests {
		if got := summarise(tt.in, tt.known...); got != tt.want {
			t.Errorf("summarise(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := summarise(strings.Repeat("word ", 2000))
	if !strings.HasSuffix(long, "... (10000 bytes in all)") || utf8.RuneCountInString(long) > maxSummary+40 {
		t.Errorf("long stderr not bounded: %d runes, %q", utf8.RuneCountInString(long), long[len(long)-40:])
	}
}

// FuzzSummarise checks that a summary is always one bounded line of
// printable text that never contains a known secret.
func FuzzSummarise(f *testing.F) {
	f.Add("password=hunter2\x1b[2J\nnext", "hunter2")
	f.Add("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "robot")
	f.Fuzz(func(t *testing.T, stderr, secret string) {
		s := summarise(stderr, secret)
		if utf8.RuneCountInString(s) > maxSummary+40 || !utf8.ValidString(s) {
			t.Fatalf("summary too long or invalid UTF-8: %q", s)
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0 {
				t.Fatalf("control character %U in %q", r, s)
			}
		}
		if len(secret) >= 4 && !strings.Contains("[redacted]", secret) && strings.Contains(stderr, secret) && strings.Contains(s, secret) {
			t.Fatalf("secret %q survives in %q", secret, s)
		}
	})
}
