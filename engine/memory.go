package engine

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// Budget is the memory budget of one engine, shared by every running ingest and query and by the
// data of committed tables. Everything that grows with the data reserves what it really costs
// (memoryCost) before it keeps it, and one that would pass the limit stops with Kusto's
// low-memory error, E_LOW_MEMORY_CONDITION, committing nothing, while the rest of the engine
// goes on. The decoded columns of stored extents are part of the budget too, in a cache that
// gives them back before any reservation fails (colcache.go).
type Budget struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64
	cache columnCache
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Limit is the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used is how many bytes are reserved now.
func (b *Budget) Used() int64 { return b.used.Load() }

// Peak is the most ever reserved at once.
func (b *Budget) Peak() int64 { return b.peak.Load() }

// Cached is how many of the bytes reserved are held by decoded columns of stored extents.
func (b *Budget) Cached() int64 {
	b.cache.mu.Lock()
	defer b.cache.mu.Unlock()
	return b.cache.held
}

// reserve takes n bytes from the budget, evicting decoded columns of stored extents that no scan
// is reading if need be, or fails with the low-memory error and takes nothing. A nil budget has
// no limit.
func (b *Budget) reserve(n int64) error {
	if b == nil {
		return nil
	}
	for {
		err := b.tryReserve(n)
		if err == nil || !b.cache.reclaim(b, n) {
			return err
		}
	}
}

// tryReserve is reserve without eviction.
func (b *Budget) tryReserve(n int64) error {
	used := b.used.Add(n)
	if used > b.limit {
		b.used.Add(-n)
		return lowMemory(b.limit, used-n, n)
	}
	for peak := b.peak.Load(); used > peak && !b.peak.CompareAndSwap(peak, used); peak = b.peak.Load() {
	}
	return nil
}

// release gives back n bytes reserved before.
func (b *Budget) release(n int64) {
	if b != nil {
		b.used.Add(-n)
	}
}

// releaseExtents gives back what extents that left the catalog held: an in-memory extent's
// columns, a stored extent's cached ones.
func (b *Budget) releaseExtents(extents []*Extent) {
	var n int64
	for _, e := range extents {
		n += e.cost
	}
	b.release(n)
	b.cache.forget(b, extents)
}

// LowMemoryCode is Kusto's error for an operation aborted for lack of memory, from the Kusto docs'
// page of native-code errors (concepts/errorsinnativecode.md).
const LowMemoryCode = "E_LOW_MEMORY_CONDITION"

func lowMemory(limit, used, asked int64) *kusto.Error {
	return &kusto.Error{Kind: kusto.KindLimits, Offset: -1, Msg: fmt.Sprintf(
		"%s (0x80DA0007): the operation was aborted because available memory was low: %s of the memory budget of %s (--max-memory) is in use, and it needed %s more",
		LowMemoryCode, FormatBytes(used), FormatBytes(limit), FormatBytes(asked))}
}

// FormatBytes writes a size in bytes for people: 512 B, 1.5 KiB, 2.0 GiB.
func FormatBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f := float64(n) / 1024
	u := 0
	for f >= 1023.95 && u < len(units)-1 { // 1023.99 MiB reads 1.0 GiB, not 1024.0 MiB
		f /= 1024
		u++
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + units[u]
}

// Costs of the parts of a column, in bytes, as the Go runtime lays them out on 64-bit machines.
const (
	vectorOverhead = 64 // the Vector and its two slice headers
	stringHeader   = 16
	interfaceBox   = 16 // an any: type word and data word
	sliceHeader    = 24
	mapEntry       = 48 // per entry of a map[string]any: key and value words, hash bucket share
	mapOverhead    = 48
)

// memoryCost is what a column's values really cost in memory: element storage, string and slice
// headers, the bytes they point to, dynamic values in full, null flags, and the column's own
// structure. An empty string costs its header; a null dynamic its interface.
func memoryCost(c Column) int64 {
	switch c := c.(type) {
	case *chunkedColumn:
		n := int64(vectorOverhead + sliceHeader*len(c.chunks))
		for _, ch := range c.chunks {
			n += memoryCost(ch)
		}
		return n
	case *Vector[bool]:
		return vectorCost(len(c.Data), 1, c.Nulls)
	case *Vector[int32]:
		return vectorCost(len(c.Data), 4, c.Nulls)
	case *Vector[uuid.UUID]:
		return vectorCost(len(c.Data), 16, c.Nulls)
	case *Vector[string]:
		n := vectorCost(len(c.Data), stringHeader, c.Nulls)
		for _, s := range c.Data {
			n += int64(len(s))
		}
		return n
	case *Vector[any]:
		n := vectorCost(len(c.Data), interfaceBox, c.Nulls)
		for _, v := range c.Data {
			n += dynamicCost(v)
		}
		return n
	default: // long, real, datetime, timespan: 8 bytes each
		var nulls []bool
		if v, ok := c.(interface{ nullFlags() []bool }); ok {
			nulls = v.nullFlags()
		}
		return vectorCost(c.Len(), 8, nulls)
	}
}

func vectorCost(n int, elem int64, nulls []bool) int64 {
	cost := vectorOverhead + int64(n)*elem
	if nulls != nil {
		cost += int64(len(nulls))
	}
	return cost
}

func (v *Vector[T]) nullFlags() []bool { return v.Nulls }

// dynamicCost is what a dynamic value costs beyond the interface that holds it.
func dynamicCost(v any) int64 {
	switch v := v.(type) {
	case nil:
		return 0
	case string:
		return stringHeader + int64(len(v))
	case []any:
		n := int64(sliceHeader + interfaceBox*len(v))
		for _, x := range v {
			n += dynamicCost(x)
		}
		return n
	case map[string]any:
		n := int64(mapOverhead)
		for k, x := range v {
			n += mapEntry + int64(len(k)) + dynamicCost(x)
		}
		return n
	default: // bool, long, real: boxed in 8 bytes
		return 8
	}
}

// DefaultMaxMemory is half of the machine's memory, or of the cgroup's limit when one is set and
// smaller, as the --max-memory default.
func DefaultMaxMemory() int64 {
	total := machineMemory()
	if limit := cgroupMemoryLimit(); limit > 0 && limit < total {
		total = limit
	}
	return total / 2
}

// machineMemory reads MemTotal from /proc/meminfo; without it, 8 GiB is assumed.
func machineMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 8 << 30
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 8 << 30
}

// cgroupMemoryLimit reads the memory limit of the process's cgroup (v2, then v1); 0 for none.
func cgroupMemoryLimit() int64 {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && n > 0 && n < math.MaxInt64/2 {
			return n
		}
	}
	return 0
}
