package ecr

import (
	"context"
	"io"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kcred/kcred/internal/httpbound"
)

// apiOptions is what kcred adds to every AWS client's middleware stack
// (ECR, ECR Public, STS, IMDS, container credentials: they all take
// cfg.APIOptions). The SDK's clients must stay its own BuildableClient,
// which AWS_CA_BUNDLE needs and IMDS reconfigures, so these sit in the
// stack, next to the transport, rather than around it.
var apiOptions = []func(*middleware.Stack) error{boundBodies, readOnlyBodies}

// boundBodies bounds every response body the SDK reads (see httpbound.Body).
func boundBodies(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("kcredBoundBody",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.Body != nil {
				// The request the transport saw carries the attempt's
				// deadline (the client's timeout); ctx does not.
				rctx := ctx
				if resp.Request != nil {
					rctx = resp.Request.Context()
				}
				resp.Body = httpbound.Body(httpbound.BodyContext(rctx, resp.Response), resp.Body)
			}
			return out, md, err
		}), middleware.After)
}

// readOnlyBodies hides the request body's WriteTo from net/http. smithy-go
// closes the request body as soon as the response headers are in, and its
// closed body's WriteTo answers io.EOF, which io.Copy passes on as an
// error. An endpoint that answers quickly can do so before net/http's
// writer has read the end of the body: the writer then fails on that EOF
// and closes the connection under the response being read ("failed to
// decode response body, ... use of closed network connection", the race of
// aws-sdk-go-v2 issues 1825 and 2737). A closed body's Read answers io.EOF
// too, which io.Copy takes as the end, as it is: the request was sent.
func readOnlyBodies(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("kcredReadOnlyBody",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				if rs, ok := req.GetStream().(io.ReadSeeker); ok {
					if _, done := rs.(readSeeker); !done {
						r, err := req.SetStream(readSeeker{rs})
						if err != nil {
							return middleware.FinalizeOutput{}, middleware.Metadata{}, err
						}
						in.Request = r
					}
				}
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

// readSeeker is an io.ReadSeeker with no other method (no WriteTo).
type readSeeker struct{ io.ReadSeeker }
