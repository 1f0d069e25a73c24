package install

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeKcred answers `NAME --version` as kcred does: "ROLE (kcred) test",
// where alias-a is an alias of role-a.
const fakeKcred = `#!/bin/sh
name=$(basename "$0" .exe)
case "$name" in
alias-a) name=role-a ;;
esac
if [ "$1" = --version ]; then echo "$name (kcred) test"; exit 0; fi
exit 3
`

// brokenKcred is a new binary that does not run as a provider.
const brokenKcred = "#!/bin/sh\necho 'exec format error' >&2\nexit 1\n"

func config(names ...string) string {
	s := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n"
	for _, n := range names {
		s += "- name: " + n + "\n  matchImages: [\"*.example.com\"]\n  defaultCacheDuration: 12h\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
	}
	return s
}

// invalidConfig lacks a provider's apiVersion: the kubelet refuses it.
const invalidConfig = "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: role-a\n  matchImages: [\"*.example.com\"]\n  defaultCacheDuration: 12h\n"

// env is one test's world: a self binary, a bin dir, a config dir.
type env struct {
	self, bin, etc, src string
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func TestRun(t *testing.T) {
	both := []Link{{"role-a", "role-a"}, {"role-b", "role-b"}}
	cases := []struct {
		name   string
		setup  func(t *testing.T, e env, o *Options)
		want   []string // lines (substrings) the output must have
		notOut []string // substrings the output must not have
		err    string   // substring of the error; "" for success
		check  func(t *testing.T, e env)
	}{{
		name: "fresh dir",
		want: []string{"installed BIN/kcred", "linked BIN/role-a -> kcred", "linked BIN/role-b -> kcred", "verified BIN/role-a: answers as role-a (kcred) test", "next exec"},
		check: func(t *testing.T, e env) {
			if read(t, filepath.Join(e.bin, "kcred")) != fakeKcred {
				t.Error("kcred is not a copy of self")
			}
			fi, err := os.Stat(filepath.Join(e.bin, "kcred"))
			if err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("kcred mode: %v %v", fi.Mode(), err)
			}
			for _, n := range []string{"role-a", "role-b"} {
				if target, err := os.Readlink(filepath.Join(e.bin, n)); err != nil || target != "kcred" {
					t.Errorf("%s: link %q %v, want relative link to kcred", n, target, err)
				}
			}
		},
	}, {
		name: "idempotent rerun",
		setup: func(t *testing.T, e env, o *Options) {
			if err := Run(context.Background(), *o, func(string) {}); err != nil {
				t.Fatal(err)
			}
		},
		want:   []string{"unchanged BIN/kcred", "unchanged BIN/role-a -> kcred", "unchanged BIN/role-b -> kcred", "verified BIN/role-b"},
		notOut: []string{"installed", "linked"},
	}, {
		name: "new version replaces the binary",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, filepath.Join(e.bin, "kcred"), "#!/bin/sh\n# old\n", 0o755)
			if err := os.Symlink("kcred", filepath.Join(e.bin, "role-a")); err != nil {
				t.Fatal(err)
			}
		},
		want:   []string{"installed BIN/kcred", "unchanged BIN/role-a -> kcred", "linked BIN/role-b"},
		notOut: []string{"kept as"},
		check: func(t *testing.T, e env) {
			if read(t, filepath.Join(e.bin, "kcred")) != fakeKcred {
				t.Error("kcred not replaced")
			}
		},
	}, {
		name: "replaces an upstream binary and keeps it",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, filepath.Join(e.bin, "role-a"), "upstream", 0o755)
			if err := os.Symlink("/opt/upstream/role-b", filepath.Join(e.bin, "role-b")); err != nil {
				t.Fatal(err)
			}
		},
		want: []string{"linked BIN/role-a -> kcred (replaced a file, kept as role-a.kcred-previous)", "linked BIN/role-b -> kcred (replaced a symlink, kept as role-b.kcred-previous)"},
		check: func(t *testing.T, e env) {
			if got := read(t, filepath.Join(e.bin, "role-a.kcred-previous")); got != "upstream" {
				t.Errorf("previous role-a = %q", got)
			}
			if target, _ := os.Readlink(filepath.Join(e.bin, "role-b.kcred-previous")); target != "/opt/upstream/role-b" {
				t.Errorf("previous role-b -> %q", target)
			}
			if target, _ := os.Readlink(filepath.Join(e.bin, "role-a")); target != "kcred" {
				t.Errorf("role-a -> %q", target)
			}
		},
	}, {
		name: "roles subset and alias",
		setup: func(t *testing.T, e env, o *Options) {
			o.Links = []Link{{"alias-a", "role-a"}}
		},
		want:   []string{"linked BIN/alias-a -> kcred", "verified BIN/alias-a: answers as role-a"},
		notOut: []string{"role-b"},
		check: func(t *testing.T, e env) {
			if exists(filepath.Join(e.bin, "role-a")) || exists(filepath.Join(e.bin, "role-b")) {
				t.Error("linked a name not asked for")
			}
		},
	}, {
		name: "bin dir is a file",
		setup: func(t *testing.T, e env, o *Options) {
			o.BinDir = filepath.Join(e.etc, "file")
			write(t, o.BinDir, "x", 0o644)
		},
		err: "--bin-dir " + "ETC/file is not a directory",
	}, {
		name:  "bin dir missing",
		setup: func(t *testing.T, e env, o *Options) { o.BinDir = filepath.Join(e.etc, "nope") },
		err:   "does not exist",
	}, {
		name: "directory in the way of a link",
		setup: func(t *testing.T, e env, o *Options) {
			if err := os.Mkdir(filepath.Join(e.bin, "role-b"), 0o755); err != nil {
				t.Fatal(err)
			}
		},
		err: "link BIN/role-b: a directory of that name is in the way",
	}, {
		name: "new binary that does not run replaces nothing",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, filepath.Join(e.bin, "kcred"), fakeKcred+"# old\n", 0o755)
			write(t, e.self, brokenKcred, 0o755)
		},
		err: "verify role-a: the new binary, written to BIN/kcred, fails: --version: exit status 1: exec format error (nothing replaced)",
		check: func(t *testing.T, e env) {
			if read(t, filepath.Join(e.bin, "kcred")) != fakeKcred+"# old\n" {
				t.Error("old kcred replaced")
			}
			if exists(filepath.Join(e.bin, "role-a")) {
				t.Error("linked although verification failed")
			}
		},
	}, {
		name: "an installed name that does not answer",
		setup: func(t *testing.T, e env, o *Options) {
			o.Verify = func(_ context.Context, path string, l Link) error {
				if l.Name == "role-b" && filepath.Dir(path) == e.bin {
					return errors.New("--version printed \"\"")
				}
				return nil
			}
		},
		err: `verify role-b at BIN/role-b: --version printed ""`,
	}, {
		name: "config refused: nothing written, previous intact",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, e.src, invalidConfig, 0o644)
			write(t, filepath.Join(e.etc, "cp.yaml"), "previous", 0o644)
			o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "cp.yaml")
		},
		err: "config SRC refused, nothing changed: the kubelet would not start: failed to validate credential provider config: providers.apiVersion: Required value",
		check: func(t *testing.T, e env) {
			if read(t, filepath.Join(e.etc, "cp.yaml")) != "previous" {
				t.Error("previous config changed")
			}
			if exists(filepath.Join(e.etc, "cp.yaml.kcred-previous")) || exists(filepath.Join(e.bin, "kcred")) {
				t.Error("something was written")
			}
		},
	}, {
		name: "config naming a binary that is not there",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, e.src, config("role-a", "upstream-c"), 0o644)
			o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "cp.yaml")
		},
		err: "plugin binary executable  did not exist",
		check: func(t *testing.T, e env) {
			if exists(filepath.Join(e.etc, "cp.yaml")) || exists(filepath.Join(e.bin, "kcred")) {
				t.Error("something was written")
			}
		},
	}, {
		name: "config accepted: written, previous kept",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, filepath.Join(e.bin, "upstream-c"), "#!/bin/sh\n", 0o755)
			write(t, e.src, config("role-a", "upstream-c"), 0o644)
			write(t, filepath.Join(e.etc, "cp.yaml"), "previous", 0o640)
			// Another kind of config beside it: not a drop-in directory.
			write(t, filepath.Join(e.etc, "kubelet.yaml"), "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n", 0o644)
			o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "cp.yaml")
		},
		want: []string{"config validated SRC: the kubelet would start with ETC/cp.yaml as its", "config written ETC/cp.yaml (previous kept as ETC/cp.yaml.kcred-previous)", "next restart"},
		check: func(t *testing.T, e env) {
			if read(t, filepath.Join(e.etc, "cp.yaml")) != config("role-a", "upstream-c") {
				t.Error("config not written")
			}
			if read(t, filepath.Join(e.etc, "cp.yaml.kcred-previous")) != "previous" {
				t.Error("previous not kept")
			}
			if fi, _ := os.Stat(filepath.Join(e.etc, "cp.yaml")); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want the previous file's 0640", fi.Mode().Perm())
			}
		},
	}, {
		name: "config unchanged",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, e.src, config("role-a"), 0o644)
			write(t, filepath.Join(e.etc, "cp.yaml"), config("role-a"), 0o644)
			o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "cp.yaml")
		},
		want:   []string{"config unchanged ETC/cp.yaml"},
		notOut: []string{"config written", "next restart"},
		check: func(t *testing.T, e env) {
			if exists(filepath.Join(e.etc, "cp.yaml.kcred-previous")) {
				t.Error("previous written for unchanged content")
			}
		},
	}, {
		name: "drop-in directory: duplicate name in another file refused",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, filepath.Join(e.etc, "10-other.yaml"), config("role-a"), 0o644)
			write(t, e.src, config("role-a"), 0o644)
			o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "20-kcred.yaml")
		},
		err: `the kubelet would not start: duplicate provider name "role-a" found in configuration file(s)`,
		check: func(t *testing.T, e env) {
			if exists(filepath.Join(e.etc, "20-kcred.yaml")) {
				t.Error("config written")
			}
		},
	}, {
		name: "drop-in directory: another file's error is named by its real path",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, filepath.Join(e.etc, "10-other.yaml"), config("role-b"), 0o644)
			write(t, filepath.Join(e.etc, "30-broken.json"), `{"kind": "CredentialProviderConfig", "apiVersion": "kubelet.config.k8s.io/v1", "bogus": 1}`, 0o644)
			write(t, e.src, config("role-a"), 0o644)
			o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "20-kcred.yaml")
		},
		err: `error decoding config "ETC/30-broken.json"`,
	}, {
		name: "drop-in directory: accepted with the other files",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, filepath.Join(e.etc, "10-other.yaml"), config("role-b"), 0o644)
			write(t, e.src, config("role-a"), 0o644)
			o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "20-kcred.yaml")
		},
		want: []string{"the kubelet would start with the drop-in directory ETC (20-kcred.yaml and 10-other.yaml)", "config written ETC/20-kcred.yaml (new file)"},
	}, {
		name: "drop-in directory: a name the kubelet would skip",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, filepath.Join(e.etc, "10-other.yaml"), config("role-b"), 0o644)
			write(t, e.src, config("role-a"), 0o644)
			o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "kcred.conf")
		},
		err: "where the kubelet reads only *.json, *.yaml and *.yml",
	}, {
		name: "config destination is a directory",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, e.src, config("role-a"), 0o644)
			o.Config, o.ConfigDest = e.src, e.etc
		},
		err: "is a directory: give the file to write in it",
	}, {
		name: "config destination's directory is a file",
		setup: func(t *testing.T, e env, o *Options) {
			write(t, e.src, config("role-a"), 0o644)
			write(t, filepath.Join(e.etc, "f"), "", 0o644)
			o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "f", "cp.yaml")
		},
		err: "ETC/f is not a directory",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			e := env{self: filepath.Join(root, "self"), bin: filepath.Join(root, "bin"), etc: filepath.Join(root, "etc"), src: filepath.Join(root, "src.yaml")}
			for _, d := range []string{e.bin, e.etc} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			write(t, e.self, fakeKcred, 0o755)
			o := Options{Self: e.self, BinDir: e.bin, Links: both, Version: "test"}
			if c.setup != nil {
				c.setup(t, e, &o)
			}
			subst := strings.NewReplacer("BIN", e.bin, "ETC", e.etc, "SRC", e.src)
			var out []string
			err := Run(context.Background(), o, func(s string) { out = append(out, s) })
			text := strings.Join(out, "\n")
			if c.err == "" && err != nil {
				t.Fatalf("error: %v\noutput:\n%s", err, text)
			}
			if c.err != "" && (err == nil || !strings.Contains(err.Error(), subst.Replace(c.err))) {
				t.Fatalf("error %v, want one with %q", err, subst.Replace(c.err))
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			for _, w := range c.want {
				if !strings.Contains(text, subst.Replace(w)) {
					t.Errorf("output lacks %q:\n%s", subst.Replace(w), text)
				}
			}
			for _, w := range c.notOut {
				if strings.Contains(text, w) {
					t.Errorf("output has %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "restart") && !strings.Contains(text, "never restarts") {
				t.Errorf("output must say kcred never restarts the kubelet:\n%s", text)
			}
			if c.check != nil {
				c.check(t, e)
			}
			// Nothing temporary is ever left behind, success or not.
			for _, d := range []string{e.bin, e.etc} {
				entries, _ := os.ReadDir(d)
				for _, de := range entries {
					if strings.HasPrefix(de.Name(), tempPrefix) {
						t.Errorf("left behind: %s", filepath.Join(d, de.Name()))
					}
				}
			}
		})
	}
}

