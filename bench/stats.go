// Package bench measures kcred the way a node experiences it: whole execs of
// the built binary, as the kubelet runs them, against loopback emulators,
// next to the floor of starting a trivial Go binary. Run it with `make
// bench` (inside a loopback-only network namespace); results go to
// docs/benchmarks.md.
package bench

import (
	"math"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Samples holds one duration per measured operation, so that benchmarks
// report a median and a spread rather than only a mean.
type Samples []time.Duration

// Add records one duration.
func (s *Samples) Add(d time.Duration) { *s = append(*s, d) }

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100), zero
// when there are no samples.
func (s Samples) Percentile(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// Report adds name-p10-ms, name-p50-ms and name-p90-ms to the benchmark's
// results.
func (s Samples) Report(b *testing.B, name string) {
	for _, p := range []float64{10, 50, 90} {
		b.ReportMetric(ms(s.Percentile(p)), name+"-p"+strconv.Itoa(int(p))+"-ms")
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
