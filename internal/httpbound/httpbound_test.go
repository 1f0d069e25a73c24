package httpbound

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestBody(t *testing.T) {
	tests := []struct {
		name string
		size int
		// limit is a reader's own cap above the body, as x/oauth2 puts
		// io.LimitReader(body, 1<<20) on every token answer; 0 for none.
		limit   int64
		wantErr bool
	}{
		{name: "small", size: 10},
		{name: "at the bound", size: MaxBody},
		{name: "one byte over", size: MaxBody + 1, wantErr: true},
		{name: "far over", size: 4 * MaxBody, wantErr: true},
		// The library's cap must not hide the bound: it would hand the
		// caller a cut document instead of the reason.
		{name: "over, read through a 1 MiB cap", size: 2 << 20, limit: 1 << 20, wantErr: true},
		{name: "at the bound, read through a 1 MiB cap", size: MaxBody, limit: 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = Body(io.NopCloser(strings.NewReader(strings.Repeat("x", tt.size))))
			if tt.limit > 0 {
				r = io.LimitReader(r, tt.limit)
			}
			b, err := io.ReadAll(r)
			if tt.wantErr {
				if !IsTooLarge(err) {
					t.Fatalf("read %d bytes, err %v; want ErrTooLarge", len(b), err)
				}
				return
			}
			if err != nil || len(b) != tt.size {
				t.Fatalf("read %d bytes, err %v; want %d, nil", len(b), err, tt.size)
			}
		})
	}
}

func TestTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("length") != "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		_, _ = w.Write([]byte(strings.Repeat("x", n)))
	}))
	defer srv.Close()
	client := &http.Client{Transport: Wrap(srv.Client().Transport)}
	tests := []struct {
		query string
		// failsAt is where the error comes: "" none, "trip" the round
		// trip (a Content-Length over the bound), "read" the body.
		failsAt string
	}{
		{"n=100", ""},
		{"n=100&length=1", ""},
		{"n=" + strconv.Itoa(MaxBody+1) + "&length=1&signature=s3cret", "trip"},
		{"n=" + strconv.Itoa(MaxBody+1), "read"},
	}
	for _, tt := range tests {
		resp, err := client.Get(srv.URL + "/?" + tt.query)
		if tt.failsAt == "trip" {
			if !IsTooLarge(err) || !strings.Contains(err.Error(), "GET "+srv.URL+"/:") {
				t.Errorf("%s: round trip err %v, want ErrTooLarge naming the call", tt.query, err)
			}
			// A signed URL's query is its secret. (The client's
			// *url.Error around it quotes the URL: callers drop that.)
			var ue *url.Error
			if errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "s3cret") {
				t.Errorf("%s: round trip err %v quotes the query", tt.query, ue.Err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := IsTooLarge(err); got != (tt.failsAt == "read") {
			t.Errorf("%s: read err %v", tt.query, err)
		}
	}
	if Wrap(client.Transport) != client.Transport {
		t.Error("Wrap wrapped a bounded transport twice")
	}
	if !strings.Contains(ErrTooLarge.Error(), strconv.Itoa(MaxBody)) {
		t.Error("ErrTooLarge does not name the bound")
	}
}
