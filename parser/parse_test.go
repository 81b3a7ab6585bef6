package parser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

const docsGUID = "078b2641-f10d-4694-96f8-1ee2b75dda48" // the .cancel operation docs' example id

func mustParse(t *testing.T, text string) *Block {
	t.Helper()
	b, err := ParseString(text)
	if err != nil {
		if e, ok := err.(*kusto.Error); ok {
			t.Fatalf("ParseString(%q):\n%s", text, e.Detail())
		}
		t.Fatalf("ParseString(%q): %v", text, err)
	}
	if b.Source == nil || b.Source.Text != text {
		t.Fatalf("Block.Source = %v; want the parsed text", b.Source)
	}
	return b
}

// written returns a with list's decoded values by their names as written.
func written(p *Properties) map[string]kusto.Literal {
	out := map[string]kusto.Literal{}
	for _, prop := range p.List {
		if prop.Invalid == nil {
			out[prop.Name.String()] = prop.Value
		}
	}
	return out
}

// mustCommand parses text and returns its command as a T.
func mustCommand[T Command](t *testing.T, text string) T {
	t.Helper()
	b := mustParse(t, text)
	c, ok := b.Command.(T)
	if !ok {
		t.Fatalf("ParseString(%q) command = %T; want %T", text, b.Command, *new(T))
	}
	return c
}

func checkPos(t *testing.T, what string, p lexer.Position, offset, line, col int) {
	t.Helper()
	if p.Offset != offset || p.Line != line || p.Column != col {
		t.Errorf("%s at offset %d (%d:%d); want offset %d (%d:%d)", what, p.Offset, p.Line, p.Column, offset, line, col)
	}
}

func guidArgs(ids []*GuidArg) string {
	var out []string
	for _, id := range ids {
		out = append(out, id.Value.String())
	}
	return strings.Join(out, ",")
}

func TestParseCancelOperation(t *testing.T) {
	tests := []struct {
		in     string
		reason any // nil when there is no with clause
	}{
		{".cancel operation " + docsGUID, nil},
		{".cancel operation " + docsGUID + ` with(Reason="Command canceled by me")`, "Command canceled by me"},
		{".cancel operation " + docsGUID + ` with (reason = 'why')`, "why"},
		{".cancel operation " + docsGUID + ` with (REASON=@"a\b")`, `a\b`},
		{".cancel operation " + docsGUID + ` with (reason=h"secret" " part")`, "secret part"},
		{`.cancel operation "` + docsGUID + `"`, nil},
		{`.cancel operation ' ` + strings.ToUpper(docsGUID) + ` '`, nil},
		{".cancel operation guid(" + docsGUID + ")", nil},
		{".cancel operation uuid(" + docsGUID + ")", nil},
		{".cancel operation " + docsGUID + ";", nil},
	}
	for _, tc := range tests {
		c := mustCommand[*CancelOperation](t, tc.in)
		if c.ID.Value != uuid.MustParse(docsGUID) {
			t.Errorf("%s: id %v; want %s", tc.in, c.ID.Value, docsGUID)
		}
		checkPos(t, tc.in+": command", c.Pos, 0, 1, 1)
		checkPos(t, tc.in+": id", c.ID.Pos, 18, 1, 19)
		if tc.reason == nil {
			if c.With != nil {
				t.Errorf("%s: With = %v; want none", tc.in, c.With)
			}
			continue
		}
		if c.With == nil {
			t.Fatalf("%s: no with clause", tc.in)
		}
		if got := c.With.List[0].Value; got.Type != kusto.TypeString || got.Value != tc.reason || len(c.With.List) != 1 {
			t.Errorf("%s: with values %v; want reason=%q", tc.in, written(c.With), tc.reason)
		}
		if p := c.With.List[0]; !strings.EqualFold(p.Name.String(), "reason") {
			t.Errorf("%s: property name %q", tc.in, p.Name)
		}
	}
}

