package kubeletcorpus

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPluginScript runs a generated fake plugin: it logs its name and stdin
// on one line and prints its canned answer, quotes included.
func TestPluginScript(t *testing.T) {
	sc := Scenario{
		Files:   map[string]string{"c.yaml": "x"},
		Plugins: map[string]Plugin{"p": {Stdout: `it's "quoted" $HOME`, Stderr: "err'", Exit: 4}},
	}
	m, err := sc.Materialize(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if m.Config != filepath.Join(filepath.Dir(m.Config), "c.yaml") {
		t.Fatalf("single file not passed as a file: %s", m.Config)
	}
	for i := 0; i < 2; i++ {
		cmd := exec.Command(filepath.Join(m.BinDir, "p"))
		cmd.Stdin = strings.NewReader(`{"image":"r.io/a"}` + "\n")
		var stderr []byte
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		if string(out) != `it's "quoted" $HOME` || string(stderr) != "err'" || cmd.ProcessState.ExitCode() != 4 {
			t.Fatalf("stdout %q stderr %q exit %d", out, stderr, cmd.ProcessState.ExitCode())
		}
	}
	log, err := os.ReadFile(m.ExecLog)
	if err != nil {
		t.Fatal(err)
	}
	if string(log) != "p {\"image\":\"r.io/a\"}\np {\"image\":\"r.io/a\"}\n" || Execs(log)["p"] != 2 {
		t.Fatalf("exec log %q", log)
	}
}

func TestScenarioNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Scenarios() {
		if seen[s.Name] || s.Name == "" {
			t.Fatalf("scenario name %q empty or repeated", s.Name)
		}
		seen[s.Name] = true
	}
}
