package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kcred/kcred/kubelet"
)

// printReport writes the human form of a check report.
func printReport(w io.Writer, configPath, binDir string, rep *kubelet.Report, now time.Time) {
	fmt.Fprintf(w, "config:  %s\n", configPath)
	if len(rep.ConfigFiles) > 1 || len(rep.ConfigFiles) == 1 && rep.ConfigFiles[0] != configPath {
		fmt.Fprintf(w, "         read in order: %s\n", strings.Join(rep.ConfigFiles, ", "))
	}
	fmt.Fprintf(w, "bin dir: %s\n", binDir)
	if rep.Error != "" {
		fmt.Fprintf(w, "kubelet: REFUSES TO START (exit 1):\n  %s\n", rep.Error)
	} else {
		fmt.Fprintf(w, "kubelet: starts (config hash %s)\n", rep.ConfigHash)
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	for _, img := range rep.Images {
		fmt.Fprintf(w, "\nimage %s\n", img.Image)
		if img.Error != "" {
			fmt.Fprintf(w, "  invalid: %s (the pull fails before any credential lookup)\n", img.Error)
			continue
		}
		fmt.Fprintf(w, "  looked up as %s\n", img.Normalized)
		for _, p := range img.Providers {
			printProvider(w, p, now)
		}
		if len(img.Credentials) == 0 {
			fmt.Fprintln(w, "  credentials: none from plugins (the runtime still tries pull secrets and the node's docker config, then pulls anonymously)")
			continue
		}
		fmt.Fprintln(w, "  credentials, in the order the runtime tries them:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for i, c := range img.Credentials {
			fmt.Fprintf(tw, "    %d.\t%s\t%s\t%s\t%s\n", i+1, c.Key, c.Provider, c.Username, c.Password)
		}
		tw.Flush()
	}
}

func printProvider(w io.Writer, p *kubelet.ProviderReport, now time.Time) {
	if !p.Matched {
		fmt.Fprintf(w, "  - %s: not matched: %s\n", p.Name, p.MatchReason)
		return
	}
	fmt.Fprintf(w, "  - %s: %s\n", p.Name, p.MatchReason)
	switch {
	case p.Skipped != "":
		fmt.Fprintf(w, "      skipped silently: %s\n", p.Skipped)
		return
	case p.CacheHit:
		fmt.Fprintf(w, "      cache hit under %s (expires %s), not executed\n", p.CacheKey, checkUntil(p.CachedUntil, now))
	case p.Executed:
		fmt.Fprintf(w, "      sent:     %s\n", strings.TrimSpace(p.Request))
	}
	if p.Error != "" {
		fmt.Fprintf(w, "      ERROR:    %s\n", checkOneLine(p.Error))
		if p.Stderr != "" && !strings.Contains(p.Error, p.Stderr) {
			fmt.Fprintf(w, "      stderr:   %s\n", checkOneLine(p.Stderr))
		}
		fmt.Fprintln(w, "      the kubelet logs this error; this provider adds no credentials and the pull goes on")
		return
	}
	if p.Executed {
		d := p.CacheDuration
		if d == "" {
			d = "absent"
		}
		fmt.Fprintf(w, "      returned: cacheKeyType %s, cacheDuration %s\n", p.CacheKeyType, d)
		if p.Stderr != "" {
			fmt.Fprintf(w, "      stderr:   %s\n", checkOneLine(p.Stderr))
		}
		if p.CachedUntil != nil {
			fmt.Fprintf(w, "      cached under %s until %s\n", p.CacheKey, checkUntil(p.CachedUntil, now))
		} else {
			fmt.Fprintln(w, "      not cached (the next lookup runs the plugin again)")
		}
	}
	if len(p.Auth) == 0 {
		fmt.Fprintln(w, "      auth:     none")
	} else {
		fmt.Fprintf(w, "      auth:     %s\n", strings.Join(p.Auth, ", "))
	}
}

func checkUntil(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return fmt.Sprintf("%s, in %s", t.UTC().Format(time.RFC3339), t.Sub(now).Round(time.Second))
}

func checkOneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
