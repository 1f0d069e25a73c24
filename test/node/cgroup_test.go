package node

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// TestRemoveStaleCgroups checks that a node removes the cgroups of a run
// that died without Stop (its lock closed, as the kernel closes a killed
// process's), kubelet-made children included, and leaves those of a live
// run and any stale one that still holds a process.
func TestRemoveStaleCgroups(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (cgroups)")
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		t.Skip("the live node supports cgroup v1 and hybrid layouts only")
	}
	_, live, liveLock, err := createCgroups()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, d := range live {
			_ = removeCgroupTree(d)
		}
		liveLock.Close()
	}()
	deadRoot, dead, deadLock, err := createCgroups()
	if err != nil {
		t.Fatal(err)
	}
	_, busy, busyLock, err := createCgroups()
	if err != nil {
		t.Fatal(err)
	}
	sleep := exec.Command("sleep", "600")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = sleep.Process.Kill()
		_ = sleep.Wait()
		_ = removeCgroup(busy[0])
		for _, d := range busy {
			_ = removeCgroupTree(d)
		}
	}()
	if err := os.WriteFile(filepath.Join(busy[0], "cgroup.procs"), []byte(strconv.Itoa(sleep.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range dead {
		if err := os.Mkdir(filepath.Join(d, "kubepods"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	deadLock.Close()
	busyLock.Close()

	removed, err := RemoveStaleCgroups()
	if err == nil {
		t.Errorf("no error for the stale cgroup %s that holds process %d", busy[0], sleep.Process.Pid)
	}
	if !slices.Contains(removed, deadRoot) {
		t.Errorf("stale cgroup root %s not reported removed (removed %q)", deadRoot, removed)
	}
	for _, d := range dead {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("stale cgroup %s still there (%v)", d, err)
		}
	}
	for _, d := range live {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("live cgroup %s removed: %v", d, err)
		}
	}
	if _, err := os.Stat(busy[0]); err != nil {
		t.Errorf("stale cgroup %s holding process %d removed: %v", busy[0], sleep.Process.Pid, err)
	}
}
