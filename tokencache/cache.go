// Package tokencache is a per-node on-disk cache of cloud tokens shared by
// every exec of every kcred role, so that a node asks its cloud once per
// token lifetime rather than once per kubelet cache miss.
//
// One file per key holds one token; files are 0600 in a 0700 directory and
// replaced atomically (rename), so a reader never sees half a file. A
// lock file per key makes concurrent cold execs for the same key wait for one
// fetch instead of all calling the cloud.
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
	// because fetch failed; the token still works for a pull, which beats
	// failing it while the cloud is briefly unreachable.
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
	dir      string
	log      *slog.Logger
	now      func() time.Time
	lockWait time.Duration
}

// Open returns the cache in dir, creating the directory 0700 if needed. An
// empty dir, or a directory others could plant files in (see
// ensurePrivateDir), yields nil (no cache): the cache is an optimisation and
// never fails a pull.
func Open(dir string, log *slog.Logger) *Cache {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if dir == "" {
		return nil
	}
	if err := ensurePrivateDir(dir); err != nil {
		log.Warn("token cache disabled", "dir", dir, "err", err)
		return nil
	}
	return &Cache{dir: dir, log: log, now: time.Now, lockWait: DefaultLockWait}
}

// ensurePrivateDir creates dir 0700, or accepts an existing directory only
// when no other user can plant or replace files in it: it must belong to
// this user, not be a symlink, and not be writable by group or others (the
// files themselves are 0600, so a listable directory reveals only hashed
// names). kcred never changes the mode of a directory it did not create
// (--cache-dir=/var/lib would otherwise lock down /var/lib).
func ensurePrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s is a symlink (point the cache at the real directory)", dir)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s is writable by other users (mode %v; chmod 700 it or choose another directory)", dir, fi.Mode().Perm())
	case !ownedBySelf(fi):
		return fmt.Errorf("%s belongs to another user (choose a directory of this user's)", dir)
	}
	return nil
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
			c.log.Warn("token cache write failed; continuing without caching", "dir", c.dir, "err", err)
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

func (c *Cache) path(id string) string { return filepath.Join(c.dir, id+".json") }

func (c *Cache) fresh(t Token) bool {
	return !t.ExpiresAt.IsZero() && t.ExpiresAt.Sub(c.now()) > Margin
}

// get returns the stored token for key (whose hash is id) if it is valid; it
// may be within Margin or expired, which the caller checks. Anything else (no
// file, unreadable, corrupt, foreign, invalid) is a miss; the next put
// replaces the file.
func (c *Cache) get(id string, key Key) (Token, bool) {
	e, err := readEntry(c.path(id))
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

// readEntry reads the entry file at path; a file of another format version
// is an error.
func readEntry(path string) (entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return entry{}, err
	}
	defer f.Close()
	var e entry
	if err := json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&e); err != nil {
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
	return atomicfile.Write(c.dir, id+".json", ".tmp-"+id+"-", data, 0o600)
}

// lock takes the per-key lock file, waiting at most lockWait (or until ctx
// ends). It always returns an unlock function; when the lock could not be had
// the caller proceeds without it.
func (c *Cache) lock(ctx context.Context, id string) (unlock func()) {
	path := filepath.Join(c.dir, id+".lock")
	deadline := c.now().Add(c.lockWait)
	sleep := 2 * time.Millisecond
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			c.log.Debug("token cache lock unavailable; fetching without it", "err", err)
			return func() {}
		}
		err = tryLock(f)
		if err == nil {
			// A sweep may have removed the file between our open and our
			// lock: then the lock guards nothing, and we take a new one.
			if current(f, path) {
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

// current reports whether f is still the file at path.
func current(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}
