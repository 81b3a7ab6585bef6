package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kustard/kustard/engine"
)

// sizeFlag is a byte count given as a number with an optional unit: 1000000, 512MB, 2GiB.
type sizeFlag int64

var sizeUnits = []struct {
	suffix string
	bytes  int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

func (s *sizeFlag) String() string {
	if *s == 0 {
		return "0" // unset: the help shows no default, which the usage text states
	}
	return engine.FormatBytes(int64(*s))
}
func (s *sizeFlag) Type() string { return "size" }

func (s *sizeFlag) Set(text string) error {
	number, scale := strings.TrimSpace(text), int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(number, u.suffix); ok {
			number, scale = strings.TrimSpace(rest), u.bytes
			break
		}
	}
	f, err := strconv.ParseFloat(number, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%q is not a size; write bytes, or a number with KB, MB, GB, KiB, MiB or GiB", text)
	}
	if f*float64(scale) >= math.MaxInt64 {
		return fmt.Errorf("%q is too large", text)
	}
	*s = sizeFlag(f * float64(scale))
	return nil
}

// checkFlags refuses engine settings that mean nothing, rather than quietly using a default.
// A zero --cancel-wait has a meaning: .cancel operation asks and returns at once.
func (c *cli) checkFlags() error {
	switch {
	case c.flagSet("capacity") && c.capacity < 1:
		return fmt.Errorf("--capacity %d: at least one ingest must be able to run", c.capacity)
	case c.cancelWait < 0:
		return fmt.Errorf("--cancel-wait %v: a wait cannot be negative (0 returns at once)", c.cancelWait)
	case c.maxIngestBytes <= 0:
		return fmt.Errorf("--max-ingest-bytes %d: the limit must be positive", int64(c.maxIngestBytes))
	case c.flagSet("max-memory") && c.maxMemory <= 0:
		return fmt.Errorf("--max-memory %d: the budget must be positive", int64(c.maxMemory))
	case c.retention <= 0:
		return fmt.Errorf("--operations-retention %v: the retention must be positive", c.retention)
	case c.queryRetention <= 0:
		return fmt.Errorf("--queries-retention %v: the retention must be positive", c.queryRetention)
	}
	return nil
}

// engineCancelWait maps --cancel-wait to the engine's option, where a negative wait means none.
func (c *cli) engineCancelWait() time.Duration {
	if c.cancelWait == 0 {
		return -1
	}
	return c.cancelWait
}
