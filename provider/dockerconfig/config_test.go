package dockerconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kcred/kcred/plugin"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    map[string]plugin.AuthConfig
		wantErr string
	}{
		{
			name:    "auth and username/password entries",
			content: `{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYTpzcw=="},"r.io:5000/team":{"username":"u","password":"p"}},"credsStore":"ignored"}`,
			want: map[string]plugin.AuthConfig{
				"https://index.docker.io/v1/": {Username: "user", Password: "pa:ss"},
				"r.io:5000/team":              {Username: "u", Password: "p"},
			},
		},
		{name: "not json", content: "auths: {}", wantErr: "parse docker config"},
		{name: "no auths", content: `{"credsStore":"desktop"}`, wantErr: `no "auths" entries`},
		{name: "bad base64", content: `{"auths":{"r.io":{"auth":"***"}}}`, wantErr: "not valid base64"},
		{name: "auth without colon", content: `{"auths":{"r.io":{"auth":"dXNlcg=="}}}`, wantErr: "user:password"},
		{name: "empty entry", content: `{"auths":{"r.io":{}}}`, wantErr: "no credential"},
		{name: "empty key", content: `{"auths":{" ":{"username":"u","password":"p"}}}`, wantErr: "key is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, _, err := load(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pa:ss") || strings.Contains(err.Error(), "dXNl") {
					t.Errorf("error leaks a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := load(filepath.Join(t.TempDir(), "absent.json"))
	if err == nil || !strings.Contains(err.Error(), "check --config") {
		t.Fatalf("err = %v, want a hint to check --config", err)
	}
}
