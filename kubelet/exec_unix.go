//go:build unix

package kubelet

import (
	"os/exec"
	"syscall"
)

// newProcessGroup starts the plugin in a process group of its own, so that
// killProcessGroup reaches the processes it starts.
func newProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup kills the plugin and every process left in its group.
func killProcessGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
