package node

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNodeNamespaceKillsAll proves what node-ns is for: a process started
// in it that outlives its parent in a session of its own (as the kubelet,
// containerd and the shims outlive a SIGKILLed test) is killed by the
// kernel when the test's process dies, or when unshare itself is killed.
// It fails if node-ns loses --pid (or --kill-child).
func TestNodeNamespaceKillsAll(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (unshare)")
	}
	nodeNS, err := filepath.Abs("node-ns")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		// victim picks the process to SIGKILL: the stand-in for the test
		// process, or unshare.
		victim func(top, unshare int) int
	}{
		{"the test process killed", func(top, _ int) int { return top }},
		{"unshare killed", func(_, unshare int) int { return unshare }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// sleep 3599 stands in for the test process, sleep 3600 for
			// a daemon it started.
			cmd := exec.Command(nodeNS, "sh", "-c", "setsid sleep 3600 & exec sleep 3599")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(waited) }()
			var top, daemon proc
			ok := waitFor(context.Background(), 10*time.Second, func() bool {
				top, daemon = descendant(cmd.Process.Pid, "sleep\x003599"), descendant(cmd.Process.Pid, "sleep\x003600")
				return top.pid != 0 && daemon.pid != 0
			})
			defer func() {
				// Whatever the outcome, nothing of this test stays.
				for _, p := range []proc{daemon, top} {
					if p.alive() {
						_ = syscall.Kill(p.pid, syscall.SIGKILL)
					}
				}
				_ = cmd.Process.Kill()
				<-waited
			}()
			if !ok {
				t.Fatalf("node-ns did not start both processes (top %d, daemon %d)", top.pid, daemon.pid)
			}
			if err := syscall.Kill(tc.victim(top.pid, cmd.Process.Pid), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if !waitFor(context.Background(), 10*time.Second, func() bool { return !daemon.alive() && !top.alive() }) {
				t.Errorf("the daemon (PID %d) outlived the killed process by 10s: node-ns must run commands in their own PID namespace (unshare --pid --fork --kill-child)", daemon.pid)
			}
			select {
			case <-waited:
			case <-time.After(10 * time.Second):
				t.Errorf("unshare (PID %d) still running 10s after the kill", cmd.Process.Pid)
			}
		})
	}
}

// TestNamespaceCheck runs InOwnNamespaces in the namespaces make test-node
// used before node-ns (network and mount only) and in a PID namespace
// without its own /proc, where it must refuse and say how to run, and in
// node-ns, where it must accept. It holds on the machine and inside
// node-ns (make test-node): the first case refuses there because the PID
// namespace is the enclosing node-ns's.
func TestNamespaceCheck(t *testing.T) {
	if os.Getenv("KCRED_NODE_CHECK_NS") != "" {
		if err := InOwnNamespaces(); err != nil {
			os.Stdout.WriteString(err.Error())
		} else {
			os.Stdout.WriteString("ok")
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (unshare)")
	}
	nodeNS, err := filepath.Abs("node-ns")
	if err != nil {
		t.Fatal(err)
	}
	self := []string{os.Args[0], "-test.run=^TestNamespaceCheck$"}
	for _, tc := range []struct {
		ns   []string
		want string
	}{
		{[]string{"unshare", "--net", "--mount"}, "not in its own PID namespace, so a killed test would leave the kubelet, containerd and shims running"},
		{[]string{"unshare", "--net", "--mount", "--pid", "--fork"}, "/proc is not this PID namespace's (unshare --mount-proc): run inside test/node/node-ns"},
		{[]string{nodeNS}, "ok"},
	} {
		cmd := exec.Command(tc.ns[0], append(tc.ns[1:], self...)...)
		cmd.Env = append(os.Environ(), "KCRED_NODE_CHECK_NS=1")
		out, err := cmd.Output()
		if got := strings.TrimSuffix(string(out), "PASS\n"); err != nil || !strings.HasPrefix(got, tc.want) {
			t.Errorf("InOwnNamespaces in %s: %q (%v), want %q", strings.Join(tc.ns, " "), got, err, tc.want)
		}
	}
}

// proc names a process: a PID and when it started.
type proc struct {
	pid   int
	start uint64
}

// alive reports whether p is still running: not gone, not a zombie, and
// its PID not reused.
func (p proc) alive() bool {
	if p.pid == 0 {
		return false
	}
	st, err := procStat(p.pid)
	return err == nil && st.state != "Z" && (p.start == 0 || st.start == p.start)
}

// descendant finds a live descendant of root whose command line is cmdline
// (arguments separated by NULs).
func descendant(root int, cmdline string) proc {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var p proc
		if _, err := fmt.Sscanf(e.Name(), "%d", &p.pid); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || strings.TrimSuffix(string(b), "\x00") != cmdline {
			continue
		}
		st, err := procStat(p.pid)
		if err != nil || st.state == "Z" {
			continue
		}
		p.start = st.start
		for a := st.ppid; a > 0; a = parent(a) {
			if a == root {
				return p
			}
		}
	}
	return proc{}
}
