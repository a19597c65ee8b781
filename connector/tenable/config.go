package tenable

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/retry"
	"github.com/tvmkafka/tvmkafka/pipeline/settings"
)

// Config configures a Client. The tags declare each setting's environment
// variable (relative to its prefix, TVMKAFKA_TENABLE_ in the binary), default
// and description; DefaultConfig returns those defaults. New takes the values
// as they are: a zero is never replaced by a default, so MaxRetries 0 means no
// retry, and a zero where none makes sense is refused by Validate.
type Config struct {
	// BaseURL of the API.
	BaseURL string `envconfig:"URL" default:"https://cloud.tenable.com" desc:"Tenable VM API base URL"`
	// AccessKey and SecretKey form the X-ApiKeys header. Both are required and never logged.
	AccessKey string `envconfig:"ACCESS_KEY" desc:"API access key (required)"`
	SecretKey string `envconfig:"SECRET_KEY" desc:"API secret key (required; never logged)"`

	// Vendor, Product and Build fill Tenable's standard integration User-Agent:
	// "Integration/1.0 (Vendor; Product; Build/Build)". Build is the binary's
	// version, not a setting; empty reads "dev".
	Vendor  string `envconfig:"VENDOR" default:"tvmkafka" desc:"vendor part of the integration User-Agent"`
	Product string `envconfig:"PRODUCT" default:"Kafka Connector" desc:"product part of the integration User-Agent"`
	Build   string `ignored:"true"`

	// RequestTimeout bounds one attempt: the whole exchange for JSON calls, and for
	// chunk downloads the wait for headers and any stall while reading the body.
	// The default is pyTenable's value.
	RequestTimeout time.Duration `envconfig:"REQUEST_TIMEOUT" default:"120s" desc:"per-request timeout (for chunk downloads: longest stall)"`
	// MaxRetries is how many times a throttled or retryable failure is retried,
	// so at most MaxRetries+1 attempts; 0 sends each request once.
	MaxRetries int `envconfig:"MAX_RETRIES" default:"5" desc:"retries of a throttled (429) or failed (5xx, network) request; 0: none"`
	// RetryInitial and RetryMax shape the exponential backoff between retries
	// when the server names no Retry-After.
	RetryInitial time.Duration `envconfig:"RETRY_INITIAL" default:"1s" desc:"first wait before a retry when Tenable names no Retry-After"`
	RetryMax     time.Duration `envconfig:"RETRY_MAX" default:"60s" desc:"longest wait between retries when Tenable names no Retry-After"`

	// HTTPClient carries the requests; default a client with sane transport timeouts.
	// Its own Timeout should be zero: RequestTimeout applies per attempt.
	HTTPClient *http.Client `ignored:"true"`
	// WrapTransport, when set, wraps the transport of the default HTTP client
	// (not of HTTPClient): the binary observes each answer with it, for
	// readiness, request durations and traces.
	WrapTransport func(http.RoundTripper) http.RoundTripper `ignored:"true"`
	// Logger receives retry and adoption notices; default slog.Default().
	Logger *slog.Logger `ignored:"true"`
	// Clock drives retry and poll waits; tests inject a fake. Default: real time.
	Clock Clock `ignored:"true"`
}

// DefaultConfig returns the defaults the tags declare, without keys.
func DefaultConfig() Config {
	var c Config
	if err := settings.Defaults(&c); err != nil {
		panic(err) // the tags are constants; a test covers them
	}
	return c
}

// withCollaborators fills the fields that are not settings (the HTTP client,
// logger, clock and build) and normalises the base URL.
func (c Config) withCollaborators() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Build == "" {
		c.Build = "dev"
	}
	if c.HTTPClient == nil {
		rt := defaultTransport()
		if c.WrapTransport != nil {
			rt = c.WrapTransport(rt)
		}
		c.HTTPClient = &http.Client{Transport: rt}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = retry.RealClock
	}
	return c
}

// Validate reports every problem with the configuration at once. Problems
// with a setting are *settings.Error values keyed by the setting's variable.
func (c Config) Validate() error {
	var errs []error
	if c.AccessKey == "" {
		errs = append(errs, settings.Invalid("ACCESS_KEY", "is not set"))
	}
	if c.SecretKey == "" {
		errs = append(errs, settings.Invalid("SECRET_KEY", "is not set"))
	}
	if strings.ContainsAny(c.AccessKey+c.SecretKey, ";\r\n ") {
		errs = append(errs, errors.New("API keys must not contain ';', spaces or line breaks"))
	}
	u, err := url.Parse(c.BaseURL)
	switch {
	case c.BaseURL == "":
		errs = append(errs, settings.Invalid("URL", "is empty"))
	case err != nil:
		errs = append(errs, settings.Invalid("URL", "%q: %v", c.BaseURL, err))
	case u.Scheme != "https" && u.Scheme != "http":
		errs = append(errs, settings.Invalid("URL", "%q: scheme must be https (or http for a simulator)", c.BaseURL))
	case u.Host == "":
		errs = append(errs, settings.Invalid("URL", "%q has no host", c.BaseURL))
	}
	for _, s := range []struct {
		key, name, v string
	}{{"VENDOR", "vendor", c.Vendor}, {"PRODUCT", "product", c.Product}, {"", "build", c.Build}} {
		if strings.ContainsAny(s.v, ";()\r\n") {
			msg := fmt.Sprintf("%q: the User-Agent %s must not contain ';', parentheses or line breaks", s.v, s.name)
			if s.key == "" {
				errs = append(errs, errors.New(msg))
			} else {
				errs = append(errs, settings.Invalid(s.key, "%s", msg))
			}
		}
	}
	// Zero is no limit here but an instant timeout, and no wait between
	// retries is a retry storm against a throttling server.
	if c.RequestTimeout <= 0 {
		errs = append(errs, settings.Invalid("REQUEST_TIMEOUT", "must be positive, got %v", c.RequestTimeout))
	}
	if c.MaxRetries < 0 {
		errs = append(errs, settings.Invalid("MAX_RETRIES", "must be at least 0 (0: no retry), got %d", c.MaxRetries))
	}
	if c.RetryInitial <= 0 {
		errs = append(errs, settings.Invalid("RETRY_INITIAL", "must be positive, got %v", c.RetryInitial))
	}
	if c.RetryMax < c.RetryInitial {
		errs = append(errs, settings.Invalid("RETRY_MAX", "must be at least RETRY_INITIAL (%v), got %v", c.RetryInitial, c.RetryMax))
	}
	return errors.Join(errs...)
}

func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	t.ResponseHeaderTimeout = 0 // the per-attempt context bounds it
	return t
}
