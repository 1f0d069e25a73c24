package ecr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/kcred/kcred/internal/safefile"
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/cloudtoken"
)

// DefaultRoleAnnotation is the service-account annotation that names the
// role to assume in service-account mode (upstream's key).
const DefaultRoleAnnotation = "eks.amazonaws.com/ecr-role-arn"

// RoleARNEnv names the role to assume in service-account mode when the
// service account has no annotation (upstream's variable).
const RoleARNEnv = "AWS_ECR_ROLE_ARN"

// sessionName is the STS RoleSessionName, upstream's, so trust and audit
// rules written for upstream keep matching.
const sessionName = "ecr-credential-provider"

// Bounds on cloud calls: every HTTP attempt gives up after attemptTimeout,
// the SDK's standard retryer makes 3 attempts with jittered backoff
// (AWS_MAX_ATTEMPTS and AWS_RETRY_MODE apply, as with upstream), and one
// token fetch (credentials + token) gives up after plugin.FetchTimeout
// whatever those say, well inside the kubelet's one-minute exec timeout.
const attemptTimeout = 10 * time.Second

// identity is the credential source one request uses.
type identity struct {
	// roleARN is set in service-account mode: the role assumed with the
	// pod's token.
	roleARN string
	// saToken is the pod's service-account token (secret; never logged).
	saToken string
	// fingerprint tells identities apart in the token cache.
	fingerprint string
}

// describe names the identity for logs and errors.
func (id identity) describe() string {
	if id.roleARN != "" {
		return "service account with role " + id.roleARN
	}
	return "node credentials"
}

// serviceAccountIdentity is the identity of a service-account-mode
// request: the role, and a hash of the token so that one pod's credentials
// are never served to another.
func serviceAccountIdentity(roleARN, token string) identity {
	return identity{
		roleARN:     roleARN,
		saToken:     token,
		fingerprint: roleARN + ":" + cloudtoken.ServiceAccountFingerprint(token),
	}
}

// credentialEnv lists the variables that choose the SDK's credential
// source or where its calls go; they all take part in the node
// fingerprint. Secrets are among them only to be hashed.
var credentialEnv = []string{
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN",
	"AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL_ECR_PUBLIC", "AWS_ENDPOINT_URL_STS",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
}

// nodeIdentity fingerprints the node's credential source without any
// network call (a warm cache must make none): the credential variables and
// the contents of the shared config and credentials files. An instance
// role swapped behind the same settings is not seen until the cached token
// expires.
//
// A file there that is not a regular file (a FIFO, a device) is refused:
// the SDK would read it later with no bound.
func nodeIdentity(getenv func(string) string) (identity, error) {
	h := sha256.New()
	for _, name := range credentialEnv {
		fmt.Fprintf(h, "%s=%q\n", name, getenv(name))
	}
	home, _ := os.UserHomeDir()
	for _, f := range []struct{ env, def string }{
		{"AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config")},
		{"AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials")},
	} {
		path := getenv(f.env)
		if path == "" {
			path = f.def
		}
		data, err := safefile.ReadFile(path, maxSharedFile)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return identity{}, &plugin.Error{What: "read AWS shared file " + path, Err: err, Check: "check " + f.env + " and the file it names"}
		}
		fmt.Fprintf(h, "%s %t %x\n", path, err == nil, sha256.Sum256(data))
	}
	return identity{fingerprint: "node:" + hex.EncodeToString(h.Sum(nil))}, nil
}

// maxSharedFile bounds an AWS shared config or credentials file.
const maxSharedFile = 1 << 20

// roleARNFor returns the role to assume in service-account mode: the
// annotation, else AWS_ECR_ROLE_ARN, else none (node credentials).
func roleARNFor(annotations map[string]string, key, fallback string) string {
	if arn := strings.TrimSpace(annotations[key]); arn != "" {
		return arn
	}
	return fallback
}

// checkRoleARN rejects values that cannot be a role ARN early, with the
// place they came from.
func checkRoleARN(arn, source string) error {
	if arn != "" && (!strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":role/")) {
		return &plugin.Error{What: source + " " + plugin.Quote(arn) + " is not an IAM role ARN", Check: "expected arn:PARTITION:iam::ACCOUNT:role/NAME"}
	}
	return nil
}

