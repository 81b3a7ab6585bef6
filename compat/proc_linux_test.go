package compat

import (
	"os/exec"
	"syscall"
)

// setDeathSignal kills the server if the test process dies first (a panic, a -timeout), so
// that no server outlives its test run.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
