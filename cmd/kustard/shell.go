package main

import (
	"context"
	"fmt"

	"github.com/kustard/kustard/repl"
)

// shell runs the interactive shell, the root command's action on a terminal. The persistent
// flags (--deterministic, --capacity, …) shape its engine as they do every other command's.
func (c *cli) shell(ctx context.Context) error {
	eng, err := c.newEngine()
	if err != nil {
		return err
	}
	defer c.closeEngine(eng)
	history, err := repl.HistoryPath()
	if err != nil {
		fmt.Fprintf(c.stderr, "kustard: history is not kept: %v\n", err)
	}
	// main cancels ctx on the first SIGINT, but in the shell Ctrl-C cancels only the running
	// command, which the shell handles itself: it must not end the session.
	return repl.Run(context.WithoutCancel(ctx), repl.Config{Engine: eng, HistoryFile: history})
}
