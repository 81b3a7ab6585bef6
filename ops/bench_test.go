package ops_test

import (
	"context"
	"testing"
	"time"

	"github.com/kustard/kustard/ops"
)

// BenchmarkCancelLatency measures `.cancel operation` on a running operation whose work checks
// ctx.Done once every 1,000 rows, as the engine does: from the Cancel call until the operation
// has stopped and Cancel has returned.
func BenchmarkCancelLatency(b *testing.B) {
	reg := ops.New(ops.Options{Capacity: 1, Retention: time.Minute})
	defer reg.Close(context.Background(), "benchmark over")
	for range b.N {
		b.StopTimer()
		started := make(chan struct{})
		op, err := reg.Go(ops.Spec{Kind: ops.Kind{Name: "TableSetOrAppend", Cancellable: true}}, func(ctx context.Context) (any, error) {
			close(started)
			done := ctx.Done()
			for rows := 0; ; rows++ {
				if rows%1000 == 0 {
					select {
					case <-done:
						return nil, context.Cause(ctx)
					default:
					}
				}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		<-started
		b.StartTimer()
		ctx, stop := context.WithTimeout(context.Background(), time.Minute)
		out, err := reg.Cancel(ctx, op.ID, ops.CancelRequest{Reason: "benchmark", Origin: "bench"})
		stop()
		if err != nil || !out.Stopped || out.State != ops.Canceled {
			b.Fatalf("Cancel = %+v, %v", out, err)
		}
	}
}
