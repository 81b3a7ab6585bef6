package parser

import "testing"

// TestSupportedLookalikes: the pre-pass that rejects dynamic access and user-defined functions by
// name leaves alone what looks like them and is not: numbers, commands, bracketed names,
// datatable rows and dynamic literals, and a parenthesized let.
func TestSupportedLookalikes(t *testing.T) {
	for _, text := range []string{
		"print x = 1.5, y = 2.5e3",
		".show tables",
		"print a = 1 | project ['a']",
		"print a = 1 | project['a']",
		"print a = 1 | extend b = a, ['c'] = 2",
		"datatable(a:long, b:dynamic)[1, dynamic([1, 2]), 2, dynamic({\"a\": [1]})]",
		"let t = datatable (a:long) [1]; t",
		"let x = (1 + 2); print x",
		"let x = (1); print y = (x) * 2",
		".set-or-append T with (tags='[\"a\"]') <| print x = dynamic([1])",
	} {
		if _, err := ParseString(text); err != nil {
			t.Errorf("%s: %v", text, err)
		}
	}
}
