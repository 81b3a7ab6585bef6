package parser

import (
	"strings"
	"testing"
)

// statement writes a statement back in the form the tests compare.
func statement(st *Statement) string {
	switch {
	case st.Let != nil:
		return letString(st.Let)
	case st.Declare != nil:
		return "declare query_parameters" + paramsString(st.Declare.Params)
	}
	s := "set " + st.Set.Name.String()
	if st.Set.Text != "" {
		s += " = " + literalString(st.Set.Value)
	}
	return s
}

func letString(l *Let) string {
	s := "let " + l.Name.String() + " = "
	switch {
	case l.Func != nil:
		if l.Func.View {
			s += "view "
		}
		s += l.Func.Signature() + " { "
		for _, inner := range l.Func.Lets {
			s += letString(inner) + "; "
		}
		s += value(l.Func.Tabular, l.Func.Scalar, l.Func.Then) + " }"
	default:
		s += value(l.Tabular, l.Scalar, l.Then)
	}
	return s
}

func value(p *Pipeline, e *ScalarExpr, then []Operator) string {
	if p != nil {
		return pipeline(p)
	}
	s := sexpr(e.Tree)
	if len(then) > 0 {
		s += " | " + ops(then)
	}
	return s
}

func funcArgs(args []*FuncArg) string {
	var out []string
	for _, a := range args {
		s := ""
		if a.Name != nil {
			s = a.Name.String() + "="
		}
		if a.Tabular != nil {
			s += pipeline(a.Tabular)
		} else {
			s += sexpr(a.Scalar.Tree)
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func TestParseStatements(t *testing.T) {
	tests := []struct{ in, want string }{
		// let-statement.md
		{"let MultiplyByN = (val:long, n:long) { val * n };\nrange x from 1 to 5 step 1 | extend result = MultiplyByN(x, 5)",
			"let MultiplyByN = (val:long, n:long) { (* val n) }; range x from 1 to 5 step 1 | extend result=MultiplyByN(x, 5)"},
		{"let foo1 = (_start:long, _end:long, _step:long) { range x from _start to _end step _step};\nlet foo2 = (_step:long) { foo1(1, 100, _step)};\nfoo2(2) | count",
			"let foo1 = (_start:long, _end:long, _step:long) { range x from _start to _end step _step }; let foo2 = (_step:long) { foo1(1, 100, _step) }; foo2(2) | count"},
		{"let Range10 = view () { range MyColumn from 1 to 10 step 1 }; Range10",
			"let Range10 = view () { range MyColumn from 1 to 10 step 1 }; Range10"},
		{"let StateState=(T: (State: string)) { T | extend s_s=strcat(State, State) }; T | invoke StateState()",
			"let StateState = (T:(State:string)) { T | extend s_s=strcat(State, State) }; T | invoke StateState()"},
		{"let CountRecordsInTable=(T: (*)) { T | count }; T | invoke CountRecordsInTable()",
			"let CountRecordsInTable = (T:(*)) { T | count }; T | invoke CountRecordsInTable()"},
		// user-defined-functions.md
		{"let f = (a:long, b:string = \"b.default\", c:long = 0) { strcat(a, \"-\", b, \"-\", c) }; print f(12, c=7)",
			`let f = (a:long, b:string = "b.default", c:long = 0) { strcat(a, "-", b, "-", c) }; print f(12, c=7)`},
		{"let MyFilter = (T:(x:long), v:long) { T | where x >= v }; MyFilter((range x from 1 to 10 step 1), 9)",
			"let MyFilter = (T:(x:long), v:long) { T | where (>= x v) }; MyFilter((range x from 1 to 10 step 1), 9)"},
		{"let Test1 = (id: int) { let Test2 = 10; let Test4 = (arg: int) { let Test5 = 20; Test2 + Test5 + arg }; Test4(10) }; print Test1(1)",
			"let Test1 = (id:int) { let Test2 = 10; let Test4 = (arg:int) { let Test5 = 20; (+ (+ Test2 Test5) arg) }; Test4(10) }; print Test1(1)"},
		{"let a=(){123}; print a", "let a = () { 123 }; print a"},
		{"let g = (T:(x:long)) { T | where x > 1 }; let t = g((range x from 1 to 3 step 1)) | count; t",
			"let g = (T:(x:long)) { T | where (> x 1) }; let t = g((range x from 1 to 3 step 1)) | count; t"},
		{"let t = f(1) | count; t", "let t = f(1) | count; t"},
		{"let f = () { T; }; f", "let f = () { T }; f"},
		{"let x = (1 + 2); print x", "let x = (+ 1 2); print x"},
		// query-parameters-statement.md
		{"declare query_parameters(maxInjured:long = 90);\nT | where x > maxInjured",
			"declare query_parameters(maxInjured:long = 90); T | where (> x maxInjured)"},
		{"declare query_parameters(birthday:datetime, n:string); print birthday",
			"declare query_parameters(birthday:datetime, n:string); print birthday"},
		// set-statement.md, query-limits.md
		{"set notruncation;\nT | take 1000000", "set notruncation; T | take 1000000"},
		{"set truncationmaxsize=1048576;\nset truncationmaxrecords=1105;\nT", "set truncationmaxsize = 1048576; set truncationmaxrecords = 1105; T"},
		{"set query_now = datetime(2020-01-01); print now()", "set query_now = datetime(2020-01-01T00:00:00Z); print now()"},
		{"set querytrace; T", "set querytrace; T"},
	}
	for _, tc := range tests {
		b, err := ParseString(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := query(b.Query); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestStatementErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"let f = (a:long, a:string) { a }; print 1", `parameter "a" is declared twice`},
		{"let f = (a:long = 1, b:long) { a }; print 1", `parameter "b" must have a default value`},
		{"let f = (a:long, T:(x:long)) { T }; print 1", `tabular parameter "T" must come before the scalar parameters`},
		{"let f = (a:blob) { a }; print 1", `unknown type "blob" for parameter "a"`},
		{"declare query_parameters(T:(x:long)); print 1", `query parameter "T" must be a scalar`},
		{"declare query_parameters(d:dynamic = dynamic([1])); print 1", `of type dynamic cannot have a default value`},
		{"declare pattern app; print 1", `unsupported statement "declare pattern"`},
		{"alias database x = cluster('c').database('d'); print 1", `unsupported statement "alias"`},
		{"set x = nonsense; print 1", `nonsense is not a value`},
	}
	for _, tc := range tests {
		_, err := ParseString(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.in, err, tc.want)
		}
	}
}
