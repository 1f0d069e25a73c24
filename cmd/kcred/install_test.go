package main

import (
	"bufio"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kcred/kcred/internal/exectest"
)

func TestParseInstallArgs(t *testing.T) {
	all := roleNames()
	cases := []struct {
		args  []string
		names []string
		err   string
	}{
		{args: []string{"--bin-dir", "/b"}, names: all},
		{args: []string{"--bin-dir=/b", "--wait", "--roles", "ecr-credential-provider,ecr-credential-provider"}, names: []string{"ecr-credential-provider"}},
		{args: []string{"--roles", "acr-credential-provider, ecr-credential-provider", "--bin-dir", "/b"}, names: []string{"acr-credential-provider", "ecr-credential-provider"}},
		{args: []string{"--bin-dir", "/b", "--config", "c.yaml", "--config-dest", "/etc/c.yaml"}, names: all},
		{args: nil, err: "--bin-dir is required"},
		{args: []string{"--bin-dir", "/b", "--roles", "gcp-credential-provider"}, err: `unknown role "gcp-credential-provider"; known: ` + strings.Join(all, ", ")},
		{args: []string{"--bin-dir", "/b", "--roles", "ecr-credential-provider,"}, err: `unknown role ""`},
		{args: []string{"--bin-dir", "/b", "--config", "c.yaml"}, err: "--config and --config-dest go together"},
		{args: []string{"--bin-dir", "/b", "--config-dest", "c.yaml"}, err: "--config and --config-dest go together"},
		{args: []string{"--bin-dir", "/b", "extra"}, err: `unexpected argument "extra"`},
		{args: []string{"--bin-dir", "/b", "--restart-kubelet"}, err: "flag provided but not defined"},
	}
	for _, c := range cases {
		a, _, err := parseInstallArgs(c.args)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if !reflect.DeepEqual(a.names, c.names) {
			t.Errorf("%q: names %q, want %q", c.args, a.names, c.names)
		}
	}
	if _, _, err := parseInstallArgs([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
}

// The node binary end to end: install into a fresh dir, then the kubelet's
// view (each name answers as its role), a rerun that changes nothing, and
// the exit codes of failures.
func TestInstallExec(t *testing.T) {
	bin := exectest.Binary(t)
	env := exectest.CleanEnv(t)
	dir := t.TempDir()
	upstream := filepath.Join(dir, "ecr-credential-provider")
	if err := os.WriteFile(upstream, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := exectest.Run(t, bin, []string{"install", "--bin-dir", dir}, env, "")
	if res.Code != 0 {
		t.Fatalf("install: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	for _, n := range roleNames() {
		for _, want := range []string{"linked " + filepath.Join(dir, n) + " -> kcred", "verified " + filepath.Join(dir, n)} {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, res.Stdout)
			}
		}
		// An alias answers as its role (the name install verifies).
		role, _ := findRole(n)
		r := exectest.Run(t, filepath.Join(dir, n), []string{"--version"}, env, "")
		if !strings.HasPrefix(r.Stdout, role.Name+" (kcred) ") {
			t.Errorf("%s --version: %q", n, r.Stdout)
		}
	}
	if b, err := os.ReadFile(upstream + ".kcred-previous"); err != nil || string(b) != "#!/bin/sh\nexit 1\n" {
		t.Errorf("upstream binary not kept: %q %v", b, err)
	}

	res = exectest.Run(t, bin, []string{"install", "--bin-dir", dir}, env, "")
	if res.Code != 0 || strings.Contains(res.Stdout, "installed") || strings.Contains(res.Stdout, "linked") || !strings.Contains(res.Stdout, "unchanged "+filepath.Join(dir, "kcred")) {
		t.Errorf("rerun: exit %d, want every file unchanged:\n%s%s", res.Code, res.Stdout, res.Stderr)
	}

	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"install", "--bin-dir", notDir}, 1, "kcred install: --bin-dir " + notDir + " is not a directory\n"},
		{[]string{"install", "--bin-dir", dir, "--roles", "nope"}, 2, `kcred install: --roles: unknown role "nope"; known: ` + strings.Join(roleNames(), ", ") + "\n" + installUsage + "\n"},
		{[]string{"install"}, 2, "kcred install: --bin-dir is required (the kubelet's --image-credential-provider-bin-dir)\n" + installUsage + "\n"},
	} {
		r := exectest.Run(t, bin, c.args, env, "")
		if r.Code != c.code || r.Stderr != c.stderr {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", c.args, r.Code, r.Stderr, c.code, c.stderr)
		}
	}
}

