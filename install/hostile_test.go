//go:build unix

package install

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// newEnv is a world for one test: a self binary answering --version, an
// empty bin dir, a config dir and a config source.
func newEnv(t *testing.T) (env, Options) {
	t.Helper()
	root := t.TempDir()
	e := env{self: filepath.Join(root, "self"), bin: filepath.Join(root, "bin"), etc: filepath.Join(root, "etc"), src: filepath.Join(root, "src.yaml")}
	for _, d := range []string{e.bin, e.etc} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, e.self, fakeKcred, 0o755)
	write(t, e.src, config("role-a"), 0o644)
	return e, Options{Self: e.self, BinDir: e.bin, Links: []Link{{"role-a", "role-a"}}, Version: "test"}
}

// Every path install reads or replaces must be a regular file (or, at a
// provider name, a symlink): anything else is refused at once with one
// line, and nothing is changed.
func TestRunRefusesNonRegularFiles(t *testing.T) {
	mkfifo := func(t *testing.T, path string) {
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		plant func(t *testing.T, e env, o *Options)
		want  string
	}{
		{"binary name a symlink to /dev/zero", func(t *testing.T, e env, _ *Options) {
			if err := os.Symlink("/dev/zero", filepath.Join(e.bin, "kcred")); err != nil {
				t.Fatal(err)
			}
		}, "refusing BIN/kcred: is a character device, not a regular file"},
		{"binary name a FIFO", func(t *testing.T, e env, _ *Options) { mkfifo(t, filepath.Join(e.bin, "kcred")) }, "refusing BIN/kcred: is a FIFO, a named pipe, not a regular file"},
		{"provider name a FIFO", func(t *testing.T, e env, _ *Options) { mkfifo(t, filepath.Join(e.bin, "role-a")) }, "refusing BIN/role-a: is a FIFO, a named pipe"},
		{"--config a FIFO", func(t *testing.T, e env, o *Options) {
			mkfifo(t, filepath.Join(e.etc, "fifo.yaml"))
			o.Config, o.ConfigDest = filepath.Join(e.etc, "fifo.yaml"), filepath.Join(e.etc, "kcred.yaml")
		}, "read --config: open ETC/fifo.yaml: is a FIFO, a named pipe, not a regular file"},
		{"--config /dev/zero", func(t *testing.T, e env, o *Options) {
			o.Config, o.ConfigDest = "/dev/zero", filepath.Join(e.etc, "kcred.yaml")
		}, "read --config: open /dev/zero: is a character device"},
		{"--config-dest a FIFO", func(t *testing.T, e env, o *Options) {
			mkfifo(t, filepath.Join(e.etc, "kcred.yaml"))
			o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "kcred.yaml")
		}, "refusing ETC/kcred.yaml: is a FIFO, a named pipe"},
		{"a FIFO among the config files", func(t *testing.T, e env, o *Options) {
			mkfifo(t, filepath.Join(e.etc, "other.yaml"))
			o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "kcred.yaml")
		}, "refusing ETC/other.yaml: is a FIFO, a named pipe"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, o := newEnv(t)
			c.plant(t, e, &o)
			done := make(chan error, 1)
			go func() { done <- Run(context.Background(), o, func(string) {}) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run blocked")
			}
			want := strings.NewReplacer("BIN", e.bin, "ETC", e.etc).Replace(c.want)
			if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line with %q", err, want)
			}
			if exists(filepath.Join(e.bin, "role-a")) && c.name != "provider name a FIFO" {
				t.Errorf("a link was made after the refusal")
			}
			leftovers(t, e.bin, e.etc)
		})
	}
}

func leftovers(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		entries, _ := os.ReadDir(d)
		for _, de := range entries {
			if strings.HasPrefix(de.Name(), tempPrefix) {
				t.Errorf("left behind: %s", filepath.Join(d, de.Name()))
			}
		}
	}
}

// A signal (ctx ending) stops the install within its step: the temporary
// files of the step are removed and nothing is half replaced.
func TestRunStopsWhenCancelled(t *testing.T) {
	e, o := newEnv(t)
	write(t, filepath.Join(e.bin, "kcred"), "old binary", 0o755)
	ctx, cancel := context.WithCancel(context.Background())
	verifying := make(chan struct{})
	o.Verify = func(ctx context.Context, path string, l Link) error {
		close(verifying)
		<-ctx.Done()
		return ctx.Err()
	}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o, func(string) {}) }()
	<-verifying
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
			t.Fatalf("err = %v, want an interruption", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run still running 5s after cancel")
	}
	if got := read(t, filepath.Join(e.bin, "kcred")); got != "old binary" {
		t.Errorf("binary replaced by an interrupted run: %q", got)
	}
	leftovers(t, e.bin)
}

// What a killed run leaves (temporary files, links, directories) the next
// run removes.
func TestRunRemovesLeftovers(t *testing.T) {
	e, o := newEnv(t)
	o.Config, o.ConfigDest = e.src, filepath.Join(e.etc, "kcred.yaml")
	write(t, filepath.Join(e.bin, tempPrefix+"abc"), "partial", 0o600)
	if err := os.Symlink("/etc/passwd", filepath.Join(e.bin, tempPrefix+"link")); err != nil {
		t.Fatal(err)
	}
	verify := filepath.Join(e.bin, tempPrefix+"verify-1")
	if err := os.Mkdir(verify, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(e.self, filepath.Join(verify, "role-a")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(e.etc, tempPrefix+"cfg"), "partial", 0o600)
	var out []string
	if err := Run(context.Background(), o, func(s string) { out = append(out, s) }); err != nil {
		t.Fatal(err)
	}
	leftovers(t, e.bin, e.etc)
	if !strings.Contains(strings.Join(out, "\n"), "removed "+filepath.Join(e.bin, tempPrefix+"abc")+", left by an interrupted run") {
		t.Errorf("output: %q", out)
	}
	if _, err := os.Stat(e.self); err != nil {
		t.Errorf("a leftover link's target was removed: %v", err)
	}
}
