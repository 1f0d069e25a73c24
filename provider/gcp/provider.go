package gcp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/cloudtoken"
)

// googleScope is the cache scope of Google access tokens: one token serves
// every Google registry, so it is keyed by identity alone.
const googleScope = "googleapis.com"

// limits: Google access tokens live an hour at most (metadata, STS and
// default impersonation alike); a dockercfg credential carries no expiry
// and gets dockercfgLifetime, which is within the cache margin: it is never
// cached (node or kubelet), since the entry chosen depends on the image
// while the answer is keyed by registry.
var limits = cloudtoken.Limits{MaxLifetime: time.Hour, DefaultLifetime: dockercfgLifetime, Deadline: requestDeadline}

const dockercfgLifetime = 5 * time.Minute

// Role is `auth-provider-gcp`, a drop-in for cloud-provider-gcp's binary:
// `auth-provider-gcp get-credentials [--authFlow=gcr|dockercfg|dockercfg-url] --v=3`.
var Role = plugin.Role{
	Name:    "auth-provider-gcp",
	Aliases: []string{"gcr-credential-provider"},
	Args:    "get-credentials",
	Summary: "Google Container Registry and Artifact Registry (drop-in for cloud-provider-gcp auth-provider-gcp)",
	Setup:   setup,
}

func setup(fs *flag.FlagSet) func(plugin.Env, []string) (plugin.Provider, error) {
	var o Options
	flow := authFlowFlag{&o.AuthFlow}
	fs.Var(flow, "authFlow", "gcr (default): a Google access token; dockercfg: instance attribute google-dockercfg; dockercfg-url: the config at the URL in google-dockercfg-url")
	fs.Var(flow, "a", "shorthand for --authFlow")
	fs.StringVar(&o.ServiceAccount, "service-account", "", "EMAIL: use this service account of the instance (metadata server) instead of Application Default Credentials")
	fs.StringVar(&o.IdentityProvider, "identity-provider", "", "URL of the cluster's OIDC issuer: with --project-id, pods annotated "+AnnotationEnableWI+"=true pull with GKE workload identity")
	fs.StringVar(&o.ProjectID, "project-id", "", "project of the cluster's workload identity namespace (PROJECT.svc.id.goog)")
	fs.StringVar(&o.WorkloadIdentityProvider, "workload-identity-provider", "", "//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X: pods' service-account tokens are exchanged there (impersonating "+AnnotationServiceAccount+" when annotated)")
	return func(env plugin.Env, args []string) (plugin.Provider, error) {
		for _, a := range args {
			if a != "get-credentials" {
				return nil, fmt.Errorf("unknown command %q (the only command is get-credentials)", a)
			}
		}
		if err := o.validate(); err != nil {
			return nil, err
		}
		return New(env, o), nil
	}
}

// New returns the provider for o.
func New(env plugin.Env, o Options) plugin.Provider {
	return cloudtoken.New(env, &cloud{opts: o}, limits)
}

// cloud is the Google part of the role.
type cloud struct {
	opts Options
}

// Plan recognises a Google registry and chooses the identity; the network
// work (metadata server included, so that ADC with a file never asks it)
// happens in Fetch.
func (c *cloud) Plan(req plugin.Request) (cloudtoken.Plan, error) {
	if !isGoogleRegistry(req.Registry) {
		return cloudtoken.Plan{}, nil
	}
	id, err := c.opts.choose(req)
	if err != nil {
		return cloudtoken.Plan{}, err
	}
	host := c.opts.metadataHost()
	scope := googleScope
	if id.source == fromDockercfg || id.source == fromDockercfgURL {
		scope = req.Registry // one credential per registry
	}
	return cloudtoken.Plan{
		Keys:     []string{req.Registry},
		Scope:    scope,
		Identity: id.describe(host),
		Fetch: func(ctx context.Context) (cloudtoken.Token, error) {
			return fetch(ctx, id, req.Image, host)
		},
	}, nil
}

// requestDeadline bounds a whole request, a wait for another exec's fetch
// included: with many execs against a dead cloud each still fails within
// the 20 s an operator is promised.
const requestDeadline = 18 * time.Second

// fetchBudget bounds one fetch, retries included, so that a black-holed
// metadata server or API fails well within 20 s (the driver's bound is
// longer): the metadata library retries timed-out attempts five times.
const fetchBudget = 15 * time.Second

// fetch does the network work of one identity.
func fetch(ctx context.Context, id identity, image, host string) (cloudtoken.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchBudget)
	defer cancel()
	last := &lastCall{}
	c := newClients(last)
	var tok cloudtoken.Token
	var err error
	switch id.source {
	case fromMetadata:
		return c.metadataToken(ctx, id.account, host)
	case fromDockercfg, fromDockercfgURL:
		return c.dockercfgToken(ctx, id, image, host)
	case fromADCFile:
		tok, err = c.fileToken(ctx, id)
	default:
		tok, err = c.podToken(ctx, id)
	}
	if err == nil {
		return tok, nil
	}
	var secrets []string
	if id.source == fromADCFile {
		secrets = fileSecrets(id.credentials)
	}
	var pe *plugin.Error
	if !errors.As(err, &pe) {
		err = explainLibrary(err, last, id, secrets)
	}
	return tok, redacted{err, secrets}
}

// redacted hides secrets in the text of err, whatever built it (the
// library's configuration errors included), for the error line and the
// logs alike: the runtime only knows the pod's token.
type redacted struct {
	err     error
	secrets []string
}

func (r redacted) Error() string { return plugin.Redact(r.err.Error(), r.secrets...) }
func (r redacted) Unwrap() error { return r.err }

// describe names the identity for the cache (no secret in clear) and for
// logs and errors.
func (id identity) describe(host string) cloudtoken.Identity {
	switch id.source {
	case fromMetadata:
		return cloudtoken.Identity{Fingerprint: "metadata:" + host + ":" + id.account,
			Description: "instance service account " + id.account + " via metadata server " + host}
	case fromADCFile:
		return cloudtoken.Identity{Fingerprint: "adc:" + hashOf(id.credentials),
			Description: id.kind + " Application Default Credentials " + id.file}
	case fromDockercfg:
		return cloudtoken.Identity{Fingerprint: "dockercfg:" + host, Description: "instance attribute " + attrDockercfg}
	case fromDockercfgURL:
		return cloudtoken.Identity{Fingerprint: "dockercfg-url:" + host, Description: "the Docker config at instance attribute " + attrDockercfgURL}
	case fromGKE:
		return cloudtoken.Identity{Fingerprint: "gke:" + id.audience + ":" + cloudtoken.ServiceAccountFingerprint(id.podToken),
			Description: "service account with GKE workload identity " + id.audience, ServiceAccount: true}
	}
	d := "service account with workload identity federation " + id.audience
	if id.impersonate != "" {
		d += ", impersonating " + id.impersonate
	}
	return cloudtoken.Identity{Fingerprint: "wif:" + id.audience + ":" + id.impersonate + ":" + cloudtoken.ServiceAccountFingerprint(id.podToken),
		Description: d, ServiceAccount: true}
}
