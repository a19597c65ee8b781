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
)

// DefaultBaseURL is Tenable VM's cloud API.
const DefaultBaseURL = "https://cloud.tenable.com"

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	// BaseURL of the API, default DefaultBaseURL.
	BaseURL string
	// AccessKey and SecretKey form the X-ApiKeys header. Both are required and never logged.
	AccessKey string
	SecretKey string

	// Vendor, Product and Build fill Tenable's standard integration User-Agent:
	// "Integration/1.0 (Vendor; Product; Build/Build)". Defaults: "tvmkafka",
	// "Kafka Connector", "dev".
	Vendor  string
	Product string
	Build   string

	// RequestTimeout bounds one attempt: the whole exchange for JSON calls, and for
	// chunk downloads the wait for headers and any stall while reading the body.
	// Default 120s (pyTenable's value).
	RequestTimeout time.Duration
	// MaxRetries is how many times a throttled or retryable failure is retried
	// (so at most MaxRetries+1 attempts). Default 5; negative means none.
	MaxRetries int
	// RetryInitial and RetryMax shape the exponential backoff between retries
	// when the server names no Retry-After. Defaults 1s and 60s.
	RetryInitial time.Duration
	RetryMax     time.Duration

	// HTTPClient carries the requests; default a client with sane transport timeouts.
	// Its own Timeout should be zero: RequestTimeout applies per attempt.
	HTTPClient *http.Client
	// Logger receives retry and adoption notices; default slog.Default().
	Logger *slog.Logger
	// Clock drives retry and poll waits; tests inject a fake. Default: real time.
	Clock Clock
}

func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Vendor == "" {
		c.Vendor = "tvmkafka"
	}
	if c.Product == "" {
		c.Product = "Kafka Connector"
	}
	if c.Build == "" {
		c.Build = "dev"
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 120 * time.Second
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 5
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.RetryInitial == 0 {
		c.RetryInitial = time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = 60 * time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: defaultTransport()}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = retry.RealClock
	}
	return c
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.AccessKey == "" {
		errs = append(errs, errors.New("access key is empty"))
	}
	if c.SecretKey == "" {
		errs = append(errs, errors.New("secret key is empty"))
	}
	if strings.ContainsAny(c.AccessKey+c.SecretKey, ";\r\n ") {
		errs = append(errs, errors.New("API keys must not contain ';', spaces or line breaks"))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("base URL %q: %w", c.BaseURL, err))
		case u.Scheme != "https" && u.Scheme != "http":
			errs = append(errs, fmt.Errorf("base URL %q: scheme must be https (or http for a simulator)", c.BaseURL))
		case u.Host == "":
			errs = append(errs, fmt.Errorf("base URL %q has no host", c.BaseURL))
		}
	}
	for _, s := range []struct {
		name string
		v    string
	}{{"vendor", c.Vendor}, {"product", c.Product}, {"build", c.Build}} {
		if strings.ContainsAny(s.v, ";()\r\n") {
			errs = append(errs, fmt.Errorf("User-Agent %s %q must not contain ';', parentheses or line breaks", s.name, s.v))
		}
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, fmt.Errorf("request timeout %v is negative", c.RequestTimeout))
	}
	if c.RetryInitial < 0 || c.RetryMax < 0 {
		errs = append(errs, errors.New("retry delays must not be negative"))
	}
	if c.RetryInitial > 0 && c.RetryMax > 0 && c.RetryInitial > c.RetryMax {
		errs = append(errs, fmt.Errorf("retry initial delay %v exceeds the maximum %v", c.RetryInitial, c.RetryMax))
	}
	return errors.Join(errs...)
}

func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	t.ResponseHeaderTimeout = 0 // the per-attempt context bounds it
	return t
}
