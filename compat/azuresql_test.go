package compat

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustodata"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/sql/armsql"
	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/server/azuresql"
)

const (
	sqlSubscription  = "00000000-1111-2222-3333-444444444444"
	sqlResourceGroup = "rg"
	sqlServer        = "kustard"
)

// startSQLServer is `kustard serve`, over HTTP or HTTPS, with the Kusto endpoints and Azure
// SQL's database operations API on one listener; with a Kusto client to make operations with.
func startSQLServer(t *testing.T, https bool, token string) (*server, *azkustodata.Client) {
	t.Helper()
	s := startServer(t, serverConfig{https: https, token: token})
	return s, connect(t, s)
}

// stubCredential is a TokenCredential that hands out one fixed token, counting the requests.
type stubCredential struct {
	token string
	calls atomic.Int32
}

func (c *stubCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.calls.Add(1)
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// sqlClient is Azure's DatabaseOperationsClient pointed at the server through a cloud
// configuration, as the README shows.
func sqlClient(t *testing.T, s *server, cred azcore.TokenCredential) *armsql.DatabaseOperationsClient {
	t.Helper()
	opts := &arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: s.URL, Audience: "https://management.core.windows.net/"},
		}},
		Transport: s.Client,
		Retry:     policy.RetryOptions{MaxRetries: -1}, // an answer is the server's, not a retry's
	}}
	c, err := armsql.NewDatabaseOperationsClient(sqlSubscription, cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func listSQL(t *testing.T, c *armsql.DatabaseOperationsClient, db string) ([]*armsql.DatabaseOperation, int) {
	t.Helper()
	pager := c.NewListByDatabasePager(sqlResourceGroup, sqlServer, db, nil)
	var out []*armsql.DatabaseOperation
	pages := 0
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s: %v", db, err)
		}
		pages++
		out = append(out, page.Value...)
	}
	return out, pages
}

func responseError(t *testing.T, err error) (int, string) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("not an ARM error: %v", err)
	}
	return re.StatusCode, re.ErrorCode
}

// sqlScenario lists a running ingest with Azure's client, past a page of finished ones so that
// its pager follows nextLink, cancels it, and sees it Cancelled there and Canceled in
// `.show operations`; then the refusals, in ARM's codes.
func sqlScenario(t *testing.T, kc *azkustodata.Client, c *armsql.DatabaseOperationsClient) {
	ctx := context.Background()
	for range azuresql.DefaultPageSize {
		mgmt(t, kc, ".set-or-append T <| range x from 1 to 10 step 1")
	}
	long := ingest(t, kc, ".set-or-append async T <| "+forever)

	ops, pages := listSQL(t, c, engine.DefaultDatabase)
	if len(ops) != azuresql.DefaultPageSize+1 || pages != 2 {
		t.Fatalf("listed %d operations in %d pages; want %d in 2", len(ops), pages, azuresql.DefaultPageSize+1)
	}
	done, running := ops[0].Properties, ops[len(ops)-1].Properties
	if *done.State != armsql.ManagementOperationStateSucceeded || *done.PercentComplete != 100 || *done.IsCancellable {
		t.Errorf("the finished ingest: %s, %d%%, cancellable %v", *done.State, *done.PercentComplete, *done.IsCancellable)
	}
	last := ops[len(ops)-1]
	if *last.Name != long.String() || *running.State != armsql.ManagementOperationStateInProgress || !*running.IsCancellable ||
		*running.DatabaseName != engine.DefaultDatabase || *running.ServerName != sqlServer || *running.Operation != "TableSetOrAppend" ||
		running.StartTime == nil || *last.Type != azuresql.ResourceType ||
		!strings.HasSuffix(*last.ID, "/servers/"+sqlServer+"/databases/"+engine.DefaultDatabase+"/operations/"+long.String()) {
		t.Errorf("the running ingest: %s %+v", *last.ID, running)
	}

	if _, err := c.Cancel(ctx, sqlResourceGroup, sqlServer, engine.DefaultDatabase, long.String(), nil); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	// Kusto's view, polled to the operation's end.
	if state, status := waitFor(t, kc, long.String()); state != "Canceled" || status != azuresql.CancelReason {
		t.Errorf(".show operations shows %s, %q; want Canceled, %q", state, status, azuresql.CancelReason)
	}
	ops, _ = listSQL(t, c, engine.DefaultDatabase)
	if p := ops[len(ops)-1].Properties; *p.State != armsql.ManagementOperationStateCancelled || *p.IsCancellable || p.ErrorDescription == nil || *p.ErrorDescription != azuresql.CancelReason {
		t.Errorf("after the cancel: %s, cancellable %v, %v", *p.State, *p.IsCancellable, p.ErrorDescription)
	}

	_, err := c.Cancel(ctx, sqlResourceGroup, sqlServer, engine.DefaultDatabase, long.String(), nil)
	if code, name := responseError(t, err); code != http.StatusConflict || name != "CannotCancelOperation" {
		t.Errorf("cancel a cancelled ingest: %d %s", code, name)
	}
	_, err = c.Cancel(ctx, sqlResourceGroup, sqlServer, engine.DefaultDatabase, uuid.NewString(), nil)
	if code, name := responseError(t, err); code != http.StatusNotFound || name != "OperationIdNotFound" {
		t.Errorf("cancel an unknown operation: %d %s", code, name)
	}
	_, err = c.Cancel(ctx, sqlResourceGroup, sqlServer, engine.DefaultDatabase, "not-a-guid", nil)
	if code, name := responseError(t, err); code != http.StatusBadRequest || name != "InvalidParameterValue" {
		t.Errorf("cancel a malformed id: %d %s", code, name)
	}
	_, err = c.NewListByDatabasePager(sqlResourceGroup, sqlServer, "Nope", nil).NextPage(ctx)
	if code, name := responseError(t, err); code != http.StatusNotFound || name != "DatabaseDoesNotExist" {
		t.Errorf("list an unknown database: %d %s", code, name)
	}
}

// TestArmSQLOverHTTP: over plain HTTP, Azure's client with no credential (azcore sends tokens
// only over TLS, and refuses a credential over HTTP).
func TestArmSQLOverHTTP(t *testing.T) {
	s, kc := startSQLServer(t, false, "")
	sqlScenario(t, kc, sqlClient(t, s, nil))

	cred := &stubCredential{token: "t"}
	_, err := sqlClient(t, s, cred).NewListByDatabasePager(sqlResourceGroup, sqlServer, engine.DefaultDatabase, nil).NextPage(context.Background())
	if err == nil || !strings.Contains(err.Error(), "non TLS") {
		t.Errorf("a credential over HTTP: %v; want azcore's refusal", err)
	}
}

// TestArmSQLOverHTTPS: over HTTPS with the self-signed certificate trusted and a credential
// whose token the server requires.
func TestArmSQLOverHTTPS(t *testing.T) {
	const token = "kustard-token"
	s, kc := startSQLServer(t, true, token)
	cred := &stubCredential{token: token}
	sqlScenario(t, kc, sqlClient(t, s, cred))
	if cred.calls.Load() == 0 {
		t.Error("the client never asked its credential for a token")
	}
	_, err := sqlClient(t, s, &stubCredential{token: "wrong"}).NewListByDatabasePager(sqlResourceGroup, sqlServer, engine.DefaultDatabase, nil).NextPage(context.Background())
	if code, name := responseError(t, err); code != http.StatusUnauthorized || name != "InvalidAuthenticationToken" {
		t.Errorf("a wrong token: %d %s", code, name)
	}
}
