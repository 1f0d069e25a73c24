package registrytest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server is a Registry listening on a loopback port, over plain HTTP (as
// go-containerregistry and containerd treat 127.0.0.1 registries).
type Server struct {
	*Registry
	// Addr is the listener's "127.0.0.1:port", the registry host of image
	// references such as Addr+"/app:v1".
	Addr string
	srv  *http.Server
}

// Listen starts a registry built from opts on 127.0.0.1 with a free port.
// Close stops it.
func Listen(opts Options) (*Server, error) {
	reg, err := New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = reg.Close()
		return nil, fmt.Errorf("registrytest: listen on loopback: %w", err)
	}
	s := &Server{Registry: reg, Addr: ln.Addr().String(), srv: &http.Server{Handler: reg, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the listener and drops every connection at once (a graceful
// Shutdown would wait 5 s for connections a client dialed but never used),
// then stops the registry.
func (s *Server) Close() error {
	return errors.Join(s.srv.Close(), s.Registry.Close())
}
