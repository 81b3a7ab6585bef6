package ops

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Filter selects operations for List. Every condition set must hold; the zero Filter selects
// every operation.
type Filter struct {
	Kinds  []string // kind names; none: every kind
	States []State  // current states; none: every state (see LiveStates, EndStates)
	// Created in [Since, Until); a zero bound is no bound.
	Since, Until time.Time
	Scopes       []string // scopes (databases); none: every scope
	// Surface, when set, leaves out the operations hidden from that surface (see Hide).
	Surface string
	// Match is any further condition, such as a front door's own filter language; nil: none.
	// It is called with the registry's lock held and must not call the registry.
	Match func(Snapshot) bool
}

// LiveStates and EndStates are the states of operations that have not ended, and that have.
var (
	LiveStates = []State{Scheduled, Running}
	EndStates  = []State{Succeeded, PartiallySucceeded, Failed, Canceled, Abandoned, Skipped, BadInput, Throttled}
)

func (f Filter) matches(s Snapshot) bool {
	return (len(f.Kinds) == 0 || slices.Contains(f.Kinds, s.Kind.Name)) &&
		(len(f.States) == 0 || slices.Contains(f.States, s.State)) &&
		(f.Since.IsZero() || !s.Created.Before(f.Since)) &&
		(f.Until.IsZero() || s.Created.Before(f.Until)) &&
		(len(f.Scopes) == 0 || slices.Contains(f.Scopes, s.Scope)) &&
		(f.Surface == "" || !s.Hidden(f.Surface)) &&
		(f.Match == nil || f.Match(s))
}

// fingerprint identifies the filter's comparable conditions, so that a page token is refused with
// another filter. Match cannot be compared: the caller keeps it the same.
func (f Filter) fingerprint() uint32 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%q|%v|%d|%d|%q|%q", f.Kinds, f.States, f.Since.UnixNano(), f.Until.UnixNano(), f.Scopes, f.Surface)
	return h.Sum32()
}

// List returns the operations that match f as they are now, oldest first (in the order they
// were registered), at most pageSize of them (every one when pageSize <= 0), and the token of the
// next page, "" after the last. pageToken is "" for the first page, or a token an earlier List
// with the same filter returned; any other is ErrBadPageToken. Pages are stable while operations
// start: a page continues after the last operation of the one before, so an operation registered
// meanwhile comes on a later page, never shifts one, and none is returned twice. An operation
// whose state changes between pages is listed as it is when its page is read.
func (r *Registry) List(f Filter, pageSize int, pageToken string) ([]Snapshot, string, error) {
	fp := f.fingerprint()
	after, err := decodePageToken(pageToken, fp)
	if err != nil {
		return nil, "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var page []Snapshot
	next := ""
	for s := range r.store.Scan(after) {
		s = r.viewLocked(s)
		if !f.matches(s) {
			continue
		}
		if pageSize > 0 && len(page) == pageSize {
			next = encodePageToken(page[len(page)-1].Seq, fp)
			break
		}
		page = append(page, s)
	}
	return page, next, nil
}

// A page token is "1.<seq>.<filter fingerprint>", base64url: the Seq of the last operation the
// page before returned.
func encodePageToken(seq uint64, fp uint32) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "1.%d.%d", seq, fp))
}

func decodePageToken(token string, fp uint32) (uint64, error) {
	if token == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadPageToken, token)
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != "1" {
		return 0, fmt.Errorf("%w: %q", ErrBadPageToken, token)
	}
	seq, err1 := strconv.ParseUint(parts[1], 10, 64)
	got, err2 := strconv.ParseUint(parts[2], 10, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadPageToken, token)
	}
	if uint32(got) != fp {
		return 0, fmt.Errorf("%w: it was made for another filter", ErrBadPageToken)
	}
	return seq, nil
}
