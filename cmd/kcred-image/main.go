// Command kcred-image is `make image`: it assembles kcred's multi-arch
// container image from the static release binaries in dist/ (no container
// engine needed) and writes it as an OCI image layout, optionally pushing it
// too. It is a separate command so the kcred binary links no image code.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kcred/kcred/internal/image"
)

func main() {
	dist := flag.String("dist", "dist", "directory of the release binaries kcred-linux-ARCH")
	out := flag.String("out", "dist/image", "OCI image layout to write (replaced)")
	version := flag.String("version", "", "version the binaries were stamped with (required)")
	arches := flag.String("arch", "amd64,arm64", "comma-separated Linux architectures")
	push := flag.String("push", "", "also push the index to this reference, e.g. registry.example.com/kcred:v1.0.0 (credentials from the docker config, as docker login writes them)")
	flag.Parse()
	if err := run(*dist, *out, *version, *arches, *push); err != nil {
		fmt.Fprintf(os.Stderr, "kcred-image: %v\n", err)
		os.Exit(1)
	}
}

func run(dist, out, version, arches, push string) error {
	if version == "" || flag.NArg() > 0 {
		return fmt.Errorf("usage: kcred-image --version V [--dist DIR] [--out DIR] [--arch amd64,arm64] [--push REF]")
	}
	bins := map[string]string{}
	for _, a := range strings.Split(arches, ",") {
		bins["linux/"+a] = filepath.Join(dist, "kcred-linux-"+a)
	}
	idx, err := image.Index(bins, version)
	if err != nil {
		return err
	}
	if err := image.WriteLayout(out, idx, version); err != nil {
		return fmt.Errorf("write %s: %v", out, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("wrote OCI image layout %s: index %s (linux/%s)\n", out, d, strings.ReplaceAll(arches, ",", ", linux/"))
	if push == "" {
		return nil
	}
	ref, err := name.ParseReference(push)
	if err != nil {
		return fmt.Errorf("--push: %v", err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return fmt.Errorf("push %s: %v", ref, err)
	}
	fmt.Printf("pushed %s@%s\n", ref.Context(), d)
	return nil
}
