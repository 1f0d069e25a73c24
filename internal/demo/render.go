package demo

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Print writes the result as a table a person reads at a glance.
func Print(w io.Writer, r *Result) {
	for round := 1; round <= 2; round++ {
		switch round {
		case 1:
			fmt.Fprintln(w, "\nRound 1: a fresh node (empty caches)")
		case 2:
			fmt.Fprintln(w, "\nRound 2: the kubelet restarted (its memory cache is gone; kcred's node token cache is not)")
		}
		tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "IMAGE\tPROVIDER\tREGISTRY KEY\tCREDENTIAL FROM\tCLOUD CALLS\tPULL")
		for _, row := range r.Rows {
			if row.Round != round {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", row.Image, dash(row.Provider), dash(row.Key), row.Cache, row.CloudCalls, row.Pull)
		}
		tw.Flush()
		fmt.Fprintf(w, "cloud calls this round: %d\n", r.CloudCalls[round-1])
	}
	fmt.Fprintf(w, "\nWrong credentials: %d of %d pulls with an altered password were refused by the registry.\n", r.WrongRefused, r.WrongTried)
	if r.Failed() {
		fmt.Fprintln(w, "\nFAILED: see the rows above.")
		return
	}
	fmt.Fprintln(w, "\nAll pulls succeeded with the credential the kubelet would try first; the second round asked no cloud.")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
