package registry

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tvmkafka/tvmkafka/schemas"
)

const registryContentType = "application/vnd.schemaregistry.v1+json"

// fakeRegistry implements the two endpoints the client uses, like Confluent
// Schema Registry: POST /subjects/{subject}/versions and GET /schemas/ids/{id}.
// It checks basic auth (when user is set) and the content type of every
// request.
type fakeRegistry struct {
	t              *testing.T
	user, password string

	mu       sync.Mutex
	schemas  []string       // by ID-1
	subjects map[string]int // "subject\x00schema" -> ID
	requests int
}

func newFakeRegistry(t *testing.T, user, password string) (*fakeRegistry, *httptest.Server) {
	f := &fakeRegistry{t: t, user: user, password: password, subjects: make(map[string]int)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	w.Header().Set("Content-Type", registryContentType)
	if f.user == "" {
		if a := r.Header.Get("Authorization"); a != "" {
			f.t.Errorf("Authorization %q sent without credentials configured", a)
		}
	} else if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.password {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error_code":401,"message":"Unauthorized"}`))
		return
	}
	if got := r.Header.Get("Content-Type"); got != registryContentType {
		f.t.Errorf("%s %s: Content-Type %q, want %q", r.Method, r.URL.Path, got, registryContentType)
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "subjects" && parts[2] == "versions":
		var body struct {
			Schema string `json:"schema"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Schema == "" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"error_code":42201,"message":"Invalid schema"}`))
			return
		}
		key := parts[1] + "\x00" + body.Schema
		id, ok := f.subjects[key]
		if !ok {
			// Like the real registry, one ID per distinct schema across subjects.
			for i, s := range f.schemas {
				if s == body.Schema {
					id = i + 1
				}
			}
			if id == 0 {
				f.schemas = append(f.schemas, body.Schema)
				id = len(f.schemas)
			}
			f.subjects[key] = id
		}
		_, _ = w.Write([]byte(`{"id":` + strconv.Itoa(id) + `}`))
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "schemas" && parts[1] == "ids":
		id, err := strconv.Atoi(parts[2])
		if err != nil || id < 1 || id > len(f.schemas) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error_code":40403,"message":"Schema not found"}`))
			return
		}
		out, _ := json.Marshal(map[string]string{"schema": f.schemas[id-1]})
		_, _ = w.Write(out)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error_code":404,"message":"HTTP 404 Not Found"}`))
	}
}

// add stores a schema directly, as if another producer had registered it.
func (f *fakeRegistry) add(schema string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schemas = append(f.schemas, schema)
	return len(f.schemas)
}

func (f *fakeRegistry) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func newClient(t *testing.T, url, user, password string) *HTTPClient {
	t.Helper()
	c, err := New(Config{URL: url, Username: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustSchema(t *testing.T, n schemas.Name) *schemas.Schema {
	t.Helper()
	s, err := schemas.Get(n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRegisterAndResolve(t *testing.T) {
	fake, srv := newFakeRegistry(t, "key", "secret")
	c := newClient(t, srv.URL, "key", "secret")
	ctx := context.Background()
	vuln, asset := mustSchema(t, schemas.NameVuln), mustSchema(t, schemas.NameAsset)

	vulnID, err := c.Register(ctx, ValueSubject("tvm.vulns"), vuln)
	if err != nil {
		t.Fatal(err)
	}
	assetID, err := c.Register(ctx, ValueSubject("tvm.assets"), asset)
	if err != nil {
		t.Fatal(err)
	}
	if vulnID == assetID {
		t.Fatalf("two schemas got the same ID %d", vulnID)
	}
	before := fake.requestCount()
	if again, err := c.Register(ctx, ValueSubject("tvm.vulns"), vuln); err != nil || again != vulnID {
		t.Fatalf("second Register = %d, %v; want %d", again, err, vulnID)
	}
	if fake.requestCount() != before {
		t.Error("a repeated registration went to the registry; want it cached")
	}
	// Another subject is registered again but gets the same ID for the same schema.
	if other, err := c.Register(ctx, ValueSubject("tvm.vulns.copy"), vuln); err != nil || other != vulnID {
		t.Errorf("Register under a second subject = %d, %v; want %d", other, err, vulnID)
	}
	if fake.subjects["tvm.vulns-value\x00"+vuln.Text] != vulnID {
		t.Error("the full .avsc text was not registered under tvm.vulns-value")
	}

	// A fresh client (the sink) resolves the IDs to the embedded schemas.
	sink := newClient(t, srv.URL, "key", "secret")
	r, err := sink.SchemaByID(ctx, vulnID)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != vulnID || r.Fingerprint != vuln.Fingerprint || r.Canonical != vuln.Canonical || r.Known != vuln {
		t.Errorf("SchemaByID = %+v, want the vuln schema", r)
	}
	before = fake.requestCount()
	if again, err := sink.SchemaByID(ctx, vulnID); err != nil || again != r {
		t.Errorf("second SchemaByID = %v, %v", again, err)
	}
	if fake.requestCount() != before {
		t.Error("a repeated lookup went to the registry; want it cached")
	}
}

func TestSchemaByIDForeignSchema(t *testing.T) {
	fake, srv := newFakeRegistry(t, "", "")
	id := fake.add(`{"type":"record","name":"Other","namespace":"x","fields":[{"name":"a","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"d"}]}`)
	r, err := newClient(t, srv.URL, "", "").SchemaByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want, fp, err := schemas.CanonicalFingerprint(`{"type":"record","name":"x.Other","fields":[{"name":"a","type":"long"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Known != nil || r.Canonical != want || r.Fingerprint != fp {
		t.Errorf("SchemaByID = %+v, want canonical %s and no known schema", r, want)
	}
}

func TestErrors(t *testing.T) {
	_, srv := newFakeRegistry(t, "key", "secret")
	ctx := context.Background()
	vuln := mustSchema(t, schemas.NameVuln)

	_, err := newClient(t, srv.URL, "key", "wrong").Register(ctx, "s-value", vuln)
	var regErr *Error
	if !errors.As(err, &regErr) || regErr.StatusCode != http.StatusUnauthorized {
		t.Errorf("Register with a wrong password: %v, want a 401 *Error", err)
	}

	_, err = newClient(t, srv.URL, "key", "secret").SchemaByID(ctx, 99)
	if !errors.As(err, &regErr) || regErr.StatusCode != http.StatusNotFound || regErr.Code != 40403 {
		t.Errorf("SchemaByID(unknown): %v, want a 404 *Error with code 40403", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := newClient(t, srv.URL, "key", "secret").Register(cancelled, "s-value", vuln); !errors.Is(err, context.Canceled) {
		t.Errorf("Register with a cancelled context: %v", err)
	}

	if _, err := New(Config{}); err == nil {
		t.Error("New without a URL succeeded")
	}
}
