package node

import (
	"reflect"
	"testing"
)

func TestParseKV(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{` pluginName="ecr-credential-provider" image="1.dkr.ecr.eu-west-3.amazonaws.com/team/api"`,
			map[string]string{"pluginName": "ecr-credential-provider", "image": "1.dkr.ecr.eu-west-3.amazonaws.com/team/api"}},
		{` err="exit status 1: ecr: \"denied\" (check IAM)" provider="ecr"`,
			map[string]string{"err": `exit status 1: ecr: "denied" (check IAM)`, "provider": "ecr"}},
		{` pod="default/ecr-1-kcred-node" count=3`, map[string]string{"pod": "default/ecr-1-kcred-node", "count": "3"}},
		{` broken="unterminated`, map[string]string{}},
		{" err=<\n\tfailed: exit status 1: ecr: denied (check IAM)\n\tsecond line\n > provider=\"ecr\"",
			map[string]string{"err": "failed: exit status 1: ecr: denied (check IAM)\nsecond line", "provider": "ecr"}},
		{" err=<\n\tno end", map[string]string{}},
		{``, map[string]string{}},
		{` no pairs here`, map[string]string{}},
	}
	for _, tt := range tests {
		if got := parseKV(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseKV(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQuoted(t *testing.T) {
	tests := []struct {
		in, want, rest string
		err            bool
	}{
		{`"Event occurred" object="x"`, "Event occurred", ` object="x"`, false},
		{`"a \"b\" c" d`, `a "b" c`, " d", false},
		{`"open`, "", `"open`, true},
		{`bare`, "", "bare", true},
	}
	for _, tt := range tests {
		got, rest, err := quoted(tt.in)
		if got != tt.want || rest != tt.rest || (err != nil) != tt.err {
			t.Errorf("quoted(%q) = %q, %q, %v", tt.in, got, rest, err)
		}
	}
}

func TestRecords(t *testing.T) {
	log := "I1207 03:00:00.1 1 a.go:1] \"one\"\nE1207 03:00:00.2 1 b.go:2] \"two\" err=<\n\tx\n > k=v\nnot a header\n"
	want := []string{`I1207 03:00:00.1 1 a.go:1] "one"`, "E1207 03:00:00.2 1 b.go:2] \"two\" err=<\n\tx\n > k=v\nnot a header\n"}
	if got := records(log); !reflect.DeepEqual(got, want) {
		t.Errorf("records = %q, want %q", got, want)
	}
}

func FuzzParseKV(f *testing.F) {
	f.Add(` pluginName="ecr-credential-provider" image="x"`)
	f.Add(` err="a \"b\"" n=1`)
	f.Add(`"unterminated`)
	f.Fuzz(func(t *testing.T, s string) {
		_ = parseKV(s)
		_ = records(s)
		_, _, _ = quoted(s)
	})
}
