package kubelet

import "time"

// globalCacheKey is the kubelet's base cache key for a Global answer (1.34+).
const globalCacheKey = "<global>"

// cacheEntry is one cached answer: the whole auth map, as the kubelet stores it.
type cacheEntry struct {
	auth      map[string]AuthConfig
	expiresAt time.Time
}

// providerCache is one provider's in-memory credential cache (the kubelet's
// client-go ExpirationStore): an entry is valid until now is after expiresAt,
// and an expired entry is dropped when read.
type providerCache struct {
	entries map[string]cacheEntry
}

// cacheKey is the kubelet's length-prefixed (baseKey, serviceAccountKey) pair.
func cacheKey(base, saKey string) string {
	return string(lengthPrefixed(nil, base)) + string(lengthPrefixed(nil, saKey))
}

func (c *providerCache) get(key string, now time.Time) (cacheEntry, bool) {
	e, ok := c.entries[key]
	if !ok {
		return cacheEntry{}, false
	}
	if now.After(e.expiresAt) {
		delete(c.entries, key)
		return cacheEntry{}, false
	}
	return e, true
}

func (c *providerCache) add(key string, e cacheEntry) {
	if c.entries == nil {
		c.entries = map[string]cacheEntry{}
	}
	c.entries[key] = e
}

// lengthPrefixed appends s with a 2-byte big-endian length, as the kubelet's
// cryptobyte key builder does.
func lengthPrefixed(b []byte, s string) []byte {
	return append(append(b, byte(len(s)>>8), byte(len(s))), s...)
}
