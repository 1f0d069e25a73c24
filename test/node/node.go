// Package node runs a live Kubernetes node on this machine: the real kubelet
// (k8s.io/kubernetes/cmd/kubelet), containerd and runc, pulling static pods'
// images from real registries behind real cloud host names with credentials
// kcred's providers get from the cloud emulators. The test and `make
// demo-node` use it.
//
// Everything runs inside the caller's own network, mount and PID namespaces
// (node-ns, beside this file): /run, /var/log and /var/lib are bind-mounted
// from the node's directory, the /proc/sys entries the kubelet would set are
// covered by files holding the values it wants, and the cgroups it creates
// are removed by Stop, which also checks that nothing is left behind. A test
// killed before Stop leaves no process (the kernel kills the PID
// namespace's) but leaves its cgroups, which the next node removes
// (RemoveStaleCgroups).
package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// NodeName is the kubelet's --hostname-override; static pods are named
// POD-NodeName.
const NodeName = "kcred-node"

// Kubelet's loopback ports (free: the node has its own network namespace).
const (
	readOnlyPort = 10255
	healthzPort  = 10248
)

// Options configure Start.
type Options struct {
	Bin   *Binaries
	World *World
	Roles []Role
	// Dir holds everything the node writes; Stop leaves it for the caller
	// to inspect and remove.
	Dir string
	// Log receives progress lines; nil for none.
	Log io.Writer
}

// Node is a running kubelet and containerd.
type Node struct {
	o Options
	// ConfigPath and BinDir are the kubelet's
	// --image-credential-provider-config and --image-credential-provider-bin-dir.
	ConfigPath, BinDir string
	// KubeletLog and ContainerdLog are the daemons' log files.
	KubeletLog, ContainerdLog string
	// Env is the environment the kubelet runs with (and so `kcred check`).
	Env []string

	cgroupRoot string
	manifests  string
	sock       string
	before     snapshot
	mounted    []string
	cgroups    []string
	// cgroupLock marks the cgroups as in use (see createCgroups).
	cgroupLock   *os.File
	kubelet, ctd *exec.Cmd
}

// InOwnNamespaces reports whether this process has its own mount, network
// and PID namespaces, which the node needs: it mounts over /run, /var/lib,
// /var/log and /proc/sys entries, listens on fixed loopback ports, and
// relies on the kernel to kill its daemons when the test's PID namespace
// ends, however the test ends (a SIGKILL or a go test timeout skips Stop).
// node-ns, beside this file, makes them.
func InOwnNamespaces() error {
	const hint = "run inside test/node/node-ns (make test-node does)"
	const notOwnPID = "not in its own PID namespace, so a killed test would leave the kubelet, containerd and shims running"
	if ns, err := os.Readlink("/proc/self/ns/pid"); err != nil || ns == initPIDNamespace {
		return fmt.Errorf("%s: %s", notOwnPID, hint)
	}
	// The walk through ancestors below needs /proc to be this PID
	// namespace's, as do the kubelet and containerd.
	if self, err := os.Readlink("/proc/self"); err != nil || self != strconv.Itoa(os.Getpid()) {
		return fmt.Errorf("/proc is not this PID namespace's (unshare --mount-proc): %s", hint)
	}
	for _, ns := range []string{"mnt", "net"} {
		switch by := madeBy(ns); by {
		case 0:
			return fmt.Errorf("not in its own %s namespace: %s", ns, hint)
		case 1:
			// The PID namespace's first process is just outside: the
			// PID namespace was made for this process tree, not for an
			// enclosing one (a container, a node test running this one).
		default:
			return fmt.Errorf("%s (its %s namespace was made below PID %d, not below the PID namespace's first process): %s", notOwnPID, ns, by, hint)
		}
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root (cgroups, mounts, runc)")
	}
	return nil
}

// initPIDNamespace is the machine's PID namespace's inode
// (PROC_PID_INIT_INO, fixed by the kernel).
const initPIDNamespace = "pid:[4026531836]"

// madeBy returns the nearest ancestor of this process in another ns
// namespace, the one below which the namespace was made, or 0 if none is.
// (The machine's PID 1's namespaces are not always readable, an
// ancestor's are; in a PID namespace, its PID 1 is the last ancestor.)
func madeBy(ns string) int {
	self, err := os.Readlink("/proc/self/ns/" + ns)
	if err != nil {
		return 0
	}
	for pid := os.Getppid(); pid >= 1; pid = parent(pid) {
		if other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns)); err == nil && other != self {
			return pid
		}
	}
	return 0
}