// --wait keeps the DaemonSet's container running after the install and
// exits 0 on SIGTERM.
func TestInstallWaitSIGTERM(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(exectest.Binary(t), "install", "--bin-dir", t.TempDir(), "--wait")
			cmd.Env = exectest.CleanEnv(t)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			waiting := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "installed; waiting for SIGTERM") {
						waiting <- true
					}
				}
				close(waiting)
			}()
			select {
			case ok := <-waiting:
				if !ok {
					t.Fatal("exited before waiting")
				}
			case <-time.After(60 * time.Second):
				t.Fatal("never got to waiting")
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("after %v: %v, want exit 0", sig, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("still running 30s after %v", sig)
			}
		})
	}
}

// The base DaemonSet of deploy/ decodes strictly and its container
// arguments are ones kcred install accepts. (test/deploy renders every
// overlay with kustomize and checks the result and its config.)
func TestDeployManifest(t *testing.T) {
	data, err := os.ReadFile("../../deploy/base/daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds := new(appsv1.DaemonSet)
	if err := yaml.UnmarshalStrict(data, ds); err != nil {
		t.Fatalf("deploy/base/daemonset.yaml: %v", err)
	}
	checkDaemonSet(t, ds, true)
}

func checkDaemonSet(t *testing.T, ds *appsv1.DaemonSet, withConfig bool) {
	t.Helper()
	if ds.Namespace != "kube-system" {
		t.Errorf("namespace %q", ds.Namespace)
	}
	spec := ds.Spec.Template.Spec
	if spec.PriorityClassName != "system-node-critical" {
		t.Errorf("priorityClassName %q", spec.PriorityClassName)
	}
	if len(spec.Tolerations) != 1 || spec.Tolerations[0].Operator != corev1.TolerationOpExists || spec.Tolerations[0].Key != "" || spec.Tolerations[0].Effect != "" {
		t.Errorf("tolerations %+v, want one tolerating every taint", spec.Tolerations)
	}
	if !reflect.DeepEqual(ds.Spec.Selector.MatchLabels, ds.Spec.Template.Labels) {
		t.Errorf("selector %v does not match the template's labels %v", ds.Spec.Selector.MatchLabels, ds.Spec.Template.Labels)
	}
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		t.Fatalf("want one container")
	}
	c := spec.Containers[0]
	if len(c.Command) != 0 {
		t.Errorf("command %q overrides the image's ENTRYPOINT /kcred", c.Command)
	}
	if len(c.Args) == 0 || c.Args[0] != "install" {
		t.Fatalf("args %q, want kcred install", c.Args)
	}
	a, _, err := parseInstallArgs(c.Args[1:])
	if err != nil {
		t.Fatalf("args %q: kcred install refuses them: %v", c.Args, err)
	}
	if !a.wait {
		t.Error("no --wait: the container would exit and restart forever")
	}
	if (a.config != "") != withConfig {
		t.Errorf("--config %q with the optional lines enabled: %v", a.config, withConfig)
	}

	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("no securityContext")
	case sc.RunAsUser == nil || *sc.RunAsUser != 0:
		t.Error("runAsUser is not 0 (host files are root's)")
	case sc.Privileged != nil && *sc.Privileged:
		t.Error("privileged")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("allowPrivilegeEscalation not false")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("root filesystem writable")
	case sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0:
		t.Errorf("capabilities %+v, want all dropped, none added", sc.Capabilities)
	}
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Error("no memory limit or CPU request")
	}

	// Every path kcred writes is a mounted host directory: the root
	// filesystem is read-only.
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	hostDir := func(flagName, dir string) {
		m, ok := mounts[dir]
		if !ok || m.ReadOnly {
			t.Errorf("%s %s: not a writable volume mount", flagName, dir)
			return
		}
		v, ok := volumes[m.Name]
		if !ok || v.HostPath == nil {
			t.Errorf("%s %s: volume %q is not a hostPath", flagName, dir, m.Name)
		}
	}
	hostDir("--bin-dir", a.binDir)
	if v := volumes[mounts[a.binDir].Name]; v.HostPath == nil || v.HostPath.Type == nil || *v.HostPath.Type != corev1.HostPathDirectoryOrCreate {
		t.Error("the bin dir's hostPath is not DirectoryOrCreate")
	}
	if withConfig {
		hostDir("--config-dest", filepath.Dir(a.configDest))
		m, ok := mounts[filepath.Dir(a.config)]
		if !ok || volumes[m.Name].ConfigMap == nil {
			t.Errorf("--config %s: not in a ConfigMap volume", a.config)
		}
	}
}
