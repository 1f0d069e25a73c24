package tokencache

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// PruneInterval is how often, at most, a fetch sweeps the directory. In
// service-account mode every pod token is its own key, so without a sweep
// files would pile up for as long as the node runs.
const PruneInterval = time.Hour

// pruneGrace keeps files a little past expiry and spares young lock files,
// which another process may be holding right now.
const pruneGrace = time.Hour

// prune removes entries whose token expired more than pruneGrace ago (or
// that cannot be read and are older than that) and lock files older than
// pruneGrace without an entry. It runs after a fetch, at most once per
// PruneInterval across all processes (a marker file's mtime records the last
// sweep); errors only mean a later sweep tries again.
func (c *Cache) prune() {
	marker := filepath.Join(c.dir, ".last-prune")
	now := c.now()
	if fi, err := os.Stat(marker); err == nil && now.Sub(fi.ModTime()) < PruneInterval {
		return
	}
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		return
	}
	_ = os.Chtimes(marker, now, now)
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	removed := 0
	for _, de := range entries {
		name := de.Name()
		path := filepath.Join(c.dir, name)
		info, err := de.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		old := now.Sub(info.ModTime()) > pruneGrace
		switch {
		case strings.HasSuffix(name, ".json"):
			e, err := readEntry(path)
			if (err == nil && now.Sub(e.Token.ExpiresAt) > pruneGrace) || (err != nil && old) {
				if os.Remove(path) == nil {
					removed++
				}
				removeUnheldLock(strings.TrimSuffix(path, ".json") + ".lock")
			}
		case strings.HasPrefix(name, ".tmp-"):
			// A temporary file a killed process left behind.
			if old {
				_ = os.Remove(path)
			}
		case strings.HasSuffix(name, ".lock"):
			// A lock without its entry (a fetch that failed).
			if _, err := os.Stat(strings.TrimSuffix(path, ".lock") + ".json"); old && err != nil {
				removeUnheldLock(path)
			}
		}
	}
	if removed > 0 {
		c.log.Debug("token cache pruned expired entries", "count", removed)
	}
}

// removeUnheldLock removes a lock file unless a process holds it: removing a
// held lock would let the next exec take a fresh one and fetch alongside the
// holder. An exec that opened the file before the removal notices (lock
// checks the file is still current) and takes a new one.
func removeUnheldLock(path string) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if tryLock(f) != nil {
		return
	}
	_ = os.Remove(path)
	_ = unlockFile(f)
}
