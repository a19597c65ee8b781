package registry

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tvmkafka/tvmkafka/schemas"
)

const registryContentType = "application/vnd.schemaregistry.v1+json"

// fakeRegistry implements the endpoints the client uses, as documented for
// Confluent Schema Registry: POST /subjects/{subject}/versions (register),
// POST /subjects/{subject} (look up), GET /schemas/ids/{id}, GET /config,
// GET and PUT /config/{subject}, and POST
// /compatibility/subjects/{subject}/versions/latest. It checks basic auth (when
// user is set) and the content type of every request.
type fakeRegistry struct {
	t              *testing.T
	user, password string

	mu       sync.Mutex
	schemas  []string            // by ID-1
	subjects map[string]int      // "subject\x00schema" -> ID
	versions map[string][]string // subject -> schemas, oldest first
	global   string              // global compatibility level
	levels   map[string]string   // subject-level compatibility, when set
	// incompatible, if set, returns the reasons a schema may not follow the
	// subject's latest version (none: compatible).
	incompatible func(subject, latest, schema string) []string
	requests     int
	log          []string // "METHOD /path" of every request
}

func newFakeRegistry(t *testing.T, user, password string) (*fakeRegistry, *httptest.Server) {
	f := &fakeRegistry{t: t, user: user, password: password, subjects: make(map[string]int),
		versions: make(map[string][]string), global: "BACKWARD", levels: make(map[string]string)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func registryError(w http.ResponseWriter, status, code int, msg string) {
	w.WriteHeader(status)
	out, _ := json.Marshal(map[string]any{"error_code": code, "message": msg})
	_, _ = w.Write(out)
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	f.log = append(f.log, r.Method+" "+r.URL.Path)
	w.Header().Set("Content-Type", registryContentType)
	if f.user == "" {
		if a := r.Header.Get("Authorization"); a != "" {
			f.t.Errorf("Authorization %q sent without credentials configured", a)
		}
	} else if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.password {
		registryError(w, http.StatusUnauthorized, 401, "Unauthorized")
		return
	}
	if got := r.Header.Get("Content-Type"); got != registryContentType {
		f.t.Errorf("%s %s: Content-Type %q, want %q", r.Method, r.URL.Path, got, registryContentType)
	}
	schemaBody := func() (string, bool) {
		var body struct {
			Schema string `json:"schema"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Schema == "" {
			registryError(w, http.StatusUnprocessableEntity, 42201, "Invalid schema")
			return "", false
		}
		return body.Schema, true
	}
	subjectNotFound := func(subject string) {
		registryError(w, http.StatusNotFound, 40401, "Subject '"+subject+"' not found.")
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "subjects" && parts[2] == "versions":
		schema, ok := schemaBody()
		if !ok {
			return
		}
		key := parts[1] + "\x00" + schema
		id, ok := f.subjects[key]
		if !ok {
			// Like the real registry, one ID per distinct schema across subjects.
			for i, s := range f.schemas {
				if s == schema {
					id = i + 1
				}
			}
			if id == 0 {
				f.schemas = append(f.schemas, schema)
				id = len(f.schemas)
			}
			f.subjects[key] = id
			f.versions[parts[1]] = append(f.versions[parts[1]], schema)
		}
		_, _ = w.Write([]byte(`{"id":` + strconv.Itoa(id) + `}`))
	case r.Method == http.MethodPost && len(parts) == 2 && parts[0] == "subjects":
		schema, ok := schemaBody()
		if !ok {
			return
		}
		if len(f.versions[parts[1]]) == 0 {
			subjectNotFound(parts[1])
			return
		}
		id, ok := f.subjects[parts[1]+"\x00"+schema]
		if !ok {
			registryError(w, http.StatusNotFound, 40403, "Schema not found")
			return
		}
		out, _ := json.Marshal(map[string]any{"subject": parts[1], "id": id, "version": 1, "schema": schema})
		_, _ = w.Write(out)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "schemas" && parts[1] == "ids":
		id, err := strconv.Atoi(parts[2])
		if err != nil || id < 1 || id > len(f.schemas) {
			registryError(w, http.StatusNotFound, 40403, "Schema not found")
			return
		}
		out, _ := json.Marshal(map[string]string{"schema": f.schemas[id-1]})
		_, _ = w.Write(out)
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "config":
		_, _ = w.Write([]byte(`{"compatibilityLevel":"` + f.global + `"}`))
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "config":
		level, ok := f.levels[parts[1]]
		if !ok {
			registryError(w, http.StatusNotFound, 40408, "Subject '"+parts[1]+"' does not have subject-level compatibility configured")
			return
		}
		_, _ = w.Write([]byte(`{"compatibilityLevel":"` + level + `"}`))
	case r.Method == http.MethodPut && len(parts) == 2 && parts[0] == "config":
		var body struct {
			Compatibility string `json:"compatibility"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || !validLevel(body.Compatibility) {
			registryError(w, http.StatusUnprocessableEntity, 42203, "Invalid compatibility level")
			return
		}
		f.levels[parts[1]] = body.Compatibility
		_, _ = w.Write([]byte(`{"compatibility":"` + body.Compatibility + `"}`))
	case r.Method == http.MethodPost && len(parts) == 5 && parts[0] == "compatibility" && parts[1] == "subjects" &&
		parts[3] == "versions" && parts[4] == "latest":
		if r.URL.Query().Get("verbose") != "true" {
			f.t.Errorf("compatibility check without verbose=true: %s", r.URL)
		}
		schema, ok := schemaBody()
		if !ok {
			return
		}
		vs := f.versions[parts[2]]
		if len(vs) == 0 {
			subjectNotFound(parts[2])
			return
		}
		var messages []string
		if f.incompatible != nil {
			messages = f.incompatible(parts[2], vs[len(vs)-1], schema)
		}
		out, _ := json.Marshal(map[string]any{"is_compatible": len(messages) == 0, "messages": messages})
		_, _ = w.Write(out)
	default:
		registryError(w, http.StatusNotFound, 404, "HTTP 404 Not Found")
	}
}

func validLevel(l string) bool {
	switch l {
	case "NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE":
		return true
	}
	return false
}

// addVersion registers a schema under subject directly, as another producer would.
func (f *fakeRegistry) addVersion(subject, schema string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schemas = append(f.schemas, schema)
	f.subjects[subject+"\x00"+schema] = len(f.schemas)
	f.versions[subject] = append(f.versions[subject], schema)
}

func (f *fakeRegistry) level(subject string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.levels[subject]
	return l, ok
}

func (f *fakeRegistry) requested(methodPath string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.log {
		if l == methodPath {
			n++
		}
	}
	return n
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

// TestCompatibilityLevel: registering sets the subject's level to the configured
// one where that does not loosen it, and leaves it alone otherwise.
func TestCompatibilityLevel(t *testing.T) {
	tests := []struct {
		name       string
		configured string // Config.Compatibility
		global     string
		subject    string // subject-level setting before; "" = unset
		want       string // afterwards; "" = still unset
	}{
		{"unset is set to the default", "", "BACKWARD", "", "BACKWARD"},
		{"unset is set to the configured level", "FULL", "BACKWARD", "", "FULL"},
		{"unset under a looser global is set", "BACKWARD", "NONE", "", "BACKWARD"},
		{"unset under a stricter global stays unset", "BACKWARD", "FULL_TRANSITIVE", "", ""},
		{"unset under a global that is not comparable stays unset", "BACKWARD", "FORWARD", "", ""},
		{"NONE is raised", "BACKWARD", "BACKWARD", "NONE", "BACKWARD"},
		{"BACKWARD is raised to FULL", "FULL", "BACKWARD", "BACKWARD", "FULL"},
		{"BACKWARD_TRANSITIVE is kept", "BACKWARD", "BACKWARD", "BACKWARD_TRANSITIVE", "BACKWARD_TRANSITIVE"},
		{"FULL is kept", "BACKWARD", "BACKWARD", "FULL", "FULL"},
		{"FULL_TRANSITIVE is kept", "FULL", "BACKWARD", "FULL_TRANSITIVE", "FULL_TRANSITIVE"},
		{"FORWARD_TRANSITIVE is kept (not comparable)", "BACKWARD", "BACKWARD", "FORWARD_TRANSITIVE", "FORWARD_TRANSITIVE"},
		{"FULL is kept against BACKWARD_TRANSITIVE (not comparable)", "BACKWARD_TRANSITIVE", "BACKWARD", "FULL", "FULL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFakeRegistry(t, "", "")
			fake.global = tt.global
			const subject = "tvm.vulns-value"
			if tt.subject != "" {
				fake.levels[subject] = tt.subject
			}
			c, err := New(Config{URL: srv.URL, Compatibility: tt.configured})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Register(context.Background(), subject, mustSchema(t, schemas.NameVuln)); err != nil {
				t.Fatal(err)
			}
			got, _ := fake.level(subject)
			if got != tt.want {
				t.Errorf("subject level %q, want %q", got, tt.want)
			}
			if tt.subject == tt.want && fake.requested("PUT /config/"+subject) != 0 {
				t.Error("the subject's level was written although it stays the same")
			}
			// A second schema under the same subject does not check the level again.
			before := fake.requested("GET /config/" + subject)
			if _, err := c.Register(context.Background(), subject, mustSchema(t, schemas.NameAsset)); err != nil {
				t.Fatal(err)
			}
			if fake.requested("GET /config/"+subject) != before {
				t.Error("the level was read again for a subject this client already handled")
			}
		})
	}
}

func TestCompatibilityConfig(t *testing.T) {
	if _, err := New(Config{URL: "http://localhost:8081", Compatibility: "LOOSE"}); err == nil || !strings.Contains(err.Error(), "LOOSE") {
		t.Errorf("New with an unknown level: %v", err)
	}
}

func TestAtLeastAsStrict(t *testing.T) {
	all := []string{None, Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive}
	stricter := map[string][]string{ // level -> the levels it checks at least as much as
		None:               {None},
		Backward:           {None, Backward},
		BackwardTransitive: {None, Backward, BackwardTransitive},
		Forward:            {None, Forward},
		ForwardTransitive:  {None, Forward, ForwardTransitive},
		Full:               {None, Backward, Forward, Full},
		FullTransitive:     all,
	}
	for _, a := range all {
		for _, b := range all {
			want := slices.Contains(stricter[a], b)
			if got := atLeastAsStrict(a, b); got != want {
				t.Errorf("atLeastAsStrict(%s, %s) = %v, want %v", a, b, got, want)
			}
		}
	}
	if atLeastAsStrict(Full, "SOMETHING_NEW") || atLeastAsStrict("SOMETHING_NEW", None) {
		t.Error("an unknown level compares as known")
	}
}

// TestIncompatibleSchemaIsRefused: a schema the subject does not have is checked
// against its latest version first; the registry's reasons end up in the error
// and nothing is registered.
func TestIncompatibleSchemaIsRefused(t *testing.T) {
	fake, srv := newFakeRegistry(t, "", "")
	const subject = "tvm.vulns-value"
	fake.addVersion(subject, `{"type":"record","name":"Vuln","namespace":"io.tvmkafka.tvm","fields":[{"name":"x","type":"int"}]}`)
	const reason = "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'x' at path '/fields/0' in the old schema has no default value'}"
	fake.incompatible = func(subj, latest, schema string) []string {
		if subj != subject || !strings.Contains(latest, `"x"`) {
			t.Errorf("checked against %s %s", subj, latest)
		}
		return []string{reason}
	}
	_, err := newClient(t, srv.URL, "", "").Register(context.Background(), subject, mustSchema(t, schemas.NameVuln))
	if !errors.Is(err, ErrIncompatible) {
		t.Fatalf("want ErrIncompatible, got %v", err)
	}
	for _, want := range []string{subject, reason} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if n := fake.requested("POST /subjects/" + subject + "/versions"); n != 0 {
		t.Errorf("the incompatible schema was registered (%d requests)", n)
	}

	// A compatible schema is registered after the check; one the subject already
	// has is not checked at all.
	fake.incompatible = nil
	c := newClient(t, srv.URL, "", "")
	if _, err := c.Register(context.Background(), subject, mustSchema(t, schemas.NameVuln)); err != nil {
		t.Fatal(err)
	}
	checks := fake.requested("POST /compatibility/subjects/" + subject + "/versions/latest")
	if checks != 2 {
		t.Errorf("%d compatibility checks, want 2", checks)
	}
	fake.incompatible = func(string, string, string) []string { return []string{"must not be asked"} }
	if _, err := newClient(t, srv.URL, "", "").Register(context.Background(), subject, mustSchema(t, schemas.NameVuln)); err != nil {
		t.Errorf("registering a schema the subject has: %v", err)
	}
}

// TestRedirectToAnotherOriginIsRefused: the registry's credentials never reach
// another origin; the error names the redirect target.
func TestRedirectToAnotherOriginIsRefused(t *testing.T) {
	var sawAuth atomic.Value
	var reached atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Store(true)
		sawAuth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", registryContentType)
		_, _ = w.Write([]byte(`{"id":1,"compatibilityLevel":"BACKWARD","is_compatible":true}`))
	}))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, "key", "secret")
	ctx := context.Background()
	_, regErr := c.Register(ctx, "s-value", mustSchema(t, schemas.NameVuln))
	_, idErr := c.SchemaByID(ctx, 1)
	if reached.Load() {
		t.Errorf("the redirect was followed; Authorization sent there: %q", sawAuth.Load())
	}
	for what, err := range map[string]error{"Register": regErr, "SchemaByID": idErr} {
		if !errors.Is(err, ErrCrossOriginRedirect) || !strings.Contains(err.Error(), other.URL) {
			t.Errorf("%s: %v, want ErrCrossOriginRedirect naming %s", what, err, other.URL)
		}
	}
}
