package tokencache

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// SetExpiry sets the expiry of every entry in the existing cache directory
// dir to at and returns how many entries it changed. It is test support,
// which kcred itself never calls: for tests of what is built on the cache (the conformance suite, internal/providertest): an entry an
// exec stored while fresh can then be found inside Margin, or expired, by
// the next exec without waiting minutes of real time or faking the clock of
// every package an exec runs through. The credential and key of each entry
// are kept; files that are not entries Do would read are left alone.
func SetExpiry(dir string, at time.Time) (int, error) {
	// Open would create a missing directory.
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		return 0, fmt.Errorf("%s is not a cache directory", dir)
	}
	c := Open(dir, nil)
	if c == nil {
		return 0, fmt.Errorf("%s is not a usable cache directory", dir)
	}
	defer c.dir.Close()
	names, err := c.dir.Names()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		id, ok := strings.CutSuffix(name, ".json")
		if !ok || name != entryName(id) {
			continue
		}
		e, err := c.readEntry(name)
		if err != nil || e.ID != id {
			continue
		}
		e.Token.ExpiresAt = at
		if err := c.put(id, e.Token); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
