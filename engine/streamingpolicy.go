package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// The streaming ingestion policy of tables and databases (streamingingestionpolicy.md,
// streaming-ingestion-policy-command.md): whether the streaming ingest endpoint may append to a
// table. A table's own policy decides; a table without one follows its database's.

// StreamingIngestionPolicy is the policy object: IsEnabled, and the hint of the hourly volume
// in GB, which Kustard keeps and shows but has no use for.
type StreamingIngestionPolicy struct {
	IsEnabled         bool
	HintAllocatedRate *float64
}

// JSON renders the policy as Kusto shows it.
func (p *StreamingIngestionPolicy) JSON() string {
	if p == nil {
		return "null"
	}
	rate := "null"
	if p.HintAllocatedRate != nil {
		rate = strconv.FormatFloat(*p.HintAllocatedRate, 'g', -1, 64)
	}
	return fmt.Sprintf(`{"IsEnabled":%t,"HintAllocatedRate":%s}`, p.IsEnabled, rate)
}

// ParseStreamingIngestionPolicy reads a policy object: IsEnabled is required, a bool;
// HintAllocatedRate optional, a non-negative number or null. Property names are matched
// case-insensitively, as Kusto's JSON reader does; others are refused by name.
func ParseStreamingIngestionPolicy(text string) (*StreamingIngestionPolicy, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, fmt.Errorf("the streaming ingestion policy must be a JSON object, as '{\"IsEnabled\": true}'")
	}
	if dec.More() {
		return nil, fmt.Errorf("the streaming ingestion policy must be one JSON object; text follows it")
	}
	p := &StreamingIngestionPolicy{}
	seen := false
	for k, v := range obj {
		switch strings.ToLower(k) {
		case "isenabled":
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("IsEnabled must be true or false, not %s", jsonText(v))
			}
			p.IsEnabled, seen = b, true
		case "hintallocatedrate":
			if v == nil {
				continue
			}
			n, ok := v.(json.Number)
			f, err := n.Float64()
			if !ok || err != nil || f < 0 || math.IsInf(f, 0) {
				return nil, fmt.Errorf("HintAllocatedRate must be a non-negative number of GB per hour, not %s", jsonText(v))
			}
			p.HintAllocatedRate = &f
		default:
			return nil, fmt.Errorf("unknown property %q of the streaming ingestion policy; it has IsEnabled and HintAllocatedRate", k)
		}
	}
	if !seen {
		return nil, fmt.Errorf("the streaming ingestion policy needs IsEnabled (true or false); it has no default")
	}
	return p, nil
}

func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return strings.TrimSpace(b.String())
}

// SetStreamingIngestionPolicy sets (or, with a nil Policy, deletes) the policy of a table, or of
// a database when Table is empty. ID is the table's, or the database's.
type SetStreamingIngestionPolicy struct {
	Database, Table string
	ID              uuid.UUID
	Policy          *StreamingIngestionPolicy
}

func (c *SetStreamingIngestionPolicy) apply(w *writer) error {
	if c.Table != "" {
		t, err := w.table(c.Database, c.Table, c.ID)
		if err == nil {
			t.StreamingIngestion = c.Policy
		}
		return err
	}
	d, err := w.db(c.Database)
	if err != nil {
		return err
	}
	if d.id != c.ID {
		return conflictf("database %q was dropped or recreated", c.Database)
	}
	d.streaming = c.Policy
	return nil
}

// SetStreamingIngestionPolicy sets or (nil) deletes a table's policy, or a database's when
// table is "".
func (tx *Txn) SetStreamingIngestionPolicy(db, table string, p *StreamingIngestionPolicy) error {
	if table != "" {
		return tx.tableChange(db, table, func(id uuid.UUID) Change {
			return &SetStreamingIngestionPolicy{Database: db, Table: table, ID: id, Policy: p}
		})
	}
	d, ok := tx.Snapshot().Database(db)
	if !ok {
		return conflictf("database %q does not exist", db)
	}
	return tx.add(&SetStreamingIngestionPolicy{Database: d.Name, ID: d.ID, Policy: p})
}

