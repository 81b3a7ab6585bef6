package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

const sqlPrefix = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.Sql/servers/"

func sqlRequest(t *testing.T, method, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestServeSQL: serve mounts Azure SQL's database operations API beside the Kusto endpoints,
// with --sql-server as the only server, and logs its requests as the others, the kind naming
// the API and the error ARM's code.
func TestServeSQL(t *testing.T) {
	s := startServe(t, "--log-format", "json", "--sql-server", "testsvr")
	if status, body := post(t, s.url, ".set-or-append T <| range x from 1 to 5 step 1"); status != 200 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	list := s.url + sqlPrefix + "testsvr/databases/NetDefaultDB/operations?api-version=2021-02-01-preview"
	status, body := sqlRequest(t, "GET", list)
	var page struct {
		Value []struct {
			Name       string
			Properties struct {
				State           string
				PercentComplete int
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &page); status != 200 || err != nil || len(page.Value) != 1 ||
		page.Value[0].Properties.State != "Succeeded" || page.Value[0].Properties.PercentComplete != 100 {
		t.Fatalf("list: %d %s", status, body)
	}
	if status, body := sqlRequest(t, "GET", strings.Replace(list, "testsvr", "othersvr", 1)); status != 404 || !strings.Contains(body, "ServerNotInSubscriptionResourceGroup") {
		t.Errorf("another server: %d %s", status, body)
	}
	cancel := s.url + sqlPrefix + "testsvr/databases/NetDefaultDB/operations/" + page.Value[0].Name + "/cancel?api-version=2021-02-01-preview"
	if status, body := sqlRequest(t, "POST", cancel); status != 409 || !strings.Contains(body, "CannotCancelOperation") {
		t.Errorf("cancel a finished ingest: %d %s", status, body)
	}
	if status, _ := post(t, s.url, ".show version"); status != 200 {
		t.Errorf("the Kusto endpoints beside it: %d", status)
	}
	s.wait()
	var kinds []string
	for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "request" {
			continue
		}
		if k, _ := rec["kind"].(string); strings.HasPrefix(k, "sql.") {
			e, _ := rec["error"].(string)
			kinds = append(kinds, k+" "+e)
		}
	}
	want := []string{"sql.ListByDatabase ", "sql.ListByDatabase ServerNotInSubscriptionResourceGroup", "sql.Cancel CannotCancelOperation"}
	if strings.Join(kinds, "|") != strings.Join(want, "|") {
		t.Errorf("the log's SQL records: %q; want %q\n%s", kinds, want, s.stderr)
	}
}

// TestServeSQLToken: with --auth-token, the SQL paths need the token too.
func TestServeSQLToken(t *testing.T) {
	s := startServe(t, "--auth-token", "tok-7")
	list := s.url + sqlPrefix + "any/databases/NetDefaultDB/operations?api-version=2025-01-01"
	if status, body := sqlRequest(t, "GET", list); status != 401 || !strings.Contains(body, "AuthenticationFailed") {
		t.Errorf("without the token: %d %s", status, body)
	}
	if status, body := sqlRequest(t, "GET", list, "Authorization", "Bearer tok-7"); status != 200 {
		t.Errorf("with the token: %d %s", status, body)
	}
}
