package parser

import (
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// Kustard implements part of Kusto. A real Kusto command, statement or operator outside that part
// is rejected by its name before parsing, so the user reads `unsupported command ".alter table"`
// rather than a syntax error that suggests the text is wrong.

// kustoCommandVerbs are the first words of Kusto's management commands.
var kustoCommandVerbs = words(`add alter alter-merge append attach cancel clear create create-merge
	create-or-alter delete detach disable drop drop-pretend dup-next-failed-ingest dup-next-ingest
	enable evaluate execute export get ingest merge move purge rename replace seal set set-or-append
	set-or-replace show undo`)

// kustoEntityWords may follow a verb as part of a command's name (.alter table, .show extents).
var kustoEntityWords = words(`async cache capacity cluster column columns commands
	commands-and-queries continuous-export continuous-exports data database databases diagnostics
	entity_groups extent extent-tags-retention extents external follower function functions
	ingestion into journal mapping mappings materialized-view materialized-views operation
	operations policies policy principal principals queries query queued request_classification
	row_level_security running schema stored_query_result stored_query_results streamingingestion table tables
	version workload_group workload_groups`)

// Which forms Kustard implements (`.show tables`, `.set T`), and which words it accepts after
// `.verb table T`, are derived from the grammar's command union (members.go), so that a command
// added to the grammar is never rejected here by name.

// kustoCommandsAfterVerb are the words that, after a verb Kustard implements as a whole form
// (.set T <| …), make it another Kusto command rather than name a table.
var kustoCommandsAfterVerb = words(`stored_query_result`)

// kustoTableSubcommands are, by verb, the words that make `.verb table T <word>` another Kusto
// command. Any other word is a mistake, which the grammar explains by listing what may follow.
var kustoTableSubcommands = map[string]map[string]bool{
	"show":   words(`column columns data extents ingestion operations policies policy principals usage`),
	"alter":  words(`column-docstrings docstring folder`),
	"delete": words(`records`),
}

// supportedPolicies are the policy kinds of `.alter|.show|.delete table|database X policy
// Kind` that Kustard implements; Kusto's others are rejected by name.
var supportedPolicies = words(`streamingingestion`)

// policyOnlyVerbs are the verbs whose only table and database forms Kustard implements are
// the policy commands.
var policyOnlyVerbs = words(`alter delete`)

// kustoQueryOperators are Kusto's tabular operators. Kustard's are the grammar's operator union
// (operatorKeywords); the rest are rejected by name.
var kustoQueryOperators = words(`as assert-schema consume count distinct evaluate extend externaldata
	facet filter find fork getschema graph-match graph-shortest-paths graph-to-table invoke join
	limit lookup macro-expand make-graph make-series mv-apply mv-expand order parse parse-kv
	parse-where partition print project project-away project-keep project-rename project-reorder
	range reduce render sample sample-distinct scan search serialize sort summarize take top
	top-hitters top-nested union where`)

// unsupportedStatements are query statements other than let, set, declare query_parameters and a
// tabular expression.
var unsupportedStatements = words(`alias pattern restrict`)

// unsupportedSources start a query in Kusto but not in Kustard.
var unsupportedSources = words(`find search evaluate`)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func isWord(t lexer.Token) bool { return t.Type == TokIdent || t.Type == TokKeyword }

// checkSupported looks for Kusto features Kustard does not implement.
func checkSupported(src *kusto.Source, tokens []lexer.Token) error {
	unsupported := func(t lexer.Token, format string, args ...any) error {
		return kusto.Errorf(kusto.KindSyntax, src, t.Pos.Offset, format, args...)
	}
	statementStart := true
	mvApply := false                                     // after mv-apply, until its on
	command := len(tokens) > 0 && tokens[0].Value == "." // until its `<|`, if it has one
	for i, t := range tokens {
		next := tokens[min(i+1, len(tokens)-1)]
		switch {
		case t.Value == "." && t.Type == TokPunct && statementStart:
			if err := checkCommand(src, tokens[i:]); err != nil {
				return err
			}
		case t.Value == "<|" && t.Type == TokPunct:
			command = false
		case command && t.Value == ";" && t.Type == TokPunct && next.Type != TokEOF:
			return unsupported(t, "unsupported: a query after a command's \";\" ($command_results); query its result with \"|\" instead, as in .show operations | where State == \"Failed\"")
		case statementStart && isWord(t) && unsupportedStatements[t.Value] && next.Type != TokPunct:
			return unsupported(t, "unsupported statement %q; Kustard supports let, set and declare query_parameters statements and one tabular expression", t.Value)
		case statementStart && isWord(t) && unsupportedSources[t.Value]:
			return unsupported(t, "unsupported operator %q", t.Value)
		case t.Value == "|" && t.Type == TokPunct && isWord(next) && operatorKeywords()[next.Value] == nil,
			// mv-apply's subquery, `on (…)`, starts with an operator, not after a '|'.
			mvApply && t.Value == "on" && isWord(t) && next.Value == "(" && i+2 < len(tokens) && isWord(tokens[i+2]) &&
				operatorKeywords()[tokens[i+2].Value] == nil && kustoQueryOperators[tokens[i+2].Value]:
			if t.Value == "on" {
				next = tokens[i+2]
			}
			if kustoQueryOperators[next.Value] {
				return unsupported(next, "unsupported operator %q", next.Value)
			}
			if lower := strings.ToLower(next.Value); kustoQueryOperators[lower] {
				return unsupported(next, "unknown query operator %q; Kusto's operators are lowercase: %q", next.Value, lower)
			}
			return unsupported(next, "unknown query operator %q; Kustard supports %s", next.Value, strings.Join(sortedKeys(operatorKeywords()), ", "))
		case t.Value == "summarize" && isWord(t) && next.Value == "hint" && i+2 < len(tokens) && tokens[i+2].Value == ".":
			name := "hint."
			if i+3 < len(tokens) && isWord(tokens[i+3]) {
				name += tokens[i+3].Value
			}
			return unsupported(next, "unsupported summarize parameter %q; Kustard runs summarize on one node, without hints", name)
		case statementStart && t.Value == "declare" && isWord(t) && isWord(next) && next.Value != "query_parameters":
			return unsupported(t, "unsupported statement %q; Kustard's declare is declare query_parameters(…)", "declare "+next.Value)
		}
		if isWord(t) && (t.Value == "mv-apply" || t.Value == "on") {
			mvApply = t.Value == "mv-apply"
		}
		// A statement starts the text and follows ';', '<|' and a function body's '{'; a source
		// also follows `let x =`.
		statementStart = t.Value == ";" || t.Value == "<|" || t.Value == "{" || t.Value == "=" && i >= 2 && tokens[i-2].Value == "let"
	}
	return nil
}

// checkCommand checks the command that starts at tokens[0] (a '.').
func checkCommand(src *kusto.Source, tokens []lexer.Token) error {
	if len(tokens) < 2 || !isWord(tokens[1]) {
		return nil // not a command name at all; the grammar explains
	}
	verb := tokens[1].Value
	next := ""
	if len(tokens) > 2 && isWord(tokens[2]) {
		next = tokens[2].Value
	}
	failAt := func(t lexer.Token, format string, args ...any) error {
		return kusto.Errorf(kusto.KindSyntax, src, t.Pos.Offset, format, args...)
	}
	supported := current().forms[verb]
	if supported != nil && supported(next) {
		if verb == "show" && next == "databases" && len(tokens) > 3 && isWord(tokens[3]) && showDatabasesForms[tokens[3].Value] {
			return failAt(tokens[3], "unsupported command %q", ".show databases "+tokens[3].Value)
		}
		if (verb == "create" || verb == "create-merge") && len(tokens) > 6 && tokens[4].Value == "based" && tokens[5].Value == "-" && tokens[6].Value == "on" {
			return failAt(tokens[4], "unsupported command %q", "."+verb+" table based-on")
		}
		if err := checkPolicy(src, tokens, verb, next); err != nil {
			return err
		}
		return checkTableSubcommand(src, tokens, verb, next)
	}
	if !kustoCommandVerbs[verb] {
		// Kusto matches command keywords case-sensitively; say so rather than "unknown".
		if lower := strings.ToLower(verb); kustoCommandVerbs[lower] {
			return failAt(tokens[1], "unknown command \".%s\"; command names are lowercase: \".%s\"", verb, lower)
		}
		return failAt(tokens[0], "unknown command \".%s\"", verb)
	}
	if lower := strings.ToLower(next); lower != next && (kustoEntityWords[lower] || supported != nil && supported(lower)) {
		return failAt(tokens[2], "unknown word %q in .%s; command keywords are lowercase: %q", next, verb, lower)
	}
	if supported != nil && !kustoEntityWords[next] {
		return nil // `.show` alone, `.show nonsense`, `.drop (`: the grammar says what may follow
	}
	name := "." + verb
	if kustoEntityWords[next] {
		name += " " + next
	}
	return failAt(tokens[0], "unsupported command %q", name)
}

// checkPolicy rejects `.verb table|database X policy Kind` by name for a kind Kustard does not
// implement (retention, caching, …).
func checkPolicy(src *kusto.Source, tokens []lexer.Token, verb, entity string) error {
	if entity != "table" && entity != "database" {
		return nil
	}
	if policyOnlyVerbs[verb] && (len(tokens) < 5 || tokens[4].Value != "policy") {
		// .alter table T (…), .alter database D prettyname …: Kusto commands of another kind.
		name := "." + verb + " " + entity
		if len(tokens) >= 5 && entity == "table" && kustoTableSubcommands[verb][tokens[4].Value] {
			name += " " + tokens[4].Value
		}
		return kusto.Errorf(kusto.KindSyntax, src, tokens[0].Pos.Offset, "unsupported command %q", name)
	}
	if len(tokens) < 6 || tokens[4].Value != "policy" || !isWord(tokens[5]) {
		return nil
	}
	if kind := tokens[5].Value; !supportedPolicies[kind] {
		return kusto.Errorf(kusto.KindSyntax, src, tokens[5].Pos.Offset, "unsupported command %q; Kustard's policy commands are of the streamingingestion policy", fmt.Sprintf(".%s %s policy %s", verb, entity, kind))
	}
	return nil
}

// showDatabasesForms are the words Kusto accepts after `.show databases`.
var showDatabasesForms = words(`details identity policies datastats`)

// checkTableSubcommand rejects `.show table T extents` and the like by name.
func checkTableSubcommand(src *kusto.Source, tokens []lexer.Token, verb, next string) error {
	accepted, ok := current().tableWords[verb]
	if !ok || next != "table" || len(tokens) < 5 {
		return nil
	}
	word := tokens[4]
	if word.Type != TokIdent || slices.Contains(accepted, word.Value) || !kustoTableSubcommands[verb][word.Value] {
		return nil
	}
	return kusto.Errorf(kusto.KindSyntax, src, word.Pos.Offset, "unsupported command %q", fmt.Sprintf(".%s table %s", verb, word.Value))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
