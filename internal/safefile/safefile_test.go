//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", 11)), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tests := []struct {
		name    string
		read    func() ([]byte, error)
		want    string
		wantErr error
	}{
		{"regular", func() ([]byte, error) { return ReadFile(regular, 10) }, "data", nil},
		{"symlink followed by path", func() ([]byte, error) { return ReadFile(link, 10) }, "data", nil},
		{"symlink not followed in a Dir", func() ([]byte, error) { return d.ReadFile("link", 10) }, "", ErrNotRegular},
		{"FIFO by path", func() ([]byte, error) { return ReadFile(fifo, 10) }, "", ErrNotRegular},
		{"FIFO in a Dir", func() ([]byte, error) { return d.ReadFile("fifo", 10) }, "", ErrNotRegular},
		{"device behind a symlink", func() ([]byte, error) { return ReadFile(zero, 10) }, "", ErrNotRegular},
		{"directory", func() ([]byte, error) { return ReadFile(dir, 10) }, "", ErrNotRegular},
		{"over the limit", func() ([]byte, error) { return ReadFile(big, 10) }, "", ErrTooLarge},
		{"at the limit", func() ([]byte, error) { return ReadFile(big, 11) }, strings.Repeat("x", 11), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var got []byte
			var err error
			go func() { defer close(done); got, err = tt.read() }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("blocked")
			}
			if !errors.Is(err, tt.wantErr) || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
