package node

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ContainerdVersion is the containerd release the node runs, built from its
// Go module (a version the module proxy serves).
const ContainerdVersion = "v2.4.2"

// Binaries are the node's programs. runc is the distribution's package
// (the Makefile installs it); everything else is built by Build.
type Binaries struct {
	Dir string
	// Kubelet is k8s.io/kubernetes/cmd/kubelet at this module's
	// k8s.io/kubernetes requirement (the judge's version).
	Kubelet string
	// Containerd, Shim and Ctr are containerd's daemon, its runc shim and
	// its client (to import the pause image and clean up).
	Containerd, Shim, Ctr string
	// Kcred is the binary `kcred install` puts into the kubelet's bin dir.
	Kcred string
	// Sleep is the static program packaged as the pause image and as every
	// test image.
	Sleep string
	// Runc is the OCI runtime containerd's shim runs.
	Runc string
}

// Build compiles the node's programs into dir, which is reused: the go
// command relinks only what changed, so a warm build takes seconds. It must
// run where modules can be fetched (or are already in the module cache);
// moduleDir is this module's directory (test/node).
func Build(ctx context.Context, moduleDir, dir string) (*Binaries, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	b := binaries(dir)
	static := []string{"CGO_ENABLED=0"}
	// kcred is built in the main module (its own dependency versions, as
	// `make build` does), the rest here.
	root := filepath.Join(moduleDir, "..", "..")
	steps := []struct {
		dir  string
		env  []string
		args []string
	}{
		{moduleDir, nil, []string{"build", "-o", b.Kubelet, "k8s.io/kubernetes/cmd/kubelet"}},
		{root, static, []string{"build", "-trimpath", "-o", b.Kcred, "./cmd/kcred"}},
		{moduleDir, static, []string{"build", "-trimpath", "-o", b.Sleep, "./sleep"}},
		// go install pkg@version builds containerd against its own go.mod,
		// so its requirements never mix with the kubelet's.
		{moduleDir, append(static, "GOBIN="+dir, "GOFLAGS="), []string{"install", "-tags", "no_btrfs,no_devmapper",
			"github.com/containerd/containerd/v2/cmd/containerd@" + ContainerdVersion,
			"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@" + ContainerdVersion,
			"github.com/containerd/containerd/v2/cmd/ctr@" + ContainerdVersion}},
	}
	for _, s := range steps {
		cmd := exec.CommandContext(ctx, "go", s.args...)
		cmd.Dir = s.dir
		cmd.Env = append(os.Environ(), s.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(s.args, " "), err, out)
		}
	}
	return b, b.check()
}

// Find returns the programs Build left in dir, or an error naming the
// first one missing.
func Find(dir string) (*Binaries, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	b := binaries(dir)
	return b, b.check()
}

func binaries(dir string) *Binaries {
	return &Binaries{
		Dir:        dir,
		Kubelet:    filepath.Join(dir, "kubelet"),
		Containerd: filepath.Join(dir, "containerd"),
		Shim:       filepath.Join(dir, "containerd-shim-runc-v2"),
		Ctr:        filepath.Join(dir, "ctr"),
		Kcred:      filepath.Join(dir, "kcred"),
		Sleep:      filepath.Join(dir, "sleep"),
	}
}

func (b *Binaries) check() error {
	for _, p := range []string{b.Kubelet, b.Containerd, b.Shim, b.Ctr, b.Kcred, b.Sleep} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s missing (make node-deps builds it): %w", p, err)
		}
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		return fmt.Errorf("runc not found in PATH (apt-get install runc; make node-deps does it as root)")
	}
	b.Runc = runc
	return nil
}
