//go:build unix

package credhelper

import (
	"os/exec"
	"syscall"
)

// ownGroup starts cmd in a process group of its own, makes a cancel kill
// the whole group (a helper that is a shell script dies with its children),
// and returns a function that kills whatever of the group is left once cmd
// has been waited for.
func ownGroup(cmd *exec.Cmd) (killGroup func()) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return func() {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
}
