package kubelet

import (
	"context"
	"time"
)

// CheckOptions are the inputs of Check.
type CheckOptions struct {
	// Config is the --image-credential-provider-config path (file or
	// directory); BinDir the --image-credential-provider-bin-dir.
	Config, BinDir string
	// Images are looked up in order with one cache.
	Images []string
	Pod    Pod
	// Timeout, Now and Environ are as on Simulator.
	Timeout time.Duration
	Now     func() time.Time
	Environ func() []string
}

// Check does a kubelet start-up with the config and bin dir and, if the
// kubelet would start, looks up every image in order. Warnings are reported
// whenever the config loads.
func Check(ctx context.Context, o CheckOptions) *Report {
	rep := &Report{Images: []*ImageReport{}}
	cfg, err := Startup(o.Config, o.BinDir)
	if cfg != nil {
		rep.ConfigFiles, rep.ConfigHash = cfg.Files, cfg.Hash
		rep.Warnings = Warnings(cfg, o.BinDir)
	}
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	sim := NewSimulator(cfg, o.BinDir)
	sim.Timeout, sim.Now, sim.Environ, sim.Pod = o.Timeout, o.Now, o.Environ, o.Pod
	for _, img := range o.Images {
		rep.Images = append(rep.Images, sim.Lookup(ctx, img))
	}
	return rep
}
