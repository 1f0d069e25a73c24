package credhelper_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
)

// These tests run the built binary as the kubelet does (a child process
// named credential-helper-provider, the request on stdin, a clean
// environment), with shell-script helpers that answer, miss, hang, flood
// and fail.

type harness struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	exectest.RequireIsolatedNetwork(t)
	dir := t.TempDir()
	env := exectest.CleanEnv(t)
	// The helpers' directory first on PATH, as a node installs them.
	env = append(env, "PATH="+dir+":"+os.Getenv("PATH"), "AWS_REGION=eu-west-1", "KCRED_TEST_SECRET=do-not-pass")
	return &harness{t: t, bin: exectest.Link(t, "credential-helper-provider"), dir: dir, env: env}
}

// helper writes docker-credential-NAME, a shell script with body.
func (h *harness) helper(name, body string) string {
	h.t.Helper()
	p := filepath.Join(h.dir, "docker-credential-"+name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) run(image string, args ...string) exectest.Result {
	h.t.Helper()
	return exectest.Run(h.t, h.bin, args, h.env, exectest.Request(image))
}

func (h *harness) ok(image string, args ...string) exectest.Response {
	h.t.Helper()
	res := h.run(image, args...)
	if res.Code != 0 {
		h.t.Fatalf("%s %v: exit %d: %s", image, args, res.Code, res.Stderr)
	}
	var r exectest.Response
	if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil {
		h.t.Fatalf("%s: answer %q: %v", image, res.Stdout, err)
	}
	if r.CacheKeyType != "Registry" {
		h.t.Errorf("%s: cacheKeyType %q, want Registry", image, r.CacheKeyType)
	}
	return r
}

// fail checks exit 1, an empty stdout and one stderr line holding want and
// none of the secrets.
func (h *harness) fail(res exectest.Result, want string, secrets ...string) {
	h.t.Helper()
	if res.Code != 1 || res.Stdout != "" || strings.Count(res.Stderr, "\n") != 1 || !strings.HasPrefix(res.Stderr, "credential-helper-provider: ") {
		h.t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1, nothing on stdout, one line on stderr", res.Code, res.Stdout, res.Stderr)
	}
	if !strings.Contains(res.Stderr, want) {
		h.t.Errorf("stderr %q, want %q", res.Stderr, want)
	}
	for _, s := range secrets {
		if strings.Contains(res.Stderr, s) {
			h.t.Errorf("stderr leaks %q: %s", s, res.Stderr)
		}
	}
}

// answering is a helper that answers robot / a secret derived from the
// server it was asked for, and says on stderr what it saw.
const answering = `read -r server || true
printf '{"ServerURL":"%s","Username":"robot","Secret":"s3cret-for-%s"}' "$server" "$server"
echo "asked for $server; AWS_REGION=$AWS_REGION KCRED_TEST_SECRET=$KCRED_TEST_SECRET; returning s3cret-for-$server" >&2`

func TestHelperAnswers(t *testing.T) {
	h := newHarness(t)
	path := h.helper("test", answering)

	r := h.ok("registry.example.com:5000/team/app:v1", "--helper", "test")
	if a := r.Auth["registry.example.com:5000"]; len(r.Auth) != 1 || a.Username != "robot" || a.Password != "s3cret-for-registry.example.com:5000" {
		t.Fatalf("auth %v", r.Auth)
	}
	if r.CacheDuration != "" {
		t.Errorf("cacheDuration %q, want none (the kubelet's default applies)", r.CacheDuration)
	}
	// Docker Hub is asked under docker's legacy server URL, answered under
	// the requested registry.
	r = h.ok("nginx", "--helper-path", path, "--cache-duration=1h")
	if a := r.Auth["docker.io"]; a.Password != "s3cret-for-https://index.docker.io/v1/" || r.CacheDuration != "1h0m0s" {
		t.Fatalf("Docker Hub: auth %v, cacheDuration %q", r.Auth, r.CacheDuration)
	}
	// The helper's environment: the fixed set plus --pass-env, nothing
	// else; its stderr is logged redacted.
	res := h.run("r.example.com/app", "--helper", "test", "--pass-env", "AWS_*", "--v=2")
	if res.Code != 0 {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
	if !strings.Contains(res.Stderr, "AWS_REGION=eu-west-1 KCRED_TEST_SECRET=;") {
		t.Errorf("helper environment: %s", res.Stderr)
	}
	if strings.Contains(res.Stderr, "s3cret-for") || !strings.Contains(res.Stderr, "returning [redacted]") {
		t.Errorf("stderr log leaks or lacks the redacted secret: %s", res.Stderr)
	}
	// A mirror: the helper is asked for the target, the answer also keyed
	// by the source.
	r = h.ok("mirror.local:5000/team/app", "--helper", "test", "--registry-mirror=mirror.local:5000:registry.example.com")
	if a := r.Auth["mirror.local:5000"]; a.Password != "s3cret-for-registry.example.com" || r.Auth["registry.example.com"] != a {
		t.Fatalf("mirror: auth %v", r.Auth)
	}
	// A grandchild holding stdout does not keep the exec open.
	h.helper("lingers", "(sleep 30) &\n"+answering)
	start := time.Now()
	if r := h.ok("r.example.com/app", "--helper", "lingers"); r.Auth["r.example.com"].Username != "robot" {
		t.Errorf("lingering helper: auth %v", r.Auth)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("a lingering grandchild held the exec for %s", d)
	}
}

func TestHelperMisses(t *testing.T) {
	h := newHarness(t)
	h.helper("none", `echo "credentials not found in native keychain"; exit 1`)
	h.helper("empty", `echo '{"ServerURL":"x","Username":"","Secret":""}'`)
	for _, name := range []string{"none", "empty"} {
		if r := h.ok("r.example.com/app", "--helper", name); len(r.Auth) != 0 {
			t.Errorf("%s: auth %v, want an empty answer", name, r.Auth)
		}
	}
}

func TestHelperFailures(t *testing.T) {
	h := newHarness(t)
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlMTIz"
	h.helper("hangs", `echo "waiting for the vault" >&2; sleep 60 & sleep 60`)
	h.helper("floods", `head -c 100000000 /dev/zero | tr '\0' x`)
	h.helper("fails", `echo "login failed for bob: password=hunter2-s3cret, retry with token `+jwt+`" >&2
printf '\033[2J\033[31mforged line\nsecond line\n' >&2
exit 1`)
	h.helper("garbage", `echo "Username: robot Secret: hunter2-s3cret"`)
	h.helper("identity", `echo '{"ServerURL":"r","Username":"<token>","Secret":"hunter2-s3cret"}'`)
	writable := h.helper("writable", answering)
	if err := os.Chmod(writable, 0o777); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	res := h.run("r.example.com/app", "--helper", "hangs")
	h.fail(res, `get r.example.com: no answer within 10s, killed, stderr: "waiting for the vault"`)
	if res.Wall > 15*time.Second {
		t.Errorf("a hanging helper held the exec for %s", res.Wall)
	}

	start = time.Now()
	res = h.run("r.example.com/app", "--helper", "floods")
	h.fail(res, "wrote more than 1048576 bytes on stdout, where a get answer is one small JSON object, and was killed (run the helper by hand")
	if d := time.Since(start); d > 8*time.Second || res.MaxRSS > 64<<20 {
		t.Errorf("100 MB of output took %s and %d bytes of memory", d, res.MaxRSS)
	}

	res = h.run("r.example.com/app", "--helper", "fails")
	h.fail(res, `exit status 1, stderr: "login failed for bob: password=[redacted], retry with token [redacted]`, "hunter2", jwt, "\x1b", "\r")
	if !strings.Contains(res.Stderr, `\x1b[2J`) || !strings.Contains(res.Stderr, "forged line second line") {
		t.Errorf("control characters not escaped or lines not folded: %q", res.Stderr)
	}

	h.fail(h.run("r.example.com/app", "--helper", "garbage"), "not the JSON", "hunter2")
	h.fail(h.run("r.example.com/app", "--helper", "identity"), `identity token, username "<token>", which the kubelet cannot pass to the container runtime (configure the helper to return a username and password)`, "hunter2")
	h.fail(h.run("r.example.com/app", "--helper", "absent"), `find docker-credential-absent: exec: "docker-credential-absent": executable file not found in $PATH (install the helper`)
	h.fail(h.run("r.example.com/app", "--helper-path", writable), "is writable by group or others, mode -rwxrwxrwx")
	h.fail(h.run("r.example.com/app", "--helper", "../x"), `--helper "../x": want the NAME`)
	h.fail(h.run("r.example.com/app"), "no helper (give --helper NAME")
	h.fail(h.run("r.example.com/app", "--helper", "a", "--helper-path", writable), "both given")
	h.fail(h.run("r.example.com/app", "--helper", "fails", "--pass-env", "A B"), `"A B" is not a variable name`)
}