// parent returns pid's parent PID, or 0.
func parent(pid int) int {
	st, err := procStat(pid)
	if err != nil {
		return 0
	}
	return st.ppid
}

// procState is what /proc/PID/stat says of a process.
type procState struct {
	state string // R, S, Z...
	ppid  int
	start uint64 // clock ticks after boot: with the PID, names one process
}

func procStat(pid int) (procState, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procState{}, err
	}
	// The command name, in parentheses, may hold spaces: fields follow the
	// last ')', state (the 3rd field) first, starttime the 22nd.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procState{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return procState{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	var st procState
	st.state = f[0]
	if st.ppid, err = strconv.Atoi(f[1]); err != nil {
		return procState{}, err
	}
	if st.start, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return procState{}, err
	}
	return st, nil
}

// Start sets the node up and starts containerd and the kubelet. On error
// everything already done is undone.
func Start(ctx context.Context, o Options) (_ *Node, err error) {
	if err := InOwnNamespaces(); err != nil {
		return nil, err
	}
	n := &Node{o: o, manifests: filepath.Join(o.Dir, "manifests")}
	n.before, err = takeSnapshot()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, n.Stop())
			if left := n.Leftovers(); len(left) > 0 {
				err = fmt.Errorf("%w; left behind: %s", err, strings.Join(left, "; "))
			}
		}
	}()
	for _, d := range []string{"fs/run", "fs/log", "fs/lib", "tmp", "manifests", "staging", "sysctl", "containerd/certs.d", "providers", "kubelet-bin"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := n.mountAll(); err != nil {
		return nil, err
	}
	if err := n.makeCgroups(); err != nil {
		return nil, err
	}
	if err := n.startContainerd(ctx); err != nil {
		return nil, err
	}
	if err := n.installProviders(ctx); err != nil {
		return nil, err
	}
	if err := n.startKubelet(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Node) logf(format string, a ...any) {
	if n.o.Log != nil {
		fmt.Fprintf(n.o.Log, format+"\n", a...)
	}
}

// mountAll bind-mounts the node's own /run, /var/log, /var/lib and files
// holding the sysctl values the kubelet sets when it sees others (its
// setupKernelTunables), so it never writes the machine's.
func (n *Node) mountAll() error {
	binds := [][2]string{
		{filepath.Join(n.o.Dir, "fs/run"), "/run"},
		{filepath.Join(n.o.Dir, "fs/log"), "/var/log"},
		{filepath.Join(n.o.Dir, "fs/lib"), "/var/lib"},
	}
	for _, s := range []struct{ path, value string }{
		{"/proc/sys/vm/overcommit_memory", "1"},
		{"/proc/sys/kernel/panic", "10"},
		{"/proc/sys/kernel/panic_on_oops", "1"},
		// Already so on most machines; covered all the same.
		{"/proc/sys/vm/panic_on_oom", "0"},
		{"/proc/sys/kernel/keys/root_maxkeys", "1000000"},
		{"/proc/sys/kernel/keys/root_maxbytes", "25000000"},
	} {
		f := filepath.Join(n.o.Dir, "sysctl", filepath.Base(s.path))
		if err := os.WriteFile(f, []byte(s.value+"\n"), 0o644); err != nil {
			return err
		}
		binds = append(binds, [2]string{f, s.path})
	}
	for _, b := range binds {
		if err := unix.Mount(b[0], b[1], "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mount %s on %s: %w", b[0], b[1], err)
		}
		n.mounted = append(n.mounted, b[1])
	}
	return nil
}

// makeCgroups removes the cgroups of earlier runs that died without Stop
// and creates the kubelet's cgroupRoot.
func (n *Node) makeCgroups() error {
	removed, err := RemoveStaleCgroups()
	for _, r := range removed {
		n.logf("removed the stale cgroup root %s (a run that died without Stop)", r)
	}
	// Another run's leftovers do not stop this one.
	if err != nil {
		n.logf("stale cgroups left: %v", err)
	}
	n.cgroupRoot, n.cgroups, n.cgroupLock, err = createCgroups()
	return err
}

// cgroupPrefix starts the name of every cgroupRoot a node creates; only
// these are ever removed as stale.
const cgroupPrefix = "kcred-node."

