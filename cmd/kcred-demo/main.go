// Command kcred-demo is `make demo`: the whole kcred flow on this machine,
// against loopback emulators of AWS and Azure and real registries, with no
// cloud account. It is a separate command so that the kcred binary that runs
// on nodes links no emulator or registry.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/kcred/kcred/internal/demo"
)

func main() {
	kcred := flag.String("kcred", "", "kcred binary to use (default: build ./cmd/kcred)")
	keep := flag.Bool("keep", false, "keep the scratch directory (config, bin dir, token cache) and print its path")
	flag.Parse()
	os.Exit(run(*kcred, *keep))
}

func run(kcred string, keep bool) int {
	dir, err := os.MkdirTemp("", "kcred-demo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "kcred demo:", err)
		return 1
	}
	if keep {
		fmt.Println("scratch directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if kcred == "" {
		kcred = filepath.Join(dir, "kcred")
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", kcred, "github.com/kcred/kcred/cmd/kcred")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "kcred demo: build kcred:", err, "(run it from the repository, or pass --kcred)")
			return 1
		}
	}
	if fi, err := os.Stat(kcred); err == nil {
		fmt.Printf("kcred binary: %s (%.1f MiB), linked into the bin dir as each provider\n", kcred, float64(fi.Size())/(1<<20))
	}
	kcred, _ = filepath.Abs(kcred)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := demo.Run(ctx, demo.Options{Kcred: kcred, Dir: dir, Log: os.Stdout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "kcred demo:", err)
		return 1
	}
	demo.Print(os.Stdout, res)
	fmt.Printf("(%.1fs)\n", time.Since(start).Seconds())
	if res.Failed() {
		return 1
	}
	return 0
}
