package fabric

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	goldenfile "github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/internal/servertest"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

// fixture is a deterministic engine whose fault timers the test fires, and the service on it.
type fixture struct {
	t      *testing.T
	eng    *engine.Engine
	svc    *Service
	timers chan chan time.Time
	out    strings.Builder // the transcript
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := &fixture{t: t, timers: make(chan chan time.Time, 16)}
	eopts := servertest.Options()
	eopts.After = func(time.Duration) <-chan time.Time {
		c := make(chan time.Time, 1)
		f.timers <- c
		return c
	}
	f.eng = servertest.NewEngine(t, eopts)
	f.svc = New(f.eng, opts)
	return f
}

// do sends a request and writes it and its answer to the transcript; it returns the status.
func (f *fixture) do(method, target string, header ...string) int {
	f.t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.svc.REST().ServeHTTP(w, r)
	fmt.Fprintf(&f.out, "%s %s\n→ %d %s\n\n", method, target, w.Code, strings.TrimSpace(w.Body.String()))
	return w.Code
}

func (f *fixture) note(format string, args ...any) {
	fmt.Fprintf(&f.out, "# "+format+"\n\n", args...)
}

func (f *fixture) kusto(text string) (*engine.Result, error) {
	return f.eng.NewSession().Execute(context.Background(), engine.Request{}, &kusto.Source{Text: text})
}

func (f *fixture) must(text string) *engine.Result {
	f.t.Helper()
	res, err := f.kusto(text)
	if err != nil {
		f.t.Fatalf("%s: %v", text, err)
	}
	return res
}

func (f *fixture) wait(id string) ops.Snapshot {
	f.t.Helper()
	return servertest.WaitDone(f.t, f.eng, uuid.MustParse(id))
}

// tableT makes table T with extents of 1, 2 and 4 rows and returns its id.
func (f *fixture) tableT() string {
	for _, n := range []int{1, 2, 4} {
		f.must(fmt.Sprintf(".set-or-append T <| range x from 1 to %d step 1", n))
	}
	t, _ := f.eng.Catalog().Snapshot().Table(engine.DefaultDatabase, "T")
	return t.ID.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("..", "..", "testdata", "fabric", name+".golden"), []byte(got))
}

const (
	opA = "aaaaaaaa-0000-0000-0000-000000000001"
	opB = "bbbbbbbb-0000-0000-0000-000000000002"
	opC = "cccccccc-0000-0000-0000-000000000003"
	opD = "dddddddd-0000-0000-0000-000000000004"
	opE = "eeeeeeee-0000-0000-0000-000000000005"
)