// loadConfig loads the SDK's default configuration (env, shared files,
// web identity, container credentials, IMDS) with kcred's bounds; region,
// when set, overrides the configured one.
func loadConfig(ctx context.Context, region string, log *slog.Logger) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(attemptTimeout)),
		config.WithAPIOptions(apiOptions),
		config.WithLogger(sdkLogger(log)),
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// configuredRegion is the region the SDK's configuration names, read for
// a cache lookup, which must make no network call: with the defaults mode
// "auto" (AWS_DEFAULTS_MODE, or defaults_mode in the profile) loading the
// configuration would ask instance metadata, so it is read in legacy mode.
func configuredRegion(log *slog.Logger) (string, error) {
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithDefaultsMode(aws.DefaultsModeLegacy), config.WithLogger(sdkLogger(log)))
	return cfg.Region, err
}

// sdkLogger sends the SDK's own warnings to the role's logger instead of
// straight to stderr. Wire logging (which would show secrets) stays off.
func sdkLogger(log *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		if c == logging.Warn { // at --v=0 a failing exec prints one line only
			log.Info("aws sdk: " + fmt.Sprintf(format, v...))
			return
		}
		log.Debug("aws sdk: " + fmt.Sprintf(format, v...))
	})
}

// nodeCredentials resolves the node's credentials once, before the token
// call: the SDK would otherwise redo the whole chain (instance metadata
// included) on each of its retries, and mix "no credentials" into an ECR
// error.
func nodeCredentials(ctx context.Context, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return &plugin.Error{What: "no AWS credentials configured", Check: "check the provider's env and AWS_PROFILE"}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		var pe *processcreds.ProviderError
		if errors.As(err, &pe) {
			// Its error quotes the process's output, which may hold secrets:
			// only how the process ended is told.
			why := "the profile's credential_process failed"
			var exitErr *exec.ExitError
			if errors.As(err, &exitErr) {
				why += ": " + exitErr.String()
			}
			return &plugin.Error{What: "get node credentials", Err: errors.New(why + "; its output is not shown, as it may hold secrets"),
				Check: "run the credential_process command by hand as the kubelet's user"}
		}
		check := "check the instance profile or the credentials in the provider's env: AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_CONTAINER_CREDENTIALS_FULL_URI"
		if cloudtoken.IsNetwork(err) {
			check = "check that the node reaches " + endpointOf(err, Host{}) + ", and HTTPS_PROXY/NO_PROXY"
		}
		return &plugin.Error{What: "get node credentials", Err: err, Check: check}
	}
	return nil
}

// assumeRole exchanges the pod's token for the role's credentials with STS
// AssumeRoleWithWebIdentity and returns cfg signing with them.
func assumeRole(ctx context.Context, cfg aws.Config, id identity) (aws.Config, error) {
	out, err := sts.NewFromConfig(cfg).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(id.roleARN),
		RoleSessionName:  aws.String(sessionName),
		WebIdentityToken: aws.String(id.saToken),
	})
	what := "assume role " + id.roleARN + " with the pod's service-account token"
	if err != nil && (cloudtoken.IsNetwork(err) || cloudtoken.IsMalformed(err)) {
		return cfg, &plugin.Error{What: what, Err: err, Check: "check that the node reaches " + endpointOf(err, Host{}) + ", and HTTPS_PROXY/NO_PROXY"}
	}
	if isThrottled(err) {
		return cfg, &plugin.Error{What: what, Err: err, Check: throttledHint}
	}
	if err != nil {
		return cfg, &plugin.Error{What: what, Err: err, Check: "check the role's trust policy for the cluster's OIDC provider and the token audience"}
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil {
		return cfg, &plugin.Error{What: what, Err: cloudtoken.Malformed("STS answered without credentials")}
	}
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
		*c.AccessKeyId, *c.SecretAccessKey, aws.ToString(c.SessionToken)))
	return cfg, nil
}
