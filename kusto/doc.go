// Package kusto holds what every layer of Kustard shares about the Kusto language: its scalar
// types, the Go values that represent them (datetime and timespan ticks, guids, dynamic values)
// with their text forms, the parsing of literals, and the one positioned error type with its kind.
//
// It is a leaf: the parser, the engine and every front door import it, and it imports none of
// them, so nothing has to call into the parser at run time to convert a value.
package kusto