// TestTranscript drives every API through a session: data loss counted in T | count, a node
// stop that the Kusto side feels, its graceful then forced cancel, a restart, the lists.
func TestTranscript(t *testing.T) {
	f := newFixture(t, Options{InstanceID: "133"})
	table := f.tableT()
	part := "/Faults/Services/NetDefaultDB/$/GetPartitions/" + table + "/$/"
	f.note("the node")
	f.do("GET", "/Nodes/?api-version=6.3")
	f.do("GET", "/Nodes/Kustard?api-version=6.0")
	f.do("GET", "/Nodes/Other?api-version=6.0")

	f.note("partial data loss drops the newest ⌈3/2⌉ = 2 extents (2 and 4 rows)")
	f.do("POST", part+"StartDataLoss?api-version=6.0&OperationId="+opA+"&DataLossMode=PartialDataLoss&timeout=60")
	if s := f.wait(opA); s.State != ops.Succeeded {
		t.Fatalf("data loss ended %v: %v", s.State, s.Err)
	}
	f.do("GET", part+"GetDataLossProgress?api-version=6.0&OperationId="+opA)
	if got := f.must("T | count").Value(0, 0); got != int64(1) {
		t.Errorf("T | count after partial data loss = %v, want 1", got)
	}
	f.note("T | count = %v", f.must("T | count").Value(0, 0))
	f.do("POST", part+"StartDataLoss?api-version=6.0&OperationId="+opA+"&DataLossMode=FullDataLoss")
	f.do("GET", part+"GetRestartProgress?api-version=6.0&OperationId="+opA)

	f.note("a node stop: a wrong instance, then the right one")
	f.do("POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId="+opB+"&NodeTransitionType=Stop&NodeInstanceId=1&StopDurationInSeconds=600")
	f.do("POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId="+opB+"&NodeTransitionType=Stop&NodeInstanceId=133&StopDurationInSeconds=600")
	<-f.timers // the stop's duration, left to run
	_, err := f.kusto("T | count")
	f.note("Kusto while stopped: %v", err)
	if !strings.Contains(fmt.Sprint(err), "Service is unavailable") {
		t.Errorf("a query while the node is stopped: %v", err)
	}
	f.do("GET", "/Nodes/Kustard?api-version=6.0")
	f.do("POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId="+opC+"&NodeTransitionType=Stop&NodeInstanceId=133&StopDurationInSeconds=600")
	f.do("GET", "/Faults/?api-version=6.0&TypeFilter=65535&StateFilter=65535")
	f.do("GET", "/Faults/?api-version=6.0&TypeFilter=8&StateFilter=1")
	f.do("GET", "/Faults/?api-version=6.0&TypeFilter=0x1&StateFilter=0x8")

	f.note("cancel: forced first is refused; graceful rolls back (the node takes its start delay); graceful again is a no-op; then forced")
	f.do("POST", "/Faults/$/Cancel?api-version=6.0&OperationId="+opB+"&Force=true")
	f.do("POST", "/Faults/$/Cancel?api-version=6.0&OperationId="+opB+"&Force=false")
	<-f.timers // the start delay, left to run
	f.do("GET", "/Faults/Nodes/Kustard/$/GetTransitionProgress?api-version=6.0&OperationId="+opB)
	f.do("POST", "/Faults/$/Cancel?api-version=6.0&OperationId="+opB+"&Force=False")
	f.do("POST", "/Faults/$/Cancel?api-version=6.0&OperationId="+opB+"&Force=True")
	if s := f.wait(opB); State(s) != stateForceCancelled {
		t.Fatalf("node stop ended %v, %s", s.State, State(s))
	}
	f.do("GET", "/Faults/Nodes/Kustard/$/GetTransitionProgress?api-version=6.0&OperationId="+opB)
	f.do("POST", "/Faults/$/Cancel?api-version=6.0&OperationId="+opB+"&Force=true")
	f.do("POST", "/Faults/$/Cancel?api-version=6.0&OperationId="+opA+"&Force=false")
	f.note("T | count = %v: the node is up", f.must("T | count").Value(0, 0))
	f.do("POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId="+opC+"&NodeTransitionType=Start&NodeInstanceId=133&StopDurationInSeconds=0")

	f.note("a stop ended early by a start")
	f.do("POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId="+opC+"&NodeTransitionType=Stop&NodeInstanceId=133&StopDurationInSeconds=14400")
	<-f.timers
	f.do("POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId="+opD+"&NodeTransitionType=Start&NodeInstanceId=133&StopDurationInSeconds=0")
	f.wait(opC)
	f.wait(opD)
	f.do("GET", "/Faults/Nodes/Kustard/$/GetTransitionProgress?api-version=6.0&OperationId="+opC)
	f.do("GET", "/Faults/Nodes/Kustard/$/GetTransitionProgress?api-version=6.0&OperationId="+opD)

	f.note("restart, full data loss, quorum loss")
	f.do("POST", part+"StartRestart?api-version=6.0&OperationId="+opE+"&RestartPartitionMode=AllReplicasOrInstances")
	f.wait(opE)
	f.do("GET", part+"GetRestartProgress?api-version=6.0&OperationId="+opE)
	f.do("POST", "/Faults/Services/fabric:/Kustard/NetDefaultDB/$/GetPartitions/"+table+"/$/StartDataLoss?api-version=6.0&OperationId=ffffffff-0000-0000-0000-000000000006&DataLossMode=FullDataLoss")
	f.wait("ffffffff-0000-0000-0000-000000000006")
	f.note("T | count = %v", f.must("T | count").Value(0, 0))
	f.do("POST", part+"StartQuorumLoss?api-version=6.0&OperationId=99999999-0000-0000-0000-000000000009&QuorumLossMode=AllReplicas&QuorumLossDuration=10")
	f.do("GET", part+"GetQuorumLossProgress?api-version=6.0&OperationId="+opA)
	f.do("GET", "/Faults/?api-version=6.0")

	res := f.must(".show operations | where Operation startswith 'Fault' | summarize arg_max(LastUpdatedOn, State) by OperationId, Operation | project OperationId, Operation, State | order by OperationId asc")
	f.note(".show operations of the faults:")
	for r := range res.Rows {
		fmt.Fprintf(&f.out, "%v %v %v\n", res.Value(r, 0), res.Value(r, 1), res.Value(r, 2))
	}
	golden(t, "transcript", f.out.String())
}

