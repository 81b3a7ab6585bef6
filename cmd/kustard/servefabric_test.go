package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func fabricRequest(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestServeFabric: the Fault Analysis API is mounted beside the Kusto endpoints, under
// --node-name; a node stop makes the Kusto endpoints answer 503 ServiceUnavailable while the
// fault surface stays up, and its requests are logged as fabric.{API}.
func TestServeFabric(t *testing.T) {
	s := startServe(t, "--node-name", "N1", "--log-format", "json", "--node-start-delay", "1h")
	status, body := fabricRequest(t, "GET", s.url+"/Nodes/N1?api-version=6.0")
	var node struct{ Name, InstanceId, NodeStatus string }
	if err := json.Unmarshal([]byte(body), &node); status != 200 || err != nil || node.Name != "N1" || node.NodeStatus != "Up" {
		t.Fatalf("GET /Nodes/N1: %d %s", status, body)
	}
	stop := s.url + "/Faults/Nodes/N1/$/StartTransition/?api-version=6.0&OperationId=11111111-1111-1111-1111-111111111111&NodeTransitionType=Stop&StopDurationInSeconds=600&NodeInstanceId=" + node.InstanceId
	if status, body := fabricRequest(t, "POST", stop); status != 202 {
		t.Fatalf("StartTransition: %d %s", status, body)
	}
	status, body = post(t, s.url, ".show version")
	if status != 503 || !strings.Contains(body, `"code":"ServiceUnavailable"`) || !strings.Contains(body, "Service is unavailable") {
		t.Errorf("a command while stopped: %d %s", status, body)
	}
	cancel := s.url + "/Faults/$/Cancel?api-version=6.0&OperationId=11111111-1111-1111-1111-111111111111&Force="
	for _, force := range []string{"false", "true"} {
		if status, body := fabricRequest(t, "POST", cancel+force); status != 200 {
			t.Fatalf("cancel Force=%s: %d %s", force, status, body)
		}
	}
	if status, body := fabricRequest(t, "GET", s.url+"/Faults/Nodes/N1/$/GetTransitionProgress?api-version=6.0&OperationId=11111111-1111-1111-1111-111111111111"); status != 200 || !strings.Contains(body, `"ForceCancelled"`) && !strings.Contains(body, `"RollingBack"`) {
		t.Errorf("progress: %d %s", status, body)
	}
	s.wait()
	if !strings.Contains(s.stderr.String(), `"kind":"fabric.StartNodeTransition"`) || !strings.Contains(s.stderr.String(), `"kind":"fabric.CancelOperation"`) {
		t.Errorf("the log lacks the fault requests: %s", s.stderr)
	}
}

func TestServeFabricFlagsRefused(t *testing.T) {
	for _, args := range [][]string{{"--max-node-stop", "0"}, {"--node-start-delay", "-1s"}, {"--node-name", ""}} {
		_, stderr, code := kustard(t, "", append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
		if code != 2 || !strings.Contains(stderr, args[0]) {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
	}
}
