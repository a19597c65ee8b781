package sameorigin

import (
	"net/url"
	"testing"
)

func TestOrigin(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"https://cloud.tenable.com", "https://cloud.tenable.com:443/x", true},
		{"https://cloud.tenable.com", "https://CLOUD.tenable.com/x", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8081/x", false},
		{"https://cloud.tenable.com", "http://cloud.tenable.com/x", false},
		{"https://cloud.tenable.com", "https://cloud.tenable.com.evil.test/x", false},
		{"http://[::1]:80", "http://[::1]/x", true},
	}
	for _, tt := range tests {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if got := Origin(a) == Origin(b); got != tt.same {
			t.Errorf("same origin %s, %s = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}
