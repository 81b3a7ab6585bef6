package repl

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
	"github.com/kustard/kustard/render"
)

// Completion is driven by the command registry (command keywords, `with` properties, result
// schemas) and the catalog (tables and their columns), so that a command added to the registry
// or a table created in the session completes with no change here.

// candidate is one completion: the text inserted, a description shown beside it and the group it
// is listed under.
type candidate struct {
	Value, Desc, Tag string
}

// completion is what Tab offers at a point of the input: candidates for the word that ends at
// the cursor.
type completion struct {
	Word  string // the part of the word already typed, which a candidate replaces
	Items []candidate
}

// operatorCandidates are the tabular operators of the engine's registry, aliases included.
func operatorCandidates() []candidate {
	var out []candidate
	for _, info := range engine.Operators() {
		out = append(out, candidate{info.Name, strings.ToLower(info.Summary[:1]) + strings.TrimSuffix(info.Summary[1:], "."), "operators"})
		for _, alias := range info.Aliases {
			out = append(out, candidate{alias, "same as " + info.Name, "operators"})
		}
	}
	return out
}

// sourceDocs start a query besides a table name.
var sourceDocs = []candidate{
	{"range", "range x from 1 to 10 step 1: a column of numbers", "query sources"},
	{"print", "print x = 1, …: one row of values", "query sources"},
	{"datatable", "datatable(a:int)[1, 2]: a literal table", "query sources"},
	{"let", "let name = expression;", "query sources"},
}

// complete returns the completions for the text before the cursor.
func (s *Shell) complete(text string) completion {
	word := currentWord(text)
	directive := strings.HasPrefix(strings.TrimSpace(text), "#")
	if directive && strings.ContainsAny(strings.TrimSpace(text), " \t") {
		word = text[strings.LastIndexAny(text, " \t")+1:] // an argument: a file path, a name
	}
	before := text[:len(text)-len(word)]
	var items []candidate
	if directive {
		items = s.completeDirective(before, word)
	} else {
		toks, err := parser.Tokens(&kusto.Source{Text: before})
		if err != nil {
			return completion{Word: word} // inside a string or past a lexical error
		}
		toks = slices.DeleteFunc(toks, func(t parser.Token) bool { return t.Kind == parser.TokenEOF })
		items = s.completeTokens(toks, word)
	}
	return completion{Word: word, Items: filterPrefix(items, word)}
}

// currentWord returns the word that ends the text: a name, keyword, guid or number, with a
// leading '.' or '#' when it starts a command or directive.
func currentWord(text string) string {
	i := len(text)
	for i > 0 && isWordByte(text[i-1]) {
		i--
	}
	if i > 0 && (text[i-1] == '.' || text[i-1] == '#') && strings.TrimSpace(text[:i-1]) == "" {
		i--
	}
	return text[i:]
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func filterPrefix(items []candidate, word string) []candidate {
	var out []candidate
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.Value] || !strings.HasPrefix(strings.ToLower(it.Value), strings.ToLower(word)) {
			continue
		}
		seen[it.Value] = true
		out = append(out, it)
	}
	return out
}

func (s *Shell) completeTokens(toks []parser.Token, word string) []candidate {
	if len(toks) == 0 {
		items := s.commandStarts()
		if !strings.HasPrefix(word, ".") {
			items = append(items, s.tableCandidates()...)
			items = append(items, sourceDocs...)
		}
		return items
	}
	if toks[0].Value != "." {
		return s.completeQuery(toks, nil, word)
	}
	if i := slices.IndexFunc(toks, func(t parser.Token) bool { return t.Value == "<|" }); i >= 0 {
		return s.completeQuery(toks[i+1:], nil, word)
	}
	if pipes := topLevelPipes(toks); len(pipes) > 0 {
		// A query over the command's result: its columns are the result's.
		var head engine.Schema
		if info := matchCommand(toks[1:pipes[0]]); info != nil {
			head = info.Result
		}
		return s.completeQuery(toks[pipes[0]:], head, word)
	}
	return s.completeCommand(toks[1:], word)
}

