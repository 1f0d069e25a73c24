package providertest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
)

// cloudVarPrefixes name the variables SDKs and kcred read: inherited from
// whoever runs the tests, they would change what an in-process run does.
var cloudVarPrefixes = []string{"AWS_", "AZURE_", "IDENTITY_", "MSI_", "IMDS_", "GOOGLE_", "CLOUDSDK_", "GCE_", "OCI_", "KCRED_"}

// processVars are read once per process (Go's proxy settings and CA roots):
// Main sets them to its proxy before any test runs.
var processVars = []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"}

func isCloudVar(name string) bool {
	for _, p := range cloudVarPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

var proxy *fakecloud.Proxy

// Main is the TestMain of a role package whose tests run the role
// in-process (World.Main): Go reads HTTPS_PROXY, HTTP_PROXY and
// SSL_CERT_FILE once per process, so every in-process run of the test
// binary goes through one proxy, started here with those variables set
// before any test makes a request. Cloud variables inherited from the
// caller are cleared.
func Main(m *testing.M) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); isCloudVar(k) {
			os.Unsetenv(k)
		}
	}
	for _, k := range processVars {
		os.Unsetenv(k)
	}
	p, err := fakecloud.NewProxy()
	if err != nil {
		fmt.Fprintln(os.Stderr, "providertest:", err)
		os.Exit(1)
	}
	for _, kv := range p.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	proxy = p
	code := m.Run()
	p.Close()
	os.Exit(code)
}

// Proxy is the test binary's proxy (see Main): route the cloud's real
// host names to emulators on it. Its variables are in the process
// environment; a child (World.Exec) gets them from Proxy().Env().
func Proxy(t testing.TB) *fakecloud.Proxy {
	t.Helper()
	if proxy == nil {
		t.Fatal("providertest.Proxy needs providertest.Main as the package's TestMain")
	}
	return proxy
}

// Setenv gives the test process the environment an exec would get, for
// in-process runs until the test ends: every cloud variable cleared, then
// exectest.CleanEnv, then each of envs in order (a later duplicate wins).
// CleanEnv's temporary paths are new at each call and take part in node
// identities (ECR fingerprints its files): use one call for runs that must
// share a cache entry.
func Setenv(t *testing.T, envs ...[]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); isCloudVar(k) {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for _, env := range append([][]string{exectest.CleanEnv(t)}, envs...) {
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			t.Setenv(k, v)
		}
	}
}

// Setenv is Setenv with the World's environment, then extra.
func (w *World) Setenv(t *testing.T, extra ...string) {
	t.Helper()
	Setenv(t, w.Env, extra)
}

// Failure checks the failure contract every role keeps, for any failure:
// exit 1, nothing on stdout, exactly one line on stderr (at --v=0),
// "ROLE: " at its start and the role named nowhere else (no provider
// writes its own prefix), and at most one parenthesised hint, at the end
// (parentheses inside it may nest; none elsewhere outside quoted text; never
// "((" or "))"). It returns the line.
func (r Result) Failure(t testing.TB, role string) string {
	t.Helper()
	if r.Code != 1 || r.Stdout != "" {
		t.Fatalf("exit %d, stdout %q; want exit 1 and nothing\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	line, rest, _ := strings.Cut(r.Stderr, "\n")
	if rest != "" || !strings.HasSuffix(r.Stderr, "\n") {
		t.Fatalf("stderr is not exactly one line: %q", r.Stderr)
	}
	if !strings.HasPrefix(line, role+": ") || strings.Count(line, role) != 1 {
		t.Errorf("error line %q does not name the role once, at the start", line)
	}
	if err := checkHint(strings.TrimPrefix(line, role+": ")); err != "" {
		t.Errorf("error line %q: %s", line, err)
	}
	return line
}

// checkHint returns what is wrong with msg's parentheses, or "".
func checkHint(msg string) string {
	if strings.Contains(msg, "((") || strings.Contains(msg, "))") {
		return `it holds "((" or "))"`
	}
	body := msg
	if strings.HasSuffix(msg, ")") {
		depth, open := 0, -1
		for i := len(msg) - 1; i >= 0 && open < 0; i-- {
			switch msg[i] {
			case ')':
				depth++
			case '(':
				if depth--; depth == 0 {
					open = i
				}
			}
		}
		if open <= 0 || msg[open-1] != ' ' {
			return "its closing parenthesis opens no hint"
		}
		body = msg[:open]
	}
	quoted := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '(' || c == ')'):
			return "a parenthesis outside the one hint at the end"
		}
	}
	return ""
}
