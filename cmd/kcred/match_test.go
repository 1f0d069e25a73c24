package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunMatch(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantOut    string
		wantErr    string // substring of stderr; "" means stderr must be empty
		wantStatus int
	}{
		{
			name:    "normalised docker hub image matches",
			args:    []string{"docker.io", "nginx:1.25"},
			wantOut: "match docker.io/library/nginx\n",
		},
		{
			name: "label count miss and invalid image",
			args: []string{"*.io", "quay.io/foo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "registry.k8s.io/pause:3.10", "registry.io/Foo"},
			wantOut: "match quay.io/foo\n" +
				"no match registry.k8s.io/pause: label count differs: pattern has 2 labels, image host has 3 ('*' never matches a '.')\n" +
				"no match registry.io/Foo: image invalid: invalid reference format: repository name (Foo) must be lowercase\n",
			wantStatus: 1,
		},
		{
			name:       "port is compared as text",
			args:       []string{"registry.io", "registry.io:5000/app"},
			wantOut:    "no match registry.io:5000/app: port differs: pattern \"\" vs image \"5000\"\n",
			wantStatus: 1,
		},
		{
			name:       "glob in path",
			args:       []string{"*.registry.io/*", "eu.registry.io/app"},
			wantOut:    "no match eu.registry.io/app: pattern has a glob in its path: the kubelet never matches it (a path is a plain prefix; write \"*.registry.io\")\n",
			wantStatus: 1,
		},
		{
			name:       "scheme in pattern",
			args:       []string{"https://registry.io", "registry.io/app"},
			wantOut:    "no match registry.io/app: pattern has a scheme (https://): the kubelet never matches it (matchImages entries are used verbatim; write \"registry.io\")\n",
			wantStatus: 1,
		},
		{
			name:       "raw matches the text as given",
			args:       []string{"--raw", "*", "nginx", "docker.io/library/nginx"},
			wantOut:    "match nginx\nno match docker.io/library/nginx: label count differs: pattern has 1 label, image host has 2 ('*' never matches a '.')\n",
			wantStatus: 1,
		},
		{
			name:    "flags may follow the pattern",
			args:    []string{"*", "nginx", "--raw"},
			wantOut: "match nginx\n",
		},
		{
			name:       "double dash ends flags",
			args:       []string{"*", "--", "--raw"},
			wantOut:    "no match --raw: image invalid: invalid reference format\n",
			wantStatus: 1,
		},
		{
			name:    "key is normalised like an auth key",
			args:    []string{"--key", "https://quay.io/v1/", "quay.io/foo/bar"},
			wantOut: "match quay.io/foo/bar\n",
		},
		{
			name:    "key docker hub fallback",
			args:    []string{"--key", "https://index.docker.io/v1/", "nginx"},
			wantOut: "match docker.io/library/nginx (Docker Hub fallback: key \"index.docker.io\")\n",
		},
		{
			name:       "key miss names the normalised key",
			args:       []string{"--key", "https://index.docker.io/v1/", "quay.io/foo"},
			wantOut:    "no match quay.io/foo: label count differs: pattern has 3 labels, image host has 2 (auth key \"https://index.docker.io/v1/\" is matched as \"index.docker.io\")\n",
			wantStatus: 1,
		},
		{
			name:       "key dropped by the kubelet",
			args:       []string{"--key", "registry.io/%zz", "registry.io/app"},
			wantOut:    "no match registry.io/app: auth key \"registry.io/%zz\" is not a valid URL: the kubelet drops it\n",
			wantStatus: 1,
		},
		{
			name:       "invalid pattern",
			args:       []string{"%invalid%", "registry.io/app"},
			wantOut:    "no match registry.io/app: pattern is not a valid URL: parse \"https://%invalid%\": invalid URL escape \"%in\"\n",
			wantStatus: 1,
		},
		{name: "no arguments", args: nil, wantErr: "usage: kcred match", wantStatus: 2},
		{name: "no image", args: []string{"*.io"}, wantErr: "need a PATTERN and at least one IMAGE", wantStatus: 2},
		{name: "unknown flag", args: []string{"--bogus", "*.io", "nginx"}, wantErr: "kcred match: flag provided but not defined: -bogus (usage: kcred match", wantStatus: 2},
		{name: "help", args: []string{"--help"}, wantOut: "usage: kcred match [--raw] [--key] PATTERN IMAGE...\n" +
			"  -key\n    \ttreat PATTERN as an auth key (plugin auth map, pull secret, docker config)\n" +
			"  -raw\n    \tmatch each IMAGE as given, without normalising it\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := runMatch(tc.args, &stdout, &stderr)
			if status != tc.wantStatus {
				t.Errorf("status = %d, want %d (stderr %q)", status, tc.wantStatus, stderr.String())
			}
			if stdout.String() != tc.wantOut {
				t.Errorf("stdout =\n%s\nwant\n%s", stdout.String(), tc.wantOut)
			}
			if (tc.wantErr == "" && stderr.Len() > 0) || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantErr)
			}
		})
	}
}
