package ops

import (
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
)

// ErrLive is Hide's answer for an operation that has not ended.
var ErrLive = errors.New("operation has not ended")

// Hide hides an ended operation from one surface (a front door's name, such as "google"), as a
// client's delete there asks: List with Filter.Surface leaves it out, and the surface treats it
// as gone, while every other surface still shows it and the store keeps it until retention
// drops it. Hiding never cancels: a live operation is ErrLive, with its snapshot. Hiding again
// does nothing. An unknown id is ErrNotFound.
func (r *Registry) Hide(id uuid.UUID, surface string) (Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.store.Get(id)
	if !ok {
		return Snapshot{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if !s.State.Terminal() {
		return r.viewLocked(s), fmt.Errorf("%w: operation %s is %s", ErrLive, id, s.State)
	}
	if s.Hidden(surface) {
		return s, nil
	}
	s.HiddenFrom = append(slices.Clip(s.HiddenFrom), surface) // earlier snapshots keep theirs
	r.write(r.store.Put(s))
	return s, nil
}
