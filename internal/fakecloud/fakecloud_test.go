package fakecloud

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestTrickle: a Trickle fault answers 200 at once with its prefix, then
// keeps the body open one byte at a time, so that only the client's
// deadline ends the read; and it lets go of the handler when the client
// leaves, so the server's Close does not wait.
func TestTrickle(t *testing.T) {
	var fs Faults
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fs.ApplyRequest("op", w, r) {
			return
		}
		_, _ = io.WriteString(w, "normal")
	}))
	defer srv.Close()
	tests := []struct {
		name, body, want string
	}{
		{"default prefix", "", TricklePrefix},
		{"own prefix", "arn:aws:iam::", "arn:aws:iam::"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs.Inject("op", Fault{Trickle: true, Body: tt.body})
			t.Cleanup(fs.Clear)
			const wait = 4 * TrickleEvery
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			got, err := io.ReadAll(resp.Body)
			d := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("read ended with %v after %s, want the client's deadline", err, d)
			}
			// The prefix, then about one byte per TrickleEvery: never
			// enough to reach any size bound.
			rest, ok := strings.CutPrefix(string(got), tt.want)
			if !ok || len(rest) < 2 || len(rest) > 5 || strings.Trim(rest, "a") != "" {
				t.Fatalf("body %q, want %q and a few bytes more", got, tt.want)
			}
			if d > wait+time.Second {
				t.Fatalf("read held the client %s, past its deadline %s", d, wait)
			}
		})
	}
	// Once the client left, the emulator answers normally again.
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "normal" {
		t.Fatalf("after the trickle: %q", b)
	}
}