// topLevelPipes returns the indexes of the `|` tokens outside brackets: where operators start.
func topLevelPipes(toks []parser.Token) []int {
	var out []int
	depth := 0
	for i, t := range toks {
		switch t.Value {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		case "|":
			if depth == 0 {
				out = append(out, i)
			}
		}
	}
	return out
}

// matchCommand returns the registry entry whose keywords start the words after the '.'.
func matchCommand(toks []parser.Token) *engine.CommandInfo {
	var best *engine.CommandInfo
	bestLen := 0
	for _, info := range engine.Commands() {
		kw := info.Keywords
		if len(kw) <= len(toks) && len(kw) > bestLen && slices.EqualFunc(kw, toks[:len(kw)], func(k string, t parser.Token) bool { return strings.EqualFold(k, t.Value) }) {
			best, bestLen = info, len(kw)
		}
	}
	return best
}

// commandStarts offers the first word of every command, described by the commands it starts.
func (s *Shell) commandStarts() []candidate {
	byFirst := map[string][]string{}
	var firsts []string
	for _, info := range engine.Commands() {
		first := "." + info.Keywords[0]
		if _, ok := byFirst[first]; !ok {
			firsts = append(firsts, first)
		}
		byFirst[first] = append(byFirst[first], info.Name)
	}
	var out []candidate
	for _, f := range firsts {
		names := byFirst[f]
		desc := ""
		if len(names) == 1 {
			desc = commandInfo(names[0]).Summary
		} else {
			rest := make([]string, len(names))
			for i, n := range names {
				rest[i] = strings.TrimSpace(strings.TrimPrefix(n, f))
			}
			desc = f + " " + strings.Join(rest, ", ")
		}
		out = append(out, candidate{f, desc, "commands"})
	}
	return out
}

func commandInfo(name string) *engine.CommandInfo {
	for _, info := range engine.Commands() {
		if info.Name == name {
			return info
		}
	}
	return nil
}

// completeCommand completes after the leading '.' of a management command.
func (s *Shell) completeCommand(toks []parser.Token, word string) []candidate {
	words := make([]string, 0, len(toks))
	for _, t := range toks {
		words = append(words, t.Value)
	}
	// The command whose keywords are the longest prefix of what was typed, and the keywords that
	// may come next.
	var best *engine.CommandInfo
	var bestLen int
	var next []candidate
	for _, info := range engine.Commands() {
		kw := info.Keywords
		n := 0
		for n < len(kw) && n < len(words) && strings.EqualFold(kw[n], words[n]) {
			n++
		}
		switch {
		case n == len(words) && n < len(kw):
			desc := info.Summary
			if n+1 < len(kw) {
				desc = info.Name
			}
			next = append(next, candidate{kw[n], desc, "commands"})
		case n == len(kw) && n > bestLen:
			best, bestLen = info, n
		}
	}
	if len(next) > 0 || best == nil {
		return next
	}
	args := toks[bestLen:]
	if props := propertyContext(args); props {
		return propertyCandidates(best)
	}
	return s.commandArgs(best, args)
}

// propertyContext reports whether the cursor is where a `with (` property name goes.
func propertyContext(toks []parser.Token) bool {
	open := -1
	for i := range toks {
		if toks[i].Value == "(" && i > 0 && strings.EqualFold(toks[i-1].Value, "with") {
			open = i
		}
		if toks[i].Value == ")" {
			open = -1
		}
	}
	if open < 0 {
		return false
	}
	last := toks[len(toks)-1].Value
	return last == "(" || last == ","
}

func propertyCandidates(info *engine.CommandInfo) []candidate {
	var out []candidate
	for _, p := range info.Properties {
		out = append(out, candidate{p.Name + "=", p.Type.String() + ": " + p.Doc, "properties of " + info.Name})
	}
	return out
}