// An unchanged rerun touches nothing: the binary keeps its inode, so a
// DaemonSet restart does not churn the node.
func TestRerunKeepsInode(t *testing.T) {
	root := t.TempDir()
	self, bin := filepath.Join(root, "self"), filepath.Join(root, "bin")
	write(t, self, fakeKcred, 0o755)
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	o := Options{Self: self, BinDir: bin, Links: []Link{{"role-a", "role-a"}}}
	if err := Run(context.Background(), o, func(string) {}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(filepath.Join(bin, "kcred"))
	if err := Run(context.Background(), o, func(string) {}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(bin, "kcred"))
	if !os.SameFile(before, after) {
		t.Error("an identical binary was rewritten")
	}
}

func TestVersionCheck(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "kcred")
	write(t, bin, fakeKcred, 0o755)
	link := filepath.Join(dir, "role-a")
	if err := os.Symlink("kcred", link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		role, version, err string
	}{
		{"role-a", "test", ""},
		{"role-a", "", ""},
		{"role-a", "v2", `--version printed "role-a (kcred) test", want "role-a (kcred) v2"`},
		{"role-b", "", `want "role-b (kcred) " followed by a version`},
	} {
		err := VersionCheck(context.Background(), link, c.role, c.version)
		if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("VersionCheck(%s, %q) = %v, want %q", c.role, c.version, err, c.err)
		}
	}
	if err := VersionCheck(context.Background(), filepath.Join(dir, "missing"), "role-a", ""); err == nil {
		t.Error("a missing binary verified")
	}
}
