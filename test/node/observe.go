package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/kcred/kcred/kubelet"
)

// Check runs `kcred check --json` against the node's config and bin dir,
// with the kubelet's environment, for images in order (one cache, as the
// kubelet looks them up): kcred's prediction of what the kubelet does.
func (n *Node) Check(ctx context.Context, images ...string) (*kubelet.Report, error) {
	args := append([]string{"check", "--json", "--config", n.ConfigPath, "--bin-dir", n.BinDir}, images...)
	cmd := exec.CommandContext(ctx, n.o.Bin.Kcred, args...)
	cmd.Env = n.Env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("kcred check: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	var rep kubelet.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return nil, fmt.Errorf("kcred check --json: %w", err)
	}
	return &rep, nil
}

// LogEntry is one structured line of the kubelet's log.
type LogEntry struct {
	Msg string
	KV  map[string]string
}

// KubeletEntries returns the kubelet log's structured entries whose message
// is one of msgs.
func (n *Node) KubeletEntries(msgs ...string) ([]LogEntry, error) {
	b, err := os.ReadFile(n.KubeletLog)
	if err != nil {
		return nil, err
	}
	var out []LogEntry
	for _, rec := range records(string(b)) {
		_, rest, ok := strings.Cut(rec, "] ")
		if !ok || !strings.HasPrefix(rest, `"`) {
			continue
		}
		msg, rest, err := quoted(rest)
		if err != nil {
			continue
		}
		for _, m := range msgs {
			if msg == m {
				out = append(out, LogEntry{Msg: msg, KV: parseKV(rest)})
			}
		}
	}
	return out, nil
}

// records splits klog output into entries: a line that does not start with
// a klog header ("I1207 ...") continues the entry before it (a multi-line
// value).
func records(log string) []string {
	var recs []string
	for _, line := range strings.Split(log, "\n") {
		if len(recs) > 0 && !isHeader(line) {
			recs[len(recs)-1] += "\n" + line
			continue
		}
		recs = append(recs, line)
	}
	return recs
}

func isHeader(line string) bool {
	return len(line) > 5 && strings.ContainsRune("IWEF", rune(line[0])) && strings.Trim(line[1:5], "0123456789") == ""
}

// Messages the kubelet logs about credential providers and pulls.
const (
	// MsgExec is logged (at -v=5 for the plugin package) before every exec
	// of a provider, with pluginName and image.
	MsgExec = "Getting image credentials from external exec plugin"
	// MsgProviderFailed carries a provider's error (err) for image.
	MsgProviderFailed = "Failed to provide credentials for image"
	// MsgEvent is an event (the pulls), with reason and message.
	MsgEvent = "Event occurred"
)

// quoted reads a Go-quoted string at the start of s and returns it and the
// rest of s.
func quoted(s string) (string, string, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, fmt.Errorf("not quoted")
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			v, err := strconv.Unquote(s[:i+1])
			return v, s[i+1:], err
		}
	}
	return "", s, fmt.Errorf("unterminated")
}

// parseKV parses klog's ` key="value" key=value` pairs, and its multi-line
// values: `key=<` then the lines, each indented by a tab, then ` >`.
func parseKV(s string) map[string]string {
	kv := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ")
		k, rest, ok := strings.Cut(s, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \"\n") {
			return kv
		}
		switch {
		case strings.HasPrefix(rest, `"`):
			v, r, err := quoted(rest)
			if err != nil {
				return kv
			}
			kv[k], s = v, r
		case strings.HasPrefix(rest, "<\n"):
			body, r, ok := strings.Cut(rest[2:], "\n >")
			if !ok {
				return kv
			}
			lines := strings.Split(body, "\n")
			for i, l := range lines {
				lines[i] = strings.TrimPrefix(l, "\t")
			}
			kv[k], s = strings.Join(lines, "\n"), r
		default:
			v, r, _ := strings.Cut(rest, " ")
			kv[k], s = v, r
		}
	}
}