// hierarchies are the cgroup hierarchies to create a cgroupRoot in: cgroup
// v1 controllers, the named systemd one and the unified one of a hybrid
// machine, sorted.
func hierarchies() ([]string, error) {
	entries, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		return nil, err
	}
	var hs []string
	for _, e := range entries {
		h := filepath.Join("/sys/fs/cgroup", e.Name())
		// cpu -> cpu,cpuacct and the like: the same hierarchy twice.
		if fi, err := os.Lstat(h); err != nil || !fi.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(h, "cgroup.procs")); err != nil {
			continue
		}
		hs = append(hs, h)
	}
	if len(hs) == 0 {
		return nil, errors.New("no cgroup hierarchy under /sys/fs/cgroup")
	}
	return hs, nil
}

// createCgroups creates a cgroupRoot of a new name in every hierarchy and
// returns it, its directories and the lock that marks it as in use: an
// exclusive flock on its directory in the first hierarchy, which the
// kernel drops when the process dies, however it dies. cpuset needs its
// cpus and mems filled in before use.
func createCgroups() (root string, dirs []string, lock *os.File, err error) {
	hs, err := hierarchies()
	if err != nil {
		return "", nil, nil, err
	}
	// The name is random, not the PID: in the node's PID namespace every
	// run has the same few PIDs.
	first, held, err := lockedCgroup(hs[0])
	if err != nil {
		return "", nil, nil, err
	}
	root = "/" + filepath.Base(first)
	// made and held are locals: the error returns below clear the named
	// results before this deferred cleanup runs.
	made := []string{first}
	defer func() {
		if err != nil {
			for _, d := range made {
				_ = os.Remove(d)
			}
			held.Close()
		}
	}()
	for _, h := range hs[1:] {
		dir := filepath.Join(h, root)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", nil, nil, fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		made = append(made, dir)
	}
	for _, dir := range made {
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			v, err := os.ReadFile(filepath.Join(filepath.Dir(dir), f))
			if err != nil {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, f), v, 0o644); err != nil {
				return "", nil, nil, fmt.Errorf("set %s: %w", filepath.Join(dir, f), err)
			}
		}
	}
	return root, made, held, nil
}

// lockedCgroup creates a cgroup of a new name in hierarchy h and locks it.
// Another run's RemoveStaleCgroups may remove it between the two (it was
// not locked yet): then it tries another name.
func lockedCgroup(h string) (string, *os.File, error) {
	for range 5 {
		dir, err := os.MkdirTemp(h, cgroupPrefix)
		if err != nil {
			return "", nil, fmt.Errorf("create a cgroup in %s: %w", h, err)
		}
		f, err := os.Open(dir)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil && sameFile(f, dir) {
			return dir, f, nil
		}
		f.Close()
	}
	return "", nil, fmt.Errorf("could not create and lock a cgroup in %s", h)
}

// sameFile reports whether f is still the directory at path.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// RemoveStaleCgroups removes the cgroupRoots of nodes whose process died
// without Stop (a SIGKILL, a go test timeout): those whose lock no process
// holds. It only removes empty cgroups, never kills: the node's PID
// namespace has already killed their processes. It returns the
// cgroupRoots removed from every hierarchy and what could not be removed.
func RemoveStaleCgroups() ([]string, error) {
	hs, err := hierarchies()
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, h := range hs {
		ms, _ := filepath.Glob(filepath.Join(h, cgroupPrefix+"*"))
		for _, m := range ms {
			names[filepath.Base(m)] = true
		}
	}
	var removed []string
	var errs []error
	for name := range names {
		// Held while removing, so that no run takes the name meanwhile.
		lock, err := os.Open(filepath.Join(hs[0], name))
		if err == nil {
			if unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
				lock.Close()
				continue // in use
			}
		}
		// The first hierarchy's last: it holds the lock.
		all := true
		for i := len(hs) - 1; i >= 0; i-- {
			if err := removeCgroupTree(filepath.Join(hs[i], name)); err != nil {
				errs = append(errs, err)
				all = false
			}
		}
		if all {
			removed = append(removed, "/"+name)
		}
		if lock != nil {
			lock.Close()
		}
	}
	sort.Strings(removed)
	return removed, errors.Join(errs...)
}

// hosts are every registry host of the node's roles.
func (n *Node) hosts() []string {
	hosts := hostsOf(n.o.Roles, n.o.World)
	sort.Strings(hosts)
	return hosts
}

