// Package tokencache is a per-node on-disk cache of cloud tokens shared by
// every exec of every kcred role, so that a node asks its cloud once per
// token lifetime rather than once per kubelet cache miss.
//
// One file per key holds one token; files are 0600 in a 0700 directory and
// replaced atomically (rename), so a reader never sees half a file. A
// lock file per key makes concurrent cold execs for the same key wait for one
// fetch instead of all calling the cloud.
//
// Nothing found on disk is trusted: the directory is opened once and every
// file operation is relative to that handle; files are opened without
// following symlinks or blocking on FIFOs, only regular files are read, at
// most MaxEntrySize bytes; and an entry is served only if it passes the same
// checks as a token being stored.
package tokencache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kcred/kcred/internal/atomicfile"
	"github.com/kcred/kcred/internal/safefile"
)

// Margin is how long before its expiry a token is treated as expired: the
// cache never serves a token that close to its end, so the credential the
// kubelet receives is still good for an image pull.
const Margin = 5 * time.Minute

// DefaultLockWait bounds how long an exec waits for another process that is
// fetching the same token; after it, the exec fetches on its own rather than
// fail the pull.
const DefaultLockWait = 15 * time.Second

// Key identifies one cached token. Role, Identity and Scope take part in the
// file name (hashed), so two identities never share an entry.
type Key struct {
	// Role is the provider role, e.g. "ecr-credential-provider".
	Role string
	// Identity fingerprints the credential source (role ARN, profile, client
	// ID, a hash of a service-account token...). Never put a secret here in
	// clear: it is hashed, but keep it a fingerprint anyway.
	Identity string
	// Scope is what the token is for: a registry host, a region.
	Scope string
	// MaxLifetime caps how far in the future a stored token may claim to
	// expire: an entry whose ExpiresAt is more than MaxLifetime after now is
	// treated as invalid (edited, or written under another clock), and a
	// fetched token beyond it is not stored. Zero means no cap. It is not
	// part of the key's identity (not hashed): a role that changes its cap
	// keeps its entries, which are simply checked against the new cap.
	MaxLifetime time.Duration
}

