package ecr

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
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

// A token answer that comes while net/http still holds the request body
// is read whole: the writer's late end of the body does not close the
// connection under it.
func TestAnswerBeforeRequestEnds(t *testing.T) {
	const pass = "answer-before-request-ends"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		// The body comes after the writer's pause: the client is reading
		// it when the writer reaches the end of the request body.
		time.Sleep(3 * bodyPause)
		data := fmt.Sprintf(`{"authorizationToken":%q,"expiresAt":%d}`,
			base64.StdEncoding.EncodeToString([]byte("AWS:"+pass)), time.Now().Add(time.Hour).Unix())
		if !strings.HasPrefix(r.Header.Get("X-Amz-Target"), "SpencerFrontendService.") { // ECR's, not ECR Public's: a list
			data = "[" + data + "]"
		}
		fmt.Fprintf(w, `{"authorizationData":%s}`, data)
	}))
	defer srv.Close()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_ECR": srv.URL, "AWS_ENDPOINT_URL_ECR_PUBLIC": srv.URL, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
	} {
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
			if tok.Password != pass {
				t.Fatalf("got a token that is not the answer's")
			}
		})
	}
}
