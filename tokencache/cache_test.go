package tokencache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func newCache(t *testing.T) *Cache {
	t.Helper()
	c := Open(filepath.Join(t.TempDir(), "cache"), nil)
	if c == nil {
		t.Fatal("Open returned a disabled cache")
	}
	c.now = func() time.Time { return t0 }
	return c
}

// doCached is Do reduced to what most tests check: the token, whether it
// came from the cache, and the error.
func doCached(ctx context.Context, c *Cache, key Key, fetch Fetch) (Token, bool, error) {
	res, err := c.Do(ctx, key, fetch)
	return res.Token, res.Source == Cached, err
}

func fetcher(calls *atomic.Int32, tok Token) Fetch {
	return func(context.Context) (Token, error) {
		calls.Add(1)
		return tok, nil
	}
}

func TestDoCachesUntilMargin(t *testing.T) {
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	tests := []struct {
		name      string
		expiresIn time.Duration
		wantHit   bool
	}{
		{"long-lived token is served from cache", 12 * time.Hour, true},
		{"token just outside the margin is served", Margin + time.Second, true},
		{"token inside the margin is refetched", Margin - time.Second, false},
		{"token at the margin is refetched", Margin, false},
		{"expired token is refetched", -time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			var calls atomic.Int32
			tok := Token{Username: "u", Password: "p", ExpiresAt: t0.Add(tt.expiresIn)}
			if _, hit, err := doCached(context.Background(), c, key, fetcher(&calls, tok)); err != nil || hit {
				t.Fatalf("first Do: hit=%v err=%v, want a miss", hit, err)
			}
			got, hit, err := doCached(context.Background(), c, key, fetcher(&calls, tok))
			if err != nil {
				t.Fatal(err)
			}
			if hit != tt.wantHit {
				t.Errorf("second Do hit = %v, want %v", hit, tt.wantHit)
			}
			if got != tok {
				t.Errorf("second Do = %+v, want %+v", got, tok)
			}
			want := int32(2)
			if tt.wantHit {
				want = 1
			}
			if calls.Load() != want {
				t.Errorf("fetches = %d, want %d", calls.Load(), want)
			}
		})
	}
}

func TestNearExpiryTokenIsRefreshed(t *testing.T) {
	c := newCache(t)
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	var calls atomic.Int32
	old := Token{Username: "u", Password: "old", ExpiresAt: t0.Add(time.Hour)}
	if _, _, err := doCached(context.Background(), c, key, fetcher(&calls, old)); err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return t0.Add(time.Hour - Margin + time.Second) }
	fresh := Token{Username: "u", Password: "new", ExpiresAt: t0.Add(13 * time.Hour)}
	got, hit, err := doCached(context.Background(), c, key, fetcher(&calls, fresh))
	if err != nil || hit || got.Password != "new" {
		t.Fatalf("Do near expiry = %+v hit=%v err=%v, want the refreshed token", got, hit, err)
	}
}

func TestKeysAreIsolated(t *testing.T) {
	c := newCache(t)
	exp := t0.Add(time.Hour)
	keys := []Key{
		{Role: "ecr", Identity: "node", Scope: "eu-west-1"},
		{Role: "ecr", Identity: "sa:abc", Scope: "eu-west-1"},
		{Role: "ecr", Identity: "node", Scope: "us-east-1"},
		{Role: "acr", Identity: "node", Scope: "eu-west-1"},
		// Length-prefixing keeps part boundaries: these two must differ.
		{Role: "a", Identity: "b;c", Scope: ""},
		{Role: "a", Identity: "b", Scope: "c"},
	}
	for i, k := range keys {
		var calls atomic.Int32
		want := Token{Username: "u", Password: k.Role + "|" + k.Identity + "|" + k.Scope, ExpiresAt: exp}
		got, hit, err := doCached(context.Background(), c, k, fetcher(&calls, want))
		if err != nil || hit || got != want {
			t.Fatalf("key %d %+v: got %+v hit=%v err=%v, want a miss returning its own token", i, k, got, hit, err)
		}
	}
}

