package httpbound

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
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
			var r io.Reader = Body(context.Background(), io.NopCloser(strings.NewReader(strings.Repeat("x", tt.size))))
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

// endAtDone is a body that ends cleanly, EOF, when ctx ends: as a server
// that ends its answer when the client hangs up.
type endAtDone struct{ ctx context.Context }

func (b endAtDone) Read([]byte) (int, error) { <-b.ctx.Done(); return 0, io.EOF }
func (endAtDone) Close() error               { return nil }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBodyCutOff(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Now())
	defer cancel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		// err is what the body's reader returns at its end.
		err, want error
	}{
		{name: "end before the deadline", ctx: context.Background(), err: io.EOF, want: nil},
		// The caller hung up on its own, having read what it wanted.
		{name: "end after a cancel", ctx: canceled, err: io.EOF, want: nil},
		{name: "end after the deadline", ctx: expired, err: io.EOF, want: ErrCutOff},
		{name: "failure after the deadline", ctx: expired, err: io.ErrUnexpectedEOF, want: io.ErrUnexpectedEOF},
		// A body with a length: net/http checks its end (BodyContext).
		{name: "no deadline to keep", ctx: BodyContext(expired, &http.Response{ContentLength: 2}), err: io.EOF, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Body(tt.ctx, io.NopCloser(io.MultiReader(strings.NewReader("{}"), iotest.ErrReader(tt.err))))
			b, err := io.ReadAll(r)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) || string(b) != "{}" {
				t.Fatalf("read %q, err %v; want %q, %v", b, err, "{}", tt.want)
			}
		})
	}

	// Through a client whose timeout ends the request: the body's clean
	// end is a timeout, not a complete answer.
	client := &http.Client{Timeout: 50 * time.Millisecond, Transport: Wrap(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, ContentLength: -1, Body: endAtDone{r.Context()}, Request: r}, nil
	}))}
	resp, err := client.Get("http://127.0.0.1:1/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read err %v, want a timeout", err)
	}
}
