package tokencache

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzParseEntry: any bytes yield an error or an entry; an entry the cache
// would serve round-trips through put's encoding.
func FuzzParseEntry(f *testing.F) {
	key := Key{Role: "r", Identity: "id", Scope: "reg", MaxLifetime: 12 * time.Hour}
	good, _ := json.Marshal(entry{Version: fileVersion, ID: key.id(), Token: Token{Username: "u", Password: "p", ExpiresAt: t0.Add(time.Hour)}})
	f.Add(good)
	f.Add([]byte(strings.Replace(string(good), "2026", "9999", 1)))
	f.Add([]byte(strings.Replace(string(good), `"username":"u"`, `"username":""`, 1)))
	f.Add([]byte(strings.Replace(string(good), `"version":1`, `"version":2`, 1)))
	f.Add([]byte(`{"version":1,"token":{"expiresAt":"0000-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"version":1,"token":{"expiresAt":"2026-12-04T12:00:00+99:00"}}`))
	f.Add([]byte("\x00"))
	c := &Cache{now: func() time.Time { return t0 }}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := parseEntry(b)
		if err != nil || e.ID != key.id() || c.valid(e.Token, key) != nil {
			return
		}
		if e.Token.ExpiresAt.Sub(t0) > key.MaxLifetime || e.Token.Username == "" || e.Token.Password == "" {
			t.Fatalf("valid entry breaks the rules: %+v", e)
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("a valid entry does not encode: %v", err)
		}
		again, err := parseEntry(out)
		if err != nil || again.Token.Username != e.Token.Username || again.Token.Password != e.Token.Password || !again.Token.ExpiresAt.Equal(e.Token.ExpiresAt) {
			t.Fatalf("round trip %+v -> %+v (%v)", e, again, err)
		}
	})
}
