package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Request
		wantErr string
	}{
		{
			name: "v1",
			in:   `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"registry.io/foo"}`,
			want: Request{APIVersion: APIVersionV1, Image: "registry.io/foo", Registry: "registry.io"},
		},
		{
			name: "v1beta1 with port",
			in:   `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","image":"registry.io:5000/foo/bar"}`,
			want: Request{APIVersion: APIVersionV1beta1, Image: "registry.io:5000/foo/bar", Registry: "registry.io:5000"},
		},
		{
			name: "v1alpha1 docker hub",
			in:   `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","image":"nginx:1.25"}`,
			want: Request{APIVersion: APIVersionV1alpha1, Image: "nginx:1.25", Registry: "docker.io"},
		},
		{
			name: "v1 service-account mode and unknown fields",
			in: `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a",` +
				`"serviceAccountToken":"tok","serviceAccountAnnotations":{"k":"v"},"futureField":{"x":1}}`,
			want: Request{APIVersion: APIVersionV1, Image: "r.io/a", Registry: "r.io", ServiceAccountToken: "tok", ServiceAccountAnnotations: map[string]string{"k": "v"}},
		},
		{
			name: "SA fields are not part of v1beta1",
			in:   `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","image":"r.io/a","serviceAccountToken":"tok"}`,
			want: Request{APIVersion: APIVersionV1beta1, Image: "r.io/a", Registry: "r.io"},
		},
		{name: "empty", in: "", wantErr: "stdin is empty"},
		{name: "blank", in: " \n", wantErr: "stdin is empty"},
		{name: "not json", in: "hello", wantErr: "not a JSON object"},
		{name: "yaml", in: "kind: CredentialProviderRequest\napiVersion: credentialprovider.kubelet.k8s.io/v1\nimage: r.io/a\n", wantErr: "not a JSON object"},
		{name: "array", in: `[]`, wantErr: "not a JSON object"},
		{name: "trailing garbage", in: `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a"} x`, wantErr: "not a JSON object"},
		{name: "wrong kind", in: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a"}`, wantErr: `kind is "CredentialProviderResponse"`},
		{name: "no kind", in: `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a"}`, wantErr: `kind is ""`},
		{name: "unknown apiVersion", in: `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v2","image":"r.io/a"}`, wantErr: "unsupported apiVersion"},
		{name: "missing image", in: `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}`, wantErr: "image is missing"},
		{name: "image of wrong type", in: `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":5}`, wantErr: "decode request"},
		{name: "invalid image", in: `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/Foo"}`, wantErr: "must be lowercase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRequest([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tt.want)
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Errorf("got %s, want %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestReadRequestBounded(t *testing.T) {
	big := `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a","pad":"` + strings.Repeat("x", MaxRequestSize) + `"}`
	if _, err := ReadRequest(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a size error", err)
	}
}

func TestCacheDuration(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		exp    time.Time
		stale  bool
		want   time.Duration
		wantOK bool
	}{
		{"unknown expiry", time.Time{}, false, 0, false},
		{"12h token", now.Add(12 * time.Hour), false, 12*time.Hour - Margin, true},
		{"sub-second truncated down", now.Add(time.Hour + 500*time.Millisecond), false, time.Hour - Margin, true},
		{"inside the margin", now.Add(Margin - time.Second), false, 0, true},
		{"expired", now.Add(-time.Hour), false, 0, true},
		{"stale: what remains minus a minute", now.Add(4 * time.Minute), true, 3 * time.Minute, true},
		{"stale inside a minute", now.Add(30 * time.Second), true, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := CacheDuration(Answer{ExpiresAt: tt.exp, Stale: tt.stale}, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("CacheDuration = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestEncodeResponse(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	auth := map[string]AuthConfig{"r.io:5000": {Username: "u", Password: "p"}}
	tests := []struct {
		name    string
		version string
		ans     Answer
		want    string
		wantErr string
	}{
		{
			name: "v1 with expiry", version: APIVersionV1,
			ans:  Answer{Auth: auth, ExpiresAt: now.Add(time.Hour)},
			want: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"55m0s","auth":{"r.io:5000":{"username":"u","password":"p"}}}`,
		},
		{
			name: "v1beta1 image key, unknown expiry", version: APIVersionV1beta1,
			ans:  Answer{Auth: auth, CacheKeyType: CacheKeyImage},
			want: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","cacheKeyType":"Image","auth":{"r.io:5000":{"username":"u","password":"p"}}}`,
		},
		{
			name: "v1alpha1 empty answer", version: APIVersionV1alpha1,
			ans:  Answer{CacheKeyType: CacheKeyGlobal},
			want: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","cacheKeyType":"Global"}`,
		},
		{
			name: "expired credential is not cached", version: APIVersionV1,
			ans:  Answer{Auth: auth, ExpiresAt: now.Add(-time.Minute)},
			want: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"0s","auth":{"r.io:5000":{"username":"u","password":"p"}}}`,
		},
		{name: "bad cache key type", version: APIVersionV1, ans: Answer{CacheKeyType: "registry"}, wantErr: "cache key type"},
		{name: "empty key", version: APIVersionV1, ans: Answer{Auth: map[string]AuthConfig{"": {}}}, wantErr: "empty registry key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeResponse(Request{APIVersion: tt.version}, tt.ans, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want+"\n" {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

const v1Request = `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a"}`

func testRole(p ProviderFunc, gotArgs *[]string, flagValue *string) Role {
	return Role{
		Name:    "test-credential-provider",
		Summary: "test",
		Setup: func(fs *flag.FlagSet) func(Env, []string) (Provider, error) {
			fs.StringVar(flagValue, "mirror", "", "a role flag")
			return func(env Env, args []string) (Provider, error) {
				*gotArgs = args
				if len(args) > 0 && args[0] == "bad-arg" {
					return nil, errors.New("config: bad-arg is not a file (check args)")
				}
				return p, nil
			}
		},
	}
}

func TestMainExec(t *testing.T) {
	ok := ProviderFunc(func(ctx context.Context, req Request) (Answer, error) {
		return Answer{Auth: map[string]AuthConfig{req.Registry: {Username: "u", Password: "s3cret"}}}, nil
	})
	tests := []struct {
		name       string
		provider   ProviderFunc
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string
		wantArgs   []string
		wantFlag   string
	}{
		{name: "answer", provider: ok, stdin: v1Request, wantStdout: `"auth":{"r.io":{"username":"u","password":"s3cret"}}`},
		{name: "flags interspersed with positionals", provider: ok, stdin: v1Request,
			args: []string{"azure.json", "--mirror=a:b", "--v=3", "get-credentials"}, wantArgs: []string{"azure.json", "get-credentials"}, wantFlag: "a:b",
			wantStdout: `"cacheKeyType":"Registry"`},
		{name: "klog flags accepted", provider: ok, stdin: v1Request, args: []string{"--logtostderr", "--alsologtostderr=true", "--vmodule=x=2", "-v=2"}, wantStdout: `"auth"`},
		{name: "double dash ends flags", provider: ok, stdin: v1Request, args: []string{"--", "--mirror=x"}, wantArgs: []string{"--mirror=x"}, wantStdout: `"auth"`},
		{name: "version", provider: ok, args: []string{"--version"}, wantStdout: "test-credential-provider (kcred) v9"},
		{name: "bare -v is version", provider: ok, args: []string{"-v"}, wantStdout: "(kcred) v9"},
		{name: "klog's -v 3 is verbosity, not version", provider: ok, stdin: v1Request, args: []string{"-v", "3", "get-credentials"}, wantArgs: []string{"get-credentials"}, wantStdout: `"auth"`},
		{name: "--v 4 is verbosity", provider: ok, stdin: v1Request, args: []string{"--v", "4"}, wantStdout: `"auth"`},
		{name: "after --, -v 3 stays positional", provider: ok, stdin: v1Request, args: []string{"--", "-v", "3"}, wantArgs: []string{"-v", "3"}, wantStdout: `"auth"`},
		{name: "help", provider: ok, args: []string{"--help"}, wantStdout: "--cache-dir"},
		{name: "unknown flag", provider: ok, args: []string{"--nope"}, wantCode: 1, wantStderr: "test-credential-provider: parse arguments: flag provided but not defined: -nope (see --help)\n"},
		{name: "bad verbosity", provider: ok, args: []string{"--v=x"}, wantCode: 1, wantStderr: "want a log verbosity"},
		{name: "constructor error", provider: ok, args: []string{"bad-arg"}, wantCode: 1, wantStderr: "test-credential-provider: config: bad-arg is not a file (check args)\n"},
		{name: "bad request", provider: ok, stdin: "{", wantCode: 1, wantStderr: "not a JSON object"},
		{name: "provider error on one line", provider: func(context.Context, Request) (Answer, error) {
			return Answer{}, errors.New("ecr: get token:\nthrottled\n(check IAM)")
		}, stdin: v1Request, wantCode: 1, wantStderr: "test-credential-provider: ecr: get token: throttled (check IAM)\n"},
		{name: "panic is an error", provider: func(context.Context, Request) (Answer, error) {
			var m map[string]int
			m["x"] = 1
			return Answer{}, nil
		}, stdin: v1Request, wantCode: 1, wantStderr: "internal error: assignment to entry in nil map (please report it)"},
		{name: "invalid answer", provider: func(context.Context, Request) (Answer, error) {
			return Answer{CacheKeyType: "image"}, nil
		}, stdin: v1Request, wantCode: 1, wantStderr: "cache key type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KCRED_CACHE", "off")
			var gotArgs []string
			var flagValue string
			var stdout, stderr bytes.Buffer
			code := Main(testRole(tt.provider, &gotArgs, &flagValue), "v9", tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("code = %d, want %d; stderr=%q", code, tt.wantCode, stderr.String())
			}
			if tt.wantCode != 0 {
				if stdout.Len() != 0 {
					t.Errorf("stdout = %q on failure, want empty", stdout.String())
				}
				if strings.Count(stderr.String(), "\n") != 1 {
					t.Errorf("stderr = %q, want exactly one line", stderr.String())
				}
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantArgs != nil && strings.Join(gotArgs, "|") != strings.Join(tt.wantArgs, "|") {
				t.Errorf("positional args = %q, want %q", gotArgs, tt.wantArgs)
			}
			if flagValue != tt.wantFlag {
				t.Errorf("role flag = %q, want %q", flagValue, tt.wantFlag)
			}
			if strings.Contains(stderr.String(), "s3cret") {
				t.Errorf("secret on stderr: %q", stderr.String())
			}
		})
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(v1Request))
	f.Add([]byte(`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","image":"nginx"}`))
	f.Add([]byte(`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io:5000/a","serviceAccountToken":"t","serviceAccountAnnotations":{"a":"b"}}`))
	f.Add([]byte("kind: x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeRequest(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if req.Image == "" || req.Registry == "" {
			t.Fatalf("accepted request without image or registry: %+v", req)
		}
		if _, err := EncodeResponse(req, Answer{Auth: map[string]AuthConfig{req.Registry: {Username: "u", Password: "p"}}}, time.Now()); err != nil {
			t.Fatalf("accepted request cannot be answered: %v", err)
		}
	})
}
