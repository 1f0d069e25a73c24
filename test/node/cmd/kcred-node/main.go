// Command kcred-node builds and shows the live node of test/node:
//
//	kcred-node build DIR   compile the kubelet, containerd and kcred into DIR
//	kcred-node demo DIR    run the node with the programs in DIR and print
//	                       the pods, the provider execs and the pulls as the
//	                       kubelet did them (needs root and node-ns)
//
// make node-deps and make demo-node run it.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kcred/kcred/kubelet"
	"github.com/kcred/kcred/test/node"
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "build" && os.Args[1] != "demo") {
		fmt.Fprintln(os.Stderr, "usage: kcred-node build|demo DIR")
		os.Exit(2)
	}
	ctx := context.Background()
	var err error
	if os.Args[1] == "build" {
		wd, _ := os.Getwd()
		_, err = node.Build(ctx, wd, os.Args[2])
	} else {
		err = demo(ctx, os.Args[2])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kcred-node:", err)
		os.Exit(1)
	}
}

func demo(ctx context.Context, binDir string) error {
	if err := node.InOwnNamespaces(); err != nil {
		return err
	}
	bin, err := node.Find(binDir)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kcred-node-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Println("== a live node: the real kubelet, containerd and runc; kcred as the credential providers")
	res, err := node.Run(ctx, node.RunOptions{Bin: bin, Roles: node.Roles, Dir: dir, Log: os.Stdout, Hold: show})
	bad := false
	if res != nil {
		for _, p := range res.Pods {
			fmt.Printf("\n== pod %s (%s): %s in %s\n", p.Pod, p.Image, p.State.State, p.Took.Round(100*time.Millisecond))
			pr := p.Predicted
			fmt.Printf("   kcred check predicted: %s\n", prediction(pr.Providers, p.Role.Provider))
			fmt.Printf("   kubelet provider execs: %v; cloud credential requests: %d\n", p.Execs, p.CloudCalls)
			for _, e := range p.ProviderErrors {
				fmt.Printf("   kubelet logged: %s\n", e)
			}
			for _, e := range p.Events {
				fmt.Printf("   kubelet event: %s\n", e)
			}
			for _, a := range p.Registry {
				fmt.Printf("   registry: %s\n", a)
			}
			for _, d := range p.Disagreements() {
				fmt.Printf("   DISAGREES: %s\n", d)
				bad = true
			}
		}
		fmt.Println()
		if len(res.Leftovers) == 0 {
			fmt.Println("== stopped: no process, mount, cgroup or file left behind")
		}
		for _, l := range res.Leftovers {
			fmt.Println("LEFT BEHIND:", l)
			bad = true
		}
	}
	if err == nil && bad {
		err = fmt.Errorf("the live node disagreed with kcred check or left something behind (above)")
	}
	return err
}

// show prints the kubelet's own view of its pods before the node stops.
func show(n *node.Node) {
	pods, err := n.Pods()
	if err != nil {
		fmt.Println("kubelet /pods:", err)
		return
	}
	fmt.Println("\n== the kubelet's pods (GET /pods on its read-only port)")
	for _, p := range pods {
		state := string(p.Status.Phase)
		for _, c := range p.Status.ContainerStatuses {
			if c.State.Waiting != nil {
				state += " (" + c.State.Waiting.Reason + ")"
			}
			if c.State.Running != nil {
				state += " (running since " + c.State.Running.StartedAt.Format(time.TimeOnly) + ")"
			}
		}
		fmt.Printf("   %-24s %-52s %s\n", p.Name, p.Spec.Containers[0].Image, state)
	}
}

// prediction says in one line what kcred check expected of provider.
func prediction(prs []*kubelet.ProviderReport, provider string) string {
	for _, p := range prs {
		if p.Name != provider {
			continue
		}
		switch {
		case !p.Matched:
			return provider + " does not match"
		case p.CacheHit:
			return provider + ": kubelet cache hit under " + p.CacheKey + ", no exec"
		case p.Error != "":
			return provider + " execs and fails: " + strings.Join(strings.Fields(p.Error), " ")
		default:
			return fmt.Sprintf("%s execs, returns cacheKeyType %s for %s, auth for %s", provider, p.CacheKeyType, p.CacheDuration, strings.Join(p.Auth, ", "))
		}
	}
	return provider + " not configured"
}
