package compat

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/sql/armsql"
	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/server/azuresql"
	"github.com/kustard/kustard/server/kustohttp"
	"github.com/kustard/kustard/server/tlscert"
)

const (
	sqlSubscription  = "00000000-1111-2222-3333-444444444444"
	sqlResourceGroup = "rg"
	sqlServer        = "kustard"
)

// sqlServerUnderTest is what `kustard serve` serves: the Kusto endpoints and Azure SQL's
// database operations API on one listener (pages of one operation, so that Azure's pager
// follows nextLink), with a table Slow whose ingest runs until the gate opens or it is canceled.
type sqlServerUnderTest struct {
	eng    *engine.Engine
	url    string
	client *http.Client // trusts the server's certificate, for HTTPS
	gate   chan struct{}
}

func startSQLServer(t *testing.T, https bool, token string) *sqlServerUnderTest {
	t.Helper()
	eng := engine.New(engine.Options{MaxMemory: 1 << 30})
	s := &sqlServerUnderTest{eng: eng, gate: make(chan struct{}), client: &http.Client{Transport: &http.Transport{}}}
	eng.RegisterStream("Slow", engine.Stream{Schema: engine.Schema{{Name: "x", Type: kusto.TypeLong}},
		Open: func(ctx context.Context) engine.Operator {
			return engine.NewOperator(func() (*engine.Batch, error) {
				select {
				case <-s.gate:
					return nil, nil
				case <-ctx.Done():
					return nil, context.Cause(ctx)
				}
			})
		}})
	sql := azuresql.New(eng, azuresql.Options{AuthToken: token, PageSize: 1}).Handler()
	kustoH := kustohttp.New(eng, kustohttp.Options{AuthToken: token})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if azuresql.Owns(r) {
			sql.ServeHTTP(w, r)
			return
		}
		kustoH.ServeHTTP(w, r)
	}))
	if https {
		cert, err := tlscert.New(tlscert.HostsFor("127.0.0.1", ""), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12}
		srv.StartTLS()
		// Trusted by its PEM file, as `kustard serve --tls-self-signed` leaves it.
		file := filepath.Join(t.TempDir(), "kustard.pem")
		if err := os.WriteFile(file, cert.PEM, 0o644); err != nil {
			t.Fatal(err)
		}
		pem, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			t.Fatalf("%s holds no certificate", file)
		}
		s.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		s.client.CloseIdleConnections()
		srv.Close()
		eng.Close(context.Background())
	})
	s.url = srv.URL
	return s
}

func (s *sqlServerUnderTest) exec(t *testing.T, text string) *engine.Result {
	t.Helper()
	res, err := s.eng.NewSession().Execute(context.Background(), engine.Request{}, &kusto.Source{Text: text})
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return res
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
func sqlClient(t *testing.T, s *sqlServerUnderTest, cred azcore.TokenCredential) *armsql.DatabaseOperationsClient {
	t.Helper()
	opts := &arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: s.url, Audience: "https://management.core.windows.net/"},
		}},
		Transport: s.client,
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

// sqlScenario lists a running ingest with Azure's client, cancels it, and sees it Cancelled
// there and Canceled in `.show operations`; then the refusals, in ARM's codes.
func sqlScenario(t *testing.T, s *sqlServerUnderTest, c *armsql.DatabaseOperationsClient) {
	ctx := context.Background()
	s.exec(t, ".set-or-append T <| range x from 1 to 10 step 1")
	long := s.exec(t, ".set-or-append async T <| Slow").Value(0, 0).(uuid.UUID)

	ops, pages := listSQL(t, c, engine.DefaultDatabase)
	if len(ops) != 2 || pages != 2 {
		t.Fatalf("listed %d operations in %d pages; want 2 in 2", len(ops), pages)
	}
	done, running := ops[0].Properties, ops[1].Properties
	if *done.State != armsql.ManagementOperationStateSucceeded || *done.PercentComplete != 100 || *done.IsCancellable {
		t.Errorf("the finished ingest: %s, %d%%, cancellable %v", *done.State, *done.PercentComplete, *done.IsCancellable)
	}
	if *ops[1].Name != long.String() || *running.State != armsql.ManagementOperationStateInProgress || !*running.IsCancellable ||
		*running.DatabaseName != engine.DefaultDatabase || *running.ServerName != sqlServer || *running.Operation != "TableSetOrAppend" ||
		running.StartTime == nil || *ops[1].Type != azuresql.ResourceType ||
		!strings.HasSuffix(*ops[1].ID, "/servers/"+sqlServer+"/databases/"+engine.DefaultDatabase+"/operations/"+long.String()) {
		t.Errorf("the running ingest: %s %+v", *ops[1].ID, running)
	}

	if _, err := c.Cancel(ctx, sqlResourceGroup, sqlServer, engine.DefaultDatabase, long.String(), nil); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	waitCtx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	if _, err := s.eng.Ops().Wait(waitCtx, long); err != nil {
		t.Fatal(err)
	}
	ops, _ = listSQL(t, c, engine.DefaultDatabase)
	if p := ops[1].Properties; *p.State != armsql.ManagementOperationStateCancelled || *p.IsCancellable || p.ErrorDescription == nil || *p.ErrorDescription != azuresql.CancelReason {
		t.Errorf("after the cancel: %s, cancellable %v, %v", *p.State, *p.IsCancellable, p.ErrorDescription)
	}
	res := s.exec(t, ".show operations "+long.String())
	if state := res.Value(0, res.Schema.Index("State")); state != "Canceled" {
		t.Errorf(".show operations shows %v; want Canceled", state)
	}
	if status := res.Value(0, res.Schema.Index("Status")); status != azuresql.CancelReason {
		t.Errorf(".show operations' Status %v; want %q", status, azuresql.CancelReason)
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
	s := startSQLServer(t, false, "")
	sqlScenario(t, s, sqlClient(t, s, nil))

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
	s := startSQLServer(t, true, token)
	cred := &stubCredential{token: token}
	sqlScenario(t, s, sqlClient(t, s, cred))
	if cred.calls.Load() == 0 {
		t.Error("the client never asked its credential for a token")
	}
	_, err := sqlClient(t, s, &stubCredential{token: "wrong"}).NewListByDatabasePager(sqlResourceGroup, sqlServer, engine.DefaultDatabase, nil).NextPage(context.Background())
	if code, name := responseError(t, err); code != http.StatusUnauthorized || name != "InvalidAuthenticationToken" {
		t.Errorf("a wrong token: %d %s", code, name)
	}
}
