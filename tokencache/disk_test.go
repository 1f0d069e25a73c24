//go:build unix

package tokencache

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// What others may leave at kcred's names in the cache directory is never
// followed, never blocks an exec and never served: each plant ends in a plain
// fetch, quickly, with the plant's target untouched.
func TestPlantedFilesAreNotFollowed(t *testing.T) {
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	id := key.id()
	valid := func(t *testing.T) []byte {
		b, err := json.Marshal(entry{Version: fileVersion, ID: id, Token: Token{Username: "u", Password: "planted", ExpiresAt: t0.Add(time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fifo := func(t *testing.T, path string) {
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		plant func(t *testing.T, dir, outside string)
		// check, if set, verifies the outside target after Do.
		check func(t *testing.T, outside string)
	}{
		{"FIFO as the entry", func(t *testing.T, dir, _ string) { fifo(t, filepath.Join(dir, entryName(id))) }, nil},
		{"symlink entry to a valid entry", func(t *testing.T, dir, outside string) {
			if err := os.WriteFile(outside, valid(t), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(dir, entryName(id))); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"oversized entry", func(t *testing.T, dir, _ string) {
			b := valid(t)
			b = append(b[:len(b)-1], []byte(`,"pad":"`+strings.Repeat("x", MaxEntrySize)+`"}`)...)
			if err := os.WriteFile(filepath.Join(dir, entryName(id)), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"symlink lock to a missing file", func(t *testing.T, dir, outside string) {
			if err := os.Symlink(outside, filepath.Join(dir, lockName(id))); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, outside string) {
			if _, err := os.Lstat(outside); !os.IsNotExist(err) {
				t.Errorf("the lock symlink's target was created (%v)", err)
			}
		}},
		{"FIFO as the lock", func(t *testing.T, dir, _ string) { fifo(t, filepath.Join(dir, lockName(id))) }, nil},
		{"symlink prune marker", func(t *testing.T, dir, outside string) {
			if err := os.WriteFile(outside, []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
			old := t0.Add(-2 * PruneInterval)
			if err := os.Chtimes(outside, old, old); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(dir, pruneMarker)); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, outside string) {
			fi, err := os.Stat(outside)
			if b, _ := os.ReadFile(outside); string(b) != "precious" || err != nil || !fi.ModTime().Equal(t0.Add(-2*PruneInterval)) {
				t.Errorf("the prune marker's target was changed: %q", b)
			}
		}},
		{"FIFO prune marker", func(t *testing.T, dir, _ string) { fifo(t, filepath.Join(dir, pruneMarker)) }, nil},
		{"FIFO temp file", func(t *testing.T, dir, _ string) { fifo(t, filepath.Join(dir, tempPrefix+"x")) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			outside := filepath.Join(t.TempDir(), "target")
			tt.plant(t, c.dir.Path(), outside)
			want := Token{Username: "u", Password: "fetched", ExpiresAt: t0.Add(time.Hour)}
			var calls atomic.Int32
			done := make(chan struct{})
			var got Token
			var hit bool
			var err error
			go func() {
				defer close(done)
				got, hit, err = doCached(context.Background(), c, key, fetcher(&calls, want))
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Do blocked on a planted file")
			}
			if err != nil || hit || got != want {
				t.Fatalf("Do = %+v hit=%v err=%v, want the fetched token", got, hit, err)
			}
			if tt.check != nil {
				tt.check(t, outside)
			}
			// The plant is gone or replaced: the next Do is a hit.
			if got, hit, err := doCached(context.Background(), c, key, fetcher(&calls, Token{})); err != nil || !hit || got != want {
				t.Fatalf("second Do = %+v hit=%v err=%v, want a hit", got, hit, err)
			}
		})
	}
}

// A cache directory swapped for a symlink while a fetch runs keeps
// receiving the write (through the handle opened at Open), and nothing is
// written where the symlink points.
func TestSwappedDirectoryDoesNotRedirectWrites(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "cache")
	c := Open(dir, nil)
	if c == nil {
		t.Fatal("Open refused a private directory")
	}
	evil := filepath.Join(base, "evil")
	if err := os.Mkdir(evil, 0o700); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(base, "moved")
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	want := Token{Username: "u", Password: "p", ExpiresAt: time.Now().Add(time.Hour)}
	res, err := c.Do(context.Background(), key, func(context.Context) (Token, error) {
		if err := os.Rename(dir, moved); err != nil {
			return Token{}, err
		}
		if err := os.Symlink(evil, dir); err != nil {
			return Token{}, err
		}
		return want, nil
	})
	if err != nil || res.Token != want {
		t.Fatalf("Do = %+v, %v", res, err)
	}
	if names, _ := os.ReadDir(evil); len(names) != 0 {
		t.Errorf("the swapped-in directory received %v", names)
	}
	if _, err := os.Stat(filepath.Join(moved, entryName(key.id()))); err != nil {
		t.Errorf("the entry is not in the directory opened: %v", err)
	}
	// The next exec opens the path anew and refuses the symlink.
	if Open(dir, nil) != nil {
		t.Error("Open accepted a symlinked cache directory")
	}
}

func TestParentsWritableByOthersAreRefused(t *testing.T) {
	tests := []struct {
		name string
		mode os.FileMode
		ok   bool
	}{
		{"private parent", 0o755, true},
		{"world-writable parent", 0o777, false},
		{"group-writable parent", 0o775, false},
		{"sticky world-writable parent (like /tmp)", 0o777 | os.ModeSticky, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := filepath.Join(t.TempDir(), "parent")
			if err := os.Mkdir(parent, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(parent, tt.mode); err != nil {
				t.Fatal(err)
			}
			if got := Open(filepath.Join(parent, "cache"), nil) != nil; got != tt.ok {
				t.Errorf("Open under a %v parent: enabled=%v, want %v", tt.mode, got, tt.ok)
			}
		})
	}
}
