package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/kcred/kcred/install"
	"github.com/kcred/kcred/plugin"
)

const installUsage = "usage: kcred install --bin-dir DIR [--roles NAME,...] [--config SRC --config-dest PATH] [--wait]"

// installArgs are the parsed arguments of kcred install.
type installArgs struct {
	binDir             string
	names              []string // provider names to link, deduplicated, in order
	config, configDest string
	wait               bool
}

// parseInstallArgs parses kcred install's arguments (after "install"). Every
// error is a usage error; flag.ErrHelp asks for the help text.
func parseInstallArgs(args []string) (installArgs, *flag.FlagSet, error) {
	var a installArgs
	fs := flag.NewFlagSet("kcred install", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.binDir, "bin-dir", "", "the kubelet's --image-credential-provider-bin-dir, as mounted here (required)")
	roleList := fs.String("roles", "", "comma-separated provider names to link (default: every role name and alias)")
	fs.StringVar(&a.config, "config", "", "a CredentialProviderConfig to validate and place at --config-dest")
	fs.StringVar(&a.configDest, "config-dest", "", "the file to write --config to: the kubelet's --image-credential-provider-config, or a file in it when that is a directory (kubelet 1.34+)")
	fs.BoolVar(&a.wait, "wait", false, "after installing, wait for SIGTERM or SIGINT, then exit 0 (for a DaemonSet's container)")
	pos, err := plugin.ParseInterspersed(fs, args)
	if err != nil {
		return a, fs, err
	}
	if len(pos) > 0 {
		return a, fs, fmt.Errorf("unexpected argument %q", pos[0])
	}
	if a.binDir == "" {
		return a, fs, errors.New("--bin-dir is required (the kubelet's --image-credential-provider-bin-dir)")
	}
	if (a.config == "") != (a.configDest == "") {
		return a, fs, errors.New("--config and --config-dest go together")
	}
	if *roleList == "" {
		a.names = roleNames()
		if len(roles) == 0 {
			return a, fs, errors.New("this build has no roles")
		}
	} else {
		seen := map[string]bool{}
		for _, n := range strings.Split(*roleList, ",") {
			n = strings.TrimSpace(n)
			if _, ok := findRole(n); !ok {
				return a, fs, fmt.Errorf("--roles: unknown role %q; known: %s", n, strings.Join(roleNames(), ", "))
			}
			if !seen[n] {
				seen[n] = true
				a.names = append(a.names, n)
			}
		}
	}
	return a, fs, nil
}

// runInstall implements `kcred install`: this executable into --bin-dir as
// kcred, a link per provider name, each name verified, and optionally a
// config validated and placed. Exit 0 when done (or, with --wait, on
// SIGTERM/SIGINT after it), 1 on failure, 2 on usage errors.
func runInstall(args []string, stdout, stderr io.Writer) int {
	a, fs, err := parseInstallArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, installUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kcred install: %v\n", err)
		fmt.Fprintln(stderr, installUsage)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "kcred install: %s\n", plugin.OneLine(err.Error()))
		return 1
	}
	// Taken before any change: a SIGTERM or SIGINT while installing stops
	// the step in progress, which removes its temporary files (every step
	// is atomic), rather than killing the process mid-write.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var received os.Signal
	stopped := make(chan struct{})
	go func() {
		select {
		case received = <-sig:
			cancel()
		case <-ctx.Done():
		}
		close(stopped)
	}()

	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		return fail(fmt.Errorf("find own executable: %v", err))
	}
	var links []install.Link
	for _, n := range a.names {
		r, _ := findRole(n)
		links = append(links, install.Link{Name: n, Role: r.Name})
	}
	err = install.Run(ctx, install.Options{
		Self: self, BinDir: a.binDir, Links: links, Version: plugin.Version(),
		Config: a.config, ConfigDest: a.configDest,
		Windows: runtime.GOOS == "windows",
	}, func(line string) { fmt.Fprintln(stdout, line) })
	if err != nil {
		if ctx.Err() != nil {
			<-stopped
			return fail(fmt.Errorf("%v: %w", received, err))
		}
		return fail(err)
	}
	if a.wait {
		fmt.Fprintln(stdout, "installed; waiting for SIGTERM or SIGINT (the installed files stay in place)")
		<-stopped
		fmt.Fprintf(stdout, "received %v, exiting\n", received)
	}
	return 0
}
