package acr

import (
	"reflect"
	"testing"
)

func TestParseMirrors(t *testing.T) {
	tests := []struct {
		in   string
		want []Mirror
		err  bool
	}{
		{"", nil, false},
		{"mcr.microsoft.com:xxx.azurecr.io", []Mirror{{"mcr.microsoft.com", "xxx.azurecr.io"}}, false},
		{" mcrx.microsoft.com:xxx.azurecr.io , mcry.microsoft.com : yyy.azurecr.io", []Mirror{{"mcrx.microsoft.com", "xxx.azurecr.io"}, {"mcry.microsoft.com", "yyy.azurecr.io"}}, false},
		{"Reg.Local:5000:MyACR.azurecr.io", []Mirror{{"reg.local:5000", "myacr.azurecr.io"}}, false},
		{"reg.local:myacr.azurecr.io:443", []Mirror{{"reg.local", "myacr.azurecr.io"}}, false},
		{"reg.local:5000:myacr.azurecr.io:443", []Mirror{{"reg.local:5000", "myacr.azurecr.io"}}, false},
		{"docker.io/library:myacr.azurecr.io", []Mirror{{"docker.io/library", "myacr.azurecr.io"}}, false},
		{"mcr.microsoft.com", nil, true},
		{"mcr.microsoft.com:ghcr.io", nil, true},
		{"mcr.microsoft.com:evilazurecr.io", nil, true},
		{":myacr.azurecr.io", nil, true},
		{"a:5000:6000", nil, true},
		{"a:b:c", nil, true},
	}
	for _, tt := range tests {
		got, err := parseMirrors(tt.in)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseMirrors(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestMirrorFlagRepeatable(t *testing.T) {
	var ms []Mirror
	f := mirrorFlag{&ms}
	for _, v := range []string{"a.io:x1.azurecr.io", "b.io:x2.azurecr.io,c.io:x3.azurecr.io"} {
		if err := f.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.String(); got != "a.io:x1.azurecr.io,b.io:x2.azurecr.io,c.io:x3.azurecr.io" {
		t.Fatalf("String() = %q", got)
	}
}

func TestMatchMirror(t *testing.T) {
	ms := []Mirror{
		{"mcr.microsoft.com", "a.azurecr.io"},
		{"mcr.microsoft.com/oss", "b.azurecr.io"},
		{"reg.local:5000", "c.azurecr.io"},
		{"ghcr.io/team", "d.azurecr.io"},
		{"reg.local:5000/org/app", "e.azurecr.io"},
	}
	tests := map[string]string{
		"mcr.microsoft.com/dotnet/runtime": "a.azurecr.io",
		"MCR.microsoft.com/dotnet/runtime": "a.azurecr.io",
		"mcr.microsoft.com/oss/nginx":      "b.azurecr.io",
		"mcr.microsoft.com/ossfoo":         "a.azurecr.io",
		"mcr.microsoft.com":                "a.azurecr.io",
		"reg.local:5000/app":               "c.azurecr.io",
		"reg.local/app":                    "",
		"reg.local:50001/app":              "",
		"mcr.microsoft.com.evil.io/x":      "",
		"docker.io/library/nginx":          "",
		// A source with a path: the repository itself or below it, with or
		// without a tag or digest, on path-segment boundaries.
		"ghcr.io/team":                           "d.azurecr.io",
		"ghcr.io/team:v1":                        "d.azurecr.io",
		"ghcr.io/team@sha256:0123abcd":           "d.azurecr.io",
		"ghcr.io/team:v1@sha256:0123abcd":        "d.azurecr.io",
		"ghcr.io/team/app":                       "d.azurecr.io",
		"ghcr.io/team/app:v1":                    "d.azurecr.io",
		"ghcr.io/team/app@sha256:0123abcd":       "d.azurecr.io",
		"GHCR.io/team/app:v1":                    "d.azurecr.io",
		"ghcr.io/teamx":                          "",
		"ghcr.io/teamx:v1":                       "",
		"ghcr.io/team-b/app:v1":                  "",
		"ghcr.io/other/team:v1":                  "",
		"ghcr.io":                                "",
		"reg.local:5000/org/app":                 "e.azurecr.io",
		"reg.local:5000/org/app:1.0":             "e.azurecr.io",
		"reg.local:5000/org/app@sha256:0123abcd": "e.azurecr.io",
		"reg.local:5000/org/app2:1.0":            "c.azurecr.io",
		"reg.local:5000/org:1.0":                 "c.azurecr.io",
		"mcr.microsoft.com/oss:v1":               "b.azurecr.io",
		"mcr.microsoft.com/oss/nginx:1.25":       "b.azurecr.io",
	}
	for image, want := range tests {
		m, ok := matchMirror(ms, image)
		if ok != (want != "") || m.Target != want {
			t.Errorf("matchMirror(%q) = %v, %v; want %q", image, m, ok, want)
		}
	}
}
