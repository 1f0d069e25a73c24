//go:build unix

package dockerconfig

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// --config naming something other than a regular file fails at once with
// one clear error: a FIFO once hung the exec, /dev/zero filled its memory.
func TestLoadRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.json")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"auths":{},"x":"`+strings.Repeat("x", maxFileSize)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{fifo, "is a FIFO, a named pipe, not a regular file (check --config)"},
		{zero, "is a character device, not a regular file (check --config)"},
		{dir, "is a directory, not a regular file (check --config)"},
		{big, "larger than 1048576 bytes"},
	} {
		done := make(chan error, 1)
		go func() { _, _, err := load(tt.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("load(%s) err = %v, want %q", tt.path, err, tt.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("load(%s) blocked", tt.path)
		}
	}
}
