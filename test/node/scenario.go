package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kcred/kcred/kubelet"
)

// PodResult is one static pod: what `kcred check` predicted for its image
// and what the kubelet, the cloud and the registry did.
type PodResult struct {
	Pod, Image string
	Role       *Role
	// Denied pods are started after the role's cloud was made to refuse.
	Denied bool
	// Predicted is kcred check's report for the image, looked up in the
	// same order as the pods (one cache).
	Predicted *kubelet.ImageReport
	State     PodState
	// Took is from writing the manifest to the awaited state.
	Took time.Duration
	// Execs are the kubelet's provider execs while the pod started, by
	// provider; CloudCalls is how many credential requests the role's
	// cloud received meanwhile.
	Execs      map[string]int
	CloudCalls int
	// Registry is what the registries served meanwhile.
	Registry []Access
	// ProviderErrors are the provider errors the kubelet logged meanwhile.
	ProviderErrors []string
	// Events are the kubelet's pull events meanwhile ("Pulled: ...").
	Events []string
}

// Result is a whole run.
type Result struct {
	Pods []*PodResult
	// Leftovers is what Stop could not undo (must be empty).
	Leftovers []string
	// StartTook is from starting the world to the kubelet being healthy.
	StartTook time.Duration
}

// RunOptions configure Run.
type RunOptions struct {
	Bin   *Binaries
	Roles []Role
	// Dir is the node's directory (a fresh temporary directory).
	Dir string
	Log io.Writer
	// Hold, when set, is called with the running node after the pods were
	// observed and before it is stopped (the demo shows it).
	Hold func(*Node)
}

// Run starts the world and the node, runs every role's pods one after
// another (each awaited, so the kubelet's cache order is the pods'),
// then the denied pods, and stops everything.
func Run(ctx context.Context, o RunOptions) (res *Result, err error) {
	logf := func(format string, a ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", a...)
		}
	}
	start := time.Now()
	w, err := NewWorld(o.Roles)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	var images []string
	for _, r := range o.Roles {
		images = append(images, r.Images...)
		if r.Denied != "" {
			images = append(images, r.Denied)
		}
	}
	for _, ref := range images {
		img, err := Image(o.Bin.Sleep, ref)
		if err != nil {
			return nil, err
		}
		if err := w.Seed(ctx, ref, img); err != nil {
			return nil, fmt.Errorf("seed %s: %w", ref, err)
		}
	}
	w.ResetLog()
	logf("clouds: AWS, Azure, Google and Oracle emulators; registries %s behind HTTPS proxy %s (test CA)", strings.Join(hostsOf(o.Roles, w), ", "), w.Proxy.URL())

	n, err := Start(ctx, Options{Bin: o.Bin, World: w, Roles: o.Roles, Dir: o.Dir, Log: o.Log})
	if err != nil {
		return nil, err
	}
	res = &Result{StartTook: time.Since(start)}
	defer func() {
		err = errors.Join(err, n.Stop())
		res.Leftovers = n.Leftovers()
	}()

	var pods []*PodResult
	var positives []string
	for i := range o.Roles {
		r := &o.Roles[i]
		for j, img := range r.Images {
			pods = append(pods, &PodResult{Pod: fmt.Sprintf("%s-%d", short(r), j+1), Image: img, Role: r})
			positives = append(positives, img)
		}
	}
	pred, err := n.Check(ctx, positives...)
	if err != nil {
		return res, err
	}
	if len(pred.Images) != len(pods) {
		return res, fmt.Errorf("kcred check reported %d images, want %d", len(pred.Images), len(pods))
	}
	for i, p := range pods {
		p.Predicted = pred.Images[i]
		if err := n.observe(ctx, w, p, "Running"); err != nil {
			return res, err
		}
		res.Pods = append(res.Pods, p)
		logf("pod %-12s %-52s %-10s in %s", p.Pod, p.Image, p.State.State, p.Took.Round(100*time.Millisecond))
	}

	// A cloud that refuses: the provider fails, the runtime pulls with no
	// credential, the registry refuses.
	for i := range o.Roles {
		r := &o.Roles[i]
		if r.Denied == "" {
			continue
		}
		r.Refuse(w)
		p := &PodResult{Pod: short(r) + "-denied", Image: r.Denied, Role: r, Denied: true}
		rep, err := n.Check(ctx, r.Denied)
		if err != nil {
			return res, err
		}
		p.Predicted = rep.Images[0]
		if err := n.observe(ctx, w, p, "ErrImagePull", "ImagePullBackOff"); err != nil {
			return res, err
		}
		res.Pods = append(res.Pods, p)
		logf("pod %-12s %-52s %-10s in %s", p.Pod, p.Image, p.State.State, p.Took.Round(100*time.Millisecond))
	}
	if o.Hold != nil {
		o.Hold(n)
	}
	return res, nil
}

