package fabric

import (
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/ops"
)

// errorCodeFailed is the ErrorCode of a Faulted operation's result: E_FAIL (0x80004005) as an
// int32, since Kustard's failures have no HRESULT of their own.
const errorCodeFailed int32 = -2147467259

type selectedPartition struct {
	ServiceName string     `json:"ServiceName"`
	PartitionID *uuid.UUID `json:"PartitionId,omitempty"`
}

type partitionResult struct {
	ErrorCode         int32             `json:"ErrorCode"`
	SelectedPartition selectedPartition `json:"SelectedPartition"`
}

type nodeResult struct {
	NodeName       string `json:"NodeName"`
	NodeInstanceID string `json:"NodeInstanceId"`
}

type nodeTransitionResult struct {
	ErrorCode  int32      `json:"ErrorCode"`
	NodeResult nodeResult `json:"NodeResult"`
}

// progressAPIs are the operation type each progress API reports, and the name of its result.
var progressAPIs = map[string]struct{ typ, result string }{
	"GetDataLossProgress":         {typeDataLoss, "InvokeDataLossResult"},
	"GetPartitionRestartProgress": {typeRestart, "RestartPartitionResult"},
	"GetQuorumLossProgress":       {typeQuorumLoss, "InvokeQuorumLossResult"},
	"GetNodeTransitionProgress":   {typeNodeTransition, "NodeTransitionResult"},
}

// progress answers a Get…Progress API: {"State": …} while the operation runs, and its result
// beside it once it is Completed or Faulted. An id this API did not start is not found.
func (s *Service) progress(w http.ResponseWriter, rt route, q map[string][]string) *fabricError {
	id, ferr := operationID(q)
	if ferr != nil {
		return ferr
	}
	api := progressAPIs[rt.api]
	snap, err := s.reg.Get(id)
	if err != nil || opType(snap.Kind.Name) != api.typ {
		return errKeyNotFound(id)
	}
	state := State(snap)
	body := map[string]any{"State": state}
	if state == stateCompleted || state == stateFaulted {
		code := int32(0)
		if state == stateFaulted {
			code = errorCodeFailed
		}
		if api.typ == typeNodeTransition {
			body[api.result] = nodeTransitionResult{ErrorCode: code, NodeResult: nodeResult{s.opts.NodeName, s.opts.InstanceID}}
		} else {
			body[api.result] = partitionResult{ErrorCode: code, SelectedPartition: selected(snap)}
		}
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// selected is the partition a fault acted on: what the front door kept, or, for an operation
// whose detail did not survive a restart, its database.
func selected(snap ops.Snapshot) selectedPartition {
	if info, ok := snap.Detail.(*faultInfo); ok {
		p := info.partition
		return selectedPartition{ServiceName: info.serviceName, PartitionID: &p}
	}
	return selectedPartition{ServiceName: "fabric:/" + snap.Scope}
}

// nodeInfo is the NodeInfo of GetNodeInfo, with the fields Service Fabric's clients read.
type nodeInfo struct {
	Name                  string `json:"Name"`
	IPAddressOrFQDN       string `json:"IpAddressOrFQDN"`
	Type                  string `json:"Type"`
	CodeVersion           string `json:"CodeVersion"`
	ConfigVersion         string `json:"ConfigVersion"`
	NodeStatus            string `json:"NodeStatus"`
	NodeUpTimeInSeconds   string `json:"NodeUpTimeInSeconds"`
	HealthState           string `json:"HealthState"`
	IsSeedNode            bool   `json:"IsSeedNode"`
	UpgradeDomain         string `json:"UpgradeDomain"`
	FaultDomain           string `json:"FaultDomain"`
	ID                    nodeID `json:"Id"`
	InstanceID            string `json:"InstanceId"`
	IsStopped             bool   `json:"IsStopped"`
	NodeDownTimeInSeconds string `json:"NodeDownTimeInSeconds"`
	NodeUpAt              string `json:"NodeUpAt"`
	NodeDownAt            string `json:"NodeDownAt,omitempty"`
}

type nodeID struct {
	ID string `json:"Id"`
}

// node describes this process as a node: Up, or Down and stopped while a stop is in force.
func (s *Service) node() nodeInfo {
	now := s.reg.Clock().Now()
	n := nodeInfo{
		Name: s.opts.NodeName, IPAddressOrFQDN: s.opts.Address, Type: "Kustard", CodeVersion: engine.Version,
		ConfigVersion: "1", NodeStatus: "Up", HealthState: "Ok", IsSeedNode: true, UpgradeDomain: "0",
		FaultDomain: "fd:/0", ID: nodeID{s.nodeID}, InstanceID: s.opts.InstanceID,
		NodeUpTimeInSeconds: seconds(now.Sub(s.started)), NodeDownTimeInSeconds: "0",
		NodeUpAt: s.started.UTC().Format(time.RFC3339Nano),
	}
	if by, down := s.eng.NodeStoppedBy(); down {
		n.NodeStatus, n.HealthState, n.IsStopped = "Down", "Warning", true
		n.NodeUpTimeInSeconds = "0"
		if snap, err := s.reg.Get(by); err == nil {
			n.NodeDownAt = snap.Created.UTC().Format(time.RFC3339Nano)
			n.NodeDownTimeInSeconds = seconds(now.Sub(snap.Created))
		}
	}
	return n
}

func seconds(d time.Duration) string { return strconv.FormatInt(int64(max(0, d/time.Second)), 10) }
