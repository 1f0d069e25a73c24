package registrytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// auth is the client credential for user/pass, exactly as the kubelet hands
// a plugin's answer to the container runtime: a username and a password
// (an ACR refresh token travels as the password of ACRUser, which the token
// endpoint takes with GET and Basic). Empty means anonymous.
func auth(user, pass string) authn.Authenticator {
	if user == "" && pass == "" {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})
}

// Push writes a small random image (two 1 KiB layers) to ref with the given
// credential and returns its manifest digest. opts may carry a transport
// (remote.WithTransport) to reach a registry under a proxied host name.
func Push(ctx context.Context, ref, user, pass string, opts ...remote.Option) (v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("push %s: parse reference: %w", ref, err)
	}
	img, err := random.Image(1024, 2)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("push %s: build image: %w", ref, err)
	}
	opts = append([]remote.Option{remote.WithContext(ctx), remote.WithAuth(auth(user, pass))}, opts...)
	if err := remote.Write(r, img, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("push %s: digest: %w", ref, err)
	}
	return d, nil
}

// Pull fetches ref's manifest and every layer with the given credential
// (empty user and pass: anonymous), checking each layer's digest as it is
// read, as a container runtime would. It fails if the registry refuses the
// credential (see IsUnauthorized).
func Pull(ctx context.Context, ref, user, pass string, opts ...remote.Option) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return fmt.Errorf("pull %s: parse reference: %w", ref, err)
	}
	opts = append([]remote.Option{remote.WithContext(ctx), remote.WithAuth(auth(user, pass))}, opts...)
	img, err := remote.Image(r, opts...)
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("pull %s: layers: %w", ref, err)
	}
	for _, l := range layers {
		if err := drain(l); err != nil {
			return fmt.Errorf("pull %s: %w", ref, err)
		}
	}
	return nil
}

// drain reads a layer's compressed blob to the end; go-containerregistry
// verifies its digest on the way.
func drain(l v1.Layer) error {
	d, err := l.Digest()
	if err != nil {
		return fmt.Errorf("layer digest: %w", err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("layer %s: %w", d, err)
	}
	_, err = io.Copy(io.Discard, rc)
	return errors.Join(err, rc.Close())
}

// IsUnauthorized reports whether err is a registry refusing a credential
// (HTTP 401 or 403, from the registry or its token endpoint), as opposed to
// any other failure.
func IsUnauthorized(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	return terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden
}