// observe runs p's pod and records what happened until it reached one of
// states.
func (n *Node) observe(ctx context.Context, w *World, p *PodResult, states ...string) error {
	execs0, _ := n.KubeletEntries(MsgExec)
	fails0, _ := n.KubeletEntries(MsgProviderFailed)
	events0, _ := n.KubeletEntries(MsgEvent)
	reg0 := len(w.Log())
	cloud0 := p.Role.Execs(w)
	start := time.Now()
	if err := n.RunPod(p.Pod, p.Image); err != nil {
		return err
	}
	st, ok := n.WaitPod(ctx, p.Pod, 2*time.Minute, states...)
	p.State, p.Took = st, time.Since(start)
	if !ok {
		return fmt.Errorf("pod %s (%s) is %s %s, not %s, after %s\n%s\n%s", p.Pod, p.Image, st.State, st.Message,
			strings.Join(states, " or "), p.Took.Round(time.Second), tail(n.KubeletLog), tail(n.ContainerdLog))
	}
	if p.Denied {
		// The kubelet retries a failed pull (and execs the provider
		// again): remove the pod so that the counts below settle.
		if err := n.RemovePod(p.Pod); err != nil {
			return err
		}
		waitFor(ctx, 30*time.Second, func() bool { return n.State(p.Pod).State == "Pending" })
		time.Sleep(2 * time.Second)
	}
	p.CloudCalls = p.Role.Execs(w) - cloud0
	p.Registry = w.Log()[reg0:]
	execs, _ := n.KubeletEntries(MsgExec)
	p.Execs = map[string]int{}
	for _, e := range execs[len(execs0):] {
		p.Execs[e.KV["pluginName"]]++
	}
	fails, _ := n.KubeletEntries(MsgProviderFailed)
	for _, e := range fails[len(fails0):] {
		p.ProviderErrors = append(p.ProviderErrors, e.KV["provider"]+": "+e.KV["err"])
	}
	events, _ := n.KubeletEntries(MsgEvent)
	for _, e := range events[len(events0):] {
		if strings.Contains(e.KV["reason"], "Pull") || e.KV["reason"] == "Failed" {
			p.Events = append(p.Events, e.KV["reason"]+": "+e.KV["message"])
		}
	}
	return nil
}

// Disagreements compares kcred check's prediction for the pod with what the
// kubelet, the cloud and the registry did; empty means they agree.
func (p *PodResult) Disagreements() []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, p.Pod+": "+fmt.Sprintf(format, a...)) }
	var pr *kubelet.ProviderReport
	for _, x := range p.Predicted.Providers {
		if x.Name == p.Role.Provider {
			pr = x
		}
	}
	if pr == nil || !pr.Matched {
		add("kcred check predicts %s does not match %s", p.Role.Provider, p.Image)
		return out
	}
	wantExecs := 0
	if pr.Executed {
		wantExecs = 1
	}
	got := p.Execs[p.Role.Provider]
	switch {
	// A refused pull is retried (each retry an exec): at least one.
	case p.Denied && (pr.Error == "" || got < 1):
		add("predicted error %q, kubelet execs %d", pr.Error, got)
	case !p.Denied && got != wantExecs:
		add("kcred check predicts %d exec(s) of %s (cache hit %v), the kubelet made %d", wantExecs, p.Role.Provider, pr.CacheHit, got)
	}
	if p.CloudCalls != got {
		add("the kubelet made %d exec(s), the cloud got %d credential request(s)", got, p.CloudCalls)
	}
	if p.Denied {
		if p.State.State != "ErrImagePull" && p.State.State != "ImagePullBackOff" {
			add("state %s, want ErrImagePull", p.State.State)
		}
		if len(p.Predicted.Credentials) != 0 {
			add("kcred check predicts credentials for a refused cloud")
		}
		line := firstLine(pr.Stderr)
		found := false
		for _, e := range p.ProviderErrors {
			found = found || (line != "" && strings.Contains(e, line))
		}
		if !found {
			add("kcred's error %q is not in the kubelet's provider errors %q", line, p.ProviderErrors)
		}
		for _, a := range p.Registry {
			if strings.Contains(a.Path, "/manifests/") && a.Status == 200 {
				add("the registry served %s", a)
			}
		}
		return out
	}
	if p.State.State != "Running" {
		add("state %s %s, want Running", p.State.State, p.State.Message)
	}
	if len(p.Predicted.Credentials) == 0 {
		add("kcred check predicts no credential")
		return out
	}
	c := p.Predicted.Credentials[0]
	if c.Provider != p.Role.Provider {
		add("kcred check predicts the credential of %s, not %s", c.Provider, p.Role.Provider)
	}
	// The registry saw the cloud-issued credential, under the user name
	// kcred check predicted, and served the manifest.
	cloud, manifest := false, false
	for _, a := range p.Registry {
		if a.Cred == "cloud:"+p.Role.Provider && a.Status == 200 && (a.User == c.Username || a.User == "") {
			cloud = true
		}
		if a.Cred != "cloud:"+p.Role.Provider && a.Cred != "registry token" && a.Cred != "cloud API" && a.Status == 200 {
			add("the registry served a request with a %s credential: %s", a.Cred, a)
		}
		if strings.Contains(a.Path, "/manifests/") && a.Status == 200 {
			manifest = true
		}
	}
	if !cloud {
		add("the registry never accepted a credential %s's cloud issued (user %q): %v", p.Role.Provider, c.Username, p.Registry)
	}
	if !manifest {
		add("the registry served no manifest: %v", p.Registry)
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// short names a role's pods: "ecr", "acr", "gcp", "oke".
func short(r *Role) string {
	return strings.TrimPrefix(strings.TrimSuffix(r.Provider, "-credential-provider"), "auth-provider-")
}

func hostsOf(roles []Role, w *World) []string {
	var hosts []string
	for _, r := range roles {
		for h := range r.Hosts(w) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}
