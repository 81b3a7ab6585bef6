package engine

import (
	"context"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// TestVisualizationJSON checks the metadata render leaves on a result, in Kusto's shape: every
// property present, in Kusto's order, unset ones null and unset y bounds "NaN".
func TestVisualizationJSON(t *testing.T) {
	s := New(Options{}).NewSession()
	for _, tc := range []struct{ query, want string }{
		{`range x from 1 to 3 step 1 | count`, ""},
		{`range x from 1 to 3 step 1 | render table`,
			`{"Visualization":"table","Title":null,"XColumn":null,"Series":null,"YColumns":null,"AnomalyColumns":null,"XTitle":null,"YTitle":null,"XAxis":null,"YAxis":null,"Legend":null,"YSplit":null,"Accumulate":false,"IsQuerySorted":false,"Kind":null,"Ymin":"NaN","Ymax":"NaN","Xmin":null,"Xmax":null}`},
		{`range x from 1 to 3 step 1 | extend y = x * 2, s = "a" | sort by x | render columnchart with (title="T", xcolumn=x, ycolumns=x, y, series=s, ymin=-1.5, ymax=10, accumulate=true, kind=stacked, legend=hidden, ysplit=axes, xaxis=log, xtitle='X')`,
			`{"Visualization":"columnchart","Title":"T","XColumn":"x","Series":"s","YColumns":"x,y","AnomalyColumns":null,"XTitle":"X","YTitle":null,"XAxis":"log","YAxis":null,"Legend":"hidden","YSplit":"axes","Accumulate":true,"IsQuerySorted":true,"Kind":"stacked","Ymin":-1.5,"Ymax":10,"Xmin":null,"Xmax":null}`},
	} {
		res, err := s.Execute(context.Background(), Request{}, &kusto.Source{Name: "q", Text: tc.query})
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		got := ""
		if res.Visualization != nil {
			got = res.Visualization.JSON()
		}
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.query, got, tc.want)
		}
		if res.Rows == 0 {
			t.Errorf("%s: render changed the rows", tc.query)
		}
	}
}