// HostsTOML is containerd's registry host configuration (config_path) for
// host: the real host name, trusting caFile (empty for the system roots).
func HostsTOML(host, caFile string) string {
	s := fmt.Sprintf("server = \"https://%s\"\n\n[host.\"https://%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", host, host)
	if caFile != "" {
		s += fmt.Sprintf("  ca = %q\n", caFile)
	}
	return s
}

func (n *Node) startContainerd(ctx context.Context) error {
	d := filepath.Join(n.o.Dir, "containerd")
	n.sock = filepath.Join(d, "containerd.sock")
	for _, h := range n.hosts() {
		hd := filepath.Join(d, "certs.d", h)
		if err := os.MkdirAll(hd, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(hd, "hosts.toml"), []byte(HostsTOML(h, n.o.World.Proxy.CAFile())), 0o644); err != nil {
			return err
		}
	}
	cfg := fmt.Sprintf(`version = 3
root = %[1]q
state = %[2]q
temp = %[3]q
disabled_plugins = ["io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing", "io.containerd.nri.v1.nri"]

[grpc]
  address = %[4]q

[ttrpc]
  address = %[5]q

[plugins.'io.containerd.internal.v1.opt']
  path = %[6]q

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = %[7]q
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = %[8]q

[plugins.'io.containerd.cri.v1.runtime']
  # No CAP_SYS_RESOURCE here: runc could not lower the OOM score.
  restrict_oom_score_adj = true
  # The pods use the host's network, but the CRI plugin still creates its
  # CNI configuration directory at start: /etc/cni/net.d by default.
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = [%[10]q]
    conf_dir = %[11]q
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
      BinaryName = %[9]q
      SystemdCgroup = false
`, filepath.Join(d, "root"), filepath.Join(d, "state"), filepath.Join(n.o.Dir, "tmp"), n.sock, n.sock+".ttrpc",
		filepath.Join(d, "opt"), PauseImage, filepath.Join(d, "certs.d"), n.o.Bin.Runc,
		filepath.Join(d, "cni", "bin"), filepath.Join(d, "cni", "net.d"))
	cfgPath := filepath.Join(d, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	n.ContainerdLog = filepath.Join(n.o.Dir, "containerd.log")
	// The runtime reaches the registries through the proxy, like the
	// providers; the shim is found next to containerd.
	env := append(n.baseEnv(), n.o.World.Proxy.Env()...)
	cmd, err := n.daemon(n.o.Bin.Containerd, []string{"--config", cfgPath}, env, n.ContainerdLog)
	if err != nil {
		return err
	}
	n.ctd = cmd
	if !waitFor(ctx, 60*time.Second, func() bool { return n.ctr(ctx, "version") == nil }) {
		return fmt.Errorf("containerd did not start: %s", tail(n.ContainerdLog))
	}
	n.logf("containerd %s running (socket %s)", ContainerdVersion, n.sock)
	img, err := Image(n.o.Bin.Sleep, "pause")
	if err != nil {
		return err
	}
	archive := filepath.Join(n.o.Dir, "pause.tar")
	if err := WriteArchive(archive, PauseImage, img); err != nil {
		return err
	}
	if err := n.ctr(ctx, "-n", "k8s.io", "images", "import", archive); err != nil {
		return fmt.Errorf("import the pause image: %w", err)
	}
	return nil
}

// baseEnv is the daemons' environment: binaries first on PATH, HOME and
// TMPDIR inside the node's directory.
func (n *Node) baseEnv() []string {
	return []string{
		"PATH=" + n.o.Bin.Dir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + n.o.Dir,
		"TMPDIR=" + filepath.Join(n.o.Dir, "tmp"),
	}
}

func (n *Node) daemon(bin string, args, env []string, logPath string) (*exec.Cmd, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = n.o.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a ^C to the test is handled by Stop, not by
	// the daemons dying in random order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	logf.Close()
	return cmd, nil
}

func (n *Node) ctr(ctx context.Context, args ...string) error {
	_, err := n.ctrOutput(ctx, args...)
	return err
}

func (n *Node) ctrOutput(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.o.Bin.Ctr, append([]string{"--address", n.sock}, args...)...)
	cmd.Env = n.baseEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ctr %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// ProviderEnv is the env every provider gets in the config: the world's
// proxy and CA, and kcred's token cache off, so that every exec asks the
// cloud and the emulators' counts are the kubelet's execs.
func (n *Node) ProviderEnv(r Role) []string {
	return append(append([]string{"KCRED_CACHE=off"}, n.o.World.Env()...), r.Env(n.o.World)...)
}

// installProviders writes the CredentialProviderConfig and runs `kcred
// install`, which copies kcred into the bin dir with a link per provider
// and validates and places the config.
func (n *Node) installProviders(ctx context.Context) error {
	var b strings.Builder
	b.WriteString("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n")
	var names []string
	for _, r := range n.o.Roles {
		args, err := r.Args(n.o.World, filepath.Join(n.o.Dir, "providers"))
		if err != nil {
			return err
		}
		names = append(names, r.Provider)
		fmt.Fprintf(&b, "- name: %s\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  matchImages: %s\n  defaultCacheDuration: %s\n",
			r.Provider, jsonList(r.MatchImages), r.CacheDuration)
		// A provider without args (OKE's) has no args key, as its
		// documented config.
		if len(args) > 0 {
			fmt.Fprintf(&b, "  args: %s\n", jsonList(args))
		}
		b.WriteString("  env:\n")
		for _, kv := range n.ProviderEnv(r) {
			k, v, _ := strings.Cut(kv, "=")
			fmt.Fprintf(&b, "  - {name: %s, value: %q}\n", k, v)
		}
	}
	src := filepath.Join(n.o.Dir, "providers", "credential-provider-config.yaml")
	if err := os.WriteFile(src, []byte(b.String()), 0o600); err != nil {
		return err
	}
	n.BinDir = filepath.Join(n.o.Dir, "kubelet-bin")
	n.ConfigPath = filepath.Join(n.o.Dir, "credential-provider-config.yaml")
	cmd := exec.CommandContext(ctx, n.o.Bin.Kcred, "install", "--bin-dir", n.BinDir,
		"--roles", strings.Join(names, ","), "--config", src, "--config-dest", n.ConfigPath)
	cmd.Env = n.baseEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kcred install: %v: %s", err, out)
	}
	n.logf("kcred install: %s", strings.TrimSpace(string(out)))
	return nil
}

