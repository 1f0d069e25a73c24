//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
)

// The binary refuses, at once and in one line, a bin dir whose kcred is a
// symlink to /dev/zero or a FIFO (it once hashed /dev/zero for 12 minutes).
func TestInstallRefusesNonRegularFilesExec(t *testing.T) {
	bin := exectest.Binary(t)
	for _, c := range []struct {
		name  string
		plant func(path string) error
		want  string
	}{
		{"symlink to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }, "is a character device, not a regular file"},
		{"FIFO", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "is a FIFO, a named pipe, not a regular file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := c.plant(filepath.Join(dir, "kcred")); err != nil {
				t.Fatal(err)
			}
			res := exectest.Run(t, bin, []string{"install", "--bin-dir", dir}, exectest.CleanEnv(t), "")
			want := "kcred install: refusing " + filepath.Join(dir, "kcred") + ": " + c.want
			if res.Code != 1 || !strings.HasPrefix(res.Stderr, want) || strings.Count(res.Stderr, "\n") != 1 || res.Wall > 10*time.Second {
				t.Fatalf("exit %d after %v, stderr %q; want one line starting %q", res.Code, res.Wall, res.Stderr, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("bin dir changed: %v", entries)
			}
		})
	}
}

// SIGTERM during a long step (hashing a huge kcred already in the bin dir)
// ends the install within seconds, with nothing half done; the next run
// completes.
func TestInstallSIGTERMMidway(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "kcred")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: takes no space, but minutes to hash.
	if err := f.Truncate(1 << 40); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	f.Close()
	cmd := exec.Command(exectest.Binary(t), "install", "--bin-dir", dir)
	cmd.Env = exectest.CleanEnv(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5s after SIGTERM")
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.HasPrefix(stderr.String(), "kcred install: terminated: interrupted: ") || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("after SIGTERM the bin dir holds %v, want only the old kcred", entries)
	}
	if fi, err := os.Stat(huge); err != nil || fi.Size() != 1<<40 {
		t.Errorf("the old kcred was changed")
	}
}
