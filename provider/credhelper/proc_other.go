//go:build !unix

package credhelper

import "os/exec"

// ownGroup kills only the helper itself where there are no process groups.
func ownGroup(cmd *exec.Cmd) (killGroup func()) { return func() {} }
