// Package parser turns Kusto text into an AST: a hand-written lexer with Kusto's lexical rules
// (raw guids, every string form, timespans, hyphenated keywords), a participle grammar in which
// the structs are the AST and every node has a position, and errors that speak Kusto rather than
// the grammar, reported as kusto.Error so that they render file:line:col with a caret.
//
// Parse handles one block (a command or a query); SplitBlocks cuts a script into blocks. The
// parser only parses: types, values and literal decoding live in package kusto, which the engine
// uses at run time. What the grammar cannot say about a command (which `with` properties it
// takes) the engine checks, through ParseChecked, against its command registry.
package parser

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// The grammar is built from the command union as it stands: the built-in commands, and those
// registered since (RegisterCommand). A registration drops the built grammar; the next parse
// builds it again.
var (
	grammarMu sync.Mutex // guards commandMembers after init, and building
	built     atomic.Pointer[grammarState]
)

// grammarState is the grammar built from one command union, and what is derived from the union.
type grammarState struct {
	parser   *participle.Parser[Block]
	commands []Command
	// forms says, for each verb Kustard implements, which word may follow it.
	forms map[string]func(next string) bool
	// tableWords lists, for `.verb table T <word>`, the words Kustard accepts after the name.
	tableWords map[string][]string
}

func current() *grammarState {
	if g := built.Load(); g != nil {
		return g
	}
	grammarMu.Lock()
	defer grammarMu.Unlock()
	if g := built.Load(); g != nil {
		return g
	}
	members := slices.Clone(commandMembers)
	p, err := participle.Build[Block](
		participle.Lexer(Lexer),
		participle.Union[Command](members...),
		participle.Union[TabularSource](sourceMembers...),
		participle.Union[Operator](operatorMembers...),
		participle.UseLookahead(2),
	)
	if err != nil {
		panic(fmt.Sprintf("parser: the grammar does not build with the registered commands: %v", err))
	}
	g := &grammarState{parser: p, commands: members, forms: supportedFormsOf(members), tableWords: tableWordsOf(members)}
	built.Store(g)
	return g
}

// RegisterCommand adds a command node to the grammar's command union, after the others; the
// grammar is built again at the next parse. A node already in the union is left as it is. The
// node is a struct pointer that embeds CommandNode, its first tagged field starting with '.' and
// the command's keywords. The engine's RegisterCommand calls this; it is safe for concurrent use.
func RegisterCommand(node Command) {
	t := reflect.TypeOf(node)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("parser: RegisterCommand(%T): a command node is a pointer to a struct", node))
	}
	if len(CommandForms(node)) == 0 {
		panic(fmt.Sprintf("parser: RegisterCommand(%T): its grammar tag does not start with '.' and keywords", node))
	}
	grammarMu.Lock()
	defer grammarMu.Unlock()
	if slices.ContainsFunc(commandMembers, func(m Command) bool { return reflect.TypeOf(m) == t }) {
		return
	}
	commandMembers = append(slices.Clip(commandMembers), node)
	built.Store(nil)
}

// grammar parses with the grammar as it currently stands.
var grammar currentGrammar

type currentGrammar struct{}

func (currentGrammar) ParseFromLexer(lex *lexer.PeekingLexer, options ...participle.ParseOption) (*Block, error) {
	return current().parser.ParseFromLexer(lex, options...)
}

func (currentGrammar) String() string { return current().parser.String() }

// BuildGrammar builds the grammar now, if the registered commands have not been built into it
// yet, rather than at the first parse that needs it: a server calls it before it listens, so that
// its first request does not pay for the build (BenchmarkGrammarBuild).
func BuildGrammar() { current() }

// GrammarBuilt reports whether the grammar of the registered commands is built.
func GrammarBuilt() bool { return built.Load() != nil }

// Grammar returns the grammar in EBNF, so that every change to it shows in review.
func Grammar() string { return grammar.String() }

// CommandCheck checks a command the grammar accepted for what the grammar does not say: the
// engine checks its `with` properties against the command's registry entry. It returns a
// *kusto.Error placed in src.
type CommandCheck func(src *kusto.Source, c Command) error

// Parse parses one block: a management command (optionally followed by `| operators`) or a query.
// It decodes a command's `with` values but does not check their names: ParseChecked does.
func Parse(src *kusto.Source) (*Block, error) { return ParseChecked(src, nil) }

// ParseChecked parses one block as Parse does, and calls check on each command once its own
// arguments are decoded and before the blocks it holds (an ingest's source), so that errors are
// reported in the order of the text.
func ParseChecked(src *kusto.Source, check CommandCheck) (*Block, error) {
	return parseBlock(src, check, true)
}

// parseBlock parses with the fast paths of fastexpr.go when fast is set; the result is the same
// either way, which the tests check.
func parseBlock(src *kusto.Source, check CommandCheck, fast bool) (*Block, error) {
	// The tokens are lexed once, into the peeking lexer; tokens is its slice, not a copy.
	lex := &countingLexer{lexer: newScanner(src)}
	if !fast {
		lex.marked, lex.lexer.noValues = true, true
	}
	peeking, err := lexer.Upgrade(lex, tokExplain)
	if err != nil {
		return nil, err
	}
	tokens := peeking.Range(lexer.RawCursor(lex.skip), lexer.RawCursor(lex.n))
	if err := checkSupported(src, tokens); err != nil {
		return nil, err
	}
	if err := checkNesting(src, tokens); err != nil {
		return nil, err
	}
	var block *Block
	if fast {
		at := peeking.MakeCheckpoint()
		if block = fastBlock(peeking); block == nil {
			peeking.LoadCheckpoint(at)
		}
	}
	if block == nil {
		if block, err = grammar.ParseFromLexer(peeking); err != nil {
			return nil, translate(src, tokens, err)
		}
	}
	if err := finish(src, block, check); err != nil {
		return nil, err
	}
	return block, nil
}

// countingLexer counts the tokens it passes on; when marked, it starts with tokExplain, which
// makes the fast paths step aside.
type countingLexer struct {
	lexer   *scanner
	marked  bool
	n, skip int
}

func (l *countingLexer) Next() (lexer.Token, error) {
	if l.marked && l.n == 0 {
		l.n, l.skip = 1, 1
		return lexer.Token{Type: tokExplain}, nil
	}
	t, err := l.lexer.Next()
	if err == nil {
		l.n++
	}
	return t, err
}

// ParseString parses text that has no file name.
func ParseString(text string) (*Block, error) { return Parse(&kusto.Source{Text: text}) }

// tokenList replays tokens already lexed, so that Parse lexes once.
type tokenList struct {
	tokens []lexer.Token
	next   int
}

func (l *tokenList) Next() (lexer.Token, error) {
	t := l.tokens[l.next]
	if l.next < len(l.tokens)-1 {
		l.next++
	}
	return t, nil
}
