package cloudtoken

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/tokencache"
)

type fakeCloud struct {
	tok   Token
	err   error
	calls int
	panic bool
}

func (f *fakeCloud) Plan(req plugin.Request) (Plan, error) {
	if req.Registry != "mine.example" {
		return Plan{}, nil
	}
	return Plan{
		Keys: []string{req.Registry}, Scope: "s",
		Identity: Identity{Fingerprint: "fp", Description: "node"},
		Fetch: func(ctx context.Context) (Token, error) {
			f.calls++
			if f.panic {
				var m map[string]int
				m["x"]++
			}
			return f.tok, f.err
		},
	}, nil
}

func TestDriverClamp(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name    string
		tok     Token
		want    time.Duration // from now; 0 with wantErr
		wantErr string
	}{
		{"within limits", Token{Username: "u", Password: "p", ExpiresAt: now.Add(2 * time.Hour)}, 2 * time.Hour, ""},
		{"no expiry: default lifetime", Token{Username: "u", Password: "p"}, 30 * time.Minute, ""},
		{"beyond the cap", Token{Username: "u", Password: "p", ExpiresAt: now.Add(100 * time.Hour)}, 3 * time.Hour, ""},
		{"int64-max expiry", Token{Username: "u", Password: "p", ExpiresAt: time.Unix(1<<62, 0)}, 3 * time.Hour, ""},
		{"just expired: the clock", Token{Username: "u", Password: "p", ExpiresAt: now.Add(-time.Minute)}, 0, "check the node's clock"},
		{"1970: malformed", Token{Username: "u", Password: "p", ExpiresAt: time.Unix(1000, 0)}, 0, "not a plausible expiry"},
		{"no password", Token{Username: "u", ExpiresAt: now.Add(time.Hour)}, 0, "no username or no password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(plugin.Env{Role: "r"}, &fakeCloud{}, Limits{MaxLifetime: 3 * time.Hour, DefaultLifetime: 30 * time.Minute})
			got, err := d.clamp(tt.tok, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !got.ExpiresAt.Equal(now.Add(tt.want)) {
				t.Fatalf("expiry %v, %v; want now+%s", got.ExpiresAt, err, tt.want)
			}
		})
	}
}

func TestDriverCredentials(t *testing.T) {
	req := plugin.Request{APIVersion: plugin.APIVersionV1, Image: "mine.example/a", Registry: "mine.example"}
	good := Token{Username: "u", Password: "p", ExpiresAt: time.Now().Add(time.Hour)}
	t.Run("foreign registry: empty, no fetch", func(t *testing.T) {
		c := &fakeCloud{tok: good}
		ans, err := New(plugin.Env{Role: "r"}, c, Limits{}).Credentials(context.Background(), plugin.Request{Registry: "other.example"})
		if err != nil || len(ans.Auth) != 0 || c.calls != 0 {
			t.Fatalf("answer %+v, %v, %d fetches", ans, err, c.calls)
		}
	})
	t.Run("cached after the first fetch", func(t *testing.T) {
		c := &fakeCloud{tok: good}
		d := New(plugin.Env{Role: "r", Cache: tokencache.Open(t.TempDir()+"/c", nil)}, c, Limits{})
		for range 3 {
			ans, err := d.Credentials(context.Background(), req)
			if err != nil || ans.Auth["mine.example"].Password != "p" || ans.CacheKeyType != plugin.CacheKeyRegistry {
				t.Fatalf("answer %+v, %v", ans, err)
			}
		}
		if c.calls != 1 {
			t.Fatalf("%d fetches, want 1", c.calls)
		}
	})
	t.Run("panic in fetch is a malformed answer", func(t *testing.T) {
		_, err := New(plugin.Env{Role: "r"}, &fakeCloud{panic: true}, Limits{}).Credentials(context.Background(), req)
		if err == nil || !strings.Contains(err.Error(), "the SDK could not process it") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("timeout says how long it took", func(t *testing.T) {
		c := &fakeCloud{err: &net.OpError{Op: "dial", Err: timeoutErr{}}}
		_, err := New(plugin.Env{Role: "r"}, c, Limits{}).Credentials(context.Background(), req)
		if err == nil || !strings.Contains(err.Error(), "no answer after 0s") || !strings.Contains(err.Error(), "(check that the node reaches") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("role hint kept, one only", func(t *testing.T) {
		c := &fakeCloud{err: &plugin.Error{What: "exchange", Err: errors.New("HTTP 403"), Check: "check the role"}}
		_, err := New(plugin.Env{Role: "r"}, c, Limits{}).Credentials(context.Background(), req)
		if err == nil || !strings.HasSuffix(err.Error(), "exchange: HTTP 403 (check the role)") || strings.Count(err.Error(), "(") != 1 {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("direct answer, no fetch", func(t *testing.T) {
		c := CloudFunc(func(plugin.Request) (Plan, error) {
			return Plan{Keys: []string{"a", "b"}, Direct: &Token{Username: "id", Password: "secret"}}, nil
		})
		ans, err := New(plugin.Env{Role: "r"}, c, Limits{}).Credentials(context.Background(), req)
		if err != nil || len(ans.Auth) != 2 || !ans.ExpiresAt.IsZero() {
			t.Fatalf("answer %+v, %v", ans, err)
		}
	})
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
