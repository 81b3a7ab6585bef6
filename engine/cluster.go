package engine

import (
	"context"
	"fmt"
	"runtime"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// ClusterName is what `.show cluster` reports as the node's Name. It is Kustard's own, not the
// Kusto emulator's KustoPersonal: tools that see that name assume the emulator's limits (no
// streaming ingestion) and work around them.
const ClusterName = "Kustard"

// The columns of .show cluster, from the Kusto docs (management/diagnostics.md), and those that
// `details` adds, in the order the Kusto emulator returns them (the struct Azure/adx-mon reads
// them into, ingestor/adx/uploader.go).
var (
	clusterSchema = Schema{
		{"NodeId", kusto.TypeString}, {"Address", kusto.TypeString}, {"Name", kusto.TypeString},
		{"StartTime", kusto.TypeDateTime}, {"IsAdmin", kusto.TypeBool}, {"MachineTotalMemory", kusto.TypeLong},
		{"MachineAvailableMemory", kusto.TypeLong}, {"ProcessorCount", kusto.TypeInt},
		{"EnvironmentDescription", kusto.TypeString},
	}
	clusterDetailsSchema = Schema{
		{"NodeId", kusto.TypeString}, {"Address", kusto.TypeString}, {"Name", kusto.TypeString},
		{"StartTime", kusto.TypeDateTime}, {"AssignedHotExtents", kusto.TypeInt}, {"IsAdmin", kusto.TypeBool},
		{"MachineTotalMemory", kusto.TypeLong}, {"MachineAvailableMemory", kusto.TypeLong},
		{"ProcessorCount", kusto.TypeInt}, {"HotExtentsOriginalSize", kusto.TypeLong}, {"HotExtentsSize", kusto.TypeLong},
		{"EnvironmentDescription", kusto.TypeString}, {"ProductVersion", kusto.TypeString}, {"Reserved0", kusto.TypeInt},
		{"ClockDescription", kusto.TypeString}, {"RuntimeDescription", kusto.TypeString},
	}
)

func init() {
	RegisterCommand(&CommandInfo{
		Name: ".show cluster", Keywords: []string{"show", "cluster"},
		Synopsis: ".show cluster [details]",
		Summary:  "Shows the cluster's one node: its name, address, start time, memory and processors.",
		Notes:    "one node, named `" + ClusterName + "`; the memory is the budget's (`--max-memory`) and what is left of it",
		ResultDoc: "`" + columnNames(clusterSchema) + "`; details adds `AssignedHotExtents, HotExtentsOriginalSize, " +
			"HotExtentsSize, ProductVersion, Reserved0, ClockDescription, RuntimeDescription`",
		Args: []Arg{{Words: []Word{{"details", "adds the node's extents, sizes and versions"}}}},
		Node: &parser.ShowCluster{}, Run: runShowCluster,
	})
}

// runShowCluster describes Kustard as a cluster of one node, which is its own admin. Its memory is
// the budget every table and query draws from, since that, not the machine's, is what Kustard
// may use.
func runShowCluster(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	e := c.sess.eng
	addr := e.opts.Address
	if addr == "" {
		addr = "local"
	}
	nodeID := ClusterName + "_0"
	total, avail := e.budget.Limit(), max(0, e.budget.Limit()-e.budget.Used())
	procs := int32(runtime.GOMAXPROCS(0))
	env := fmt.Sprintf(`{"OS":%q,"Architecture":%q}`, runtime.GOOS, runtime.GOARCH)
	if !cmd.(*parser.ShowCluster).Details {
		fb := newFrame(clusterSchema)
		fb.row(nodeID, addr, ClusterName, e.started, true, total, avail, procs, env)
		return fb.frame(), nil
	}
	snap := e.cat.Snapshot()
	var extents int32
	var size int64
	for _, db := range snap.Databases() {
		for _, t := range snap.Tables(db.Name) {
			extents += int32(len(t.Extents))
			size += t.Size()
		}
	}
	fb := newFrame(clusterDetailsSchema)
	// Every extent is in memory, uncompressed: all are hot, and the original size is the size.
	fb.row(nodeID, addr, ClusterName, e.started, extents, true, total, avail, procs, size, size, env,
		"Kustard_"+Version, int32(0), "", runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	return fb.frame(), nil
}
