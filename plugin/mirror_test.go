package plugin

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseMirrors(t *testing.T) {
	tests := []struct {
		in      string
		want    []Mirror
		wantErr string
	}{
		{in: ""},
		{in: "mirror.example.com:registry.internal", want: []Mirror{{"mirror.example.com", "registry.internal"}}},
		{in: "Reg.Local:5000:Registry.Internal:5443", want: []Mirror{{"reg.local:5000", "registry.internal:5443"}}},
		{in: "reg.local:registry.internal:5000", want: []Mirror{{"reg.local", "registry.internal:5000"}}},
		{in: " a.io:b.io , docker.io/library/ : localhost:5000", want: []Mirror{{"a.io", "b.io"}, {"docker.io/library", "localhost:5000"}}},
		{in: "quay.local:8443/org/:registry.internal:5000", want: []Mirror{{"quay.local:8443/org", "registry.internal:5000"}}},
		{in: "quay.local:8443/org:registry.internal", want: []Mirror{{"quay.local:8443/org", "registry.internal"}}},
		{in: "a.io", wantErr: "cannot split"},
		{in: "a.io:5000:6000", wantErr: "ambiguous ports"},
		{in: ":b.io", wantErr: "empty source"},
		{in: "a.io:b.io/team", wantErr: "target \"b.io/team\" is not a registry host[:port] (a mirror serves"},
		{in: "a.io:nodots", wantErr: "target \"nodots\" is not a registry host[:port]"},
		{in: "a.io:", wantErr: "target \"\""},
		{in: "a.io/Team:b.io", wantErr: "source \"a.io/Team\""},
		{in: "a.io:b.io:5000:c.io", wantErr: "cannot split"},
	}
	for _, tt := range tests {
		got, err := ParseMirrors(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "want SOURCE:TARGET") {
				t.Errorf("ParseMirrors(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMirrors(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestMirrored(t *testing.T) {
	var asked []string
	// A provider with glob keys and two entries for the target: the mirror
	// must take the one the kubelet would try first for the target image.
	p := ProviderFunc(func(_ context.Context, req Request) (Answer, error) {
		asked = append(asked, req.Image+"@"+req.Registry+"@"+req.ServiceAccountToken)
		switch req.Registry {
		case "registry.internal:5000":
			return Answer{Auth: map[string]AuthConfig{
				"*.internal:5000":             {Username: "wide", Password: "w"},
				"registry.internal:5000/team": {Username: "team", Password: "t"},
			}, ExpiresAt: mirrorExpiry}, nil
		case "fails.internal":
			return Answer{}, Fail("get token", errors.New("denied"), "check the role")
		}
		return Answer{}, nil
	})
	m := Mirrored(p, []Mirror{
		{"mirror.local:5000", "registry.internal:5000"},
		{"docker.io/library", "registry.internal:5000"},
		{"ghcr.io/team", "fails.internal"},
		{"empty.local", "nothing.internal"},
	})
	tests := []struct {
		image, wantAsked string
		wantAuth         map[string]string // key -> username
		wantErr          string
	}{
		{image: "mirror.local:5000/team/app:v1", wantAsked: "registry.internal:5000/team/app@registry.internal:5000@tok",
			wantAuth: map[string]string{"mirror.local:5000": "team", "*.internal:5000": "wide", "registry.internal:5000/team": "team"}},
		{image: "mirror.local:5000/other/app", wantAsked: "registry.internal:5000/other/app@registry.internal:5000@tok",
			wantAuth: map[string]string{"mirror.local:5000": "wide", "*.internal:5000": "wide", "registry.internal:5000/team": "team"}},
		{image: "nginx:1.27", wantAsked: "registry.internal:5000/library/nginx@registry.internal:5000@tok",
			wantAuth: map[string]string{"docker.io/library": "wide", "*.internal:5000": "wide", "registry.internal:5000/team": "team"}},
		{image: "mirror.local/app", wantAsked: "mirror.local/app@mirror.local@tok", wantAuth: map[string]string{}},
		{image: "empty.local/app", wantAsked: "nothing.internal/app@nothing.internal@tok", wantAuth: map[string]string{}},
		{image: "ghcr.io/team/app", wantAsked: "fails.internal/team/app@fails.internal@tok", wantErr: "mirror ghcr.io/team of fails.internal: get token: denied (check the role)"},
	}
	for _, tt := range tests {
		asked = nil
		req, err := DecodeRequest([]byte(`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"` + tt.image + `","serviceAccountToken":"tok"}`))
		if err != nil {
			t.Fatal(err)
		}
		ans, err := m.Credentials(context.Background(), req)
		if len(asked) != 1 || asked[0] != tt.wantAsked {
			t.Errorf("%s: provider asked %q, want %q", tt.image, asked, tt.wantAsked)
		}
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: err = %v, want %q", tt.image, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.image, err)
		}
		got := map[string]string{}
		for k, v := range ans.Auth {
			got[k] = v.Username
		}
		if !reflect.DeepEqual(got, tt.wantAuth) {
			t.Errorf("%s: auth %v, want %v", tt.image, got, tt.wantAuth)
		}
		if len(ans.Auth) > 0 && !ans.ExpiresAt.Equal(mirrorExpiry) {
			t.Errorf("%s: expiry %v lost", tt.image, ans.ExpiresAt)
		}
	}
	if Mirrored(p, nil) == nil {
		t.Fatal("no mirrors: want the provider itself")
	}
}

func TestMainRegistryMirror(t *testing.T) {
	t.Setenv("KCRED_CACHE", "off")
	ok := ProviderFunc(func(ctx context.Context, req Request) (Answer, error) {
		return Answer{Auth: map[string]AuthConfig{req.Registry: {Username: "u", Password: "p"}}}, nil
	})
	var args []string
	var flagValue string
	role := testRole(ok, &args, &flagValue)
	run := func(role Role, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Main(role, "v9", args, strings.NewReader(v1Request), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, out, _ := run(role, "--registry-mirror=r.io:mirror.internal:5000", "--registry-mirror", "x.io:y.io")
	if code != 0 || !strings.Contains(out, `"auth":{"mirror.internal:5000":{"username":"u","password":"p"},"r.io":{"username":"u","password":"p"}}`) {
		t.Errorf("mirrored answer: exit %d, %s", code, out)
	}
	code, out, errOut := run(role, "--registry-mirror=r.io")
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "test-credential-provider: parse arguments: invalid value \"r.io\" for flag -registry-mirror: registry mirror \"r.io\"") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("bad mirror: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, out, _ := run(role, "--help"); !strings.Contains(out, "--registry-mirror") {
		t.Errorf("help does not list --registry-mirror: %s", out)
	}

	// A role with its own --registry-mirror keeps it: the runtime neither
	// registers a second one (a panic) nor mirrors on its own.
	var own []string
	custom := role
	custom.Setup = func(fs *flag.FlagSet) func(Env, []string) (Provider, error) {
		fs.Func("registry-mirror", "the role's own", func(s string) error { own = append(own, s); return nil })
		return func(Env, []string) (Provider, error) { return ok, nil }
	}
	code, out, _ = run(custom, "--registry-mirror=r.io:mirror.internal")
	if code != 0 || strings.Contains(out, "mirror.internal") || len(own) != 1 {
		t.Errorf("role's own flag: exit %d, own %q, %s", code, own, out)
	}
}

var mirrorExpiry = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// FuzzParseMirrors checks that any flag value parses or fails without a
// panic, that errors are one line, and that what parses prints back (String)
// to a value that parses to the same mappings.
func FuzzParseMirrors(f *testing.F) {
	for _, s := range []string{"a.io:b.io", "reg.local:5000:b.io:5443,docker.io/library:c.io", "a:5000:6000", ":", ",,", "a.io/x/:b.io:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMirrors(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		again, err := ParseMirrors(MirrorFlag{Mirrors: &ms}.String())
		if err != nil || len(again) != len(ms) || len(ms) > 0 && !reflect.DeepEqual(again, ms) {
			t.Fatalf("%q parsed to %v, which prints back as %q: %v, %v", s, ms, MirrorFlag{Mirrors: &ms}.String(), again, err)
		}
		for _, m := range ms {
			MatchMirror(ms, m.Source+"/x:tag")
		}
	})
}

// A source with a path makes every answer for its host per image: the
// kubelet reuses Registry answers across the whole host by path prefix, so
// ghcr.io/team's mirror credential would reach ghcr.io/teamx. A Global
// answer is kept per registry once mirrors exist.
func TestMirroredCacheScope(t *testing.T) {
	inner := func(kt CacheKeyType) Provider {
		return ProviderFunc(func(_ context.Context, req Request) (Answer, error) {
			return Answer{Auth: map[string]AuthConfig{req.Registry: {Username: "u", Password: "p"}}, CacheKeyType: kt}, nil
		})
	}
	mirrors := []Mirror{{Source: "ghcr.io/team", Target: "mirror.internal:5000"}, {Source: "quay.io", Target: "mirror.internal:5000"}}
	tests := []struct {
		image string
		inner CacheKeyType
		want  CacheKeyType
	}{
		{"ghcr.io/team/app", CacheKeyRegistry, CacheKeyImage},
		{"ghcr.io/teamx/app", CacheKeyRegistry, CacheKeyImage},
		{"quay.io/org/app", CacheKeyRegistry, CacheKeyRegistry},
		{"docker.io/library/nginx", CacheKeyGlobal, CacheKeyRegistry},
		{"docker.io/library/nginx", CacheKeyImage, CacheKeyImage},
	}
	for _, tt := range tests {
		req := Request{APIVersion: APIVersionV1, Image: tt.image, Registry: strings.SplitN(tt.image, "/", 2)[0]}
		ans, err := Mirrored(inner(tt.inner), mirrors).Credentials(context.Background(), req)
		if err != nil || ans.CacheKeyType != tt.want {
			t.Errorf("%s (inner %s): cacheKeyType %q, %v; want %s", tt.image, tt.inner, ans.CacheKeyType, err, tt.want)
		}
	}
}