func TestParseShowOperations(t *testing.T) {
	a, b := docsGUID, "00000000-0000-0000-0000-000000000002"
	tests := []struct{ in, ids string }{
		{".show operations", ""},
		{".show operations " + a, a},
		{`.show operations "` + a + `"`, a},
		{".show operations guid(" + a + ")", a},
		{".show operations (" + a + ")", a},
		{".show operations (" + a + `, "` + b + `")`, a + "," + b},
		{".show operations (guid(" + b + "),\n  " + a + ")", b + "," + a},
	}
	for _, tc := range tests {
		c := mustCommand[*ShowOperations](t, tc.in)
		if got := guidArgs(c.IDs); got != tc.ids {
			t.Errorf("%s: ids %q; want %q", tc.in, got, tc.ids)
		}
	}
	c := mustCommand[*ShowOperations](t, ".show operations (guid("+b+"),\n  "+a+")")
	checkPos(t, "second id", c.IDs[1].Pos, 64, 2, 3)

	d := mustCommand[*ShowOperationDetails](t, ".show operation "+a+" details")
	if d.ID.Value.String() != a {
		t.Errorf("details id %v; want %s", d.ID.Value, a)
	}
	checkPos(t, "details id", d.ID.Pos, 16, 1, 17)
}

func TestParseIngest(t *testing.T) {
	tests := []struct {
		in    string
		verb  string
		async bool
		table string
	}{
		{".set T <| print x = 1", "set", false, "T"},
		{".append T <| print x = 1", "append", false, "T"},
		{".set-or-append T <| print x = 1", "set-or-append", false, "T"},
		{".set-or-replace T <| print x = 1", "set-or-replace", false, "T"},
		{".set async T <| print x = 1", "set", true, "T"},
		{".set-or-append async ['my table'] <| print x = 1", "set-or-append", true, "my table"},
		{".append async async <| print x = 1", "append", true, "async"}, // a table may be named async
		{".set-or-replace T <|\nlet text = \"Hello, World!\";\nprint str = text", "set-or-replace", false, "T"},
	}
	for _, tc := range tests {
		c := mustCommand[*Ingest](t, tc.in)
		if c.Verb != tc.verb || c.Async != tc.async || c.Table.String() != tc.table {
			t.Errorf("%s: verb %q async %v table %q; want %q %v %q", tc.in, c.Verb, c.Async, c.Table, tc.verb, tc.async, tc.table)
		}
		if c.Source == nil || c.Source.Query == nil {
			t.Errorf("%s: source is not a query", tc.in)
		}
	}

	text := ".set-or-append async T\nwith (tags='[\"ingest-by:v1\"]', extend_schema=true, persistDetails=\"true\",\n  creationTime='2017-02-13T11:09:36.7992775Z', distributed=false, folder=\"F\", docstring='D', ingestIfNotExists='[\"v1\"]')\n<| .show operations | where State == \"InProgress\""
	c := mustCommand[*Ingest](t, text)
	// The parser decodes the values as written; the engine checks and converts them (a quoted
	// bool, creationTime to a datetime) against the command's registry entry.
	v := written(c.With)
	for name, want := range map[string]kusto.Literal{
		"tags":              {Type: kusto.TypeString, Value: `["ingest-by:v1"]`},
		"extend_schema":     {Type: kusto.TypeBool, Value: true},
		"persistDetails":    {Type: kusto.TypeString, Value: "true"},
		"creationTime":      {Type: kusto.TypeString, Value: "2017-02-13T11:09:36.7992775Z"},
		"distributed":       {Type: kusto.TypeBool, Value: false},
		"folder":            {Type: kusto.TypeString, Value: "F"},
		"docstring":         {Type: kusto.TypeString, Value: "D"},
		"ingestIfNotExists": {Type: kusto.TypeString, Value: `["v1"]`},
	} {
		if v[name] != want {
			t.Errorf("property %s = %#v; want %#v", name, v[name], want)
		}
	}
	if len(v) != 8 {
		t.Errorf("%d properties; want 8: %v", len(v), v)
	}
	if got := kusto.StringList(v["tags"]); len(got) != 1 || got[0] != "ingest-by:v1" {
		t.Errorf("StringList(tags) = %q", got)
	}
	checkPos(t, "with", c.With.Pos, 28, 2, 6)
	checkPos(t, "extend_schema", c.With.List[1].Pos, 54, 2, 32)
	src := c.Source
	if _, ok := src.Command.(*ShowOperations); !ok || len(src.Then) != 1 || !isWhere(src.Then[0]) {
		t.Fatalf("source = %#v; want .show operations | where …", src)
	}
	checkPos(t, "source", src.Pos, strings.Index(text, "<|")+3, 4, 4)
	if got := sexpr(src.Then[0].(*WhereOp).Predicate.Tree); got != `(== State "InProgress")` {
		t.Errorf("where = %s", got)
	}

	c = mustCommand[*Ingest](t, ".set-or-replace T with (recreate_schema=true) <| .show tables")
	if v := written(c.With); v["recreate_schema"] != (kusto.Literal{Type: kusto.TypeBool, Value: true}) {
		t.Errorf("recreate_schema = %v", v["recreate_schema"])
	}
	for _, cmd := range []string{".show version", ".show databases", ".show tables", ".show table T details", ".show operation " + docsGUID + " details"} {
		c := mustCommand[*Ingest](t, ".set T <| "+cmd)
		if c.Source.Command == nil {
			t.Errorf("source of .set T <| %s is not a command", cmd)
		}
	}
}

