// Command kcred is one binary that serves as every kubelet exec credential
// provider, chosen by the name it is invoked as (link it into the kubelet's
// --image-credential-provider-bin-dir under each provider name), plus tools
// for operators. Run `kcred --help`.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kcred/kcred/plugin"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches on the invoked name: a provider name runs that role; kcred
// (or any unknown name) is the tool with subcommands.
func run(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := invokedName(argv[0])
	if role, ok := findRole(name); ok {
		return plugin.Main(role, plugin.Version(), argv[1:], stdin, stdout, stderr)
	}
	// A name starting with kcred is the tool, e.g. a release file name such
	// as kcred-linux-amd64; anything else is a provider name we lack.
	if !strings.HasPrefix(name, "kcred") {
		fmt.Fprintf(stderr, "kcred: invoked as %q, which is not a provider name; known: %s (or run it as kcred)\n", name, strings.Join(roleNames(), ", "))
		return 2
	}
	args := argv[1:]
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "plugin":
		if len(args) < 2 {
			fmt.Fprintf(stderr, "kcred plugin: name a role: %s\n", strings.Join(roleNames(), ", "))
			return 2
		}
		role, ok := findRole(args[1])
		if !ok {
			fmt.Fprintf(stderr, "kcred plugin: unknown role %q; known: %s\n", args[1], strings.Join(roleNames(), ", "))
			return 2
		}
		return plugin.Main(role, plugin.Version(), args[2:], stdin, stdout, stderr)
	case "match":
		return runMatch(args[1:], stdout, stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "install":
		return runInstall(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "kcred %s\n", plugin.Version())
		return 0
	case "help", "-h", "--help", "-help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "kcred: unknown command %q (see kcred --help)\n", args[0])
		return 2
	}
}

// invokedName is the basename the binary was run as, without .exe, so the
// same file works as a symlink, a hard link or a copy on Linux and Windows.
func invokedName(arg0 string) string {
	base := filepath.Base(strings.ReplaceAll(arg0, `\`, "/"))
	return strings.TrimSuffix(base, ".exe")
}

func findRole(name string) (plugin.Role, bool) {
	for _, r := range roles {
		if r.Name == name {
			return r, true
		}
		for _, a := range r.Aliases {
			if a == name {
				return r, true
			}
		}
	}
	return plugin.Role{}, false
}

func roleNames() []string {
	var out []string
	for _, r := range roles {
		out = append(out, r.Name)
		out = append(out, r.Aliases...)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"(none built)"}
	}
	return out
}

func usage(w io.Writer) {
	fmt.Fprint(w, `kcred: one binary for every kubelet exec credential provider.

As a provider, kcred takes its role from the name it is invoked as. Link it into
the kubelet's --image-credential-provider-bin-dir under each provider name:
`)
	width := 0
	for _, r := range roles {
		width = max(width, len(r.Name))
	}
	for _, r := range roles {
		alias := ""
		if len(r.Aliases) > 0 {
			alias = " (alias " + strings.Join(r.Aliases, ", ") + ")"
		}
		fmt.Fprintf(w, "  %-*s  %s%s\n", width, r.Name, r.Summary, alias)
	}
	fmt.Fprint(w, `
Usage:
  kcred plugin ROLE [ARGS...]   run as the provider ROLE, as if invoked under that name
  kcred check --config PATH --bin-dir DIR [flags] [IMAGE...]
                                simulate the kubelet: validate the CredentialProviderConfig
                                as at start-up, then for each IMAGE show which providers run,
                                what they return, what is cached and the credentials in the
                                order the runtime tries them (kcred check --help)
  kcred match [--raw] [--key] PATTERN IMAGE...
                                show whether the kubelet would match each IMAGE against a
                                matchImages PATTERN, and why not; --key treats PATTERN as an
                                auth key, --raw matches IMAGE as given (not normalised)
  kcred install --bin-dir DIR [--roles NAME,...] [--config SRC --config-dest PATH] [--wait]
                                install this binary into DIR with a link per provider name
                                (a copy, NAME.exe, on Windows),
                                verify each, optionally validate and place a config; never
                                restarts the kubelet (kcred install --help, docs/install.md)
  kcred version                 print the version
  kcred help                    this text

Each provider also takes --help.
`)
}
