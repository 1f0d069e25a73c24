package gcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"cloud.google.com/go/compute/metadata"

	"github.com/kcred/kcred/internal/httpbound"
	"github.com/kcred/kcred/match"
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/cloudtoken"
	"github.com/kcred/kcred/provider/dockerconfig"
)

// Instance attributes of upstream's dockercfg flows.
const (
	attrDockercfg    = "google-dockercfg"
	attrDockercfgURL = "google-dockercfg-url"
)

// errDockercfgTooLarge is httpbound's bound on a Docker config, worded for
// one: its own text says a token endpoint's.
var errDockercfgTooLarge = fmt.Errorf("larger than %d bytes", httpbound.MaxBody)

// dockercfgToken returns the credential the instance's Docker config gives
// image, as the kubelet would pick it from that config (its matching, its
// order). Upstream returns every entry and logs failures; here a missing
// attribute, an unreadable URL, a malformed config or no entry for the image
// is an error.
func (c clients) dockercfgToken(ctx context.Context, id identity, image, host string) (cloudtoken.Token, error) {
	mc := metadata.NewClient(c.metadata)
	attr := attrDockercfg
	if id.source == fromDockercfgURL {
		attr = attrDockercfgURL
	}
	what := "read instance attribute " + attr + " from the metadata server at " + host
	value, err := mc.InstanceAttributeValueWithContext(ctx, attr)
	var nd metadata.NotDefinedError
	if errors.As(err, &nd) {
		return cloudtoken.Token{}, plugin.Fail(what, errors.New("the instance has no such attribute"),
			"set it (gcloud compute instances add-metadata) or use --authFlow=gcr")
	}
	if err != nil {
		return cloudtoken.Token{}, plugin.Fail(what, metadataError(err), "check that the node runs on Google Cloud, or that "+envMetadataHost+" names a reachable metadata server")
	}
	data := []byte(value)
	source := "instance attribute " + attr
	if id.source == fromDockercfgURL {
		source = "the Docker config at the URL in " + attr
		if data, err = c.fetchDockercfg(ctx, value); err != nil {
			return cloudtoken.Token{}, plugin.Fail("read "+source, err, "check the URL in instance attribute "+attr+" and that the node reaches it")
		}
	}
	auths, err := dockerconfig.Parse(data)
	if err != nil {
		return cloudtoken.Token{}, plugin.Fail("parse "+source, err, "check the content of "+source)
	}
	var ring match.Keyring
	keyed := make(map[string]match.AuthConfig, len(auths))
	for k, a := range auths {
		keyed[k] = match.AuthConfig{Username: a.Username, Password: a.Password}
	}
	ring.Add(attr, keyed)
	found := ring.Lookup(image)
	if len(found) == 0 {
		return cloudtoken.Token{}, plugin.Fail(source, fmt.Errorf("no credential for %s", image), "add an entry for its registry")
	}
	return cloudtoken.Token{Username: found[0].Username, Password: found[0].Password}, nil
}

// fetchDockercfg GETs a dockercfg-url: http or https only, 200 only,
// bounded.
func (c clients) fetchDockercfg(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("the attribute is not an http or https URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.api.Do(req)
	if httpbound.IsTooLarge(err) {
		return nil, errDockercfgTooLarge
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// Its text quotes the URL, whose query may be a signature.
		return nil, ue.Err
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	// The client's transport bounds the body.
	data, err := io.ReadAll(resp.Body)
	if httpbound.IsTooLarge(err) {
		return nil, errDockercfgTooLarge
	}
	if err != nil {
		return nil, err
	}
	return data, nil
}
