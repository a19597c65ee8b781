package tenable

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func validConfig() Config {
	c := DefaultConfig()
	c.AccessKey, c.SecretKey = "a", "s"
	return c
}

func TestDefaultConfigIsTheTags(t *testing.T) {
	c := DefaultConfig()
	if c.BaseURL != "https://cloud.tenable.com" || c.RequestTimeout != 120*time.Second || c.MaxRetries != 5 ||
		c.RetryInitial != time.Second || c.RetryMax != time.Minute || c.Vendor != "tvmkafka" || c.Product != "Kafka Connector" {
		t.Fatalf("DefaultConfig() = %+v", c)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string
	}{
		{"valid", func(*Config) {}, nil},
		{"missing keys", func(c *Config) { c.AccessKey, c.SecretKey = "", "" }, []string{"ACCESS_KEY is not set", "SECRET_KEY is not set"}},
		{"key with separator", func(c *Config) { c.AccessKey = "a;b" }, []string{"must not contain"}},
		{"bad scheme", func(c *Config) { c.BaseURL = "ftp://x" }, []string{"URL \"ftp://x\": scheme must be https"}},
		{"no host", func(c *Config) { c.BaseURL = "https://" }, []string{"has no host"}},
		{"empty URL", func(c *Config) { c.BaseURL = "" }, []string{"URL is empty"}},
		{"vendor with parenthesis", func(c *Config) { c.Vendor = "A(B)" }, []string{"VENDOR \"A(B)\": the User-Agent vendor"}},
		{"retry bounds reversed", func(c *Config) { c.RetryInitial, c.RetryMax = time.Minute, time.Second }, []string{"RETRY_MAX must be at least RETRY_INITIAL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.mutate(&cfg)
			err := cfg.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want errors %q, got none", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// TestZeroSettings: where zero means something (no retry) it is accepted and
// kept; where it means nothing (a timeout, a backoff step) it is refused with
// the variable named, never replaced by a default.
func TestZeroSettings(t *testing.T) {
	tests := []struct {
		key     string
		set     func(*Config, int)
		zeroOK  bool
		wantMsg string // for zero when refused, and for -1 always
	}{
		{"MAX_RETRIES", func(c *Config, v int) { c.MaxRetries = v }, true, "MAX_RETRIES must be at least 0"},
		{"REQUEST_TIMEOUT", func(c *Config, v int) { c.RequestTimeout = time.Duration(v) }, false, "REQUEST_TIMEOUT must be positive"},
		{"RETRY_INITIAL", func(c *Config, v int) { c.RetryInitial = time.Duration(v) }, false, "RETRY_INITIAL must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			for _, v := range []int{0, -1} {
				cfg := validConfig()
				tt.set(&cfg, v)
				err := cfg.Validate()
				if v == 0 && tt.zeroOK {
					if err != nil {
						t.Fatalf("%s=0 refused: %v", tt.key, err)
					}
					continue
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("%s=%d: got %v, want %q", tt.key, v, err, tt.wantMsg)
				}
			}
		})
	}
}

// TestMaxRetriesZeroSendsOnce is the regression test of MAX_RETRIES=0, which
// used to be taken as "unset" and gave five retries: a request that fails
// with a retryable status is sent exactly once.
func TestMaxRetriesZeroSendsOnce(t *testing.T) {
	var attempts atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		writeJSON(w, 503, `{"statusCode":503,"error":"Service Unavailable","message":"busy"}`)
	})
	c, _, _ := newTestClient(t, srv.URL, func(c *Config) { c.MaxRetries = 0 })
	_, err := c.ExportStatus(context.Background(), ExportAssets, "job")
	if err == nil {
		t.Fatal("want the 503 as an error")
	}
	if got := attempts.Load(); got != 1 {
		t.Fatalf("MaxRetries 0 sent %d requests, want exactly 1 (err: %v)", got, err)
	}
	if got := c.Attempts(); got != 1 {
		t.Errorf("client counted %d attempts, want 1", got)
	}
}