// TestBadInput sends malformed requests: each gets its documented status and FabricError, and
// none starts or cancels anything.
func TestBadInput(t *testing.T) {
	f := newFixture(t, Options{InstanceID: "133"})
	table := f.tableT()
	stop := "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId=" + opB + "&NodeTransitionType=Stop&NodeInstanceId=133&StopDurationInSeconds=600"
	f.do("POST", stop)
	<-f.timers
	before := len(f.eng.Ops().Log())
	part := "/Faults/Services/NetDefaultDB/$/GetPartitions/" + table + "/$/"
	cancel := "/Faults/$/Cancel?api-version=6.0&OperationId=" + opB
	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{"GET", "/Faults/", 400},
		{"GET", "/Faults/?api-version=", 400},
		{"GET", "/Faults/?api-version=0.9", 400},
		{"GET", "/Faults/?api-version=99.0", 400},
		{"GET", "/Faults/?api-version=six", 400},
		{"GET", "/Faults/?api-version=NaN", 400},
		{"GET", "/Faults/?api-version=6.0&api-version=6.0", 400},
		{"GET", "/Faults/?api-version=6.0&timeout=0", 400},
		{"GET", "/Faults/?api-version=6.0&TypeFilter=all", 400},
		{"GET", "/Faults/?api-version=6.0&StateFilter=-1", 400},
		{"POST", "/Faults/$/Cancel?api-version=6.0&Force=true", 404},
		{"POST", "/Faults/$/Cancel?api-version=6.0&OperationId=nope&Force=true", 400},
		{"POST", "/Faults/$/Cancel?api-version=6.0&OperationId=00000000-0000-0000-0000-000000000000", 400},
		{"POST", cancel + "&Force=yes", 400},
		{"POST", cancel + "&Force=1", 400},
		{"POST", cancel + "&Force=true", 400},
		{"POST", "/Faults/$/Cancel?api-version=6.0&OperationId=" + opA + "&Force=false", 404},
		{"GET", "/Faults/$/Cancel?api-version=6.0&OperationId=" + opB, 400},
		{"DELETE", "/Faults/?api-version=6.0", 400},
		{"GET", "/Faults/Unknown?api-version=6.0", 400},
		{"POST", "/Faults/Nodes/Kustard/$/Explode?api-version=6.0", 400},
		{"GET", "/Nodes/Kustard/$/GetHealth?api-version=6.0", 400},
		{"POST", part + "StartDataLoss?api-version=6.0&OperationId=" + opA, 400},
		{"POST", part + "StartDataLoss?api-version=6.0&OperationId=" + opA + "&DataLossMode=Invalid", 400},
		{"POST", part + "StartDataLoss?api-version=6.0&DataLossMode=FullDataLoss", 404},
		{"POST", part + "StartDataLoss?api-version=6.0&OperationId=" + opB + "&DataLossMode=FullDataLoss", 409},
		{"POST", part + "StartRestart?api-version=6.0&OperationId=" + opA + "&RestartPartitionMode=OnlyActiveSecondaries", 400},
		{"POST", "/Faults/Services/Nope/$/GetPartitions/" + table + "/$/StartDataLoss?api-version=6.0&OperationId=" + opA + "&DataLossMode=FullDataLoss", 404},
		{"POST", "/Faults/Services/NetDefaultDB/$/GetPartitions/" + opC + "/$/StartDataLoss?api-version=6.0&OperationId=" + opA + "&DataLossMode=FullDataLoss", 404},
		{"POST", "/Faults/Services/NetDefaultDB/$/GetPartitions/table-T/$/StartDataLoss?api-version=6.0&OperationId=" + opA + "&DataLossMode=FullDataLoss", 400},
		{"GET", part + "GetDataLossProgress?api-version=6.0&OperationId=" + opB, 404},
		{"GET", part + "GetDataLossProgress?api-version=6.0", 404},
		{"POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId=" + opC + "&NodeTransitionType=Stop&NodeInstanceId=133", 400},
		{"POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId=" + opC + "&NodeTransitionType=Stop&NodeInstanceId=133&StopDurationInSeconds=14401", 400},
		{"POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId=" + opC + "&NodeTransitionType=Stop&NodeInstanceId=133&StopDurationInSeconds=ten", 400},
		{"POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId=" + opC + "&NodeTransitionType=Stop&NodeInstanceId=133&StopDurationInSeconds=60", 400},
		{"POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId=" + opC + "&NodeTransitionType=Pause&NodeInstanceId=133", 400},
		{"POST", "/Faults/Nodes/Kustard/$/StartTransition/?api-version=6.0&OperationId=" + opC + "&NodeTransitionType=Start", 400},
		{"POST", "/Faults/Nodes/Other/$/StartTransition/?api-version=6.0&OperationId=" + opC + "&NodeTransitionType=Start&NodeInstanceId=133", 404},
		{"GET", "/Faults/?api-version=6.0", 401},
	} {
		header := []string{}
		if tc.status == 401 {
			f.svc.opts.AuthToken = "secret"
			header = []string{"Authorization", "Bearer wrong"}
		}
		if got := f.do(tc.method, tc.target, header...); got != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.target, got, tc.status)
		}
		f.svc.opts.AuthToken = ""
	}
	if after := len(f.eng.Ops().Log()); after != before {
		t.Errorf("bad requests changed the operations: %d log records, then %d", before, after)
	}
	if s, _ := f.eng.Ops().Get(uuid.MustParse(opB)); s.State.Terminal() || len(s.Cancels) != 0 {
		t.Errorf("the node stop is %v with %d cancels, want untouched", s.State, len(s.Cancels))
	}
	if _, err := f.kusto(".show version"); !strings.Contains(fmt.Sprint(err), "Service is unavailable") {
		t.Errorf("the node should still be stopped: %v", err)
	}
	golden(t, "bad-input", f.out.String())
}