// commandArgs completes the arguments of a command whose keywords have been typed, as its
// registry entry's Args say.
func (s *Shell) commandArgs(info *engine.CommandInfo, args []parser.Token) []candidate {
	last := ""
	if len(args) > 0 {
		last = args[len(args)-1].Value
	}
	var out []candidate
	if info.Async {
		// .verb [async] T …: async may come first, and then the arguments follow it.
		if len(args) == 0 {
			out = append(out, candidate{"async", "return an OperationId at once and run in the background", "keywords"})
		} else if strings.EqualFold(args[0].Value, "async") {
			args = args[1:]
		}
	}
	switch {
	case len(args) > 0 && (last == "(" || last == ",") && len(info.Args) > 0 && info.Args[0].ListOf != engine.NoNames:
		return append(out, s.names(info.Args[0].ListOf)...)
	case len(args) > 0 && last == ")" && info.HasSource():
		return append(out, candidate{"<|", "the query whose result is ingested", "keywords"})
	case len(args) < len(info.Args):
		arg := info.Args[len(args)]
		for _, w := range arg.Words {
			out = append(out, candidate{w.Text, w.Doc, "keywords"})
		}
		return append(out, s.names(arg.Names)...)
	}
	return out
}

// names offers the names of a kind.
func (s *Shell) names(kind engine.NameKind) []candidate {
	switch kind {
	case engine.TableNames:
		return s.tableCandidates()
	case engine.RunningOperations:
		return s.operationCandidates(false)
	case engine.AnyOperations:
		return s.operationCandidates(true)
	case engine.RunningQueries:
		return s.queryCandidates()
	}
	return nil
}

// queryCandidates offers the ClientActivityIds of the running queries, quoted as `.cancel
// query` takes them, newest first, described by their start and text.
func (s *Shell) queryCandidates() []candidate {
	running, _, err := s.eng.Queries().List(ops.Filter{States: ops.LiveStates}, 0, "")
	if err != nil {
		return nil
	}
	var out []candidate
	for i := len(running) - 1; i >= 0; i-- {
		r := running[i]
		text := []rune(strings.Join(strings.Fields(engine.QueryText(r)), " "))
		if len(text) > 40 {
			text = append(text[:39], '…')
		}
		desc := fmt.Sprintf("started %s: %s", r.Created.UTC().Format("2006-01-02 15:04:05"), string(text))
		out = append(out, candidate{kusto.Quote(engine.ClientActivityID(r)), desc, "running queries"})
	}
	return out
}

// operationCandidates offers the ids of running operations, described by kind and start time,
// newest first; with finished, the finished ones of the log follow.
func (s *Shell) operationCandidates(finished bool) []candidate {
	reg := s.eng.Ops()
	var out []candidate
	active := reg.Active()
	for i := len(active) - 1; i >= 0; i-- {
		out = append(out, opCandidate(active[i], "running operations"))
	}
	if finished {
		seen := map[string]bool{}
		log := reg.Log()
		for i := len(log) - 1; i >= 0; i-- {
			r := log[i]
			if id := r.ID.String(); r.State.Terminal() && !seen[id] {
				seen[id] = true
				out = append(out, opCandidate(r, "finished operations"))
			}
		}
	}
	return out
}

func opCandidate(r ops.Snapshot, tag string) candidate {
	desc := fmt.Sprintf("%s %s, started %s", r.Kind.Name, engine.KustoState(r.State), r.Created.UTC().Format("2006-01-02 15:04:05"))
	return candidate{r.ID.String(), desc, tag}
}

func (s *Shell) database() *engine.Database {
	db, _ := s.eng.Database(s.sess.Database)
	return db
}

func (s *Shell) tableCandidates() []candidate {
	db := s.database()
	if db == nil {
		return nil
	}
	var out []candidate
	for _, t := range db.Tables() {
		out = append(out, candidate{t.Name, fmt.Sprintf("table, %d columns, %s rows", len(t.Schema), thousands(t.Rows())), "tables"})
	}
	return out
}

