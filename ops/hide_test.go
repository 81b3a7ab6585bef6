package ops

import (
	"context"
	"errors"
	"testing"
)

func TestHideIsPerSurfaceAndNeverCancels(t *testing.T) {
	r := New(Options{Capacity: 1})
	defer r.Close(context.Background(), "test over")
	gate := make(chan struct{})
	live, err := r.Go(Spec{Kind: Kind{Name: "Ingest", Cancellable: true}, Scope: "db1"}, func(ctx context.Context) (any, error) {
		select {
		case <-gate:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	ended, _, err := r.Run(context.Background(), Spec{Kind: Kind{Name: "Create"}, Scope: "db2"}, func(context.Context) (any, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}

	if s, err := r.Hide(live.ID, "google"); !errors.Is(err, ErrLive) || s.State != Running {
		t.Errorf("Hide(live) = %v, %v; want ErrLive with the running snapshot", s.State, err)
	}
	if s := live.Snapshot(); s.State != Running || len(s.Cancels) != 0 {
		t.Errorf("hiding a live operation changed it: %v, cancels %v", s.State, s.Cancels)
	}
	if _, err := r.Hide(ended.ID, "google"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Hide(ended.ID, "google"); err != nil {
		t.Errorf("hiding again: %v", err)
	}
	if s, _ := r.Get(ended.ID); !s.Hidden("google") || s.Hidden("kusto") || len(s.HiddenFrom) != 1 {
		t.Errorf("HiddenFrom = %v; want [google]", s.HiddenFrom)
	}
	if page, _, _ := r.List(Filter{Surface: "google"}, 0, ""); len(page) != 1 || page[0].ID != live.ID {
		t.Errorf("List for google = %v; want only the live operation", page)
	}
	if page, _, _ := r.List(Filter{Surface: "kusto"}, 0, ""); len(page) != 2 {
		t.Errorf("List for kusto = %d operations; want both", len(page))
	}
	if page, _, _ := r.List(Filter{Scopes: []string{"db1"}}, 0, ""); len(page) != 1 || page[0].ID != live.ID {
		t.Errorf("List of scope db1 = %v; want the live operation", page)
	}
	if _, err := r.Hide([16]byte{9}, "google"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Hide(unknown) = %v; want ErrNotFound", err)
	}
	// A token is bound to its filter's surface and scopes.
	_, next, err := r.List(Filter{}, 1, "")
	if err != nil || next == "" {
		t.Fatalf("first page: %q, %v", next, err)
	}
	if _, _, err := r.List(Filter{Scopes: []string{"db1"}}, 1, next); !errors.Is(err, ErrBadPageToken) {
		t.Errorf("a token with other scopes: %v; want ErrBadPageToken", err)
	}
	close(gate)
	<-live.Done()
}
