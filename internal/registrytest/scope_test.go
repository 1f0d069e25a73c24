package registrytest

import (
	"reflect"
	"testing"

	"github.com/distribution/distribution/v3/registry/auth/token"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in   []string
		want []*token.ResourceActions
	}{
		{nil, nil},
		{[]string{"repository:team/app:pull"}, []*token.ResourceActions{{Type: "repository", Name: "team/app", Actions: []string{"pull"}}}},
		{[]string{"repository:app:pull,push repository:base:pull"}, []*token.ResourceActions{
			{Type: "repository", Name: "app", Actions: []string{"pull", "push"}},
			{Type: "repository", Name: "base", Actions: []string{"pull"}},
		}},
		{[]string{"repository(plugin):app:pull"}, []*token.ResourceActions{{Type: "repository", Class: "plugin", Name: "app", Actions: []string{"pull"}}}},
		{[]string{"registry:catalog:*"}, []*token.ResourceActions{{Type: "registry", Name: "catalog", Actions: []string{"*"}}}},
		{[]string{"garbage", "repository:noactions"}, nil},
	}
	for _, tt := range tests {
		if got := parseScopes(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseScopes(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
