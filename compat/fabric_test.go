package compat

import (
	"context"
	"errors"
	"testing"

	"github.com/Azure/azure-kusto-go/azkustodata"
	"github.com/Azure/azure-kusto-go/azkustodata/kql"
	"github.com/Azure/azure-sdk-for-go/services/servicefabric/7.2/servicefabric"
	"github.com/Azure/go-autorest/autorest"
	"github.com/gofrs/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/server/fabric"
)

// fabricServer is `kustard serve` with the Kusto endpoints and Service Fabric's Fault Analysis
// API on one listener. A graceful cancel of a node stop takes an hour to start the node
// (--node-start-delay), so that the forced cancel after it finds the stop still rolling back.
func fabricServer(t *testing.T) (*servicefabric.BaseClient, *azkustodata.Client) {
	t.Helper()
	s := startServer(t, serverConfig{flags: []string{"--node-start-delay", "1h"}})
	sf := servicefabric.NewWithBaseURI(s.URL)
	return &sf, connect(t, s)
}

// waitFault polls a fault operation's progress, as Service Fabric's clients do, until it has
// ended (neither Running nor RollingBack), and returns its state.
func waitFault(t *testing.T, what string, progress func() (servicefabric.OperationState, error)) servicefabric.OperationState {
	t.Helper()
	var state servicefabric.OperationState
	eventually(t, what+" to end", func() bool {
		var err error
		if state, err = progress(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return state != servicefabric.OperationStateRunning && state != servicefabric.OperationStateRollingBack
	})
	return state
}

// nodeTransition is the progress of a node transition, for waitFault.
func nodeTransition(sf *servicefabric.BaseClient, op uuid.UUID) func() (servicefabric.OperationState, error) {
	return func() (servicefabric.OperationState, error) {
		p, err := sf.GetNodeTransitionProgress(context.Background(), fabric.DefaultNodeName, op, nil)
		return p.State, err
	}
}

func statusOf(err error) int {
	var de autorest.DetailedError
	if errors.As(err, &de) {
		if code, ok := de.StatusCode.(int); ok {
			return code
		}
	}
	return 0
}

// TestFabricNodeStop: Service Fabric's Go client, with no authorizer, finds the node, stops it,
// lists the stop, is refused a forced cancel first, cancels gracefully (RollingBack), then
// forcibly (ForceCancelled), while the Kusto SDK sees the service unavailable and then back.
func TestFabricNodeStop(t *testing.T) {
	sf, kc := fabricServer(t)
	ctx := context.Background()
	node, err := sf.GetNodeInfo(ctx, fabric.DefaultNodeName, nil)
	if err != nil || node.InstanceID == nil || node.NodeStatus != servicefabric.NodeStatusUp {
		t.Fatalf("GetNodeInfo: %+v, %v", node, err)
	}
	nodes, err := sf.GetNodeInfoList(ctx, "", servicefabric.NodeStatusFilterDefault, nil, nil)
	if err != nil || nodes.Items == nil || len(*nodes.Items) != 1 {
		t.Fatalf("GetNodeInfoList: %+v, %v", nodes, err)
	}
	op := uuid.Must(uuid.NewV4())
	if _, err := sf.StartNodeTransition(ctx, fabric.DefaultNodeName, op, servicefabric.NodeTransitionTypeStop, "42", 600, nil); statusOf(err) != 409 {
		t.Errorf("a stop naming another instance: %v, want 409", err)
	}
	if _, err := sf.StartNodeTransition(ctx, fabric.DefaultNodeName, op, servicefabric.NodeTransitionTypeStop, *node.InstanceID, 600, nil); err != nil {
		t.Fatalf("StartNodeTransition: %v", err)
	}
	if _, err := sf.StartNodeTransition(ctx, fabric.DefaultNodeName, op, servicefabric.NodeTransitionTypeStop, *node.InstanceID, 600, nil); statusOf(err) != 409 {
		t.Errorf("a reused OperationId: %v, want 409", err)
	}

	if _, err := kc.Mgmt(ctx, engine.DefaultDatabase, kql.New(".show version")); err == nil {
		t.Error("a command while the node is stopped succeeded")
	}

	list, err := sf.GetFaultOperationList(ctx, 65535, 65535, nil)
	if err != nil || list.Value == nil || len(*list.Value) != 1 || *(*list.Value)[0].OperationID != op ||
		(*list.Value)[0].State != servicefabric.OperationStateRunning || (*list.Value)[0].Type != servicefabric.OperationTypeNodeTransition {
		t.Fatalf("GetFaultOperationList: %+v, %v", list.Value, err)
	}
	if _, err := sf.CancelOperation(ctx, op, true, nil); statusOf(err) != 400 {
		t.Errorf("a forced cancel first: %v, want 400", err)
	}
	if _, err := sf.CancelOperation(ctx, op, false, nil); err != nil {
		t.Fatalf("graceful cancel: %v", err)
	}
	p, err := sf.GetNodeTransitionProgress(ctx, fabric.DefaultNodeName, op, nil)
	if err != nil || p.State != servicefabric.OperationStateRollingBack {
		t.Errorf("after the graceful cancel: %v, %v", p.State, err)
	}
	if _, err := sf.CancelOperation(ctx, op, true, nil); err != nil {
		t.Fatalf("forced cancel: %v", err)
	}
	if state := waitFault(t, "the force-canceled stop", nodeTransition(sf, op)); state != servicefabric.OperationStateForceCancelled {
		t.Errorf("after the forced cancel: %v", state)
	}
	if _, err := sf.CancelOperation(ctx, op, true, nil); statusOf(err) != 404 {
		t.Errorf("a cancel of an ended operation: %v, want 404", err)
	}
	if _, err := kc.Mgmt(ctx, engine.DefaultDatabase, kql.New(".show version")); err != nil {
		t.Errorf("a command once the node is up: %v", err)
	}

	// A graceful cancel alone ends Cancelled once the node has started (cut short here by a Start).
	op2 := uuid.Must(uuid.NewV4())
	if _, err := sf.StartNodeTransition(ctx, fabric.DefaultNodeName, op2, servicefabric.NodeTransitionTypeStop, *node.InstanceID, 600, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := sf.CancelOperation(ctx, op2, false, nil); err != nil {
		t.Fatal(err)
	}
	start := uuid.Must(uuid.NewV4())
	if _, err := sf.StartNodeTransition(ctx, fabric.DefaultNodeName, start, servicefabric.NodeTransitionTypeStart, *node.InstanceID, 0, nil); err != nil {
		t.Fatal(err)
	}
	if state := waitFault(t, "the start", nodeTransition(sf, start)); state != servicefabric.OperationStateCompleted {
		t.Errorf("the start: %v", state)
	}
	if state := waitFault(t, "the gracefully canceled stop", nodeTransition(sf, op2)); state != servicefabric.OperationStateCancelled {
		t.Errorf("a gracefully canceled stop: %v", state)
	}
}

// TestFabricDataLoss: a partial data loss through Service Fabric's client drops the newest half
// of a table's extents, which the Kusto SDK's T | count shows; a full one drops the rest.
func TestFabricDataLoss(t *testing.T) {
	sf, kc := fabricServer(t)
	ctx := context.Background()
	for _, q := range []string{
		".set-or-append T <| range x from 1 to 10 step 1",
		".set-or-append T <| range x from 1 to 20 step 1",
		".set-or-append T <| range x from 1 to 40 step 1",
		".set-or-append T <| range x from 1 to 80 step 1",
	} {
		if _, err := kc.Mgmt(ctx, engine.DefaultDatabase, kql.New("").AddUnsafe(q)); err != nil {
			t.Fatal(err)
		}
	}
	details, err := kc.Mgmt(ctx, engine.DefaultDatabase, kql.New(".show table T details | project TableId = tostring(TableId)"))
	if err != nil {
		t.Fatal(err)
	}
	rows := details.Tables()[0].Rows()
	if len(rows) != 1 {
		t.Fatalf(".show table T details: %d rows", len(rows))
	}
	id, err := rows[0].StringByIndex(0)
	if err != nil {
		t.Fatal(err)
	}
	count := func() int64 {
		t.Helper()
		data, err := kc.Query(ctx, engine.DefaultDatabase, kql.New("T | count"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := data.Tables()[0].Rows()[0].LongByIndex(0)
		if err != nil || n == nil {
			t.Fatal(n, err)
		}
		return *n
	}
	partition := uuid.FromStringOrNil(id)
	for _, step := range []struct {
		mode servicefabric.DataLossMode
		want int64
	}{{servicefabric.DataLossModePartialDataLoss, 30}, {servicefabric.DataLossModeFullDataLoss, 0}} {
		op := uuid.Must(uuid.NewV4())
		if _, err := sf.StartDataLoss(ctx, engine.DefaultDatabase, partition, op, step.mode, nil); err != nil {
			t.Fatalf("StartDataLoss %s: %v", step.mode, err)
		}
		waitFault(t, "the data loss", func() (servicefabric.OperationState, error) {
			p, err := sf.GetDataLossProgress(ctx, engine.DefaultDatabase, partition, op, nil)
			return p.State, err
		})
		p, err := sf.GetDataLossProgress(ctx, engine.DefaultDatabase, partition, op, nil)
		if err != nil || p.State != servicefabric.OperationStateCompleted || p.InvokeDataLossResult == nil ||
			*p.InvokeDataLossResult.ErrorCode != 0 || *p.InvokeDataLossResult.SelectedPartition.PartitionID != partition {
			t.Errorf("GetDataLossProgress: %+v, %v", p, err)
		}
		if got := count(); got != step.want {
			t.Errorf("after %s: T | count = %d, want %d", step.mode, got, step.want)
		}
	}
}
