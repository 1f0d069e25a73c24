package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		old  string // "" for no previous file
		data string
		perm os.FileMode
	}{
		{"new file", "", "hello", 0o600},
		{"replaces", "old content that is longer", "new", 0o644},
		{"empty", "x", "", 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.old != "" {
				if err := os.WriteFile(filepath.Join(dir, "f"), []byte(tt.old), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := Write(dir, "f", ".tmp-", []byte(tt.data), tt.perm); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, "f"))
			if err != nil || string(got) != tt.data {
				t.Fatalf("content %q, %v; want %q", got, err, tt.data)
			}
			if fi, _ := os.Stat(filepath.Join(dir, "f")); fi.Mode().Perm() != tt.perm {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), tt.perm)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("left behind: %v", entries)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestTempFileLeavesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	if _, err := TempFile(dir, ".tmp-", failingReader{}, 0o600); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
	if err := Write(filepath.Join(dir, "absent"), "f", ".tmp-", nil, 0o600); err == nil {
		t.Fatal("Write into a missing directory succeeded")
	}
}