func jsonList(l []string) string {
	b, _ := json.Marshal(l)
	return string(b)
}

func (n *Node) startKubelet(ctx context.Context) error {
	d := filepath.Join(n.o.Dir, "kubelet")
	cfg := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
readOnlyPort: %d
healthzBindAddress: 127.0.0.1
healthzPort: %d
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://%s
cgroupDriver: cgroupfs
cgroupRoot: %s
failCgroupV1: false
failSwapOn: false
staticPodPath: %s
fileCheckFrequency: 1s
syncFrequency: 5s
evictionHard: {memory.available: "1Mi", nodefs.available: "1%%", imagefs.available: "1%%"}
`, readOnlyPort, healthzPort, n.sock, n.cgroupRoot, n.manifests)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	cfgPath := filepath.Join(d, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	n.Env = n.baseEnv()
	n.KubeletLog = filepath.Join(n.o.Dir, "kubelet.log")
	args := []string{
		"--config=" + cfgPath,
		"--root-dir=" + filepath.Join(d, "root"),
		"--cert-dir=" + filepath.Join(d, "pki"),
		"--volume-plugin-dir=" + filepath.Join(d, "volume-plugins"),
		"--hostname-override=" + NodeName,
		"--node-ip=127.0.0.1",
		"--image-credential-provider-config=" + n.ConfigPath,
		"--image-credential-provider-bin-dir=" + n.BinDir,
		// The credential provider plugin's exec lines and the pull events.
		"--v=2", "--vmodule=plugin=5,event=3",
	}
	cmd, err := n.daemon(n.o.Bin.Kubelet, args, n.Env, n.KubeletLog)
	if err != nil {
		return err
	}
	n.kubelet = cmd
	healthz := fmt.Sprintf("http://127.0.0.1:%d/healthz", healthzPort)
	if !waitFor(ctx, 3*time.Minute, func() bool { return get(healthz) == nil }) {
		return fmt.Errorf("the kubelet did not become healthy: %s", tail(n.KubeletLog))
	}
	n.logf("kubelet running (node %s, cgroup root %s)", NodeName, n.cgroupRoot)
	return nil
}

func get(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// RunPod starts a static pod named name running image: its manifest is
// written beside the manifest directory and moved in, so the kubelet never
// reads half a file.
func (n *Node) RunPod(name, image string) error {
	m := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  namespace: default
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
`, name, image)
	staged := filepath.Join(n.o.Dir, "staging", name+".yaml")
	if err := os.WriteFile(staged, []byte(m), 0o644); err != nil {
		return err
	}
	return os.Rename(staged, filepath.Join(n.manifests, name+".yaml"))
}

