package image

import (
	"archive/tar"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/registrytest"
)

// The image as `make image` makes it: built from the release binaries,
// written as an OCI layout, read back, pushed to a real registry, pulled
// back by digest, and its binary extracted and run.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds kcred for arm64")
	}
	exectest.RequireIsolatedNetwork(t)
	const version = "v1.2.3-image"
	dist := t.TempDir()
	exectest.Make(t, "binaries", "DIST="+dist, "PLATFORMS=linux/amd64 linux/arm64", "VERSION="+version)
	bins := map[string]string{
		"linux/amd64": filepath.Join(dist, "kcred-linux-amd64"),
		"linux/arm64": filepath.Join(dist, "kcred-linux-arm64"),
	}
	built, err := Index(bins, version)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "image")
	if err := WriteLayout(dir, built, version); err != nil {
		t.Fatal(err)
	}
	again, err := Index(bins, version)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := built.Digest()
	if d, _ := again.Digest(); d != want {
		t.Errorf("two builds from the same binaries differ: %s and %s", want, d)
	}

	// Read the layout back: its index names our index, by digest and version.
	lp, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	lm, err := lp.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(lm.Manifests) != 1 || lm.Manifests[0].Digest != want || lm.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != version {
		t.Fatalf("layout index: %+v, want one manifest %s named %s", lm.Manifests, want, version)
	}
	fromDisk, err := lp.ImageIndex(want)
	if err != nil {
		t.Fatal(err)
	}

	reg, err := registrytest.Listen(registrytest.Options{Basic: func(u, p string) bool { return u == "pusher" && p == "s3cret" }})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	auth := remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: "pusher", Password: "s3cret"}))
	tag, err := name.ParseReference(reg.Addr + "/kcred:" + version)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(tag, fromDisk, remote.WithContext(ctx), auth); err != nil {
		t.Fatal(err)
	}
	byDigest, err := name.ParseReference(reg.Addr + "/kcred@" + want.String())
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Index(byDigest, remote.WithContext(ctx), auth)
	if err != nil {
		t.Fatal(err)
	}
	m, err := pulled.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var arches []string
	for _, d := range m.Manifests {
		if d.Platform == nil || d.Platform.OS != "linux" {
			t.Errorf("manifest %s: platform %+v, want linux", d.Digest, d.Platform)
			continue
		}
		arches = append(arches, d.Platform.Architecture)
	}
	if len(arches) != 2 || arches[0] != "amd64" || arches[1] != "arm64" {
		t.Errorf("index platforms %v, want [amd64 arm64]", arches)
	}

	for _, d := range m.Manifests {
		img, err := pulled.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != d.Platform.Architecture || cf.OS != "linux" || cf.Config.User != User || len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != BinaryPath {
			t.Errorf("%s config: os %s arch %s user %q entrypoint %v", d.Platform.Architecture, cf.OS, cf.Architecture, cf.Config.User, cf.Config.Entrypoint)
		}
		files := extract(t, img)
		if len(files) != 2 {
			t.Errorf("%s: image files %v, want only the binary and the CA bundle", d.Platform.Architecture, keys(files))
		}
		checkCA(t, files[CAPath[1:]])
		if d.Platform.Architecture != runtime.GOARCH || runtime.GOOS != "linux" {
			continue
		}
		bin := filepath.Join(t.TempDir(), "kcred")
		if err := os.WriteFile(bin, files[BinaryPath[1:]], 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "version").Output()
		if err != nil || string(out) != "kcred "+version+"\n" {
			t.Errorf("the image's kcred version: %q %v, want %q", out, err, "kcred "+version)
		}
	}
}

// extract reads the image's regular files (it has one layer).
func extract(t *testing.T, img v1.Image) map[string][]byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d %v, want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s owned by %d:%d, want root", h.Name, h.Uid, h.Gid)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = b
	}
}

func checkCA(t *testing.T, pemData []byte) {
	t.Helper()
	n := 0
	for len(pemData) > 0 {
		var b *pem.Block
		if b, pemData = pem.Decode(pemData); b == nil {
			break
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			t.Fatalf("CA bundle: %v", err)
		}
		n++
	}
	if n < 100 {
		t.Errorf("CA bundle holds %d certificates, want the Mozilla root store (over 100)", n)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