// id is the key's stable hash; it names the file and is checked on read so a
// foreign or renamed file is never served.
func (k Key) id() string {
	h := sha256.New()
	for _, part := range []string{k.Role, k.Identity, k.Scope} {
		fmt.Fprintf(h, "%d:%s;", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Token is one cached credential.
type Token struct {
	Username  string    `json:"username"`
	Password  string    `json:"password"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Fetch obtains a fresh token from the cloud.
type Fetch func(ctx context.Context) (Token, error)

// Source says where the token Do returned came from.
type Source int

const (
	// Fetched: from fetch, just now.
	Fetched Source = iota
	// Cached: from the cache, fresh (not within Margin of expiry).
	Cached
	// Stale: from the cache, within Margin of expiry but not yet expired,
	// because fetch failed (for whatever reason: the caller decides whether
	// to use it); the token still works for a pull, which beats failing it
	// while the cloud is briefly unreachable.
	Stale
)

// String names the source for logs.
func (s Source) String() string {
	switch s {
	case Fetched:
		return "fetched"
	case Cached:
		return "cached"
	case Stale:
		return "stale"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// Result is what Do returns.
type Result struct {
	Token  Token
	Source Source
	// FetchErr, with Stale, is why the refresh failed.
	FetchErr error
}

// Cache is the on-disk token cache. A nil *Cache is a disabled cache that
// always fetches.
type Cache struct {
	// dir is the cache directory, opened and checked once: every file
	// operation is relative to it, so the path swapped for a symlink later
	// cannot redirect a read or a write.
	dir      *safefile.Dir
	log      *slog.Logger
	now      func() time.Time
	lockWait time.Duration
}

// Open returns the cache in dir, creating the directory 0700 if needed. An
// empty dir, or a directory others could plant files in or swap (see
// openPrivateDir), yields nil (no cache): the cache is an optimisation and
// never fails a pull, so the reason is logged at Info, not as a warning.
func Open(dir string, log *slog.Logger) *Cache {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if dir == "" {
		return nil
	}
	d, err := openPrivateDir(dir)
	if err != nil {
		log.Info("token cache disabled", "dir", dir, "err", err)
		return nil
	}
	return &Cache{dir: d, log: log, now: time.Now, lockWait: DefaultLockWait}
}

// openPrivateDir creates dir 0700, or accepts an existing directory only
// when no other user can plant or replace files in it: it must belong to
// this user, not be a symlink, and not be writable by group or others (the
// files themselves are 0600, so a listable directory reveals only hashed
// names); nor may any directory above it be writable by another user unless
// sticky (as /tmp is), since such a user could rename the cache directory
// away and put another in its place. kcred never changes the mode of a
// directory it did not create (--cache-dir=/var/lib would otherwise lock
// down /var/lib). The directory is then opened, and the handle checked to be
// the directory examined.
func openPrivateDir(dir string) (*safefile.Dir, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symlink (point the cache at the real directory)", dir)
	}
	if err := checkPrivate(dir, fi); err != nil {
		return nil, err
	}
	if err := checkParents(dir); err != nil {
		return nil, err
	}
	d, err := safefile.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	opened, err := d.Stat()
	if err == nil && !os.SameFile(fi, opened) {
		err = fmt.Errorf("%s was replaced while it was opened", dir)
	}
	if err == nil {
		err = checkPrivate(dir, opened)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// checkPrivate checks the cache directory itself.
func checkPrivate(dir string, fi os.FileInfo) error {
	switch {
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s is writable by other users (mode %v; chmod 700 it or choose another directory)", dir, fi.Mode().Perm())
	}
	if uid, ok := safefile.Owner(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("%s belongs to another user (choose a directory of this user's)", dir)
	}
	return nil
}

// checkParents refuses a directory any of whose ancestors (symlinks in the
// path resolved) another user could rename entries in: writable by group or
// others without the sticky bit, or owned by someone other than root or this
// user.
func checkParents(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	parent, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return err
	}
	for p := parent; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&os.ModeSticky == 0 {
			return fmt.Errorf("%s, above the cache directory, is writable by other users and not sticky (mode %v): another user could swap the cache directory; choose a directory under one only root or this user can write", p, fi.Mode().Perm())
		}
		if safefile.Foreign(fi) {
			return fmt.Errorf("%s, above the cache directory, belongs to another user, who could swap the cache directory; choose another directory", p)
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

// Do returns the token for key: from the cache when a valid one is stored and
// not within Margin of expiry (Cached), else from fetch (Fetched), which is
// then stored. Concurrent callers for one key, in any process on the node,
// make one fetch between them. When fetch fails and the stored token has not
// yet expired (it was only within Margin), Do returns it as Stale with the
// fetch error in FetchErr and a nil error; otherwise the fetch error is
// returned. Nothing is stored on error, and an expired token is never
// returned. A nil *Cache just fetches.
func (c *Cache) Do(ctx context.Context, key Key, fetch Fetch) (Result, error) {
	if c == nil {
		tok, err := fetch(ctx)
		if err != nil {
			return Result{}, err
		}
		return Result{Token: tok, Source: Fetched}, nil
	}
	id := key.id()
	if tok, ok := c.get(id, key); ok && c.fresh(tok) {
		c.log.Debug("token cache hit", "scope", key.Scope)
		return Result{Token: tok, Source: Cached}, nil
	}
	unlock := c.lock(ctx, id)
	defer unlock()
	// Another process may have fetched while we waited for the lock.
	stored, ok := c.get(id, key)
	if ok && c.fresh(stored) {
		c.log.Debug("token cache hit after wait", "scope", key.Scope)
		return Result{Token: stored, Source: Cached}, nil
	}
	c.log.Debug("token cache miss", "scope", key.Scope)
	tok, err := fetch(ctx)
	if err != nil {
		if ok && stored.ExpiresAt.After(c.now()) {
			c.log.Debug("token refresh failed; serving the stored token until it expires", "scope", key.Scope, "expiresAt", stored.ExpiresAt)
			return Result{Token: stored, Source: Stale, FetchErr: err}, nil
		}
		return Result{}, err
	}
	if err := c.valid(tok, key); err != nil {
		c.log.Debug("fetched token not cached", "scope", key.Scope, "reason", err)
	} else if c.fresh(tok) {
		if err := c.put(id, tok); err != nil {
			c.log.Info("token cache write failed; continuing without caching", "dir", c.dir.Path(), "err", err)
		}
	}
	c.prune()
	return Result{Token: tok, Source: Fetched}, nil
}

// Years outside [minYear, maxYear] mark an entry as edited or corrupt, even
// for a key without MaxLifetime.
const (
	minYear = 2000
	maxYear = 2999
)

// valid checks what an entry must satisfy to be stored and, identically, to
// be served: a credential (both parts), a real expiry, no further away than
// the key's MaxLifetime. Expiry against Margin is checked separately (fresh),
// since a valid entry within Margin may still be served as Stale.
func (c *Cache) valid(t Token, key Key) error {
	switch {
	case t.Username == "":
		return errors.New("empty username")
	case t.Password == "":
		return errors.New("empty password")
	case t.ExpiresAt.IsZero():
		return errors.New("no expiry")
	case t.ExpiresAt.Year() < minYear || t.ExpiresAt.Year() > maxYear:
		return fmt.Errorf("expiry year %d outside %d-%d", t.ExpiresAt.Year(), minYear, maxYear)
	case key.MaxLifetime > 0 && t.ExpiresAt.Sub(c.now()) > key.MaxLifetime:
		return fmt.Errorf("expiry %s is more than %s away", t.ExpiresAt.Format(time.RFC3339), key.MaxLifetime)
	}
	return nil
}

// entry is the file format. ID repeats the key hash so a file copied or
// renamed onto another key's name is not served for it.
type entry struct {
	Version int    `json:"version"`
	ID      string `json:"id"`
	Token   Token  `json:"token"`
}

const fileVersion = 1

// MaxEntrySize bounds an entry file, on write and on read: a token is a few
// KiB, so anything larger is not kcred's and is not read past this.
const MaxEntrySize = 64 << 10

func entryName(id string) string { return id + ".json" }
func lockName(id string) string  { return id + ".lock" }

func (c *Cache) fresh(t Token) bool {
	return !t.ExpiresAt.IsZero() && t.ExpiresAt.Sub(c.now()) > Margin
}

// get returns the stored token for key (whose hash is id) if it is valid; it
// may be within Margin or expired, which the caller checks. Anything else (no
// file, not a regular file, unreadable, corrupt, foreign, invalid) is a miss;
// the next put replaces the file.
func (c *Cache) get(id string, key Key) (Token, bool) {
	e, err := c.readEntry(entryName(id))
	if err == nil && e.ID != id {
		err = errors.New("entry belongs to another key")
	}
	if err == nil {
		err = c.valid(e.Token, key)
	}
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			c.log.Debug("token cache entry unusable; treating as a miss", "id", id, "err", err)
		}
		return Token{}, false
	}
	return e.Token, true
}

// readEntry reads the entry file name: a regular file (a symlink or FIFO
// planted there is refused without being followed or blocking), at most
// MaxEntrySize bytes.
func (c *Cache) readEntry(name string) (entry, error) {
	b, err := c.dir.ReadFile(name, MaxEntrySize)
	if err != nil {
		return entry{}, err
	}
	return parseEntry(b)
}

// parseEntry decodes an entry file; a file of another format version is an
// error. What the entry claims is checked by the caller (get).
func parseEntry(b []byte) (entry, error) {
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		return entry{}, err
	}
	if e.Version != fileVersion {
		return entry{}, fmt.Errorf("format version %d, want %d", e.Version, fileVersion)
	}
	return e, nil
}

// put writes the entry to a temporary file in the cache directory and renames
// it into place, so readers see the old file or the new one, never a mix.
func (c *Cache) put(id string, t Token) error {
	data, err := json.Marshal(entry{Version: fileVersion, ID: id, Token: t})
	if err != nil {
		return err
	}
	if len(data) > MaxEntrySize {
		return fmt.Errorf("entry of %d bytes exceeds %d", len(data), MaxEntrySize)
	}
	return atomicfile.WriteIn(c.dir, entryName(id), tempPrefix+id+"-", data, 0o600)
}

// tempPrefix starts the temporary files of put, so a sweep recognises those a
// killed process left.
const tempPrefix = ".tmp-"

// lock takes the per-key lock file, waiting at most lockWait (or until ctx
// ends). It always returns an unlock function; when the lock could not be had
// the caller proceeds without it. A symlink or FIFO planted at the lock's
// name is removed (not followed) and replaced by a real lock file.
func (c *Cache) lock(ctx context.Context, id string) (unlock func()) {
	name := lockName(id)
	deadline := c.now().Add(c.lockWait)
	sleep := 2 * time.Millisecond
	replaced := false
	for {
		f, err := c.dir.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
		if errors.Is(err, safefile.ErrNotRegular) && !replaced {
			replaced = true
			c.log.Debug("token cache lock is not a regular file; replacing it", "err", err)
			if c.dir.Remove(name) == nil {
				continue
			}
		}
		if err != nil {
			c.log.Debug("token cache lock unavailable; fetching without it", "err", err)
			return func() {}
		}
		err = tryLock(f)
		if err == nil {
			// A sweep may have removed the file between our open and our
			// lock: then the lock guards nothing, and we take a new one.
			if c.current(f, name) {
				return func() { _ = unlockFile(f); f.Close() }
			}
			_ = unlockFile(f)
			f.Close()
			continue
		}
		f.Close()
		if !errors.Is(err, errWouldBlock) || c.now().After(deadline) || ctx.Err() != nil {
			c.log.Debug("token cache lock not acquired; fetching without it", "err", err)
			return func() {}
		}
		select {
		case <-ctx.Done():
		case <-time.After(sleep):
		}
		if sleep < 50*time.Millisecond {
			sleep *= 2
		}
	}
}

// current reports whether f is still the file called name in the cache
// directory.
func (c *Cache) current(f *os.File, name string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	g, err := c.dir.Open(name)
	if err != nil {
		return false
	}
	defer g.Close()
	b, err := g.Stat()
	return err == nil && os.SameFile(a, b)
}
