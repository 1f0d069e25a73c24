// Package image assembles kcred's container image without a daemon: an OCI
// image index of one image per Linux platform, each a single layer holding
// the static release binary at /kcred and the Mozilla root certificates at
// /etc/ssl/certs/ca-certificates.crt (where Go looks on Linux), with a
// non-root default user. `make image` writes it as an OCI image layout.
package image

import (
	"archive/tar"
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// Paths inside the image.
const (
	BinaryPath = "/kcred"
	CAPath     = "/etc/ssl/certs/ca-certificates.crt"
)

// User is the default user: nobody's uid and gid by convention (65532, as
// distroless images use). The installer DaemonSet runs as root explicitly,
// because it writes root-owned host directories; every other use of the
// image (kcred check, kcred version) needs no privilege.
const User = "65532:65532"

// Index builds the image index from binaries, "linux/ARCH" → the path of a
// static kcred for that platform, labelled with version. The result is
// reproducible: every time stamp is the zero time and file order is fixed.
func Index(binaries map[string]string, version string) (v1.ImageIndex, error) {
	platforms := make([]string, 0, len(binaries))
	for p := range binaries {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms)
	if len(platforms) == 0 {
		return nil, fmt.Errorf("no binaries to build an image from")
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		osName, arch, ok := strings.Cut(p, "/")
		if !ok || osName != "linux" {
			return nil, fmt.Errorf("platform %q: want linux/ARCH", p)
		}
		img, err := platformImage(binaries[p], arch, version)
		if err != nil {
			return nil, fmt.Errorf("image for %s: %w", p, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: osName, Architecture: arch}},
		})
	}
	return idx, nil
}

func platformImage(binary, arch, version string) (v1.Image, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootfs(bin)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	cfg.Config = v1.Config{
		Entrypoint: []string{BinaryPath},
		User:       User,
		Labels: map[string]string{
			"org.opencontainers.image.title":   "kcred",
			"org.opencontainers.image.version": version,
			"org.opencontainers.image.source":  "https://github.com/kcred/kcred",
		},
	}
	return mutate.ConfigFile(img, cfg)
}

// rootfs is the layer's tar: the directories, the CA bundle, the binary.
func rootfs(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0).UTC()
	for _, d := range []string{"etc/", "etc/ssl/", "etc/ssl/certs/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{strings.TrimPrefix(CAPath, "/"), 0o644, caBundle()},
		{strings.TrimPrefix(BinaryPath, "/"), 0o755, bin},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// caBundle is the NSS (Mozilla) root store as PEM, from the Go team's
// golang.org/x/crypto/x509roots/fallback/bundle, pinned in go.mod, so the
// image does not depend on the build machine's certificates. Roots with a
// distrust-after constraint are left out: a PEM file cannot carry the
// constraint, and trusting them without it would be wider than NSS.
func caBundle() []byte {
	var b bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})
	}
	return b.Bytes()
}

// WriteLayout writes idx as an OCI image layout at dir (replacing what was
// there), with the index's manifest named version
// (org.opencontainers.image.ref.name).
func WriteLayout(dir string, idx v1.ImageIndex, version string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": version}))
}
