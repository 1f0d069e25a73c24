package dockerconfig

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, data string
		want       map[string]string // key -> user:pass
		wantErr    string
	}{
		{name: "config.json", data: `{"auths":{"gcr.io":{"auth":"dXNlcjpwYXNz"}}}`, want: map[string]string{"gcr.io": "user:pass"}},
		{name: "legacy dockercfg", data: `{"https://us.gcr.io":{"auth":"dXNlcjpwYXNz","email":"x@y"}}`, want: map[string]string{"https://us.gcr.io": "user:pass"}},
		{name: "username and password", data: `{"auths":{"r":{"username":"u","password":"p"}}}`, want: map[string]string{"r": "u:p"}},
		{name: "not JSON", data: `nope`, wantErr: "not a Docker config"},
		{name: "empty", data: `{}`, wantErr: "no credentials"},
		{name: "array", data: `[]`, wantErr: "not a Docker config"},
		{name: "bad base64", data: `{"auths":{"r":{"auth":"!!"}}}`, wantErr: "not valid base64"},
		{name: "empty entry", data: `{"r":{}}`, wantErr: "no credential"},
	}
	for _, tt := range tests {
		got, err := Parse([]byte(tt.data))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("%s: %v %v", tt.name, got, err)
			continue
		}
		for k, v := range tt.want {
			if got[k].Username+":"+got[k].Password != v {
				t.Errorf("%s: %s = %+v", tt.name, k, got[k])
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"auths":{"gcr.io":{"auth":"dXNlcjpwYXNz"}}}`))
	f.Add([]byte(`{"https://gcr.io":{"username":"u","password":"p"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		auths, err := Parse(data)
		if err == nil && len(auths) == 0 {
			t.Fatal("no error and no credentials")
		}
	})
}
