package tokencache

import (
	"errors"
	"os"
	"strings"
	"time"

	"github.com/kcred/kcred/internal/safefile"
)

// PruneInterval is how often, at most, a fetch sweeps the directory. In
// service-account mode every pod token is its own key, so without a sweep
// files would pile up for as long as the node runs.
const PruneInterval = time.Hour

// pruneGrace keeps files a little past expiry and spares young lock files,
// which another process may be holding right now.
const pruneGrace = time.Hour

// pruneMarker is the file whose mtime records the last sweep.
const pruneMarker = ".last-prune"

// prune removes entries whose token expired more than pruneGrace ago (or
// that cannot be read and are older than that), lock files older than
// pruneGrace without an entry, and anything under kcred's names that is not
// a regular file (a planted symlink or FIFO; removing a symlink never touches
// its target). It runs after a fetch, at most once per PruneInterval across
// all processes (the marker's mtime records the last sweep); errors only mean
// a later sweep tries again.
func (c *Cache) prune() {
	now := c.now()
	if f, err := c.dir.Open(pruneMarker); err == nil {
		fi, err := f.Stat()
		f.Close()
		if err == nil && now.Sub(fi.ModTime()) < PruneInterval {
			return
		}
	} else if errors.Is(err, safefile.ErrNotRegular) {
		_ = c.dir.Remove(pruneMarker)
	}
	f, err := c.dir.OpenFile(pruneMarker, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	f.Close()
	if c.dir.Chtimes(pruneMarker, now) != nil {
		return
	}
	names, err := c.dir.Names()
	if err != nil {
		return
	}
	removed := 0
	for _, name := range names {
		isEntry, isLock := strings.HasSuffix(name, ".json"), strings.HasSuffix(name, ".lock")
		if !isEntry && !isLock && !strings.HasPrefix(name, tempPrefix) {
			continue
		}
		f, err := c.dir.Open(name)
		if errors.Is(err, safefile.ErrNotRegular) {
			if fi, err := c.dir.Lstat(name); err == nil && !fi.IsDir() {
				_ = c.dir.Remove(name)
			}
			continue
		}
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		f.Close()
		if err != nil {
			continue
		}
		old := now.Sub(fi.ModTime()) > pruneGrace
		id := strings.TrimSuffix(strings.TrimSuffix(name, ".json"), ".lock")
		switch {
		case isEntry:
			e, err := c.readEntry(name)
			if (err == nil && now.Sub(e.Token.ExpiresAt) > pruneGrace) || (err != nil && old) {
				if c.dir.Remove(name) == nil {
					removed++
				}
				c.removeUnheldLock(lockName(id))
			}
		case isLock:
			// A lock without its entry (a fetch that failed).
			if _, err := c.dir.Lstat(entryName(id)); old && err != nil {
				c.removeUnheldLock(name)
			}
		case old:
			// A temporary file a killed process left behind.
			_ = c.dir.Remove(name)
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
func (c *Cache) removeUnheldLock(name string) {
	f, err := c.dir.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if tryLock(f) != nil {
		return
	}
	_ = c.dir.Remove(name)
	_ = unlockFile(f)
}
