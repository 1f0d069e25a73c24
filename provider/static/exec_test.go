package static_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
)

// These tests run the built binary as the kubelet does: a child process
// named static-credential-provider, the request on stdin, a clean
// environment.

type harness struct {
	t   *testing.T
	bin string
	env []string
	dir string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	exectest.RequireIsolatedNetwork(t)
	return &harness{t: t, bin: exectest.Link(t, "static-credential-provider"), env: exectest.CleanEnv(t), dir: t.TempDir()}
}

func (h *harness) write(name, content string, mode os.FileMode) string {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) ok(image string, args ...string) exectest.Response {
	h.t.Helper()
	res := exectest.Run(h.t, h.bin, args, h.env, exectest.Request(image))
	if res.Code != 0 {
		h.t.Fatalf("%s: exit %d: %s", image, res.Code, res.Stderr)
	}
	var r exectest.Response
	if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil {
		h.t.Fatalf("%s: answer %q: %v", image, res.Stdout, err)
	}
	want := "Registry"
	if strings.HasPrefix(image, "quay.local:8443/") {
		want = "Image" // a mirror source with a path on this host: per image
	}
	if r.CacheKeyType != want || r.CacheDuration != "" {
		h.t.Errorf("%s: cacheKeyType %q, cacheDuration %q; want %s and none", image, r.CacheKeyType, r.CacheDuration, want)
	}
	return r
}

// fail runs a request that must fail: exit 1, empty stdout, one stderr
// line without the secrets.
func (h *harness) fail(image string, args ...string) string {
	h.t.Helper()
	res := exectest.Run(h.t, h.bin, args, h.env, exectest.Request(image))
	if res.Code != 1 || res.Stdout != "" || strings.Count(res.Stderr, "\n") != 1 || !strings.HasPrefix(res.Stderr, "static-credential-provider: ") {
		h.t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit 1, nothing on stdout, one line on stderr", image, res.Code, res.Stdout, res.Stderr)
	}
	for _, s := range []string{"s3cret", "r0tated", "b0b"} {
		if strings.Contains(res.Stderr, s) {
			h.t.Errorf("stderr leaks %q: %s", s, res.Stderr)
		}
	}
	return res.Stderr
}

func TestRotationBetweenExecs(t *testing.T) {
	h := newHarness(t)
	pw := h.write("bob.password", "b0b-1\n", 0o600)
	cfg := h.write("static.yaml", "registries:\n- registry: \"*.example.com\"\n  username: alice\n  password: s3cret-1\n- registry: registry.internal:5000/team\n  username: bob\n  passwordFile: bob.password\n", 0o600)
	args := []string{"--config", cfg}
	if a := h.ok("reg.example.com/app:v1", args...).Auth["*.example.com"]; a.Username != "alice" || a.Password != "s3cret-1" {
		t.Fatalf("first exec: %+v", a)
	}
	if a := h.ok("registry.internal:5000/team/app", args...).Auth["registry.internal:5000/team"]; a.Password != "b0b-1" {
		t.Fatalf("first exec, password file: %+v", a)
	}
	// A Secret update: the kubelet swaps the volume's ..data symlink; a new
	// file replaces the old one. The next exec answers the new values.
	h.write("static.yaml.new", "registries:\n- registry: \"*.example.com\"\n  username: alice2\n  password: r0tated-2\n- registry: registry.internal:5000/team\n  username: bob\n  passwordFile: bob.password\n", 0o600)
	if err := os.Rename(filepath.Join(h.dir, "static.yaml.new"), cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, []byte("b0b-2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if a := h.ok("reg.example.com/app:v1", args...).Auth["*.example.com"]; a.Username != "alice2" || a.Password != "r0tated-2" {
		t.Fatalf("after rotation: %+v", a)
	}
	if a := h.ok("registry.internal:5000/team/app", args...).Auth["registry.internal:5000/team"]; a.Password != "b0b-2" {
		t.Fatalf("after rotation, password file: %+v", a)
	}
	// Not the file's registries: an empty answer, not an error.
	if r := h.ok("ghcr.io/app", args...); len(r.Auth) != 0 {
		t.Fatalf("other registry: %v", r.Auth)
	}
}

func TestUnsafeOrBrokenFilesAreRefused(t *testing.T) {
	h := newHarness(t)
	good := "registries:\n- registry: r.example.com\n  username: u\n  password: s3cret\n"
	fifo := filepath.Join(h.dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"group-writable", []string{"--config", h.write("gw.yaml", good, 0o664)}, "gw.yaml is writable by group or others, mode -rw-rw-r-- (chmod go-w the file"},
		{"world-writable", []string{"--config", h.write("ww.yaml", good, 0o666)}, "writable by group or others"},
		{"password file writable by others", []string{"--config", h.write("pf.yaml", "registries:\n- {registry: r.example.com, username: u, passwordFile: pw}\n", 0o600)}, "static credentials for r.example.com: insecure file: "},
		{"missing", []string{"--config", filepath.Join(h.dir, "absent.yaml")}, "read static config: open "},
		{"default path missing", nil, "/etc/kcred/static.yaml"},
		{"a FIFO does not hang the exec", []string{"--config", fifo}, "not a regular file"},
		{"bad YAML", []string{"--config", h.write("bad.yaml", "registries: [\n  password: s3cret", 0o600)}, "not a static credential config"},
		{"unknown field", []string{"--config", h.write("typo.yaml", "registries:\n- {registry: r.example.com, username: u, pasword: s3cret}\n", 0o600)}, `unknown field "pasword"`},
		{"positional argument", []string{"static.yaml"}, "unexpected argument"},
	}
	h.write("pw", "s3cret", 0o646)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := h.fail("r.example.com/app", tt.args...); !strings.Contains(msg, tt.want) {
				t.Errorf("stderr %q, want %q", msg, tt.want)
			}
		})
	}
}

func TestMirrorOnStatic(t *testing.T) {
	h := newHarness(t)
	cfg := h.write("static.yaml", "registries:\n- registry: registry.internal:5000\n  username: robot\n  password: s3cret-m\n", 0o600)
	args := []string{"--config", cfg, "--registry-mirror=docker.io:registry.internal:5000", "--registry-mirror", "quay.local:8443/org:registry.internal:5000"}
	for image, key := range map[string]string{
		"nginx:1.27": "docker.io",
		"quay.local:8443/org/app@sha256:0123456789012345678901234567890123456789012345678901234567890123": "quay.local:8443/org",
	} {
		r := h.ok(image, args...)
		if a := r.Auth[key]; a.Username != "robot" || a.Password != "s3cret-m" {
			t.Errorf("%s: auth %v, want robot under %s", image, r.Auth, key)
		}
		if _, ok := r.Auth["registry.internal:5000"]; !ok {
			t.Errorf("%s: auth %v, want the target's key too", image, r.Auth)
		}
	}
	// Outside the source's path: not mirrored, and the file has nothing.
	if r := h.ok("quay.local:8443/other/app", args...); len(r.Auth) != 0 {
		t.Errorf("unmirrored path: %v", r.Auth)
	}
	if msg := h.fail("nginx", "--config", cfg, "--registry-mirror=docker.io"); !strings.Contains(msg, `registry mirror "docker.io"`) {
		t.Errorf("bad mirror: %s", msg)
	}
}
