package schemas

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/linkedin/goavro/v2"
)

// Name identifies one of the embedded schemas; it is also the .avsc file name.
type Name string

// Names of the schemas this package embeds, for the code that refers to
// one. The catalog itself is every *.avsc file of this directory: a new
// schema is a new file.
const (
	NameAsset        Name = "asset"         // asset-export v1 record
	NameVuln         Name = "vuln"          // vulnerability finding
	NameCompliance   Name = "compliance"    // compliance finding
	NamePlugin       Name = "plugin"        // plugin list item
	NameInboundAsset Name = "inbound_asset" // asset for the import sink
)

// ErrUnknownSchema is returned for a schema name or fingerprint this package does
// not know.
var ErrUnknownSchema = errors.New("unknown schema")

//go:embed *.avsc
var currentFiles embed.FS

//go:embed released
var releasedFiles embed.FS

// Schema is one Avro schema with everything needed to write and identify its data.
type Schema struct {
	// Name is the short name (the .avsc file name without extension).
	Name Name
	// FullName is the Avro full name of the top-level record, e.g. io.tvmkafka.tvm.VulnFinding.
	FullName string
	// Version is the schema's "tvm.version".
	Version int
	// Text is the .avsc source, with docs and tvm.* annotations.
	Text string
	// Canonical is the Parsing Canonical Form of the Avro specification: no docs,
	// no annotations, no logical types, full names, fixed attribute order.
	Canonical string
	// Fingerprint is the CRC-64-AVRO (Rabin) fingerprint of Canonical, as used by
	// Avro single-object encoding. It equals what Java and fastavro compute;
	// goavro's Codec.Rabin differs for schemas with logical types.
	Fingerprint uint64
	// Codec is a goavro codec for the schema (decoding, tests, tools).
	Codec *goavro.Codec
	// KeyFields are the "tvm.key" paths whose values make the Kafka key; empty
	// when records of this schema have no key.
	KeyFields []string

	plan *recordPlan
}

// catalog holds every embedded schema, current and released.
type catalog struct {
	names         []Name // every current schema, by file name
	current       map[Name]*Schema
	released      map[Name][]*Schema // ascending versions
	byFingerprint map[uint64]*Schema
}

var loadCatalog = sync.OnceValues(func() (*catalog, error) {
	return newCatalog(currentFiles, releasedFiles)
})

// mustCatalog returns the catalog. The embedded .avsc files are part of the
// build and checked by this package's tests, so a broken one is a defect of the
// binary, not a runtime condition.
func mustCatalog() *catalog {
	c, err := loadCatalog()
	if err != nil {
		panic(fmt.Sprintf("schemas: embedded schema files are invalid: %v", err))
	}
	return c
}

// Get returns the current version of the named schema.
func Get(name Name) (*Schema, error) {
	s, ok := mustCatalog().current[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSchema, name)
	}
	return s, nil
}

// All returns the current version of every schema, ordered by name.
func All() []*Schema {
	c := mustCatalog()
	out := make([]*Schema, 0, len(c.names))
	for _, n := range c.names {
		out = append(out, c.current[n])
	}
	return out
}

// Released returns the frozen released versions of the named schema, oldest
// first (schemas/released/<name>/v<N>.avsc).
func Released(name Name) ([]*Schema, error) {
	c := mustCatalog()
	if _, ok := c.current[name]; !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSchema, name)
	}
	return slices.Clone(c.released[name]), nil
}

// ByFingerprint returns the schema, current or released, whose canonical form has
// the given CRC-64-AVRO fingerprint (as carried by single-object encoding).
func ByFingerprint(fp uint64) (*Schema, error) {
	s, ok := mustCatalog().byFingerprint[fp]
	if !ok {
		return nil, fmt.Errorf("%w: fingerprint %016x", ErrUnknownSchema, fp)
	}
	return s, nil
}

var releasedFileName = regexp.MustCompile(`^v([1-9][0-9]*)\.avsc$`)

func newCatalog(current, released fs.FS) (*catalog, error) {
	c := &catalog{
		current:       make(map[Name]*Schema),
		released:      make(map[Name][]*Schema),
		byFingerprint: make(map[uint64]*Schema),
	}
	files, err := fs.Glob(current, "*.avsc")
	if err != nil {
		return nil, fmt.Errorf("list schemas: %w", err)
	}
	for _, f := range files { // sorted by fs.Glob
		c.names = append(c.names, Name(strings.TrimSuffix(f, ".avsc")))
	}
	for _, n := range c.names {
		text, err := fs.ReadFile(current, string(n)+".avsc")
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", n, err)
		}
		s, err := newSchema(n, string(text))
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", n, err)
		}
		c.current[n] = s

		dir := path.Join("released", string(n))
		entries, err := fs.ReadDir(released, dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("list released versions of %s: %w", n, err)
		}
		for _, e := range entries {
			m := releasedFileName.FindStringSubmatch(e.Name())
			if m == nil {
				return nil, fmt.Errorf("released schema file %s/%s is not named v<N>.avsc", dir, e.Name())
			}
			text, err := fs.ReadFile(released, path.Join(dir, e.Name()))
			if err != nil {
				return nil, fmt.Errorf("read released schema %s/%s: %w", dir, e.Name(), err)
			}
			rs, err := newSchema(n, string(text))
			if err != nil {
				return nil, fmt.Errorf("released schema %s/%s: %w", dir, e.Name(), err)
			}
			if v, _ := strconv.Atoi(m[1]); rs.Version != v {
				return nil, fmt.Errorf("released schema %s/%s has tvm.version %d", dir, e.Name(), rs.Version)
			}
			c.released[n] = append(c.released[n], rs)
		}
		slices.SortFunc(c.released[n], func(a, b *Schema) int { return a.Version - b.Version })
	}
	// Current schemas win over a released version with the same canonical form.
	for _, n := range c.names {
		for _, rs := range c.released[n] {
			c.byFingerprint[rs.Fingerprint] = rs
		}
	}
	for _, n := range c.names {
		s := c.current[n]
		if other, dup := c.byFingerprint[s.Fingerprint]; dup && other.Name != n {
			return nil, fmt.Errorf("schemas %s and %s have the same fingerprint", n, other.Name)
		}
		c.byFingerprint[s.Fingerprint] = s
	}
	return c, nil
}

// newSchema parses and checks one .avsc text.
func newSchema(name Name, text string) (*Schema, error) {
	def, err := parseDefinition(text)
	if err != nil {
		return nil, err
	}
	canonical, err := canonicalForm(def.json)
	if err != nil {
		return nil, fmt.Errorf("canonical form: %w", err)
	}
	codec, err := goavro.NewCodec(text)
	if err != nil {
		return nil, fmt.Errorf("goavro: %w", err)
	}
	return &Schema{
		Name:        name,
		FullName:    def.plan.fullName,
		Version:     def.version,
		Text:        text,
		Canonical:   canonical,
		Fingerprint: rabin([]byte(canonical)),
		Codec:       codec,
		KeyFields:   def.keyFields,
		plan:        def.plan,
	}, nil
}

// String returns the short name.
func (n Name) String() string { return string(n) }