// streamingPolicySchema is the result of the policy commands (streaming-ingestion-policy-command.md).
var streamingPolicySchema = Schema{
	{"PolicyName", kusto.TypeString}, {"EntityName", kusto.TypeString}, {"Policy", kusto.TypeString},
	{"ChildEntities", kusto.TypeString}, {"EntityType", kusto.TypeString},
}

const streamingPolicyName = "StreamingIngestionPolicy"

// policyRow is the policy of a table, or of a database (t nil) with its tables as children.
func policyRow(fb *frameBuilder, s *Snapshot, db string, t *TableInfo) {
	if t != nil {
		fb.row(streamingPolicyName, "["+db+"].["+t.Name+"]", t.StreamingIngestion.JSON(), "null", "Table")
		return
	}
	d := s.db(db)
	names := []string{}
	for _, t := range s.Tables(db) {
		names = append(names, t.Name)
	}
	children, _ := json.Marshal(names)
	fb.row(streamingPolicyName, "["+d.name+"]", d.streaming.JSON(), string(children), "Database")
}

// policyEntity resolves the table or database a policy command names; a database must be the
// one the command runs in or another that exists.
func policyEntity(c *call, entity string, n *parser.Name) (db, table string, err error) {
	snap := c.sess.eng.cat.Snapshot()
	if entity == "table" {
		if _, ok := snap.Table(c.db.Name, n.String()); !ok {
			return "", "", c.errorf(n.Pos.Offset, kusto.KindNotFound, "table %q does not exist in database %q", n.String(), c.db.Name)
		}
		return c.db.Name, n.String(), nil
	}
	d, ok := snap.Database(n.String())
	if !ok {
		return "", "", c.errorf(n.Pos.Offset, kusto.KindNotFound, "database %q does not exist", n.String())
	}
	return d.Name, "", nil
}

// alterPolicy changes a policy and returns it as `.show … policy streamingingestion` does.
func alterPolicy(c *call, entity string, n *parser.Name, change func(old *StreamingIngestionPolicy) *StreamingIngestionPolicy) (*Frame, error) {
	db, table, err := policyEntity(c, entity, n)
	if err != nil {
		return nil, err
	}
	snap, err := c.sess.eng.cat.Update(func(tx *Txn) error {
		var old *StreamingIngestionPolicy
		if table != "" {
			t, ok := tx.Table(db, table)
			if !ok {
				return c.errorf(n.Pos.Offset, kusto.KindNotFound, "table %q does not exist in database %q", table, db)
			}
			old = t.StreamingIngestion
		} else {
			d, ok := tx.Snapshot().Database(db)
			if !ok {
				return c.errorf(n.Pos.Offset, kusto.KindNotFound, "database %q does not exist", db)
			}
			old = d.StreamingIngestion
		}
		return tx.SetStreamingIngestionPolicy(db, table, change(old))
	})
	if err != nil {
		return nil, err
	}
	return showPolicy(snap, db, table), nil
}

func showPolicy(s *Snapshot, db, table string) *Frame {
	fb := newFrame(streamingPolicySchema)
	if table == "" {
		policyRow(fb, s, db, nil)
	} else if t, ok := s.Table(db, table); ok {
		policyRow(fb, s, db, &t)
	}
	return fb.frame()
}

func runAlterStreamingPolicy(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	in := cmd.(*parser.AlterStreamingPolicy)
	var set *StreamingIngestionPolicy
	if in.Policy != nil {
		p, err := ParseStreamingIngestionPolicy(in.Policy.Value)
		if err != nil {
			return nil, c.errorf(in.Policy.Pos.Offset, kusto.KindSemantic, "%v", err)
		}
		set = p
	}
	return alterPolicy(c, in.Entity, in.Name, func(old *StreamingIngestionPolicy) *StreamingIngestionPolicy {
		if set != nil {
			return set
		}
		// enable|disable changes IsEnabled alone, keeping the rest of a policy already set.
		p := &StreamingIngestionPolicy{IsEnabled: in.Enable}
		if old != nil {
			p.HintAllocatedRate = old.HintAllocatedRate
		}
		return p
	})
}

func runShowStreamingPolicy(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	in := cmd.(*parser.ShowStreamingPolicy)
	db, table, err := policyEntity(c, in.Entity, in.Name)
	if err != nil {
		return nil, err
	}
	return showPolicy(c.sess.eng.cat.Snapshot(), db, table), nil
}

