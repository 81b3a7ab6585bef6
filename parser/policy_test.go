package parser

import (
	"strings"
	"testing"
)

// The policy commands parse into their nodes; Kusto's other policies and neighbouring commands
// are rejected by name (streaming-ingestion-policy-command.md).
func TestStreamingPolicyCommands(t *testing.T) {
	for _, tc := range []struct {
		text string
		want string // the node's type and fields, or the error's text
	}{
		{`.alter table T1 policy streamingingestion enable`, `&{Entity:table Name:T1 Enable:true Disable:false Policy:<nil>}`},
		{`.alter database DB1 policy streamingingestion disable`, `&{Entity:database Name:DB1 Enable:false Disable:true Policy:<nil>}`},
		{`.alter database MyDatabase policy streamingingestion '{"IsEnabled": true, "HintAllocatedRate": 2.1}'`, `&{Entity:database Name:MyDatabase Enable:false Disable:false Policy:{"IsEnabled": true, "HintAllocatedRate": 2.1}}`},
		{`.show table ['My T'] policy streamingingestion`, `&{Entity:table Name:My T}`},
		{`.show database DB1 policy streamingingestion`, `&{Entity:database Name:DB1}`},
		{`.delete table T1 policy streamingingestion`, `&{Entity:table Name:T1}`},
		{`.delete database DB1 policy streamingingestion`, `&{Entity:database Name:DB1}`},
		{`.get ingestion resources`, `&{What:ingestionresources}`},
		{`.get kusto identity token`, `&{What:kustoidentitytoken}`},
		{`.alter table T1 policy retention '{}'`, `unsupported command ".alter table policy retention"`},
		{`.show database DB1 policy caching`, `unsupported command ".show database policy caching"`},
		{`.alter table T1 docstring 'x'`, `unsupported command ".alter table docstring"`},
		{`.delete table T1 records <| T1 | where x == 1`, `unsupported command ".delete table records"`},
		{`.show table T1 policy streamingingestion extra`, `expected`},
		{`.show streamingingestion failures`, `unsupported command ".show streamingingestion"`},
		{`.alter table T1 (a:int)`, `unsupported command ".alter table"`},
	} {
		b, err := ParseString(tc.text)
		var got string
		if err != nil {
			got = err.Error()
		} else {
			got = describePolicyNode(b.Command)
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.text, got, tc.want)
		}
	}
}

func describePolicyNode(c Command) string {
	switch n := c.(type) {
	case *AlterStreamingPolicy:
		p := "<nil>"
		if n.Policy != nil {
			p = n.Policy.Value
		}
		return "&{Entity:" + n.Entity + " Name:" + n.Name.String() + " Enable:" + boolText(n.Enable) + " Disable:" + boolText(n.Disable) + " Policy:" + p + "}"
	case *ShowStreamingPolicy:
		return "&{Entity:" + n.Entity + " Name:" + n.Name.String() + "}"
	case *DeleteStreamingPolicy:
		return "&{Entity:" + n.Entity + " Name:" + n.Name.String() + "}"
	case *GetIngestionResources:
		return "&{What:" + n.What + "}"
	}
	return "unexpected node"
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
