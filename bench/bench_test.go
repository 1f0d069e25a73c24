package bench

import (
	"testing"

	"github.com/kcred/kcred/internal/exectest"
)

// BenchmarkFloor is the cost of starting a trivial Go binary that copies
// stdin to stdout: the least any exec plugin can cost.
func BenchmarkFloor(b *testing.B) {
	floor := Floor(b)
	in := Request("registry.example/app")
	var s Samples
	b.ResetTimer()
	for range b.N {
		res := exectest.Run(b, floor, nil, nil, in)
		if res.Code != 0 || res.Stdout != in {
			b.Fatalf("floor binary did not echo its input: exit %d, %q", res.Code, res.Stdout)
		}
		s.Add(res.Wall)
	}
	b.StopTimer()
	s.Report(b, "floor")
}

// BenchmarkBinarySize reports the size of kcred as built for tests and
// stripped as shipped (-ldflags='-s -w'). The loop only re-reads the sizes.
func BenchmarkBinarySize(b *testing.B) {
	full, stripped := exectest.Binary(b), Stripped(b)
	var fullSize, strippedSize int64
	for range b.N {
		fullSize, strippedSize = fileSize(b, full), fileSize(b, stripped)
	}
	b.ReportMetric(mib(strippedSize), "stripped-MiB")
	b.ReportMetric(mib(fullSize), "unstripped-MiB")
}
