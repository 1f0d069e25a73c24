package static

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/kcred/kcred/plugin"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // normalised keys
		wantErr string
	}{
		{name: "issue example", in: `registries:
  - registry: "*.example.com"
    username: alice
    password: s3cret
  - registry: "registry.internal:5000/team"
    username: bob
    passwordFile: /etc/kcred/bob.password
`, want: []string{"*.example.com", "registry.internal:5000/team"}},
		{name: "JSON", in: `{"registries":[{"registry":"https://index.docker.io/v1/","username":"u","password":"s3cret"}]}`, want: []string{"index.docker.io"}},
		{name: "empty", in: ``, wantErr: `no "registries" entries`},
		{name: "no entries", in: `registries: []`, wantErr: `no "registries" entries`},
		{name: "not YAML", in: "registries: [", wantErr: "not a static credential config"},
		{name: "unknown field", in: "registries:\n- registry: r.io\n  username: u\n  pasword: s3cret\n", wantErr: `config: unknown field "pasword" (want YAML`},
		{name: "wrong type", in: "registries:\n- registry: r.io\n  username: u\n  password: [s3cret]\n", wantErr: "not a static credential config"},
		{name: "empty registry", in: "registries:\n- registry: ' '\n  username: u\n  password: s3cret\n", wantErr: `registries[0]: "registry" is empty`},
		{name: "bad key", in: "registries:\n- registry: 'r.io:port'\n  username: u\n  password: s3cret\n", wantErr: "not a registry key"},
		{name: "path only", in: "registries:\n- registry: '/team'\n  username: u\n  password: s3cret\n", wantErr: "not a registry key"},
		{name: "duplicate after normalising", in: "registries:\n- registry: r.io\n  username: u\n  password: s3cret\n- registry: https://r.io/\n  username: v\n  password: s3cret\n", wantErr: "same key as registries[0]"},
		{name: "no username", in: "registries:\n- registry: r.io\n  password: s3cret\n", wantErr: `"username" is empty`},
		{name: "both secrets", in: "registries:\n- registry: r.io\n  username: u\n  password: s3cret\n  passwordFile: /x\n", wantErr: "not both"},
		{name: "no secret", in: "registries:\n- registry: r.io\n  username: u\n", wantErr: "no secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "\n") {
					t.Errorf("error leaks the secret or spans lines: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, e := range c.Registries {
				keys = append(keys, e.key)
			}
			if !reflect.DeepEqual(keys, tt.want) {
				t.Errorf("keys %v, want %v", keys, tt.want)
			}
		})
	}
}

func TestReadPrivate(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, mode os.FileMode, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := file("ok", 0o644, "x")
	link := filepath.Join(dir, "link") // a Secret volume's files are symlinks
	if err := os.Symlink(ok, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, wantErr string
	}{
		{ok, ""},
		{link, ""},
		{file("group-writable", 0o664, "x"), "writable by group or others, mode -rw-rw-r--"},
		{file("other-writable", 0o602, "x"), "writable by group or others"},
		{file("big", 0o600, strings.Repeat("x", 11)), "larger than 10 bytes"},
		{fifo, "not a regular file"},
		{dir, "not a regular file"},
		{filepath.Join(dir, "absent"), "no such file"},
	}
	for _, tt := range tests {
		_, _, err := readPrivate(tt.path, 10)
		if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("readPrivate(%s) = %v, want %q", filepath.Base(tt.path), err, tt.wantErr)
		}
	}
}

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("bob.password", "b0b-secret\n")
	cfg := write("static.yaml", `registries:
- {registry: "*.example.com", username: alice, password: a-secret}
- {registry: "registry.internal:5000/team", username: bob, passwordFile: bob.password}
- {registry: "registry.internal:5000/other", username: carol, passwordFile: /absent}
- {registry: "registry.internal:5000", username: dave, password: d-secret}
- {registry: "https://index.docker.io/v1/", username: hub, password: h-secret}
`)
	p := &Provider{path: cfg, env: plugin.Env{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	tests := []struct {
		image   string
		want    map[string]string
		wantErr string
	}{
		{image: "reg.example.com/app:v1", want: map[string]string{"*.example.com": "alice:a-secret"}},
		{image: "a.b.example.com/app", want: map[string]string{}},
		{image: "reg.example.com:5000/app", want: map[string]string{}},
		{image: "nginx", want: map[string]string{"index.docker.io": "hub:h-secret"}},
		{image: "ghcr.io/app", want: map[string]string{}},
		// Every entry of the host is answered (the kubelet caches per
		// registry), so a password file of that host is read even for an
		// image outside its path.
		{image: "registry.internal:5000/team/app", wantErr: "static credentials for registry.internal:5000/other: open /absent"},
	}
	for _, tt := range tests {
		ans, err := p.Credentials(context.Background(), plugin.Request{Image: tt.image})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.image, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.image, err)
		}
		got := map[string]string{}
		for k, v := range ans.Auth {
			got[k] = v.Username + ":" + v.Password
		}
		if !reflect.DeepEqual(got, tt.want) || ans.CacheKeyType != plugin.CacheKeyRegistry || !ans.ExpiresAt.IsZero() {
			t.Errorf("%s: auth %v (%s, %v), want %v", tt.image, got, ans.CacheKeyType, ans.ExpiresAt, tt.want)
		}
	}
	write("static.yaml", `registries:
- {registry: "registry.internal:5000/team", username: bob, passwordFile: bob.password}
- {registry: "registry.internal:5000", username: dave, password: d-secret}
`)
	ans, err := p.Credentials(context.Background(), plugin.Request{Image: "registry.internal:5000/team/app"})
	want := map[string]plugin.AuthConfig{"registry.internal:5000/team": {Username: "bob", Password: "b0b-secret"}, "registry.internal:5000": {Username: "dave", Password: "d-secret"}}
	if err != nil || !reflect.DeepEqual(ans.Auth, want) {
		t.Errorf("path-scoped entries: %v, %v; want %v", ans.Auth, err, want)
	}
}

// FuzzParse checks that any file parses or fails without a panic, with a
// one-line error that never quotes a password, and that every accepted
// entry has a normalised key, a username and exactly one secret.
func FuzzParse(f *testing.F) {
	f.Add([]byte("registries:\n- registry: \"*.example.com\"\n  username: alice\n  password: s3cret\n"))
	f.Add([]byte(`{"registries":[{"registry":"r.io:5000/team","username":"bob","passwordFile":"/x"}]}`))
	f.Add([]byte("registries:\n- {registry: 'https://index.docker.io/v1/', username: u, password: s3cret}\n- {registry: r.io, username: u, password: s3cret}\n"))
	f.Add([]byte("registries: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		for _, e := range c.Registries {
			if e.key == "" || e.Username == "" || (e.Password == "") == (e.PasswordFile == "") {
				t.Fatalf("accepted a bad entry: key %q, username %q, secret set %v/%v", e.key, e.Username, e.Password != "", e.PasswordFile != "")
			}
		}
	})
}