// RemovePod removes the static pod name's manifest: the kubelet stops it.
func (n *Node) RemovePod(name string) error {
	return os.Remove(filepath.Join(n.manifests, name+".yaml"))
}

// Pods returns the kubelet's pods with their status (the read-only /pods).
func (n *Node) Pods() ([]corev1.Pod, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/pods", readOnlyPort))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list corev1.PodList
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&list); err != nil {
		return nil, fmt.Errorf("decode /pods: %w", err)
	}
	return list.Items, nil
}

// PodState is what a pod's only container is doing: "Running", or the
// reason it waits (e.g. "ErrImagePull", "ImagePullBackOff", "ContainerCreating")
// with its message, or "Pending" before the kubelet reported it.
type PodState struct {
	State, Message string
}

// State returns the state of the static pod name.
func (n *Node) State(name string) PodState {
	pods, err := n.Pods()
	if err != nil {
		return PodState{State: "Unknown", Message: err.Error()}
	}
	for _, p := range pods {
		if p.Name != name+"-"+NodeName {
			continue
		}
		for _, c := range p.Status.ContainerStatuses {
			switch {
			case c.State.Running != nil:
				return PodState{State: "Running"}
			case c.State.Waiting != nil:
				return PodState{State: c.State.Waiting.Reason, Message: c.State.Waiting.Message}
			case c.State.Terminated != nil:
				return PodState{State: "Terminated", Message: c.State.Terminated.Reason}
			}
		}
	}
	return PodState{State: "Pending"}
}

// WaitPod waits until the pod's state is one of states, returning the last
// state seen.
func (n *Node) WaitPod(ctx context.Context, name string, timeout time.Duration, states ...string) (PodState, bool) {
	var st PodState
	ok := waitFor(ctx, timeout, func() bool {
		st = n.State(name)
		return slices.Contains(states, st.State)
	})
	return st, ok
}

// Stop stops the kubelet, every container and containerd, kills anything
// left in the node's cgroups, unmounts what the node and its containers
// mounted and removes the cgroups. It returns what could not be undone.
func (n *Node) Stop() error {
	var errs []error
	ctx := context.Background()
	stop(n.kubelet, 15*time.Second)
	n.kubelet = nil
	if n.ctd != nil {
		if out, err := n.ctrOutput(ctx, "-n", "k8s.io", "containers", "ls", "-q"); err == nil {
			for _, id := range strings.Fields(out) {
				_ = n.ctr(ctx, "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", id)
				_ = n.ctr(ctx, "-n", "k8s.io", "tasks", "rm", "-f", id)
				_ = n.ctr(ctx, "-n", "k8s.io", "containers", "rm", id)
			}
		}
		stop(n.ctd, 15*time.Second)
		n.ctd = nil
	}
	// Shims outlive containerd by design; they serve only this socket.
	for _, pid := range n.shims() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, dir := range n.cgroups {
		killCgroup(dir)
	}
	waitFor(ctx, 10*time.Second, func() bool { return len(n.shims()) == 0 })
	errs = append(errs, n.unmountAll())
	for _, dir := range n.cgroups {
		errs = append(errs, removeCgroup(dir))
	}
	// After the removal: a run starting meanwhile does not take them as
	// stale.
	if n.cgroupLock != nil {
		n.cgroupLock.Close()
		n.cgroupLock = nil
	}
	return errors.Join(errs...)
}

// stop sends SIGTERM, then SIGKILL after grace, and reaps.
func stop(cmd *exec.Cmd, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}

