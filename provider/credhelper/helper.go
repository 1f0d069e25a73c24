// Package credhelper is the credential-helper-provider role: it turns any
// docker credential helper (docker-credential-ecr-login, -gcr, -acr-env,
// -pass, -secretservice, a vault helper, a company's own) into a kubelet
// provider by running the helper's `get` for the requested registry.
//
// The helper is someone else's program, so everything about it is bounded:
// time (Timeout, then its whole process group is killed), output
// (MaxOutput), environment (a fixed set plus what --pass-env names), and
// what of its stderr reaches the kubelet's log (a short summary with
// anything secret-looking redacted).
package credhelper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Timeout bounds one helper run.
const Timeout = 10 * time.Second

// MaxOutput bounds what is read of the helper's stdout (and stderr): an
// answer is a few hundred bytes.
const MaxOutput = 1 << 20

// waitDelay bounds the wait for the helper's output pipes once it has
// exited or been killed: a grandchild that inherited stdout must not hold
// the exec open.
const waitDelay = time.Second

// notFound is what helpers print on stdout, exiting 1, when they hold no
// credential for the server (docker-credential-helpers'
// errCredentialsNotFoundMessage).
const notFound = "credentials not found"

// dockerHubServer is the server URL docker passes helpers for Docker Hub.
const dockerHubServer = "https://index.docker.io/v1/"

// baseEnv are the variables a helper always gets from kcred's environment:
// what finding programs, a home directory, locale, temp files and outbound
// HTTPS need.
var baseEnv = []string{
	"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR",
	"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
}

// errIdentityToken is a helper answering an identity token (username
// "<token>"): its own hint says what to change.
var errIdentityToken = errors.New(`it answered an identity token, username "<token>", which the kubelet cannot pass to the container runtime`)

// identityTokenHint is errIdentityToken's hint.
const identityTokenHint = "configure the helper to return a username and password"

// helperAnswer is the helper protocol's `get` reply.
type helperAnswer struct {
	ServerURL string
	Username  string
	Secret    string
}

// run executes path `get` with server on stdin and returns its answer;
// found is false when the helper has no credential for server. stderr is
// the helper's stderr, summarised and redacted, for the log.
func run(ctx context.Context, path string, env []string, server string) (ans helperAnswer, found bool, stderr string, err error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "get")
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(server)
	out := &capped{limit: MaxOutput, overflow: cancel}
	errOut := &capped{limit: MaxOutput, overflow: cancel}
	cmd.Stdout, cmd.Stderr = out, errOut
	cmd.WaitDelay = waitDelay
	killGroup := ownGroup(cmd)
	runErr := cmd.Run()
	// Whatever the helper left behind in its process group goes too.
	killGroup()
	if errors.Is(runErr, exec.ErrWaitDelay) {
		// It exited, but something it started still held its output: the
		// answer it wrote before exiting stands.
		runErr = nil
	}

	stdout := bytes.TrimSpace(out.buf.Bytes())
	if runErr == nil {
		if err := json.Unmarshal(stdout, &ans); err != nil {
			return helperAnswer{}, false, summarise(errOut.buf.String()), fmt.Errorf("its answer is not the JSON {\"ServerURL\",\"Username\",\"Secret\"} of the credential helper protocol: %d bytes on stdout%s", len(stdout), details(errOut.buf.String()))
		}
		stderr = summarise(errOut.buf.String(), ans.Username, ans.Secret)
		switch {
		case ans.Secret == "":
			return helperAnswer{}, false, stderr, nil
		case ans.Username == "<token>":
			return helperAnswer{}, false, stderr, errIdentityToken
		}
		return ans, true, stderr, nil
	}
	stderr = summarise(errOut.buf.String())
	var exitErr *exec.ExitError
	switch {
	case out.over:
		return helperAnswer{}, false, stderr, fmt.Errorf("it wrote more than %d bytes on stdout, where a get answer is one small JSON object, and was killed", MaxOutput)
	case errOut.over:
		return helperAnswer{}, false, stderr, fmt.Errorf("it wrote more than %d bytes on stderr and was killed", MaxOutput)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return helperAnswer{}, false, stderr, fmt.Errorf("no answer within %s, killed%s", Timeout, details(errOut.buf.String()))
	case ctx.Err() != nil:
		return helperAnswer{}, false, stderr, ctx.Err()
	case !errors.As(runErr, &exitErr):
		return helperAnswer{}, false, stderr, runErr
	case bytes.HasPrefix(stdout, []byte(notFound)):
		return helperAnswer{}, false, stderr, nil
	}
	return helperAnswer{}, false, stderr, fmt.Errorf("%s%s", exitErr, details(errOut.buf.String()))
}

// capped keeps up to limit bytes; past that it stops the helper (through
// overflow) and fails the copy, which closes the pipe.
type capped struct {
	buf      bytes.Buffer
	limit    int
	over     bool
	overflow func()
}

func (c *capped) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > c.limit {
		c.buf.Write(p[:c.limit-c.buf.Len()])
		c.over = true
		c.overflow()
		return 0, errors.New("output limit reached")
	}
	return c.buf.Write(p)
}

// helperEnv is the helper's environment: baseEnv plus the variables pass
// names (NAME, or PREFIX* for every variable starting with PREFIX), taken
// from kcred's own environment (the kubelet's plus the provider's env).
func helperEnv(environ []string, pass []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if slices.Contains(baseEnv, name) || passes(pass, name) {
			out = append(out, kv)
		}
	}
	return out
}

func passes(patterns []string, name string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(name, prefix) || p == name {
			return true
		}
	}
	return false
}
