package bench

import (
	"github.com/kcred/kcred/internal/exectest"

	"reflect"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) Samples {
		var s Samples
		for _, n := range ns {
			s.Add(time.Duration(n) * time.Millisecond)
		}
		return s
	}
	tests := []struct {
		s    Samples
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 10, 7 * time.Millisecond},
		{ms(7), 90, 7 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 50, 3 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 10, 1 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 90, 5 * time.Millisecond},
		{ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 90, 9 * time.Millisecond},
		{ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 100, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := tt.s.Percentile(tt.p); got != tt.want {
			t.Errorf("%v.Percentile(%v) = %v, want %v", tt.s, tt.p, got, tt.want)
		}
	}
}

func TestPercentileLeavesSamplesUnsorted(t *testing.T) {
	s := Samples{3, 1, 2}
	s.Percentile(50)
	if !reflect.DeepEqual(s, Samples{3, 1, 2}) {
		t.Fatalf("Percentile reordered the samples: %v", s)
	}
}

func TestWithout(t *testing.T) {
	got := Without([]string{"A=1", "B=2", "AB=3", "C"}, "A", "C")
	if want := []string{"B=2", "AB=3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Without = %q, want %q", got, want)
	}
}

func TestFloorEchoes(t *testing.T) {
	in := Request("registry.example/app")
	res := exectest.Run(t, Floor(t), nil, nil, in)
	if res.Code != 0 || res.Stdout != in || res.Wall <= 0 || res.MaxRSS <= 0 {
		t.Fatalf("floor exec = %+v", res)
	}
}