func TestParseTableCommands(t *testing.T) {
	c := mustCommand[*CreateTable](t, ".create table T (a:string, ['b c']:long, d:datetime, e:timespan, f:guid, g:dynamic, h:bool, i:int, j:real, k:double, l:boolean, m:date, n:time, o:uuid, p:uniqueid) with (docstring=\"the docs\", folder='f/g')")
	var cols []string
	for _, col := range c.Columns {
		cols = append(cols, col.Name.String()+":"+col.Type.String())
	}
	want := "a:string ['b c']:long d:datetime e:timespan f:guid g:dynamic h:bool i:int j:real k:real l:bool m:datetime n:timespan o:guid p:guid"
	if got := strings.Join(cols, " "); got != strings.Replace(want, "['b c']", "b c", 1) || c.Merge || c.Table.String() != "T" {
		t.Errorf("create table: merge %v table %q columns %s", c.Merge, c.Table, got)
	}
	if v := written(c.With); v["docstring"] != (kusto.Literal{Type: kusto.TypeString, Value: "the docs"}) || v["folder"] != (kusto.Literal{Type: kusto.TypeString, Value: "f/g"}) {
		t.Errorf("with = %v", v)
	}
	checkPos(t, "column b c", c.Columns[1].Pos, 27, 1, 28)
	checkPos(t, "table name", c.Table.Pos, 14, 1, 15)

	m := mustCommand[*CreateTable](t, ".create-merge table T (a:string)")
	if !m.Merge || len(m.Columns) != 1 || m.With != nil {
		t.Errorf("create-merge = %+v", m)
	}

	d := mustCommand[*DropTable](t, ".drop table T")
	if d.Table.String() != "T" || d.IfExists {
		t.Errorf("drop = %+v", d)
	}
	if d := mustCommand[*DropTable](t, ".drop table ['x y'] ifexists"); d.Table.String() != "x y" || !d.IfExists {
		t.Errorf("drop ifexists = %+v", d)
	}

	st := mustCommand[*ShowTables](t, ".show tables")
	if len(st.Tables) != 0 || st.Details {
		t.Errorf("show tables = %+v", st)
	}
	st = mustCommand[*ShowTables](t, ".show tables (A, ['B C']) details")
	if len(st.Tables) != 2 || st.Tables[1].String() != "B C" || !st.Details {
		t.Errorf("show tables (…) details = %+v", st)
	}
	for in, what := range map[string]string{
		".show table T schema as json": "schema",
		".show table T cslschema":      "cslschema",
		".show table T details":        "details",
	} {
		if s := mustCommand[*ShowTable](t, in); s.Table.String() != "T" || s.What != what {
			t.Errorf("%s = %+v; want What %q", in, s, what)
		}
	}
	mustCommand[*ShowDatabases](t, ".show databases")
	mustCommand[*ShowVersion](t, ".show version")
}

