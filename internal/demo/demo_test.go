package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
)

// TestDemo is the end-to-end test: the built binary under its provider
// names, the simulator's first credential, real pulls from real registries
// that accept only what the emulated clouds issued, and a tampered
// credential refused for every private image.
func TestDemo(t *testing.T) {
	exectest.RequireIsolatedNetwork(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, Options{Kcred: exectest.Binary(t), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Print(&out, res)
	t.Log(out.String())
	if len(res.Rows) != 2*len(Images) {
		t.Fatalf("%d rows, want %d", len(res.Rows), 2*len(Images))
	}
	for _, row := range res.Rows {
		if !row.OK {
			t.Errorf("round %d %s: %s", row.Round, row.Image, row.Pull)
		}
		private := !strings.HasPrefix(row.Image, "nginx")
		if private && row.User == "" {
			t.Errorf("round %d %s: pulled without a credential", row.Round, row.Image)
		}
	}
	if res.CloudCalls[0] == 0 {
		t.Errorf("round 1 made no cloud call: the credentials did not come from the emulated clouds")
	}
	if res.CloudCalls[1] != 0 {
		t.Errorf("round 2 made %d cloud calls, want 0 (node token cache)", res.CloudCalls[1])
	}
	if res.WrongTried != len(Images)-1 || res.WrongRefused != res.WrongTried {
		t.Errorf("wrong credentials refused %d of %d, want all %d private images", res.WrongRefused, res.WrongTried, len(Images)-1)
	}
	if res.Failed() {
		t.Errorf("Failed() = true:\n%s", out.String())
	}
}

func TestFailedDetectsEachKindOfFailure(t *testing.T) {
	ok := Row{OK: true}
	tests := []struct {
		name string
		res  Result
		want bool
	}{
		{"all good", Result{Rows: []Row{ok}, WrongTried: 1, WrongRefused: 1}, false},
		{"a pull failed", Result{Rows: []Row{ok, {}}, WrongTried: 1, WrongRefused: 1}, true},
		{"a wrong credential was accepted", Result{Rows: []Row{ok}, WrongTried: 2, WrongRefused: 1}, true},
		{"round 2 asked the cloud", Result{Rows: []Row{ok}, CloudCalls: [2]int{3, 1}}, true},
	}
	for _, tt := range tests {
		if got := tt.res.Failed(); got != tt.want {
			t.Errorf("%s: Failed() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
