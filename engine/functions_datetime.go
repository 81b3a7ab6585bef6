package engine

import (
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Datetime functions. now() and ago() read the query's clock, fixed once per query.

func init() {
	declare(
		&function{name: "now", usage: "now([offset])", summary: "The time the query started, plus offset if given.", class: perQuery,
			overload: []overload{
				{result: returns(kusto.TypeDateTime), build: buildNow},
				{params: []typeSet{tTimespan}, result: returns(kusto.TypeDateTime), build: buildNow},
			}},
		&function{name: "ago", usage: "ago(timespan)", summary: "The time the query started, minus a timespan.", class: perQuery,
			overload: []overload{{params: []typeSet{tTimespan}, result: returns(kusto.TypeDateTime), build: buildAgo}}},
	)
}

func buildNow(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	now := sc.c.now
	if len(args) == 0 {
		return constant(kusto.TypeDateTime, now), nil
	}
	return binaryNode(kusto.TypeDateTime, constant(kusto.TypeDateTime, now), args[0], dateShift(1, sc.site(call.At, call, kusto.TypeDateTime))), nil
}

func buildAgo(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return binaryNode(kusto.TypeDateTime, constant(kusto.TypeDateTime, sc.c.now), args[0], dateShift(-1, sc.site(call.At, call, kusto.TypeDateTime))), nil
}