// TestCommandThenQuery: a command's result may be piped into query operators.
func TestCommandThenQuery(t *testing.T) {
	b := mustParse(t, ".show operations | where State == \"InProgress\" | project OperationId, State | take 10 | count")
	if _, ok := b.Command.(*ShowOperations); !ok || len(b.Then) != 4 {
		t.Fatalf("got %#v", b)
	}
	if got := ops(b.Then); got != `where (== State "InProgress") | project OperationId, State | take 10 | count` {
		t.Errorf("operators: %s", got)
	}
	checkPos(t, "second operator", b.Then[1].Position(), 49, 1, 50)
}

func TestParseQueries(t *testing.T) {
	tests := []struct{ in, want string }{
		{"range x from 1 to 10 step 1", "range x from 1 to 10 step 1"},
		{"range x from -5 to 5 step 2 | where x > 0", "range x from (neg 5) to 5 step 2 | where (> x 0)"},
		{"print 1", "print 1"},
		{"print a = 1, 2, ['b c'] = \"x\"", `print a=1, 2, b c="x"`},
		{"datatable(a:long, b:string)[1, \"x\", 2, \"y\",]", `datatable(a:long, b:string)[1, "x", 2, "y"]`},
		{"datatable(a:string)[\"x\"]", `datatable(a:string)["x"]`},
		{"datatable(a:string)[]", `datatable(a:string)[]`},
		{"T", "T"},
		{"['my table'] | count", "my table | count"},
		{"(T | take 1) | count", "(T | take 1) | count"},
		{"T | where a == 1 | filter b != 2", "T | where (== a 1) | where (!= b 2)"},
		{"T | project a, b = a * 2, c", "T | project a, b=(* a 2), c"},
		{"T | project-away a, ['b c']", "T | project-away a, ['b c']"}, // a pattern prints as written
		{"T | extend c = a + b", "T | extend c=(+ a b)"},
		{"T | take 5 | limit 2 | count", "T | take 5 | take 2 | count"},
		{"let n = 5; range x from 1 to n step 1", "let n = 5; range x from 1 to n step 1"},
		{"let t = range x from 1 to 3 step 1; let u = t | take 1; u | count", "let t = range x from 1 to 3 step 1; let u = t | take 1; u | count"},
		{"let t = (range x from 1 to 3 step 1); t", "let t = (range x from 1 to 3 step 1); t"},
		{"let d = datatable(a:int)[1]; let p = print 1; d", "let d = datatable(a:int)[1]; let p = print 1; d"},
		{"let s = 'x'; print s;", `let s = "x"; print s`},
		{"print x = 1\n| where x == 1 // a comment\n| count", "print x=1 | where (== x 1) | count"},
	}
	for _, tc := range tests {
		b := mustParse(t, tc.in)
		if b.Query == nil || b.Command != nil {
			t.Errorf("%s: not a query: %#v", tc.in, b)
			continue
		}
		if got := query(b.Query); got != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestParseExpressions(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1 + 2 * 3", "(+ 1 (* 2 3))"},
		{"(1 + 2) * 3", "(* (+ 1 2) 3)"},
		{"1 - 2 - 3", "(- (- 1 2) 3)"},
		{"8 / 4 % 3", "(% (/ 8 4) 3)"},
		{"-a + +b", "(+ (neg a) b)"},
		{"- -1", "(neg (neg 1))"},
		{"a < 1 and b >= 2 or not(c)", "(or (and (< a 1) (>= b 2)) not(c))"},
		{"a or b or c", "(or (or a b) c)"},
		{"a == 1 and b != 2 and c <> 3", "(and (and (== a 1) (!= b 2)) (!= c 3))"},
		{"a <= 1 or a > 2", "(or (<= a 1) (> a 2))"},
		{"a + 1 == b * 2", "(== (+ a 1) (* b 2))"},
		{`s =~ "A" and s !~ "b"`, `(and (=~ s "A") (!~ s "b"))`},
		{`s contains "a" or s !contains "b"`, `(or (contains s "a") (!contains s "b"))`},
		{`s has_cs "a" and s !has "b" and s startswith "c" and s !endswith_cs "d"`, `(and (and (and (has_cs s "a") (!has s "b")) (startswith s "c")) (!endswith_cs s "d"))`},
		{`s hasprefix "a" or s !hassuffix "b" or s contains_cs "c" or s !startswith_cs "d" or s endswith "e"`, `(or (or (or (or (hasprefix s "a") (!hassuffix s "b")) (contains_cs s "c")) (!startswith_cs s "d")) (endswith s "e"))`},
		{"x in (1, 2, 3)", "(in x 1 2 3)"},
		{`x !in ("a") and y in~ ("B", "c") or z !in~ (1 + 1)`, `(or (and (!in x "a") (in~ y "B" "c")) (!in~ z (+ 1 1)))`},
		{"strlen(s) + f()", "(+ strlen(s) f())"},
		{"iff(a > 1, 'x', \"y\")", `iff((> a 1), "x", "y")`},
		{"['a b'] + 1", "(+ a b 1)"},
		{"d.a.b[0]", `([] ([] ([] d "a") "b") 0)`},
		{`d["a"]['b c'][-1] + 1`, `(+ ([] ([] ([] d "a") "b c") (neg 1)) 1)`},
		{"f(x)[i + 1].where", `([] ([] f(x) (+ i 1)) "where")`},
		{"-d.a", `(neg ([] d "a"))`},
		{"d[['where']]", `([] d where)`},
		{"dynamic([1, 2])[1]", `([] [1 2] 1)`},
		{"x between (1 .. 2) and y !between (a + 1 .. 3)", "(and (between x 1 2) (!between y (+ a 1) 3))"},
		{`s matches regex "a+" or s has_any ("a", "b") and s has_all (x)`, `(or (matches regex s "a+") (and (has_any s "a" "b") (has_all s x)))`},
	}
	for _, tc := range tests {
		b := mustParse(t, "print "+tc.in)
		e := b.Query.Body.Source.(*PrintSource).Columns[0].Expr.Tree
		if got := sexpr(e); got != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	// Every node of the tree knows where its text is.
	b := mustParse(t, "print a + b * -c")
	e := b.Query.Body.Source.(*PrintSource).Columns[0].Expr.Tree.(*BinaryExpr)
	mul := e.Right.(*BinaryExpr)
	for _, c := range []struct {
		node Expr
		at   int
	}{{e, 8}, {e.Left, 6}, {mul, 12}, {mul.Left, 10}, {mul.Right, 14}, {mul.Right.(*NegateExpr).Operand, 15}} {
		if c.node.Offset() != c.at {
			t.Errorf("%s at %d; want %d", sexpr(c.node), c.node.Offset(), c.at)
		}
	}
	in := mustParse(t, "print x in (1)").Query.Body.Source.(*PrintSource).Columns[0].Expr.Tree
	if in.Offset() != 6 {
		t.Errorf("in at %d; want 6", in.Offset())
	}
	call := mustParse(t, "print  f(1)").Query.Body.Source.(*PrintSource).Columns[0].Expr.Tree
	if call.Offset() != 7 {
		t.Errorf("call at %d; want 7", call.Offset())
	}
	// d.a["b"][0]: each accessor at its '.' or '['; a name at itself, a bracketed key after its '['.
	acc := mustParse(t, `print d.a["b"][0]`).Query.Body.Source.(*PrintSource).Columns[0].Expr.Tree.(*IndexExpr)
	key := acc.Target.(*IndexExpr)
	dot := key.Target.(*IndexExpr)
	for _, c := range []struct {
		node Expr
		at   int
	}{{acc, 14}, {acc.Index, 15}, {key, 9}, {key.Index, 10}, {dot, 7}, {dot.Index, 8}, {dot.Target, 6}} {
		if c.node.Offset() != c.at {
			t.Errorf("%s at %d; want %d", sexpr(c.node), c.node.Offset(), c.at)
		}
	}
}

// sexpr prints an expression tree compactly: binary operators as (op left right), calls as f(…).
func sexpr(e Expr) string {
	switch e := e.(type) {
	case *LiteralExpr:
		return literalText(e.Literal)
	case *ColumnExpr:
		return e.Name
	case *CallExpr:
		var args []string
		for _, a := range e.Args {
			if n, ok := a.(*NamedArgExpr); ok {
				args = append(args, n.Name+"="+sexpr(n.Value))
				continue
			}
			args = append(args, sexpr(a))
		}
		return e.Func + "(" + strings.Join(args, ", ") + ")"
	case *BinaryExpr:
		return "(" + e.Op + " " + sexpr(e.Left) + " " + sexpr(e.Right) + ")"
	case *NegateExpr:
		return "(neg " + sexpr(e.Operand) + ")"
	case *IndexExpr:
		return "([] " + sexpr(e.Target) + " " + sexpr(e.Index) + ")"
	case *BetweenExpr:
		op := "between"
		if e.Negated {
			op = "!between"
		}
		return "(" + op + " " + sexpr(e.Left) + " " + sexpr(e.From) + " " + sexpr(e.To) + ")"
	case *InExpr:
		s := "(" + e.Op + " " + sexpr(e.Left)
		for _, item := range e.List {
			s += " " + sexpr(item)
		}
		return s + ")"
	}
	return fmt.Sprintf("?%T", e)
}

func literalText(l kusto.Literal) string {
	if l.Type == kusto.TypeString {
		return kusto.Quote(l.Value.(string))
	}
	return fmt.Sprint(l.Value)
}

func query(q *Query) string {
	var s string
	for _, st := range q.Statements {
		s += statement(st) + "; "
	}
	return s + pipeline(q.Body)
}

func pipeline(p *Pipeline) string {
	var s string
	switch src := p.Source.(type) {
	case *RangeSource:
		s = fmt.Sprintf("range %s from %s to %s step %s", src.Column, sexpr(src.From.Tree), sexpr(src.To.Tree), sexpr(src.Step.Tree))
	case *DatatableSource:
		var cols, vals []string
		for _, c := range src.Columns {
			cols = append(cols, c.Name.String()+":"+c.Type.String())
		}
		for _, v := range src.Values {
			vals = append(vals, sexpr(v.Tree))
		}
		for _, v := range src.Literals {
			vals = append(vals, sexpr(&v))
		}
		s = "datatable(" + strings.Join(cols, ", ") + ")[" + strings.Join(vals, ", ") + "]"
	case *PrintSource:
		s = "print " + namedExprs(src.Columns)
	case *ParenSource:
		s = "(" + pipeline(src.Body) + ")"
	case *TableRef:
		s = src.Name.String()
	case *CallSource:
		s = src.Func.String() + "(" + funcArgs(src.Args) + ")"
	}
	if len(p.Ops) > 0 {
		s += " | " + ops(p.Ops)
	}
	return s
}

func namedExprs(list []*NamedExpr) string {
	var out []string
	for _, n := range list {
		s := sexpr(n.Expr.Tree)
		if n.Name != nil {
			s = n.Name.String() + "=" + s
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func isWhere(op Operator) bool {
	_, ok := op.(*WhereOp)
	return ok
}

func ops(list []Operator) string {
	var out []string
	for _, op := range list {
		switch op := op.(type) {
		case *WhereOp:
			out = append(out, "where "+sexpr(op.Predicate.Tree))
		case *ProjectOp:
			out = append(out, "project "+namedExprs(op.Columns))
		case *ProjectAwayOp:
			var names []string
			for _, n := range op.Columns {
				names = append(names, n.String())
			}
			out = append(out, "project-away "+strings.Join(names, ", "))
		case *ExtendOp:
			out = append(out, "extend "+namedExprs(op.Columns))
		case *TakeOp:
			out = append(out, "take "+sexpr(op.Count.Tree))
		case *CountOp:
			out = append(out, "count")
		case *InvokeOp:
			out = append(out, "invoke "+op.Func.String()+"("+funcArgs(op.Args)+")")
		default:
			out = append(out, fmt.Sprintf("%T", op))
		}
	}
	return strings.Join(out, " | ")
}

// TestBuildGrammar: BuildGrammar builds the grammar before any parse, as serve asks it to.
func TestBuildGrammar(t *testing.T) {
	built.Store(nil) // as a fresh process, or after a RegisterCommand
	if GrammarBuilt() {
		t.Fatal("GrammarBuilt before any build")
	}
	BuildGrammar()
	if !GrammarBuilt() {
		t.Fatal("BuildGrammar left the grammar unbuilt")
	}
}
