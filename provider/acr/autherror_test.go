package acr

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// TestDescribeAuthErrorQuotesAndBounds: Entra's error code and description
// are untrusted text: quoted (a hostile code cannot open a parenthesis or
// hide in the line) and bounded on a rune boundary.
func TestDescribeAuthErrorQuotesAndBounds(t *testing.T) {
	desc := "AADSTS99999: " + strings.Repeat("é", 2000)
	body := `{"error":"invalid_client) (check nothing\u001b[2J","error_description":"` + desc + `\r\nTrace ID: x"}`
	req := &http.Request{URL: &url.URL{Scheme: "https", Host: "login.microsoftonline.com", Path: "/t/oauth2/v2.0/token"}}
	err := &azidentity.AuthenticationFailedError{RawResponse: &http.Response{
		StatusCode: 400, Request: req, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)),
	}}
	got := describeAuthError(err)
	t.Log(got)
	if !utf8.ValidString(got) {
		t.Errorf("not valid UTF-8 (a character cut in two): %q", got)
	}
	if !strings.HasPrefix(got, `HTTP 400 from login.microsoftonline.com: Entra error "invalid_client) (check nothing\x1b[2J": "AADSTS99999: é`) {
		t.Errorf("code and description not quoted: %q", got)
	}
	if strings.Contains(got, "Trace ID") || strings.Contains(got, "\x1b") {
		t.Errorf("more than the description's first line, or a raw control character: %q", got)
	}
	if len(got) > 700 || !strings.HasSuffix(got, "...[cut]") {
		t.Errorf("description not bounded (%d bytes): %q", len(got), got)
	}
}
