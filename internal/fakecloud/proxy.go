package fakecloud

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Proxy is a loopback HTTP proxy that serves real host names from in-process
// handlers, so that an unmodified SDK in a child process reaches an emulator
// through the standard HTTPS_PROXY / HTTP_PROXY / SSL_CERT_FILE knobs.
//
// CONNECT host:port is answered by terminating TLS with a leaf certificate
// for host signed by the proxy's test CA; absolute-form plain-HTTP requests
// (e.g. IMDS at http://169.254.169.254/...) are served directly. A host that
// was not routed gets 502: the proxy never dials out.
type Proxy struct {
	ca     *CA
	ln     net.Listener
	front  *http.Server
	inner  *http.Server
	tlsLn  *connListener
	dir    string
	caFile string

	mu     sync.RWMutex
	routes map[string]http.Handler
	conns  map[net.Conn]http.Handler
	opened atomic.Int64
}

// NewProxy starts a proxy on 127.0.0.1 with a fresh CA, whose PEM it writes
// to a temporary file (see CAFile). Close it when done.
func NewProxy() (*Proxy, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kcred-fakecloud-")
	if err != nil {
		return nil, fmt.Errorf("fakecloud: temp dir: %w", err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM(), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("fakecloud: write CA: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("fakecloud: listen: %w", err)
	}
	p := &Proxy{
		ca:     ca,
		ln:     ln,
		tlsLn:  newConnListener(ln.Addr()),
		dir:    dir,
		caFile: caFile,
		routes: map[string]http.Handler{},
		conns:  map[net.Conn]http.Handler{},
	}
	p.front = &http.Server{Handler: http.HandlerFunc(p.serveFront), ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			p.opened.Add(1)
		}
	}}
	p.inner = &http.Server{
		Handler: http.HandlerFunc(serveRouted),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			p.mu.Lock()
			h := p.conns[c]
			delete(p.conns, c)
			p.mu.Unlock()
			return context.WithValue(ctx, routeKey{}, h)
		},
	}
	go func() { _ = p.front.Serve(ln) }()
	go func() { _ = p.inner.Serve(p.tlsLn) }()
	return p, nil
}

// Route serves host with h. host is a name or IP ("myreg.azurecr.io",
// "169.254.169.254"), matching any port, or "host:port" to match one port
// only (an exact host:port route wins). Routes may be changed at any time;
// a nil handler removes the route (the host becomes unreachable: 502).
func (p *Proxy) Route(host string, h http.Handler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h == nil {
		delete(p.routes, normHost(host))
		return
	}
	p.routes[normHost(host)] = h
}

// Connections is how many client connections the proxy has accepted, so a
// test can prove that an exec made no network I/O at all.
func (p *Proxy) Connections() int { return int(p.opened.Load()) }

// URL is the proxy's URL, for HTTPS_PROXY and HTTP_PROXY.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// CAFile is the path of the test CA's PEM file, for SSL_CERT_FILE.
func (p *Proxy) CAFile() string { return p.caFile }

// CA returns the proxy's certificate authority.
func (p *Proxy) CA() *CA { return p.ca }

// Env returns the environment entries that send a child process's HTTP(S)
// traffic through the proxy and make it trust only the test CA.
func (p *Proxy) Env() []string {
	return []string{
		"HTTPS_PROXY=" + p.URL(),
		"HTTP_PROXY=" + p.URL(),
		"NO_PROXY=",
		"SSL_CERT_FILE=" + p.caFile,
	}
}

// Client returns an in-process HTTP client that uses the proxy and trusts
// the test CA.
func (p *Proxy) Client() *http.Client {
	u, _ := url.Parse(p.URL())
	return &http.Client{Transport: &http.Transport{
		Proxy:           http.ProxyURL(u),
		TLSClientConfig: &tls.Config{RootCAs: p.ca.Pool()},
	}}
}

// Close stops the proxy and removes the CA file.
func (p *Proxy) Close() error {
	err := errors.Join(p.front.Close(), p.inner.Close())
	return errors.Join(err, os.RemoveAll(p.dir))
}

// lookup finds the handler for hostport, trying host:port then host.
func (p *Proxy) lookup(hostport, defaultPort string) (http.Handler, string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, defaultPort
	}
	host = normHost(host)
	p.mu.RLock()
	defer p.mu.RUnlock()
	if h, ok := p.routes[net.JoinHostPort(host, port)]; ok {
		return h, host
	}
	return p.routes[host], host
}

func normHost(h string) string {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if host, port, err := net.SplitHostPort(h); err == nil {
		return net.JoinHostPort(strings.TrimSuffix(host, "."), port)
	}
	return strings.Trim(h, "[]")
}

func (p *Proxy) serveFront(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		p.serveConnect(w, r)
	case r.URL.Host != "":
		h, _ := p.lookup(r.URL.Host, "80")
		if h == nil {
			http.Error(w, "fakecloud proxy: no route for "+r.URL.Host, http.StatusBadGateway)
			return
		}
		h.ServeHTTP(w, r)
	default:
		http.Error(w, "fakecloud proxy: not a proxy request", http.StatusBadRequest)
	}
}

func (p *Proxy) serveConnect(w http.ResponseWriter, r *http.Request) {
	h, host := p.lookup(r.Host, "443")
	if h == nil {
		http.Error(w, "fakecloud proxy: no route for "+r.Host, http.StatusBadGateway)
		return
	}
	leaf, err := p.ca.Leaf(host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "fakecloud proxy: cannot hijack", http.StatusInternalServerError)
		return
	}
	raw, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	if _, err := raw.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		raw.Close()
		return
	}
	conn := tls.Server(&bufferedConn{Conn: raw, r: buf.Reader}, &tls.Config{
		Certificates: []tls.Certificate{*leaf},
		NextProtos:   []string{"http/1.1"},
	})
	p.mu.Lock()
	p.conns[conn] = h
	p.mu.Unlock()
	p.tlsLn.push(conn)
}

type routeKey struct{}

func serveRouted(w http.ResponseWriter, r *http.Request) {
	h, _ := r.Context().Value(routeKey{}).(http.Handler)
	if h == nil {
		http.Error(w, "fakecloud proxy: lost route", http.StatusBadGateway)
		return
	}
	h.ServeHTTP(w, r)
}

// bufferedConn reads what the hijacked reader already buffered first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// connListener hands connections accepted elsewhere to an http.Server.
type connListener struct {
	addr   net.Addr
	ch     chan net.Conn
	once   sync.Once
	closed chan struct{}
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *connListener) push(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.closed:
		c.Close()
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }
