package ecr

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/kcred/kcred/internal/fakecloud"
)

// slowBodyConn makes net/http's writer slow right after it writes a
// request body: the endpoint has the whole request and answers while the
// writer has yet to read the body's end, which is when smithy-go closes
// the body under it (see readOnlyBodies).
type slowBodyConn struct{ net.Conn }

const bodyPause = 100 * time.Millisecond

func (c slowBodyConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if !strings.HasPrefix(string(p), "POST ") {
		time.Sleep(bodyPause)
	}
	return n, err
}

// lateBody passes the emulator's answer on with its headers at once and
// its body after the writer's pause: the client is reading the body when
// the writer reaches the end of the request body.
type lateBody struct {
	http.ResponseWriter
	// code is the status held until the body's first write (0: none
	// set), -1 once headers are sent.
	code int
}

func (w *lateBody) WriteHeader(code int) { w.code = code }

func (w *lateBody) Write(p []byte) (int, error) {
	if w.code >= 0 {
		if w.code > 0 {
			w.ResponseWriter.WriteHeader(w.code)
		}
		w.ResponseWriter.(http.Flusher).Flush()
		time.Sleep(3 * bodyPause)
		w.code = -1
	}
	return w.ResponseWriter.Write(p)
}

// A token answer that comes while net/http still holds the request body
// is read whole: the writer's late end of the body does not close the
// connection under it.
func TestAnswerBeforeRequestEnds(t *testing.T) {
	a := fakecloud.NewAWS()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Handler().ServeHTTP(&lateBody{ResponseWriter: w}, r)
	}))
	defer srv.Close()
	for _, kv := range append(append(fakecloud.Env(srv.URL), a.StaticEnv()...),
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_EC2_METADATA_DISABLED=true") {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	for _, registry := range []string{"public.ecr.aws", "123456789012.dkr.ecr.us-east-1.amazonaws.com"} {
		t.Run(registry, func(t *testing.T) {
			h := ParseHost(registry)
			cfg, err := loadConfig(context.Background(), h.Region, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			cfg.HTTPClient = cfg.HTTPClient.(*awshttp.BuildableClient).WithTransportOptions(func(tr *http.Transport) {
				dial := tr.DialContext
				tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
					c, err := dial(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					return slowBodyConn{c}, nil
				}
			})
			tok, err := getToken(context.Background(), cfg, h)
			if err != nil {
				t.Fatal(err)
			}
			if !a.ValidCredential(tok.Username, tok.Password) {
				t.Fatalf("got a token that is not the emulator's")
			}
		})
	}
}
