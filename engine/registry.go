package engine

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kustard/kustard/parser"
)

// CommandInfo is one entry of the command registry: everything about one management command.
// The registry is the single list of the commands Kustard implements: dispatch, checking
// (`kustard check`), the shell's #help and completion, and the README's command table all read
// it. The parser's grammar node is part of the entry; RegisterCommand adds both.
type CommandInfo struct {
	Name string // .cancel operation
	// Keywords are the words after the '.' that start the command, as its grammar node starts
	// it (one of parser.CommandForms(Node)): cancel operation.
	Keywords []string
	Synopsis string
	Summary  string
	// Notes are what the README's command table says beside the synopsis (Markdown).
	Notes string
	// Result is the schema of the result; nil when it depends on the form, and then ResultDoc
	// says what it is (Markdown).
	Result    Schema
	ResultDoc string
	// Properties are the `with (…)` properties the command accepts; Unsupported names real Kusto
	// properties of the command that Kustard rejects by name rather than ignores.
	Properties  []PropertySpec
	Unsupported []string
	// Kind is the Operation column of the operation the command runs as; empty for commands
	// that only read. Cancellable says `.cancel operation` can cancel it, Async that the
	// command takes `async` and then returns an OperationId at once.
	Kind        string
	Cancellable bool
	Async       bool
	// Args say what the shell's completion offers after the keywords, one per argument.
	Args []Arg
	// Node is an empty node of the command's grammar production, a parser.Command.
	Node parser.Command
	// Run runs the command.
	Run func(ctx context.Context, c *Call, cmd parser.Command) (*Frame, error)
}

// IsShow reports whether the command is a .show command, which only reads: the source of an
// ingest may be one.
func (info *CommandInfo) IsShow() bool { return info.Keywords[0] == "show" }

// HasSource reports whether the command takes a query after `<|` (an ingest).
func (info *CommandInfo) HasSource() bool { return sourceField(reflect.TypeOf(info.Node)) != nil }

// Call is what a command handler is given: the session, the request and the database it runs in.
type Call = call

// Session is the session the command runs in.
func (c *call) Session() *Session { return c.sess }

// Database is the database the command runs in.
func (c *call) Database() *Database { return c.db }

// Arg says what the shell's completion offers for one argument of a command.
type Arg struct {
	Names NameKind // the names that may stand here
	Words []Word   // the keywords that may stand here
	// ListOf is what a parenthesized list here holds, offered after its '(' and each ','.
	ListOf NameKind
}

// NameKind is a kind of name the shell can offer.
type NameKind int

const (
	NoNames           NameKind = iota
	TableNames                 // the current database's tables
	RunningOperations          // the ids of the running operations
	AnyOperations              // the ids of the running operations, then of the finished ones
	RunningQueries             // the ClientActivityIds of the running queries
)

// Word is a keyword the shell offers, and what it means.
type Word struct{ Text, Doc string }

// The registry is replaced whole on every registration, so that readers never lock.
var (
	registryMu sync.Mutex
	registry   atomic.Pointer[registryState]
)

type registryState struct {
	entries []*CommandInfo
	byForm  map[formKey]*CommandInfo
}

type formKey struct {
	node  reflect.Type
	words string
}

func keyOf(node reflect.Type, words []string) formKey {
	return formKey{node, strings.Join(words, " ")}
}

// RegisterCommand adds a command to the registry and its grammar node to the parser's command
// union, for the built-in commands and for tests: one entry is all a command needs to be
// dispatched, checked, helped and completed. It panics on an incomplete entry, or on one whose
// keywords are not a form of its node's grammar or are taken. It is safe for concurrent use; a
// parse that follows it sees the command.
func RegisterCommand(info *CommandInfo) {
	if info.Name == "" || info.Node == nil || info.Run == nil || info.Synopsis == "" || info.Summary == "" {
		panic(fmt.Sprintf("engine: RegisterCommand(%q): an entry needs a name, a synopsis, a summary, a node and a handler", info.Name))
	}
	if !slices.ContainsFunc(parser.CommandForms(info.Node), func(f []string) bool { return slices.Equal(f, info.Keywords) }) {
		panic(fmt.Sprintf("engine: RegisterCommand(%q): keywords %q are not a form of %T's grammar, which starts %q",
			info.Name, info.Keywords, info.Node, parser.CommandForms(info.Node)))
	}
	parser.RegisterCommand(info.Node)
	registryMu.Lock()
	defer registryMu.Unlock()
	old := registry.Load()
	next := &registryState{byForm: map[formKey]*CommandInfo{}}
	if old != nil {
		next.entries = slices.Clone(old.entries)
		for k, v := range old.byForm {
			next.byForm[k] = v
		}
	}
	key := keyOf(reflect.TypeOf(info.Node), info.Keywords)
	if taken, ok := next.byForm[key]; ok {
		panic(fmt.Sprintf("engine: RegisterCommand(%q): %T %q is %q already", info.Name, info.Node, info.Keywords, taken.Name))
	}
	next.entries = append(next.entries, info)
	next.byForm[key] = info
	registry.Store(next)
}

// Commands returns the registry, in the order of registration. The caller must not change it.
func Commands() []*CommandInfo {
	if r := registry.Load(); r != nil {
		return r.entries
	}
	return nil
}

// CommandFor returns the registry entry that runs a parsed command: the one for its node and
// the keywords it was written with. Every command the grammar accepts has one; a test holds the
// two in step.
func CommandFor(c parser.Command) *CommandInfo {
	if r := registry.Load(); r != nil {
		if info, ok := r.byForm[keyOf(reflect.TypeOf(c), parser.CommandForm(c))]; ok {
			return info
		}
	}
	panic(fmt.Sprintf("engine: no registry entry for %T %q", c, parser.CommandForm(c)))
}

// sourceField returns the field of a command node that holds its source block (`<| query`).
func sourceField(t reflect.Type) *reflect.StructField {
	if t == nil || t.Kind() != reflect.Pointer {
		return nil
	}
	for _, f := range reflect.VisibleFields(t.Elem()) {
		if f.Type == reflect.TypeFor[*parser.Block]() {
			return &f
		}
	}
	return nil
}

// propertiesOf returns a command's with-list, if it has one.
func propertiesOf(c parser.Command) *parser.Properties {
	v := reflect.ValueOf(c).Elem()
	for _, f := range reflect.VisibleFields(v.Type()) {
		if f.Type == reflect.TypeFor[*parser.Properties]() {
			return v.FieldByIndex(f.Index).Interface().(*parser.Properties)
		}
	}
	return nil
}

// sourceOf returns a command's source block, if it has one.
func sourceOf(c parser.Command) *parser.Block {
	f := sourceField(reflect.TypeOf(c))
	if f == nil {
		return nil
	}
	return reflect.ValueOf(c).Elem().FieldByIndex(f.Index).Interface().(*parser.Block)
}

// columnNames lists a schema's column names, as the README's command table does.
func columnNames(s Schema) string {
	names := make([]string, len(s))
	for i, c := range s {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}
