//go:build !unix

package kubelet

import "os/exec"

// Without process groups only the plugin itself is killed; closing the
// outputs still ends the wait.
func newProcessGroup(*exec.Cmd) {}

func killProcessGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
