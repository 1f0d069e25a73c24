package kubeletcorpus

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Scenario is one simulated node: config file(s), the plugins in the bin
// dir, the images looked up in order (one cache) and the pod's service
// account.
type Scenario struct {
	Name string
	// Files are config files by name. One file is passed as the config path;
	// several are written to a directory passed instead.
	Files map[string]string
	// Plugins are the bin dir's executables by name.
	Plugins map[string]Plugin
	// NoBinDir leaves the bin dir out, so the kubelet refuses to start.
	NoBinDir bool
	Images   []string
	// ServiceAccount is the pod's service account; nil for none.
	ServiceAccount *ServiceAccount
}

// ServiceAccount is the pod's service account as the API server holds it,
// and the token the kubelet would be issued.
type ServiceAccount struct {
	Namespace, Name, UID string
	Annotations          map[string]string
	Token                string
}

// Plugin is a scripted fake plugin. Every exec appends "NAME <stdin>" to the
// exec log, so the execs (and the requests) of two runs can be compared.
type Plugin struct {
	// Stdout, Stderr and Exit are the canned answer.
	Stdout string
	Stderr string
	Exit   int
	// Script, when set, replaces the canned answer with shell commands (run
	// after stdin was logged; the request is in "$REQ").
	Script string
	// NotExecutable writes the file without its execute bits.
	NotExecutable bool
}

// Materialized is a scenario written to disk.
type Materialized struct {
	// Config is the --config path (a file or a directory).
	Config string
	BinDir string
	// ExecLog is the file every plugin exec appends to.
	ExecLog string
}

// Materialize writes s under dir.
func (s Scenario) Materialize(dir string) (Materialized, error) {
	m := Materialized{BinDir: filepath.Join(dir, "bin"), ExecLog: filepath.Join(dir, "exec.log")}
	cfgDir := filepath.Join(dir, "config")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		return m, err
	}
	names := make([]string, 0, len(s.Files))
	for name := range s.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(cfgDir, name), []byte(s.Files[name]), 0o644); err != nil {
			return m, err
		}
	}
	m.Config = cfgDir
	if len(names) == 1 {
		m.Config = filepath.Join(cfgDir, names[0])
	}
	if err := os.WriteFile(m.ExecLog, nil, 0o644); err != nil {
		return m, err
	}
	if s.NoBinDir {
		return m, nil
	}
	if err := os.MkdirAll(m.BinDir, 0o755); err != nil {
		return m, err
	}
	for name, p := range s.Plugins {
		mode := os.FileMode(0o755)
		if p.NotExecutable {
			mode = 0o644
		}
		if err := os.WriteFile(filepath.Join(m.BinDir, name), []byte(p.script(name, m.ExecLog)), mode); err != nil {
			return m, err
		}
	}
	return m, nil
}

func (p Plugin) script(name, log string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\nREQ=$(cat)\n")
	fmt.Fprintf(&b, "printf '%%s %%s\\n' %s \"$REQ\" >> %s\n", quote(name), quote(log))
	if p.Script != "" {
		b.WriteString(p.Script + "\n")
		return b.String()
	}
	if p.Stdout != "" {
		fmt.Fprintf(&b, "printf '%%s' %s\n", quote(p.Stdout))
	}
	if p.Stderr != "" {
		fmt.Fprintf(&b, "printf '%%s' %s >&2\n", quote(p.Stderr))
	}
	fmt.Fprintf(&b, "exit %d\n", p.Exit)
	return b.String()
}

// quote single-quotes s for sh.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Execs counts the lines of an exec log per plugin name.
func Execs(log []byte) map[string]int {
	n := map[string]int{}
	for _, line := range strings.Split(string(log), "\n") {
		if name, _, ok := strings.Cut(line, " "); ok {
			n[name]++
		}
	}
	return n
}