// shims are the PIDs of containerd shims serving this node's socket.
func (n *Node) shims() []int {
	var pids []int
	if n.sock == "" {
		return nil
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		var pid int
		if _, err := fmt.Sscanf(p.Name(), "%d", &pid); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if bytes.Contains(cmdline, []byte(n.sock)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// cgroupDirs lists dir and its descendants, deepest first.
func cgroupDirs(dir string) []string {
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	slices.Reverse(dirs)
	return dirs
}

func killCgroup(dir string) {
	for _, d := range cgroupDirs(dir) {
		b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			var pid int
			if _, err := fmt.Sscanf(f, "%d", &pid); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// removeCgroup removes dir and its descendants, retrying while killed
// processes are still leaving.
func removeCgroup(dir string) error {
	var err error
	waitFor(context.Background(), 10*time.Second, func() bool {
		err = removeCgroupTree(dir)
		if err != nil {
			killCgroup(dir)
		}
		return err == nil
	})
	return err
}

// removeCgroupTree removes dir and its descendants, deepest first; a
// cgroup that still has processes stays.
func removeCgroupTree(dir string) error {
	var err error
	for _, d := range cgroupDirs(dir) {
		if e := os.Remove(d); e != nil && !os.IsNotExist(e) {
			err = e
		}
	}
	return err
}

// unmountAll detaches every mount made since Start, newest first: the
// containers' (rootfs, shm, ...) and the node's own binds.
func (n *Node) unmountAll() error {
	var errs []error
	mounts, err := mountIDs()
	if err != nil {
		return err
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		m := mounts[i]
		if n.before.mounts[m.id] {
			continue
		}
		if err := unix.Unmount(m.point, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m.point, err))
		}
	}
	n.mounted = nil
	return errors.Join(errs...)
}

type mount struct {
	id    string
	point string
}

func mountIDs() ([]mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var ms []mount
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 {
			ms = append(ms, mount{id: f[0], point: unescapeMount(f[4])})
		}
	}
	return ms, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// fixedPaths are where a kubelet, containerd or kcred write by default:
// none may appear or change (the node redirects them into its directory).
var fixedPaths = []string{
	"/etc/kubernetes", "/etc/containerd", "/etc/cni", "/etc/nri", "/opt/cni", "/opt/containerd",
	"/var/lib/kubelet", "/var/lib/containerd", "/var/lib/kcred", "/var/lib/nri", "/var/log/pods",
	"/var/log/containers", "/run/containerd", "/run/nri", "/run/kcred", "/var/cache/kcred",
}

// snapshot is the machine state the node must leave as it found it.
type snapshot struct {
	mounts map[string]bool
	files  map[string]string
}

func takeSnapshot() (snapshot, error) {
	ms, err := mountIDs()
	if err != nil {
		return snapshot{}, err
	}
	s := snapshot{mounts: map[string]bool{}, files: map[string]string{}}
	for _, m := range ms {
		s.mounts[m.id] = true
	}
	for _, p := range fixedPaths {
		s.files[p] = fileState(p)
	}
	return s, nil
}

func fileState(p string) string {
	fi, err := os.Lstat(p)
	if err != nil {
		return "absent"
	}
	return fmt.Sprintf("%v %v", fi.Mode(), fi.ModTime().UnixNano())
}

// Leftovers lists what the node left behind after Stop: processes, mounts,
// cgroups and files outside its directory. Empty means clean.
func (n *Node) Leftovers() []string {
	var left []string
	for _, pid := range n.shims() {
		left = append(left, fmt.Sprintf("process %d (a containerd shim of this node)", pid))
	}
	if n.sock != "" {
		procs, _ := os.ReadDir("/proc")
		for _, p := range procs {
			cg, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cgroup"))
			if err == nil && inCgroup(string(cg), n.cgroupRoot) {
				left = append(left, "process "+p.Name()+" in the node's cgroups")
			}
		}
	}
	ms, _ := mountIDs()
	for _, m := range ms {
		if !n.before.mounts[m.id] {
			left = append(left, "mount "+m.point)
		}
	}
	for _, dir := range n.cgroups {
		if _, err := os.Stat(dir); err == nil {
			left = append(left, "cgroup "+dir)
		}
	}
	for _, p := range fixedPaths {
		if now := fileState(p); now != n.before.files[p] {
			left = append(left, fmt.Sprintf("file %s changed (%s, was %s)", p, now, n.before.files[p]))
		}
	}
	return left
}

// inCgroup reports whether a /proc/PID/cgroup text places the process in
// root or below it in any hierarchy.
func inCgroup(procCgroup, root string) bool {
	for _, line := range strings.Split(procCgroup, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && (parts[2] == root || strings.HasPrefix(parts[2], root+"/")) {
			return true
		}
	}
	return false
}

// tail returns the last lines of a log file, for errors.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return path + ":\n" + strings.Join(lines, "\n")
}
