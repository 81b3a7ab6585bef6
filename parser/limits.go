package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// Limits on what one block may hold. The parser, the finisher, the printer and the engine's
// compiler all recurse over nesting, so nesting is bounded before any of them sees the text:
// checkNesting counts it over the token stream, which costs one pass and no recursion. Lengths
// (of a list, of a chain such as 1+1+…+1) are not limited here: they are parsed, lowered and
// compiled by loops, and cost memory in proportion to the text.

// MaxNesting is how deeply brackets, signs and nested commands may nest in one block: 256
// levels, far more than a query written by hand or generated needs, and little enough that the
// recursive parts of parsing and compiling stay within a few megabytes of stack. Each of ( [ {
// counts one level until it is closed, each sign of a run such as - - x one level, and each <|
// one level for the rest of the block. The same limit applies inside a dynamic literal.
const MaxNesting = 256

func init() {
	// Participle gives up on a repetition after a million items, with an error that names only
	// the token where it stopped. Kustard's lists are parsed by loops of their own
	// (fastexpr.go), but the grammar still parses what they decline, so that the user never
	// meets a limit that no message names.
	participle.MaxIterations = int(^uint(0) >> 1)
}

// checkNesting reports the first place where tokens nest more than MaxNesting levels deep.
func checkNesting(src *kusto.Source, tokens []lexer.Token) error {
	var open []int // the level of each bracket not yet closed
	base := 0      // levels that never close: one per <|
	signs := 0     // the run of signs just before, each a level for what follows it
	level := func() int {
		if len(open) == 0 {
			return base
		}
		return open[len(open)-1]
	}
	for _, t := range tokens {
		if t.Type != TokPunct {
			signs = 0
			continue
		}
		switch t.Value {
		case "(", "[", "{":
			open = append(open, level()+signs+1)
		case ")", "]", "}":
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		case "<|":
			base++
		case "-", "+":
			signs++
			if level()+signs > MaxNesting {
				return nestingError(src, t.Pos.Offset)
			}
			continue
		}
		signs = 0
		if level() > MaxNesting {
			return nestingError(src, t.Pos.Offset)
		}
	}
	return nil
}

func nestingError(src *kusto.Source, offset int) error {
	return kusto.Errorf(kusto.KindSyntax, src, offset, "nested too deeply: Kustard allows %d levels of brackets, signs and <| in one block", MaxNesting)
}
