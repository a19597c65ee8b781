// Package sameorigin keeps credentials where they belong: an HTTP client that
// follows redirects only within one origin (scheme, host and port). Go's client
// re-sends custom headers such as X-ApiKeys on every redirect, and basic auth to
// the same host name on another port, so following a redirect elsewhere would
// hand a secret to whoever answers there. Neither Tenable VM's API nor a schema
// registry sends its clients to another origin, so such a redirect is refused.
package sameorigin

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Client returns a copy of hc that follows redirects only within base's
// origin. A redirect elsewhere fails with refused (wrapped), naming the path
// that redirected, the target origin and where service (e.g. "the API") is.
func Client(hc *http.Client, base *url.URL, refused error, service string) *http.Client {
	c := *hc
	want := Origin(base)
	next := hc.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if o := Origin(req.URL); o != want {
			return fmt.Errorf("%w: %s redirects to %s, %s is at %s", refused, via[len(via)-1].URL.Path, o, service, want)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 { // net/http's own limit
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// Origin is scheme://host:port of u, with the scheme's default port made explicit.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
