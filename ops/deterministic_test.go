package ops

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// A sequence continues after the ids of its own it is shown, and ignores the rest: another
// sequence's, a random id, one behind it.
func TestSequentialIDsContinueAfter(t *testing.T) {
	s := &SequentialIDs{Prefix: 0x10}
	s.ContinueAfter(uuid.MustParse("10000000-0000-0000-0000-000000000105"))
	s.ContinueAfter(uuid.MustParse("10000000-0000-0000-0000-000000000007")) // behind
	s.ContinueAfter(uuid.MustParse("00000000-0000-0000-0000-000000009999")) // another prefix
	s.ContinueAfter(uuid.MustParse("10000000-0000-0001-0000-000000009999")) // not a sequence id
	s.ContinueAfter(uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"))
	if got, want := s.NewID(), uuid.MustParse("10000000-0000-0000-0000-000000000106"); got != want {
		t.Errorf("next id %s; want %s", got, want)
	}
}

// A step clock continues after a time later than its next reading, and keeps its own otherwise.
func TestStepClockContinueAfter(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewStepClock(start, time.Second)
	c.ContinueAfter(start.Add(-time.Hour))
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("after an earlier time, the reading is %v; want %v", got, start)
	}
	c.ContinueAfter(start.Add(time.Minute))
	if got, want := c.Now(), start.Add(time.Minute+time.Second); !got.Equal(want) {
		t.Errorf("after a later time, the reading is %v; want %v", got, want)
	}
}
