// Package fabric serves Kustard's fault operations through Service Fabric's Fault Analysis REST
// API, so that a program built on Kusto can be tested against data loss, a restarted partition
// and a stopped node with the clients Service Fabric users already have:
//
//	POST /Faults/Services/{serviceId}/$/GetPartitions/{partitionId}/$/StartDataLoss
//	GET  /Faults/Services/{serviceId}/$/GetPartitions/{partitionId}/$/GetDataLossProgress
//	POST /Faults/Services/{serviceId}/$/GetPartitions/{partitionId}/$/StartRestart
//	GET  /Faults/Services/{serviceId}/$/GetPartitions/{partitionId}/$/GetRestartProgress
//	POST /Faults/Services/{serviceId}/$/GetPartitions/{partitionId}/$/StartQuorumLoss  (refused)
//	GET  /Faults/Services/{serviceId}/$/GetPartitions/{partitionId}/$/GetQuorumLossProgress
//	POST /Faults/Nodes/{nodeName}/$/StartTransition/
//	GET  /Faults/Nodes/{nodeName}/$/GetTransitionProgress
//	GET  /Faults/                                   the fault operations, by TypeFilter and StateFilter
//	POST /Faults/$/Cancel                           graceful, then forced, cancel
//	GET  /Nodes/, /Nodes/{nodeName}                 the one node, this process
//
// A service is a database (its name, or a Service Fabric name whose last segment is the
// database: fabric:/Kustard/NetDefaultDB, Kustard~NetDefaultDB) and a partition is one of its
// tables, by the TableId of `.show table T details`. The faults are the engine's (engine
// faults.go), run as operations of its registry, so `.show operations` and Google's surface see
// them too. What is Service Fabric's alone lives here: the OperationState names, RollingBack and
// ForceCancelled derived from the cancel requests an operation's snapshot records, the rule that
// a forced cancel needs a graceful one first (the shipped Fault Analysis Service's, which is
// stricter than its docs), the FabricError codes and the api-version check.
package fabric

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/server/httpmw"
)

// Surface is this front door's name in the operations core: the origin of its cancel requests.
const Surface = "fabric"

// Defaults of Options.
const (
	DefaultNodeName = "Kustard"
	// MaxAPIVersion is the newest api-version accepted: the gateway takes any version from 1.0 up
	// to its runtime's, and Kustard speaks as a 9.1 runtime.
	MaxAPIVersion = 9.1
)

// Options configure a Service; zero values choose the defaults.
type Options struct {
	// NodeName is the name of the one node, this process; default "Kustard".
	NodeName string
	// Address is the node's IpAddressOrFQDN; default "127.0.0.1".
	Address string
	// InstanceID is the node's NodeInstanceId, which a transition must name; default a number
	// made from the time the service was made, so that a restarted process is a new instance.
	InstanceID string
	// AuthToken, when set, is the bearer token every request requires.
	AuthToken string
	// Limiter, when set, bounds the requests served at once, in a pool the server's other front
	// doors may share.
	Limiter *httpmw.Limiter
}

// Service is the Fault Analysis surface over one engine. It is safe for concurrent use.
type Service struct {
	eng     *engine.Engine
	reg     *ops.Registry
	opts    Options
	started time.Time
	nodeID  string
}

// New returns the service for eng.
func New(eng *engine.Engine, opts Options) *Service {
	started := eng.Ops().Clock().Now()
	if opts.NodeName == "" {
		opts.NodeName = DefaultNodeName
	}
	if opts.Address == "" {
		opts.Address = "127.0.0.1"
	}
	if opts.InstanceID == "" {
		// Service Fabric's instance ids are 64-bit numbers that grow with each start.
		opts.InstanceID = uintString(uint64(started.UnixNano()) / 100)
	}
	id := eng.Ops().IDs().NewID()
	return &Service{eng: eng, reg: eng.Ops(), opts: opts, started: started, nodeID: strings.ReplaceAll(id.String(), "-", "")}
}

// Owns reports whether a request is for this front door: a path under /Faults or /Nodes.
func Owns(r *http.Request) bool {
	p := r.URL.Path
	return p == "/Faults" || strings.HasPrefix(p, "/Faults/") || p == "/Nodes" || strings.HasPrefix(p, "/Nodes/")
}

func uintString(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// Fault operation types, as OperationType names them, and their TypeFilter bits.
const (
	typeDataLoss       = "PartitionDataLoss"
	typeQuorumLoss     = "PartitionQuorumLoss"
	typeRestart        = "PartitionRestart"
	typeNodeTransition = "NodeTransition"
)

var typeBits = map[string]int64{typeDataLoss: 1, typeQuorumLoss: 2, typeRestart: 4, typeNodeTransition: 8}

// opType is the OperationType of an engine fault kind; "" for operations that are not faults.
func opType(kind string) string {
	switch kind {
	case engine.KindDataLoss.Name:
		return typeDataLoss
	case engine.KindTableRestart.Name:
		return typeRestart
	case engine.KindNodeStop.Name, engine.KindNodeStart.Name:
		return typeNodeTransition
	}
	return ""
}

// OperationState values and their StateFilter bits (bit 4 is unused).
const (
	stateRunning        = "Running"
	stateRollingBack    = "RollingBack"
	stateCompleted      = "Completed"
	stateFaulted        = "Faulted"
	stateCancelled      = "Cancelled"
	stateForceCancelled = "ForceCancelled"
)

var stateBits = map[string]int64{stateRunning: 1, stateRollingBack: 2, stateCompleted: 8, stateFaulted: 16, stateCancelled: 32, stateForceCancelled: 64}

// State is an operation's OperationState, derived as the Fault Analysis Service derives it
// (ConvertState): live, it is RollingBack once a cancel was accepted, else Running; ended, a
// forced cancel makes it ForceCancelled and a graceful one Cancelled, whatever the work did
// (a cancel that came after the last step still means "stop executing" to the user); otherwise
// Completed for a success and Faulted for any other end.
func State(s ops.Snapshot) string {
	cancels := len(s.Cancels) > 0
	switch {
	case !s.State.Terminal() && cancels:
		return stateRollingBack
	case !s.State.Terminal():
		return stateRunning
	case s.Forced():
		return stateForceCancelled
	case cancels || s.State == ops.Canceled:
		return stateCancelled
	case s.State == ops.Succeeded || s.State == ops.Skipped:
		return stateCompleted
	}
	return stateFaulted
}

// faultInfo is what this front door keeps with a fault operation (ops.Spec.Detail).
type faultInfo struct {
	serviceName string // fabric:/{database}
	partition   uuid.UUID
}
