// Package httpbound bounds what kcred reads from the network: every
// response body is cut off at MaxBody with an error, so a hostile or broken
// endpoint that answers an endless body cannot drive an exec's memory or
// time. The bound sits in the transport, below every SDK client, so no
// provider can forget it.
package httpbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// MaxBody is the largest response body any cloud endpoint kcred talks to
// may send. Token answers are a few KiB; 512 KiB leaves room for verbose
// error documents. It is below the 1 MiB at which x/oauth2 stops reading on
// its own: a flood then fails here, with ErrTooLarge, instead of reaching
// the library as a cut JSON document ("unexpected end of JSON input").
const MaxBody = 512 << 10

// ErrTooLarge is the error a read returns past MaxBody, and a round trip
// whose Content-Length announces more.
var ErrTooLarge = fmt.Errorf("response larger than %d bytes: not a token endpoint's answer", MaxBody)

// ErrCutOff is the error a read returns for an end of body that comes after
// the request's deadline: the endpoint may have ended the answer because
// this side was hanging up (a TLS close_notify lets an HTTP/1.1 server end
// a chunked body cleanly), so what came is not the whole answer, and the
// reason is the deadline, not a malformed document.
var ErrCutOff = fmt.Errorf("answer cut off at the request's deadline: %w", context.DeadlineExceeded)

// Wrap returns next with every response body bounded by MaxBody and by the
// request's deadline (see ErrCutOff). A Content-Length above the bound
// fails the round trip at once.
func Wrap(next http.RoundTripper) http.RoundTripper {
	if _, ok := next.(*transport); ok {
		return next
	}
	return &transport{next: next}
}

type transport struct{ next http.RoundTripper }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > MaxBody {
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %w", req.Method, where(req.URL), ErrTooLarge)
	}
	resp.Body = Body(BodyContext(req.Context(), resp), resp.Body)
	return resp, nil
}

// where is u without what may be a secret: user info, and a query, which
// may be a signature (a signed URL).
func where(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// Body bounds rc by MaxBody and, when ctx is not nil, by ctx's deadline
// (see BodyContext), for SDKs whose transport kcred cannot wrap but whose
// responses it can reach (the AWS SDK's middleware stack).
func Body(ctx context.Context, rc io.ReadCloser) io.ReadCloser {
	if b, ok := rc.(*body); ok {
		return b
	}
	return &body{ctx: ctx, rc: rc, left: MaxBody}
}

// BodyContext is the context whose deadline bounds resp's body: ctx, the
// request's, when the body's length is unknown, else nil: net/http already
// fails a body with a length that ends short (io.ErrUnexpectedEOF), and its
// complete end must not become ErrCutOff for being read a moment late.
func BodyContext(ctx context.Context, resp *http.Response) context.Context {
	if resp.ContentLength >= 0 {
		return nil
	}
	return ctx
}

// body fails reads past its bound instead of truncating silently: a cut
// JSON document must not parse as a smaller valid one.
type body struct {
	ctx  context.Context
	rc   io.ReadCloser
	left int64
}

func (b *body) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrTooLarge
		}
		return 0, b.end(err)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, b.end(err)
}

// end is err, unless it is an end of body at or after the deadline
// (ErrCutOff). The clock is read too: the client's own timer, which hangs
// up, may fire before the context's.
func (b *body) end(err error) error {
	if err != io.EOF || b.ctx == nil {
		return err
	}
	if d, ok := b.ctx.Deadline(); ok && !time.Now().Before(d) || errors.Is(b.ctx.Err(), context.DeadlineExceeded) {
		return ErrCutOff
	}
	return err
}

func (b *body) Close() error { return b.rc.Close() }

// Transport returns a fresh bounded transport for one client: proxies from
// the environment (HTTPS_PROXY, NO_PROXY), the system roots (SSL_CERT_FILE
// honoured), and dial, TLS and header timeouts so that a black-holed
// endpoint fails an attempt instead of waiting for the caller's deadline.
func Transport() http.RoundTripper {
	return Wrap(base())
}

func base() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 20 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Client returns an *http.Client on a bounded Transport, each attempt
// limited to timeout (zero: no per-attempt limit; the caller's context
// still applies).
func Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: Transport(), Timeout: timeout}
}

var installOnce sync.Once

// InstallDefault bounds http.DefaultTransport (and so http.DefaultClient),
// for the SDK code paths that build their requests on it. Idempotent.
func InstallDefault() {
	installOnce.Do(func() {
		http.DefaultTransport = Wrap(base())
	})
}

// IsTooLarge reports whether err is a body over MaxBody.
func IsTooLarge(err error) bool { return errors.Is(err, ErrTooLarge) }
