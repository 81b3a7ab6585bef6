//go:build race

package repl

// raceEnabled builds the shell the pty tests drive with the race detector too, so that a race
// between the prompt and the operations watcher fails them.
const raceEnabled = true
