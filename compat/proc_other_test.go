//go:build !linux

package compat

import "os/exec"

// setDeathSignal does nothing where the system cannot tie a child's life to its parent's; a
// test that ends normally still stops its server.
func setDeathSignal(*exec.Cmd) {}