func TestCorruptForeignAndTruncatedFilesAreReplaced(t *testing.T) {
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	other := Key{Role: "r", Identity: "other", Scope: "reg"}
	tests := []struct {
		name    string
		content func(c *Cache) []byte
	}{
		{"garbage", func(*Cache) []byte { return []byte("\x00\x01not json") }},
		{"truncated", func(*Cache) []byte { return []byte(`{"version":1,"id":"`) }},
		{"empty", func(*Cache) []byte { return nil }},
		{"wrong version", func(*Cache) []byte {
			return []byte(`{"version":99,"id":"` + key.id() + `","token":{"username":"u","password":"p","expiresAt":"2030-01-01T00:00:00Z"}}`)
		}},
		{"another key's file", func(*Cache) []byte {
			return []byte(`{"version":1,"id":"` + other.id() + `","token":{"username":"u","password":"stolen","expiresAt":"2030-01-01T00:00:00Z"}}`)
		}},
		{"no password", func(*Cache) []byte {
			return []byte(`{"version":1,"id":"` + key.id() + `","token":{"username":"u","expiresAt":"2030-01-01T00:00:00Z"}}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			if err := os.WriteFile(filepath.Join(c.dir.Path(), entryName(key.id())), tt.content(c), 0o600); err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			want := Token{Username: "u", Password: "fresh", ExpiresAt: t0.Add(time.Hour)}
			got, hit, err := doCached(context.Background(), c, key, fetcher(&calls, want))
			if err != nil || hit || got != want {
				t.Fatalf("Do = %+v hit=%v err=%v, want a miss and the fetched token", got, hit, err)
			}
			if got, hit, _ := doCached(context.Background(), c, key, fetcher(&calls, Token{})); !hit || got != want {
				t.Fatalf("after replacement Do = %+v hit=%v, want a hit with the fetched token", got, hit)
			}
		})
	}
}

func TestFetchErrorIsNotCached(t *testing.T) {
	c := newCache(t)
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	boom := errors.New("cloud down")
	if _, _, err := doCached(context.Background(), c, key, func(context.Context) (Token, error) { return Token{}, boom }); !errors.Is(err, boom) {
		t.Fatalf("Do err = %v, want %v", err, boom)
	}
	var calls atomic.Int32
	if _, hit, err := doCached(context.Background(), c, key, fetcher(&calls, Token{Username: "u", Password: "p", ExpiresAt: t0.Add(time.Hour)})); err != nil || hit || calls.Load() != 1 {
		t.Fatalf("Do after error: hit=%v err=%v fetches=%d, want a fresh fetch", hit, err, calls.Load())
	}
}

func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "parent", "cache")
	c := Open(dir, nil)
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	if _, _, err := doCached(context.Background(), c, key, func(context.Context) (Token, error) {
		return Token{Username: "u", Password: "p", ExpiresAt: time.Now().Add(time.Hour)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir mode = %v (err %v), want 0700", fi.Mode().Perm(), err)
	}
	fi, err = os.Stat(filepath.Join(c.dir.Path(), entryName(key.id())))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file mode = %v (err %v), want 0600", fi.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); ext != ".json" && ext != ".lock" && e.Name() != ".last-prune" {
			t.Errorf("leftover file %s in cache dir", e.Name())
		}
		if fi, err := e.Info(); err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is readable by others", e.Name())
		}
	}
}

func TestUnusableDirectoryMeansNoCache(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(base, "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(base, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", file, filepath.Join(file, "sub"), shared, link} {
		c := Open(dir, nil)
		if c != nil {
			t.Errorf("Open(%q) = enabled cache, want nil", dir)
		}
		var calls atomic.Int32
		if _, hit, err := doCached(context.Background(), c, Key{}, fetcher(&calls, Token{Password: "p"})); err != nil || hit || calls.Load() != 1 {
			t.Errorf("disabled Do: hit=%v err=%v fetches=%d, want a plain fetch", hit, err, calls.Load())
		}
	}
	// A directory kcred did not create keeps its mode.
	if fi, err := os.Stat(shared); err != nil || fi.Mode().Perm() != 0o777 {
		t.Errorf("shared directory mode changed to %v", fi.Mode().Perm())
	}
	// Readable by others is fine (the files are 0600); writable is not.
	readable := filepath.Join(base, "readable")
	if err := os.Mkdir(readable, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{private, readable} {
		if Open(dir, nil) == nil {
			t.Errorf("existing directory %s refused", dir)
		}
	}
}

func TestConcurrentColdCallsFetchOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	var calls atomic.Int32
	fetch := func(context.Context) (Token, error) {
		calls.Add(1)
		time.Sleep(50 * time.Millisecond) // hold the lock while others arrive
		return Token{Username: "u", Password: "p", ExpiresAt: time.Now().Add(time.Hour)}, nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A Cache per goroutine: separate lock-file descriptors, as in
			// separate processes.
			if _, _, err := doCached(context.Background(), Open(dir, nil), key, fetch); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestLockWaitIsBounded(t *testing.T) {
	c := newCache(t)
	c.now = time.Now
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	holder := Open(c.dir.Path(), nil)
	unlock := holder.lock(context.Background(), key.id())
	defer unlock()
	c.lockWait = 100 * time.Millisecond
	var calls atomic.Int32
	if _, hit, err := doCached(context.Background(), c, key, fetcher(&calls, Token{Username: "u", Password: "p", ExpiresAt: time.Now().Add(time.Hour)})); err != nil || hit || calls.Load() != 1 {
		t.Fatalf("Do with a stuck lock holder: hit=%v err=%v fetches=%d, want to proceed alone", hit, err, calls.Load())
	}
}

func TestPruneRemovesOnlyLongExpiredEntries(t *testing.T) {
	c := newCache(t)
	ctx := context.Background()
	store := func(k Key, exp time.Time) {
		t.Helper()
		if err := c.put(k.id(), Token{Username: "u", Password: "p", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.dir.Path(), k.id()+".lock"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stale := Key{Role: "r", Identity: "pod-1", Scope: "reg"}
	justExpired := Key{Role: "r", Identity: "pod-2", Scope: "reg"}
	live := Key{Role: "r", Identity: "node", Scope: "reg"}
	store(stale, t0.Add(-2*pruneGrace))
	store(justExpired, t0.Add(-time.Minute))
	store(live, t0.Add(time.Hour))

	// A fetch triggers the sweep.
	var calls atomic.Int32
	if _, _, err := doCached(ctx, c, Key{Role: "r", Identity: "new", Scope: "reg"}, fetcher(&calls, Token{Username: "u", Password: "p", ExpiresAt: t0.Add(time.Hour)})); err != nil {
		t.Fatal(err)
	}
	exists := func(k Key, ext string) bool {
		_, err := os.Stat(filepath.Join(c.dir.Path(), k.id()+ext))
		return err == nil
	}
	if exists(stale, ".json") || exists(stale, ".lock") {
		t.Errorf("long-expired entry or its lock survived the sweep")
	}
	if !exists(justExpired, ".json") || !exists(live, ".json") {
		t.Errorf("the sweep removed an entry within the grace period or a live one")
	}

	// Within PruneInterval no other sweep runs.
	store(stale, t0.Add(-2*pruneGrace))
	if _, _, err := doCached(ctx, c, Key{Role: "r", Identity: "newer", Scope: "reg"}, fetcher(&calls, Token{Username: "u", Password: "p", ExpiresAt: t0.Add(time.Hour)})); err != nil {
		t.Fatal(err)
	}
	if !exists(stale, ".json") {
		t.Errorf("a second sweep ran within PruneInterval")
	}
}

// A sweep must not remove a lock another exec holds: the next exec would
// take a fresh lock file and fetch alongside the holder.
func TestPruneKeepsHeldLocks(t *testing.T) {
	c := newCache(t)
	c.now = time.Now
	failed := Key{Role: "r", Identity: "failed-fetch", Scope: "reg"}
	holder := Open(c.dir.Path(), nil)
	unlock := holder.lock(context.Background(), failed.id())
	defer unlock()
	lockPath := filepath.Join(c.dir.Path(), failed.id()+".lock")
	old := time.Now().Add(-2 * pruneGrace)
	if err := os.Chtimes(lockPath, old, old); err != nil {
		t.Fatal(err)
	}
	c.prune()
	if _, err := os.Stat(lockPath); err != nil {
		t.Fatalf("held lock removed by the sweep: %v", err)
	}
	waiter := Open(c.dir.Path(), nil)
	waiter.lockWait = 100 * time.Millisecond
	start := time.Now()
	release := waiter.lock(context.Background(), failed.id())
	release()
	if time.Since(start) < waiter.lockWait {
		t.Fatalf("a second exec got the held lock at once")
	}
}

// An exec that opened a lock file a sweep then removed takes a new one
// instead of holding a lock nobody else can see.
func TestLockNoticesRemovedFile(t *testing.T) {
	c := newCache(t)
	c.now = time.Now
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	path := filepath.Join(c.dir.Path(), key.id()+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if c.current(f, lockName(key.id())) {
		t.Fatal("current() true for a removed file")
	}
	unlock := c.lock(context.Background(), key.id())
	defer unlock()
	g, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("lock file missing after lock(): %v", err)
	}
	defer g.Close()
	if err := tryLock(g); err == nil {
		t.Fatal("the lock file at the path is not the one held")
	}
}

// Entries are checked on read exactly as on write: an edited file is a miss,
// never served (a year-9999 expiry once became a 2562047h cacheDuration).
func TestEditedEntriesAreNotServed(t *testing.T) {
	key := Key{Role: "r", Identity: "id", Scope: "reg", MaxLifetime: 12 * time.Hour}
	entryJSON := func(id, user, pass, exp string) []byte {
		return []byte(`{"version":1,"id":"` + id + `","token":{"username":"` + user + `","password":"` + pass + `","expiresAt":"` + exp + `"}}`)
	}
	soon := t0.Add(time.Hour).Format(time.RFC3339)
	tests := []struct {
		name    string
		content []byte
		key     Key
		wantHit bool
	}{
		{"valid entry is served", entryJSON(key.id(), "u", "p", soon), key, true},
		{"expiry beyond MaxLifetime", entryJSON(key.id(), "u", "p", t0.Add(13*time.Hour).Format(time.RFC3339)), key, false},
		{"year 9999 with a cap", entryJSON(key.id(), "u", "p", "9999-12-31T23:59:59Z"), key, false},
		{"year 9999 without a cap", entryJSON(key.id(), "u", "p", "9999-12-31T23:59:59Z"), Key{Role: "r", Identity: "id", Scope: "reg"}, false},
		{"empty username", entryJSON(key.id(), "", "p", soon), key, false},
		{"empty password", entryJSON(key.id(), "u", "", soon), key, false},
		{"zero expiry", entryJSON(key.id(), "u", "p", "0001-01-01T00:00:00Z"), key, false},
		{"another key's id", entryJSON(Key{Role: "r", Identity: "x", Scope: "reg"}.id(), "u", "p", soon), key, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			if err := os.WriteFile(filepath.Join(c.dir.Path(), entryName(tt.key.id())), tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			want := Token{Username: "u", Password: "fresh", ExpiresAt: t0.Add(time.Hour)}
			got, hit, err := doCached(context.Background(), c, tt.key, fetcher(&calls, want))
			if err != nil || hit != tt.wantHit {
				t.Fatalf("Do: hit=%v err=%v, want hit=%v", hit, err, tt.wantHit)
			}
			if !hit && got != want {
				t.Fatalf("Do = %+v, want the fetched token", got)
			}
		})
	}
}

// A fetched token the cache would refuse on read is returned but not stored.
func TestInvalidFetchedTokenIsNotStored(t *testing.T) {
	key := Key{Role: "r", Identity: "id", Scope: "reg", MaxLifetime: time.Hour}
	for _, tok := range []Token{
		{Username: "u", Password: "p", ExpiresAt: t0.Add(2 * time.Hour)},
		{Password: "p", ExpiresAt: t0.Add(time.Hour)},
		{Username: "u", Password: "p", ExpiresAt: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		c := newCache(t)
		var calls atomic.Int32
		for range 2 {
			if got, hit, err := doCached(context.Background(), c, key, fetcher(&calls, tok)); err != nil || hit || got != tok {
				t.Fatalf("Do(%+v) = %+v hit=%v err=%v, want the fetched token, uncached", tok, got, hit, err)
			}
		}
		if calls.Load() != 2 {
			t.Errorf("fetches = %d, want 2 (nothing stored)", calls.Load())
		}
	}
}

func TestStaleTokenServedOnlyUntilExpiry(t *testing.T) {
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	boom := errors.New("cloud down")
	failing := func(context.Context) (Token, error) { return Token{}, boom }
	tests := []struct {
		name      string
		later     time.Duration // how long after the store the refresh fails
		wantStale bool
	}{
		{"within the margin: stale token served", time.Hour - Margin + time.Second, true},
		{"one second before expiry: stale token served", time.Hour - time.Second, true},
		{"at expiry: error", time.Hour, false},
		{"past expiry: error", 2 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			stored := Token{Username: "u", Password: "p", ExpiresAt: t0.Add(time.Hour)}
			var calls atomic.Int32
			if _, err := c.Do(context.Background(), key, fetcher(&calls, stored)); err != nil {
				t.Fatal(err)
			}
			c.now = func() time.Time { return t0.Add(tt.later) }
			res, err := c.Do(context.Background(), key, failing)
			if !tt.wantStale {
				if !errors.Is(err, boom) || res != (Result{}) {
					t.Fatalf("Do = %+v, %v; want the fetch error and no token", res, err)
				}
				return
			}
			if err != nil || res.Source != Stale || res.Token != stored || !errors.Is(res.FetchErr, boom) {
				t.Fatalf("Do = %+v, %v; want the stored token as Stale with the fetch error", res, err)
			}
		})
	}
	var disabled *Cache
	if res, err := disabled.Do(context.Background(), key, failing); !errors.Is(err, boom) || res.Source != Fetched || res.Token != (Token{}) {
		t.Fatalf("nil cache Do = %+v, %v; want the fetch error", res, err)
	}
}

func TestSetExpiry(t *testing.T) {
	c := newCache(t)
	key := Key{Role: "r", Identity: "id", Scope: "reg"}
	stored := Token{Username: "u", Password: "p", ExpiresAt: t0.Add(time.Hour)}
	var calls atomic.Int32
	if _, err := c.Do(context.Background(), key, fetcher(&calls, stored)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir.Path(), "other.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(Margin - time.Minute)
	if n, err := SetExpiry(c.dir.Path(), at); n != 1 || err != nil {
		t.Fatalf("SetExpiry = %d, %v; want the one entry", n, err)
	}
	want := Token{Username: "u", Password: "p", ExpiresAt: at}
	if got, ok := c.get(key.id(), key); !ok || got != want {
		t.Fatalf("entry after SetExpiry = %+v, %v; want %+v", got, ok, want)
	}
	if b, err := os.ReadFile(filepath.Join(c.dir.Path(), "other.json")); err != nil || string(b) != "{}" {
		t.Fatalf("a file that is no entry was changed: %q, %v", b, err)
	}
	missing := filepath.Join(t.TempDir(), "absent")
	if _, err := SetExpiry(missing, at); err == nil {
		t.Fatal("SetExpiry of a missing directory: no error")
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("SetExpiry created %s", missing)
	}
}