// TestState is the OperationState derivation, fact by fact.
func TestState(t *testing.T) {
	graceful := []ops.Cancellation{{Mode: ops.Graceful}}
	forced := []ops.Cancellation{{Mode: ops.Graceful}, {Mode: ops.Forced}}
	for _, tc := range []struct {
		state   ops.State
		cancels []ops.Cancellation
		want    string
	}{
		{ops.Running, nil, "Running"},
		{ops.Scheduled, nil, "Running"},
		{ops.Running, graceful, "RollingBack"},
		{ops.Running, forced, "RollingBack"},
		{ops.Succeeded, nil, "Completed"},
		{ops.Succeeded, graceful, "Cancelled"}, // finished its last step after the cancel
		{ops.Succeeded, forced, "ForceCancelled"},
		{ops.Canceled, graceful, "Cancelled"},
		{ops.Canceled, forced, "ForceCancelled"},
		{ops.Failed, nil, "Faulted"},
		{ops.Abandoned, nil, "Faulted"},
		{ops.Failed, graceful, "Cancelled"},
		{ops.Failed, forced, "ForceCancelled"},
	} {
		if got := State(ops.Snapshot{State: tc.state, Cancels: tc.cancels}); got != tc.want {
			t.Errorf("%v with %d cancels: %s, want %s", tc.state, len(tc.cancels), got, tc.want)
		}
	}
}
