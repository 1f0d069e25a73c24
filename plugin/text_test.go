package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorFormat(t *testing.T) {
	cause := errors.New("HTTP 403")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"what why check", &Error{What: "get token", Err: cause, Check: "check IAM"}, "get token: HTTP 403 (check IAM)"},
		{"no check", &Error{What: "get token", Err: cause}, "get token: HTTP 403"},
		{"no cause", &Error{What: "no region", Check: "set AWS_REGION"}, "no region (set AWS_REGION)"},
		{"nested: one hint, the outer one", &Error{What: "a", Err: &Error{What: "b", Err: cause, Check: "inner"}, Check: "outer"}, "a: b: HTTP 403 (outer)"},
		{"nested: inner hint kept when outer has none", &Error{What: "a", Err: &Error{What: "b", Err: cause, Check: "inner"}}, "a: b: HTTP 403 (inner)"},
		{"wrapped Error: its hint only", &Error{What: "a", Err: fmt.Errorf("x: %w", &Error{What: "b", Check: "inner"}), Check: "outer"}, "a: x: b (inner)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestQuote(t *testing.T) {
	long := strings.Repeat("é", MaxQuoted)
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"nul\x00esc\x1b[31m", `"nul\x00esc\x1b[31m"`},
		{"\xff", `"\xff"`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := Quote(long); !strings.HasSuffix(got, cutMarker) || len(got) > MaxQuoted+len(cutMarker)+2 || strings.Contains(got, `\x`) {
		t.Errorf("Quote of %d bytes = %d bytes %q...", len(long), len(got), got[:20])
	}
}

func TestRedactLongestFirst(t *testing.T) {
	if got := Redact("using cibot-Pa55word! as cibot", "cibot", "cibot-Pa55word!"); got != "using [redacted] as [redacted]" {
		t.Errorf("Redact = %q", got)
	}
}

func TestRedact(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	got := Redact("STS said: token "+jwt+" invalid; secret hunter2 seen; ab", "hunter2", "ab")
	if strings.Contains(got, jwt) || strings.Contains(got, "hunter2") || !strings.Contains(got, "[redacted]") || !strings.HasSuffix(got, "; ab") {
		t.Errorf("Redact = %q", got)
	}
}

// Untrusted text reaches the one error line escaped, redacted and bounded,
// whatever its size and bytes.
func TestMainUntrustedText(t *testing.T) {
	t.Setenv("KCRED_CACHE", "off")
	token := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YTpiIn0.c2ln"
	echo := ProviderFunc(func(ctx context.Context, req Request) (Answer, error) {
		// A cloud that echoes the request and a huge body in its error.
		return Answer{}, &Error{What: "exchange", Err: errors.New("STS: " + req.ServiceAccountToken + " rejected: " + strings.Repeat("x\x1b", 5<<20))}
	})
	tests := []struct {
		name, stdin string
		provider    ProviderFunc
	}{
		{"control bytes in the image", `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a\u0000\u001b[2J"}`, echo},
		{"1 MB image", `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/` + strings.Repeat("A", 1_000_000) + `"}`, echo},
		{"5 MB cloud error with the pod's token", `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a","serviceAccountToken":"` + token + `"}`, echo},
		{"kind with escapes", `{"kind":"Cred\u001b]0;x\u0007","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a"}`, echo},
		{"cloud echoes an opaque token as a form field", `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a"}`,
			func(ctx context.Context, req Request) (Answer, error) {
				return Answer{}, &Error{What: "exchange", Err: errors.New("400: grant_type=x&subject_token=opaque-SECRET-42&scope=y")}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(testRole(tt.provider, new([]string), new(string)), "v9", nil, strings.NewReader(tt.stdin), &stdout, &stderr)
			line := stderr.String()
			if code != 1 || stdout.Len() != 0 || strings.Count(line, "\n") != 1 {
				t.Fatalf("code %d, stdout %d bytes, stderr lines %d", code, stdout.Len(), strings.Count(line, "\n"))
			}
			if len(line) > MaxErrorLine+100 {
				t.Errorf("error line of %d bytes", len(line))
			}
			if strings.ContainsAny(strings.TrimSuffix(line, "\n"), "\x00\x1b\x07\r\n") || !utf8.ValidString(line) {
				t.Errorf("raw control bytes or invalid UTF-8 on stderr: %q", line)
			}
			if strings.Contains(line, token) || strings.Contains(line, "eyJzdWIi") || strings.Contains(line, "SECRET") {
				t.Errorf("the pod's token reached stderr: %q", line)
			}
		})
	}
}

// net/http's parenthesised timeout notes become clauses: the line keeps
// one parenthesis, its hint.
func TestSanitizeGoNotes(t *testing.T) {
	for _, note := range []string{
		"net/http: request canceled (Client.Timeout exceeded while awaiting headers)",
		"context deadline exceeded (Client.Timeout or context cancellation while reading body)",
	} {
		line := errorLine("r", &Error{What: "get token", Err: errors.New(note), Check: "check the network"})
		if strings.Count(line, "(") != 1 || !strings.HasSuffix(line, " (check the network)") || !strings.Contains(line, "timed out") {
			t.Errorf("%q: line %q, want the timeout said without a second parenthesis", note, line)
		}
	}
}

func TestRedactFields(t *testing.T) {
	tests := []struct{ in, want string }{
		{"grant_type=x&subject_token=opaque-SECRET1&subject_token_type=urn", "grant_type=x&subject_token=[redacted]&subject_token_type=urn"},
		{`{"access_token": "ya29.SECRET2", "token_type":"Bearer"}`, `{"access_token": "[redacted]", "token_type":"Bearer"}`},
		{`"{\"refresh_token\":\"1//SECRET3\"}"`, `"{\"refresh_token\":\"[redacted]\"}"`},
		{"assertion=SECRET4 client_secret=SECRET5", "assertion=[redacted] client_secret=[redacted]"},
		{`{"accessToken":"SECRET6","expireTime":"2030"}`, `{"accessToken":"[redacted]","expireTime":"2030"}`},
		{"ID_TOKEN: SECRET7", "ID_TOKEN: [redacted]"},
		{`{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvSECRET8\n-----END PRIVATE KEY-----\n", "x": 1}`, `{"private_key": "[redacted]", "x": 1}`},
		{`{"password": "correct horse SECRET9"}`, `{"password": "[redacted]"}`},
		{`"client_secret":"ab\"cdSECRET10"`, `"client_secret":"[redacted]"`},
		{`{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIcut SECRET11`, `{"private_key": "[redacted]`},
		{`'password': 'two words' ok`, `'password': '[redacted]' ok`},
		{"oauth2: server response missing access_token", "oauth2: server response missing access_token"},
		{"status 403: nothing here", "status 403: nothing here"},
	}
	for _, tt := range tests {
		if got := RedactFields(tt.in); got != tt.want {
			t.Errorf("RedactFields(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// TestSanitizeMultiLineSecret: a known secret that spans lines (a PEM key)
// is redacted before the text is folded onto one line.
func TestSanitizeMultiLineSecret(t *testing.T) {
	key := "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqSECRET\n-----END PRIVATE KEY-----"
	got := Sanitize("read key:\n"+key+"\nfailed", key)
	if strings.Contains(got, "SECRET") || got != "read key: [redacted] failed" {
		t.Errorf("Sanitize = %q", got)
	}
}