// completeQuery completes inside a query: sources at its start, operators after `|`, and after
// an operator the columns of the pipeline's input. head is the schema a command's result gives a
// query that follows it (`.show operations | where …`).
func (s *Shell) completeQuery(toks []parser.Token, head engine.Schema, word string) []candidate {
	if len(toks) == 0 {
		return append(s.tableCandidates(), sourceDocs...)
	}
	pipes := topLevelPipes(toks)
	if len(pipes) == 0 {
		return nil // inside the source: range, datatable and print take expressions
	}
	pipe := pipes[len(pipes)-1]
	if pipe == len(toks)-1 {
		return operatorCandidates()
	}
	info, ok := engine.LookupOperator(strings.ToLower(toks[pipe+1].Value))
	if !ok || info.Completes == engine.CompleteNothing {
		return nil
	}
	items := s.columnCandidates(toks, head)
	// Expressions may call functions, which are offered once a name is begun (all of them would
	// bury the columns).
	if info.Completes == engine.CompleteExpressions && word != "" {
		for _, f := range engine.FunctionNames() {
			items = append(items, candidate{f + "(", "function", "functions"})
		}
		if info.Name == "summarize" {
			for _, a := range engine.Aggregates() {
				items = append(items, candidate{a.Name + "(", "aggregation function", "aggregation functions"})
			}
		}
	}
	return items
}

// columnCandidates are the columns of the pipeline's source (a table, a range, or the result of
// the command before the pipe) and the columns that extend and project name on the way.
func (s *Shell) columnCandidates(toks []parser.Token, head engine.Schema) []candidate {
	var out []candidate
	add := func(name, desc string) { out = append(out, candidate{name, desc, "columns"}) }
	for _, c := range head {
		add(c.Name, c.Type.String())
	}
	switch {
	case len(toks) >= 2 && toks[0].Value == "range":
		add(toks[1].Value, "long")
	case toks[0].Kind == parser.TokenIdent || toks[0].Kind == parser.TokenQuotedIdent:
		if db := s.database(); db != nil {
			if t, ok := db.Table(strings.Trim(toks[0].Value, "[]'\"")); ok {
				for _, c := range t.Schema {
					add(c.Name, c.Type.String()+" column of "+t.Name)
				}
			}
		}
	}
	for i := 1; i+1 < len(toks); i++ {
		if toks[i+1].Value == "=" && (toks[i-1].Value == "extend" || toks[i-1].Value == "project" || toks[i-1].Value == ",") {
			add(toks[i].Value, "computed column")
		}
	}
	return out
}

// completeDirective completes a #directive and its argument.
func (s *Shell) completeDirective(before, word string) []candidate {
	fields := strings.Fields(before)
	if len(fields) == 0 {
		var out []candidate
		for _, d := range directives {
			out = append(out, candidate{d.name, d.summary, "directives"})
		}
		return out
	}
	if len(fields) > 1 {
		return nil
	}
	switch fields[0] {
	case "#format":
		var out []candidate
		for _, f := range render.Formats {
			out = append(out, candidate{string(f), "", "formats"})
		}
		return out
	case "#timing":
		return []candidate{{"on", "show the elapsed time under each result", "values"}, {"off", "hide it", "values"}}
	case "#database":
		var out []candidate
		for _, db := range s.eng.Databases() {
			out = append(out, candidate{db.Name, "database", "databases"})
		}
		return out
	case "#help":
		out := s.commandStarts()
		for _, info := range engine.Commands() {
			out = append(out, candidate{info.Name, info.Summary, "commands"})
		}
		for _, d := range directives {
			out = append(out, candidate{d.name, d.summary, "directives"})
		}
		return out
	case "#run", "#save":
		return fileCandidates(word)
	}
	return nil
}

// fileCandidates lists the files whose path starts with prefix.
func fileCandidates(prefix string) []candidate {
	dir, base := filepath.Split(prefix)
	entries, err := os.ReadDir(cmp.Or(dir, "."))
	if err != nil {
		return nil
	}
	var out []candidate
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), base) || strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(base, ".") {
			continue
		}
		name := dir + e.Name()
		if e.IsDir() {
			name += string(filepath.Separator)
		}
		out = append(out, candidate{name, "", "files"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}