func runDeleteStreamingPolicy(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	in := cmd.(*parser.DeleteStreamingPolicy)
	return alterPolicy(c, in.Entity, in.Name, func(*StreamingIngestionPolicy) *StreamingIngestionPolicy { return nil })
}

// StreamingEnabled reports whether streaming ingestion into a table is enabled: by the table's
// own policy, or, when it has none, by its database's.
func (s *Snapshot) StreamingEnabled(db, table string) bool {
	d := s.db(db)
	if d == nil {
		return false
	}
	if t, ok := d.tables[table]; ok && t.StreamingIngestion != nil {
		return t.StreamingIngestion.IsEnabled
	}
	return d.streaming != nil && d.streaming.IsEnabled
}

// runGetIngestionResources answers the data-management commands the queued ingest clients send.
func runGetIngestionResources(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	in := cmd.(*parser.GetIngestionResources)
	name := ".get ingestion resources"
	if in.What != "ingestionresources" {
		name = ".get kusto identity token"
	}
	return nil, c.errorf(in.Pos.Offset, kusto.KindSemantic,
		"%s is a command of Kusto's data-management (ingest-) service, which queued ingestion needs and Kustard does not run; "+
			"use streaming ingestion instead (a streaming or managed streaming ingest client, after .alter table T policy streamingingestion enable), "+
			"or .ingest inline / .ingest into", name)
}

func init() {
	policyArgs := func(entity NameKind) []Arg {
		return []Arg{{Names: entity}, {Words: []Word{{"policy", "policy streamingingestion"}}}}
	}
	for _, e := range []struct {
		entity string
		names  NameKind
	}{{"table", TableNames}, {"database", NoNames}} {
		name := "Table"
		if e.entity == "database" {
			name = "Database"
		}
		RegisterCommand(&CommandInfo{
			Name: ".alter " + e.entity + " policy streamingingestion", Keywords: []string{"alter", e.entity},
			Synopsis: ".alter " + e.entity + " " + name + "Name policy streamingingestion enable | disable | 'PolicyObject'",
			Summary:  "Sets the " + e.entity + "'s streaming ingestion policy; returns it.",
			Notes:    "enable|disable keep the rest of the policy; kept in the catalog (and under `--data`)",
			Result:   streamingPolicySchema, Kind: "StreamingIngestionPolicyAlter",
			Args: policyArgs(e.names),
			Node: &parser.AlterStreamingPolicy{}, Run: runAlterStreamingPolicy,
		})
		RegisterCommand(&CommandInfo{
			Name: ".show " + e.entity + " policy streamingingestion", Keywords: []string{"show", e.entity},
			Synopsis: ".show " + e.entity + " " + name + "Name policy streamingingestion",
			Summary:  "Shows the " + e.entity + "'s streaming ingestion policy (Policy is null when none is set).",
			Result:   streamingPolicySchema,
			Args:     policyArgs(e.names),
			Node:     &parser.ShowStreamingPolicy{}, Run: runShowStreamingPolicy,
		})
		RegisterCommand(&CommandInfo{
			Name: ".delete " + e.entity + " policy streamingingestion", Keywords: []string{"delete", e.entity},
			Synopsis: ".delete " + e.entity + " " + name + "Name policy streamingingestion",
			Summary:  "Deletes the " + e.entity + "'s streaming ingestion policy; returns the policy, now null.",
			Result:   streamingPolicySchema, Kind: "StreamingIngestionPolicyDelete",
			Args: policyArgs(e.names),
			Node: &parser.DeleteStreamingPolicy{}, Run: runDeleteStreamingPolicy,
		})
	}
	for _, kw := range [][]string{{"get", "ingestion", "resources"}, {"get", "kusto", "identity", "token"}} {
		RegisterCommand(&CommandInfo{
			Name: "." + strings.Join(kw, " "), Keywords: kw,
			Synopsis: "." + strings.Join(kw, " "),
			Summary:  "Refused: queued ingestion needs Kusto's data-management service; the error names streaming ingestion as the way in.",
			Notes:    "always an error, naming the alternatives; see [Streaming from the SDKs](#streaming-from-the-sdks)",
			Node:     &parser.GetIngestionResources{}, Run: runGetIngestionResources,
		})
	}
}
