package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/schemas"
	"github.com/tvmkafka/tvmkafka/schemas/registry"
)

// Cloud is the cloud provider whose attributes an asset carries; one import
// request never mixes providers.
type Cloud uint8

// The cloud providers of Tenable's import attributes.
const (
	CloudNone  Cloud = iota // no aws_*, azure_* or gcp_* attribute
	CloudAWS                // aws_* attributes
	CloudAzure              // azure_* attributes
	CloudGCP                // gcp_* attributes
)

// String names the provider.
func (c Cloud) String() string {
	switch c {
	case CloudNone:
		return "none"
	case CloudAWS:
		return "AWS"
	case CloudAzure:
		return "Azure"
	case CloudGCP:
		return "GCP"
	default:
		return fmt.Sprintf("Cloud(%d)", uint8(c))
	}
}

// Asset is one validated inbound asset: JSON is the compact JSON object of one
// import asset (only documented attributes, documented types, no nulls or
// empties, attributes in the order of tenable.ImportAsset), Cloud its provider.
type Asset struct {
	JSON  []byte
	Cloud Cloud
}

// InvalidError is a record that can never be imported. Reason is a human
// sentence for the dead-letter headers that names the attribute and what is
// wrong with it.
type InvalidError struct {
	Reason string
}

// Error returns the reason.
func (e *InvalidError) Error() string { return "invalid inbound asset: " + e.Reason }

// inboundInvalidf returns an *InvalidError with a formatted reason.
func inboundInvalidf(format string, args ...any) error {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}

// Decoder decodes and validates inbound record values. A value is told apart by
// its first bytes: Avro single-object encoding (C3 01 and the schema
// fingerprint), the Confluent wire format (a zero byte and a schema registry
// ID), or else a JSON object in the shape of one import asset. Avro values must
// be written with a version of the inbound_asset schema this build knows.
// A Decoder is safe for concurrent use.
type Decoder struct {
	reg registry.Client
	// inbound holds every version of the inbound_asset schema this build knows,
	// current and released, by fingerprint.
	inbound map[uint64]*inboundAvroSchema
}

// inboundAvroSchema is one version of the inbound_asset schema with the guard
// that checks a body before goavro decodes it.
type inboundAvroSchema struct {
	schema *schemas.Schema
	guard  *avroGuardNode
}

// NewDecoder returns a Decoder. reg resolves the schema IDs of Confluent-framed
// values; when it is nil such values are invalid.
func NewDecoder(reg registry.Client) *Decoder {
	d := &Decoder{reg: reg, inbound: make(map[uint64]*inboundAvroSchema)}
	current, err := schemas.Get(schemas.NameInboundAsset)
	if err != nil {
		panic(fmt.Sprintf("sink: %v", err)) // the schema is embedded in the build
	}
	released, err := schemas.Released(schemas.NameInboundAsset)
	if err != nil {
		panic(fmt.Sprintf("sink: %v", err))
	}
	for _, s := range append(released, current) {
		guard, err := compileAvroGuard(s.Canonical)
		if err != nil {
			// The embedded schemas are part of the build and tested.
			panic(fmt.Sprintf("sink: inbound schema v%d: %v", s.Version, err))
		}
		d.inbound[s.Fingerprint] = &inboundAvroSchema{schema: s, guard: guard}
	}
	return d
}

// Decode returns the asset, an *InvalidError (dead-letter the record), or
// another error, which is transient (the schema registry is unreachable, ctx
// ended): the caller retries. A nil or empty value (a tombstone) is invalid.
func (d *Decoder) Decode(ctx context.Context, value []byte) (Asset, error) {
	if len(value) == 0 {
		return Asset{}, inboundInvalidf("the value is empty (a tombstone): there is no asset to import")
	}
	wire, err := schemas.ParseWire(value)
	if errors.Is(err, schemas.ErrNotAvro) {
		return decodeInboundJSON(value)
	}
	if err != nil {
		return Asset{}, fmt.Errorf("parse value framing: %w", err)
	}
	switch wire.Kind {
	case schemas.WireSingleObject:
		in, ok := d.inbound[wire.Fingerprint]
		if !ok {
			if s, err := schemas.ByFingerprint(wire.Fingerprint); err == nil {
				return Asset{}, inboundInvalidf("the Avro value is written with schema %s v%d (%s), not the inbound asset schema", s.FullName, s.Version, s.Name)
			}
			return Asset{}, inboundInvalidf("the Avro value is written with an unknown schema (fingerprint %016x), not a version of the inbound asset schema", wire.Fingerprint)
		}
		return in.decode(wire.Body)
	case schemas.WireConfluent:
		return d.decodeConfluent(ctx, wire)
	default:
		return Asset{}, fmt.Errorf("parse value framing: unexpected kind %v", wire.Kind)
	}
}

// decodeConfluent resolves the schema ID of a Confluent-framed value.
func (d *Decoder) decodeConfluent(ctx context.Context, wire schemas.Wire) (Asset, error) {
	if d.reg == nil {
		return Asset{}, inboundInvalidf("the value is Avro in the Confluent wire format (schema ID %d), but the schema registry is not configured", wire.SchemaID)
	}
	reg, err := d.reg.SchemaByID(ctx, wire.SchemaID)
	if err != nil {
		var apiErr *registry.Error
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
			return Asset{}, inboundInvalidf("the value is Avro in the Confluent wire format with schema ID %d, which the schema registry does not have", wire.SchemaID)
		}
		return Asset{}, fmt.Errorf("resolve schema ID %d: %w", wire.SchemaID, err)
	}
	if reg == nil || reg.Known == nil {
		return Asset{}, inboundInvalidf("the value is Avro in the Confluent wire format with schema ID %d, a schema this build does not know, not a version of the inbound asset schema", wire.SchemaID)
	}
	in, ok := d.inbound[reg.Known.Fingerprint]
	if !ok {
		return Asset{}, inboundInvalidf("the value is Avro in the Confluent wire format with schema ID %d, which is %s v%d (%s), not the inbound asset schema",
			wire.SchemaID, reg.Known.FullName, reg.Known.Version, reg.Known.Name)
	}
	return in.decode(wire.Body)
}

// decode decodes one Avro body of this schema version and validates it.
func (in *inboundAvroSchema) decode(body []byte) (Asset, error) {
	// goavro allocates an array's block count before it reads the items, so a
	// few crafted bytes could ask for gigabytes; the guard checks every length
	// against the bytes left first.
	if err := in.guard.check(body); err != nil {
		return Asset{}, inboundInvalidf("the Avro value does not decode with inbound asset schema v%d: %v", in.schema.Version, err)
	}
	native, rest, err := in.schema.Codec.NativeFromBinary(body)
	if err != nil {
		return Asset{}, inboundInvalidf("the Avro value does not decode with inbound asset schema v%d: %v", in.schema.Version, err)
	}
	if len(rest) > 0 {
		return Asset{}, inboundInvalidf("the Avro value has %d bytes after the inbound asset record", len(rest))
	}
	record, ok := native.(map[string]any)
	if !ok {
		return Asset{}, inboundInvalidf("the Avro value is not a record")
	}
	var c inboundCollector
	c.reset()
	for i := range inboundAttrs {
		if v, ok := record[inboundAttrs[i].name]; ok {
			c.avroValue(i, v)
		}
	}
	c.extra(record["extra"])
	for name, v := range record {
		if _, known := inboundAttrIndex[name]; !known && name != "extra" && v != nil {
			c.unknown = append(c.unknown, name) // a field of a later schema version this build does not map
		}
	}
	return c.finish()
}

// avroValue takes the goavro native value of one attribute field: nil, or a
// union value {"array": []any{string...}} or {"string": string}.
func (c *inboundCollector) avroValue(i int, v any) {
	if v == nil {
		return
	}
	rule := &inboundAttrs[i]
	if u, ok := v.(map[string]any); ok && len(u) == 1 {
		for _, inner := range u {
			v = inner
		}
	}
	switch x := v.(type) {
	case string:
		if !rule.list {
			c.setString(i, x)
			return
		}
	case []any:
		if rule.list {
			items := c.items[:0]
			for n, item := range x {
				s, ok := item.(string)
				if !ok {
					c.problemf("attribute %q: item %d is %T, expected a string", rule.name, n+1, item)
					return
				}
				items = append(items, s)
			}
			c.items = items
			c.setList(i, items)
			return
		}
	}
	c.problemf("attribute %q: the Avro value is %T, expected %s", rule.name, v, rule.typeName())
}

// extra takes the Avro extra field: the JSON text of an object with members the
// schema does not name. Its members are refused like unknown attributes.
func (c *inboundCollector) extra(v any) {
	if u, ok := v.(map[string]any); ok && len(u) == 1 {
		v = u["string"]
	}
	if v == nil {
		return
	}
	text, ok := v.(string)
	if !ok {
		c.problemf("field \"extra\": the Avro value is %T, expected a string", v)
		return
	}
	var members map[string]jsontext.Value
	if err := json.Unmarshal([]byte(text), &members); err != nil || members == nil {
		c.problemf("field \"extra\": %s is not the JSON text of an object", inboundQuote(text))
		return
	}
	for name := range members {
		c.extraNames = append(c.extraNames, name)
	}
}

// decodeInboundJSON decodes a value that is not Avro: a JSON object in the
// shape of one import asset.
func decodeInboundJSON(value []byte) (Asset, error) {
	p := inboundJSONPool.Get().(*inboundJSONState)
	defer inboundJSONPool.Put(p)
	p.rd.Reset(value)
	p.dec.Reset(&p.rd)
	p.c.reset()
	defer p.dec.Reset(&p.empty) // drop the reference to value

	dec, c := p.dec, &p.c
	tok, err := dec.ReadToken()
	if err != nil {
		return Asset{}, inboundNotJSON(err)
	}
	if tok.Kind() != '{' {
		return Asset{}, inboundInvalidf("the value is a JSON %s, not an object", inboundJSONKindName(tok.Kind()))
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return Asset{}, inboundNotJSON(err)
		}
		name := tok.String()
		i, ok := inboundAttrIndex[name]
		if !ok || c.problem != "" {
			if !ok {
				c.unknown = append(c.unknown, name)
			}
			if err := dec.SkipValue(); err != nil {
				return Asset{}, inboundNotJSON(err)
			}
			continue
		}
		if err := c.jsonValue(dec, i); err != nil {
			return Asset{}, inboundNotJSON(err)
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return Asset{}, inboundNotJSON(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			return Asset{}, inboundInvalidf("the value holds more than one JSON value")
		}
		return Asset{}, inboundNotJSON(err)
	}
	return c.finish()
}

// jsonValue reads the value of attribute i. It returns only syntax errors;
// problems with the value are recorded in c.
func (c *inboundCollector) jsonValue(dec *jsontext.Decoder, i int) error {
	rule := &inboundAttrs[i]
	switch kind := dec.PeekKind(); {
	case kind == 'n':
		_, err := dec.ReadToken() // null: the attribute is absent
		return err
	case kind == '"' && !rule.list:
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		c.setString(i, tok.String())
		return nil
	case kind == '[' && rule.list:
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		items := c.items[:0]
		for n := 1; dec.PeekKind() != ']'; n++ {
			if dec.PeekKind() != '"' {
				v, err := dec.ReadValue()
				if err != nil {
					return err
				}
				if c.problem == "" {
					c.problemf("attribute %q: item %d is %s, expected a string", rule.name, n, inboundDescribeJSON(v))
				}
				continue
			}
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			items = append(items, tok.String())
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		c.items = items
		if c.problem == "" {
			c.setList(i, items)
		}
		return nil
	default:
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		c.problemf("attribute %q: expected %s, got %s", rule.name, rule.typeName(), inboundDescribeJSON(v))
		return nil
	}
}

// inboundJSONState is the reusable state of one JSON decode.
type inboundJSONState struct {
	rd, empty bytes.Reader
	dec       *jsontext.Decoder
	c         inboundCollector
}

var inboundJSONPool = sync.Pool{New: func() any {
	p := &inboundJSONState{}
	p.dec = jsontext.NewDecoder(&p.empty)
	return p
}}

// inboundNotJSON describes a value that is not valid JSON.
func inboundNotJSON(err error) error {
	msg := strings.TrimPrefix(err.Error(), "jsontext: ")
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		msg = "it ends early"
	}
	return inboundInvalidf("the value is neither Avro (single-object or Confluent framed) nor valid JSON: %s", msg)
}

// inboundJSONKindName names a JSON kind for a reason.
func inboundJSONKindName(k jsontext.Kind) string {
	switch k {
	case '[':
		return "array"
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "value"
	}
}

// inboundDescribeJSON describes a JSON value of the wrong type, with short scalars
// shown, e.g. `a number (12345)`.
func inboundDescribeJSON(v jsontext.Value) string {
	switch v.Kind() {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			return "a string (" + inboundQuote(s) + ")"
		}
		return "a string"
	case '0':
		if len(v) <= 32 {
			return "a number (" + string(v) + ")"
		}
		return "a number"
	case 't', 'f':
		return "a boolean (" + string(v) + ")"
	case 'n':
		return "null"
	default:
		return "a JSON value"
	}
}

// inboundQuote quotes a value for a reason, shortened to a readable length.
func inboundQuote(s string) string {
	const maxLen = 80
	if len(s) <= maxLen {
		return strconv.Quote(s)
	}
	cut := maxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// ---- the import attributes and their rules ----

// inboundAttr is the rule of one import attribute. The table below lists them
// in the field order of tenable.ImportAsset (checked when the package loads),
// so attribute i is field i of that struct.
type inboundAttr struct {
	name  string
	list  bool  // an array of strings; otherwise a single string
	cloud Cloud // the provider the attribute belongs to
	// identifies: one of the attributes Tenable needs at least one of.
	identifies bool
	// maxItems bounds a list after duplicates are removed; 0 means no bound.
	maxItems int
	// check validates one string (an item of a list) and returns its
	// normalized form, or a problem phrase that follows the quoted value.
	check func(string) (normalized, problem string)
}

// typeName names the attribute's type for a reason.
func (r *inboundAttr) typeName() string {
	if r.list {
		return "an array of strings"
	}
	return "a string"
}

// inboundAttrs are Tenable's import attributes (see POST /import/assets).
var inboundAttrs = []inboundAttr{
	{name: "fqdn", list: true, identifies: true, check: attrCheckHostName},
	{name: "ipv4", list: true, identifies: true, check: attrCheckIPv4},
	{name: "ipv6", list: true, check: attrCheckIPv6},
	{name: "ip_address", list: true, check: attrCheckIPv4}, // legacy alias of ipv4
	{name: "mac_address", list: true, identifies: true, maxItems: 100, check: attrCheckMAC},
	{name: "hostname", list: true, check: attrCheckHostName},
	{name: "operating_system", list: true},
	{name: "installed_software", list: true, check: attrCheckCPE22},
	{name: "bigfix_asset_id", list: true},

	{name: "netbios_name", identifies: true},
	{name: "ssh_fingerprint"},
	{name: "bios_uuid"},
	{name: "manufacturer_tpm_id"},
	{name: "mcafee_epo_guid"},
	{name: "mcafee_epo_agent_guid"},
	{name: "symantec_ep_hardware_key"},
	{name: "qualys_asset_id"},
	{name: "qualys_host_id"},
	{name: "servicenow_sys_id"},

	{name: "gcp_project_id", cloud: CloudGCP},
	{name: "gcp_zone", cloud: CloudGCP},
	{name: "gcp_instance_id", cloud: CloudGCP},

	{name: "azure_vm_id", cloud: CloudAzure},
	{name: "azure_resource_id", cloud: CloudAzure},

	{name: "aws_availability_zone", cloud: CloudAWS},
	{name: "aws_ec2_instance_id", cloud: CloudAWS},
	{name: "aws_ec2_instance_ami_id", cloud: CloudAWS},
	{name: "aws_ec2_instance_group_name", cloud: CloudAWS},
	{name: "aws_ec2_instance_state_name", cloud: CloudAWS},
	{name: "aws_ec2_instance_type", cloud: CloudAWS},
	{name: "aws_ec2_name", cloud: CloudAWS},
	{name: "aws_ec2_product_code", cloud: CloudAWS},
	{name: "aws_owner_id", cloud: CloudAWS},
	{name: "aws_region", cloud: CloudAWS},
	{name: "aws_subnet_id", cloud: CloudAWS},
	{name: "aws_vpc_id", cloud: CloudAWS},
}

// inboundAttrIndex maps an attribute name to its index in inboundAttrs (and
// field index in tenable.ImportAsset).
var inboundAttrIndex = func() map[string]int {
	m := make(map[string]int, len(inboundAttrs))
	for i, r := range inboundAttrs {
		m[r.name] = i
	}
	return m
}()

// The table must describe tenable.ImportAsset field by field; a mismatch is a
// defect of the build, caught by every test of the package.
func init() {
	if err := checkInboundAttrs(); err != nil {
		panic("sink: " + err.Error())
	}
}

func checkInboundAttrs() error {
	t := reflect.TypeFor[tenable.ImportAsset]()
	if t.NumField() != len(inboundAttrs) {
		return fmt.Errorf("tenable.ImportAsset has %d fields, the attribute table %d", t.NumField(), len(inboundAttrs))
	}
	for i, r := range inboundAttrs {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != r.name {
			return fmt.Errorf("attribute %d is %q in the table, %q in tenable.ImportAsset", i, r.name, name)
		}
		want := reflect.TypeFor[string]()
		if r.list {
			want = reflect.TypeFor[[]string]()
		}
		if f.Type != want {
			return fmt.Errorf("attribute %q is %v in tenable.ImportAsset, %v in the table", r.name, f.Type, want)
		}
	}
	return nil
}

// inboundUnknownHints explain attributes producers are likely to send by mistake.
var inboundUnknownHints = map[string]string{
	"network_id":       "imports always go to the default network",
	"servicenow_sysid": `the import spells it "servicenow_sys_id"`,
}

// attrCheckHostName accepts plausible host names: at most 255 bytes, no white
// space, no characters that never occur in a host name, no empty label.
func attrCheckHostName(s string) (string, string) {
	if len(s) > 255 {
		return "", fmt.Sprintf("is not a host name: it is %d bytes long, more than 255", len(s))
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			return "", "is not a host name: it contains white space"
		case strings.ContainsRune(`/\:@,;|<>"'?*#`, r):
			return "", fmt.Sprintf("is not a host name: it contains %q", r)
		}
	}
	if s[0] == '.' || strings.Contains(s, "..") {
		return "", "is not a host name: it has an empty label"
	}
	return s, ""
}

func attrCheckIPv4(s string) (string, string) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return "", "is not an IPv4 address"
	}
	return a.String(), ""
}

// attrCheckIPv6 accepts IPv6 addresses without zone and normalizes them to their
// canonical text (RFC 5952), so equal addresses are sent once.
func attrCheckIPv6(s string) (string, string) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return "", "is not an IPv6 address"
	}
	if a.Zone() != "" {
		return "", "is an IPv6 address with a zone, which an asset address cannot have"
	}
	return a.String(), ""
}

// attrCheckMAC accepts 48-bit MAC addresses in any form net.ParseMAC reads and
// normalizes them to lower-case colon form, so equal addresses are sent once.
func attrCheckMAC(s string) (string, string) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return "", "is not a MAC address"
	}
	if len(hw) != 6 {
		return "", fmt.Sprintf("is a %d-bit hardware address, not a 48-bit MAC address", len(hw)*8)
	}
	return hw.String(), ""
}

// attrCheckCPE22 accepts CPE 2.2 names (cpe:/part:vendor:product...), the form the
// import documents for installed_software.
func attrCheckCPE22(s string) (string, string) {
	if len(s) < len("cpe:/a") || !strings.EqualFold(s[:5], "cpe:/") {
		return "", "is not a CPE 2.2 name (cpe:/part:vendor:product:version)"
	}
	return s, ""
}

// attrCheckText is the rule of every string: valid UTF-8, no control characters,
// not only white space.
func attrCheckText(s string) string {
	blank := true
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return "is not valid UTF-8"
			}
		}
		if unicode.IsControl(r) {
			return fmt.Sprintf("contains a control character (%U)", r)
		}
		if !unicode.IsSpace(r) {
			blank = false
		}
	}
	if blank {
		return "is only white space"
	}
	return ""
}

// ---- collecting and validating one asset ----

// inboundCollector gathers the attributes of one inbound value into a
// tenable.ImportAsset, keeping the first problem and every unknown attribute.
type inboundCollector struct {
	asset      tenable.ImportAsset
	unknown    []string // attributes not in the import schema
	extraNames []string // members of the Avro extra field
	problem    string   // the first problem found
	items      []string // scratch for list values
	seen       map[string]struct{}
}

func (c *inboundCollector) reset() {
	c.asset = tenable.ImportAsset{}
	c.unknown = c.unknown[:0]
	c.extraNames = c.extraNames[:0]
	c.problem = ""
	c.items = c.items[:0]
}

func (c *inboundCollector) problemf(format string, args ...any) {
	if c.problem == "" {
		c.problem = fmt.Sprintf(format, args...)
	}
}

func (c *inboundCollector) field(i int) reflect.Value {
	return reflect.ValueOf(&c.asset).Elem().Field(i)
}

// setString validates and sets a string attribute; "" means absent.
func (c *inboundCollector) setString(i int, s string) {
	if s == "" {
		return
	}
	rule := &inboundAttrs[i]
	if p := attrCheckText(s); p != "" {
		c.problemf("attribute %q: %s %s", rule.name, inboundQuote(s), p)
		return
	}
	if rule.check != nil {
		n, p := rule.check(s)
		if p != "" {
			c.problemf("attribute %q: %s %s", rule.name, inboundQuote(s), p)
			return
		}
		s = n
	}
	c.field(i).SetString(s)
}

// setList validates, normalizes and sets a list attribute, dropping duplicates
// (after normalization) and keeping the first occurrence; an empty list means
// absent.
func (c *inboundCollector) setList(i int, items []string) {
	if len(items) == 0 {
		return
	}
	rule := &inboundAttrs[i]
	out := make([]string, 0, len(items))
	const linearDedup = 16 // below this, a scan beats a map
	if len(items) > linearDedup {
		if c.seen == nil {
			c.seen = make(map[string]struct{})
		}
		clear(c.seen)
	}
	for n, s := range items {
		if s == "" {
			c.problemf("attribute %q: item %d is empty", rule.name, n+1)
			return
		}
		if p := attrCheckText(s); p != "" {
			c.problemf("attribute %q: %s %s", rule.name, inboundQuote(s), p)
			return
		}
		if rule.check != nil {
			norm, p := rule.check(s)
			if p != "" {
				c.problemf("attribute %q: %s %s", rule.name, inboundQuote(s), p)
				return
			}
			s = norm
		}
		if len(items) > linearDedup {
			if _, dup := c.seen[s]; dup {
				continue
			}
			c.seen[s] = struct{}{}
		} else if slices.Contains(out, s) {
			continue
		}
		out = append(out, s)
	}
	if rule.maxItems > 0 && len(out) > rule.maxItems {
		c.problemf("attribute %q: %d distinct items, more than the %d the import accepts", rule.name, len(out), rule.maxItems)
		return
	}
	c.field(i).Set(reflect.ValueOf(out))
}

// finish applies the rules across attributes and encodes the asset.
func (c *inboundCollector) finish() (Asset, error) {
	if len(c.unknown) > 0 {
		return Asset{}, &InvalidError{Reason: inboundUnknownReason(c.unknown, "")}
	}
	if len(c.extraNames) > 0 {
		return Asset{}, &InvalidError{Reason: inboundUnknownReason(c.extraNames, `in field "extra"`)}
	}
	if c.problem != "" {
		return Asset{}, &InvalidError{Reason: c.problem}
	}
	v := reflect.ValueOf(&c.asset).Elem()
	cloud, cloudAttr := CloudNone, ""
	identified := false
	for i := range inboundAttrs {
		rule := &inboundAttrs[i]
		if v.Field(i).IsZero() {
			continue
		}
		identified = identified || rule.identifies
		if rule.cloud == CloudNone {
			continue
		}
		if cloud != CloudNone && rule.cloud != cloud {
			return Asset{}, inboundInvalidf("attributes %q (%s) and %q (%s) are of two cloud providers; AWS, Azure and GCP data must be imported separately",
				cloudAttr, cloud, rule.name, rule.cloud)
		}
		if cloud == CloudNone {
			cloud, cloudAttr = rule.cloud, rule.name
		}
	}
	if !identified {
		return Asset{}, inboundInvalidf(`the asset has none of the attributes "fqdn", "ipv4", "netbios_name" and "mac_address" (non-empty); Tenable needs at least one`)
	}
	out, err := json.Marshal(&c.asset)
	if err != nil {
		return Asset{}, fmt.Errorf("encode import asset: %w", err)
	}
	return Asset{JSON: out, Cloud: cloud}, nil
}

// inboundUnknownReason refuses attributes the import schema does not have, naming
// them (sorted, at most ten).
func inboundUnknownReason(names []string, where string) string {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	const maxNamed = 10
	var b strings.Builder
	if len(names) == 1 {
		b.WriteString("unknown attribute ")
	} else {
		b.WriteString("unknown attributes ")
	}
	var hints []string
	for i, n := range names {
		if i == maxNamed {
			fmt.Fprintf(&b, " and %d more", len(names)-maxNamed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(inboundQuote(n))
		if h, ok := inboundUnknownHints[n]; ok {
			hints = append(hints, fmt.Sprintf("%q: %s", n, h))
		}
	}
	if where != "" {
		b.WriteString(" " + where)
	}
	b.WriteString(": Tenable's asset import has no such attribute")
	if len(names) > 1 {
		b.WriteString("s")
	}
	if len(hints) > 0 {
		b.WriteString(" (" + strings.Join(hints, "; ") + ")")
	}
	return b.String()
}

// ---- the Avro guard ----

// avroGuardKind is an Avro type as the guard walks it.
type avroGuardKind uint8

const (
	avroGuardNull avroGuardKind = iota
	avroGuardBoolean
	avroGuardVarint // int, long, enum
	avroGuardFloat
	avroGuardDouble
	avroGuardBytes // bytes, string
	avroGuardFixed
	avroGuardArray
	avroGuardMap
	avroGuardRecord
	avroGuardUnion
)

// avroGuardNode is one type of a schema, compiled from its canonical form.
type avroGuardNode struct {
	kind     avroGuardKind
	size     int              // fixed: bytes; enum: symbols
	children []*avroGuardNode // record fields, union branches, array items or map values
}

// avroGuardMapKey is the type of map keys.
var avroGuardMapKey = &avroGuardNode{kind: avroGuardBytes}

// avroGuardMaxDepth bounds the nesting the guard walks.
const avroGuardMaxDepth = 64

// compileAvroGuard compiles a schema in Parsing Canonical Form.
func compileAvroGuard(canonical string) (*avroGuardNode, error) {
	var v any
	if err := json.Unmarshal([]byte(canonical), &v); err != nil {
		return nil, fmt.Errorf("parse canonical form: %w", err)
	}
	named := make(map[string]*avroGuardNode)
	return compileAvroGuardNode(v, named)
}

func compileAvroGuardNode(v any, named map[string]*avroGuardNode) (*avroGuardNode, error) {
	switch t := v.(type) {
	case string:
		switch t {
		case "null":
			return &avroGuardNode{kind: avroGuardNull}, nil
		case "boolean":
			return &avroGuardNode{kind: avroGuardBoolean}, nil
		case "int", "long":
			return &avroGuardNode{kind: avroGuardVarint}, nil
		case "float":
			return &avroGuardNode{kind: avroGuardFloat}, nil
		case "double":
			return &avroGuardNode{kind: avroGuardDouble}, nil
		case "bytes", "string":
			return &avroGuardNode{kind: avroGuardBytes}, nil
		}
		if n, ok := named[t]; ok {
			return n, nil
		}
		return nil, fmt.Errorf("unknown type %q", t)
	case []any:
		n := &avroGuardNode{kind: avroGuardUnion}
		for _, b := range t {
			c, err := compileAvroGuardNode(b, named)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, c)
		}
		return n, nil
	case map[string]any:
		name, _ := t["name"].(string)
		switch t["type"] {
		case "record":
			n := &avroGuardNode{kind: avroGuardRecord}
			named[name] = n // before the fields: a record may refer to itself
			fields, _ := t["fields"].([]any)
			for _, f := range fields {
				fm, _ := f.(map[string]any)
				c, err := compileAvroGuardNode(fm["type"], named)
				if err != nil {
					return nil, err
				}
				n.children = append(n.children, c)
			}
			return n, nil
		case "enum":
			symbols, _ := t["symbols"].([]any)
			n := &avroGuardNode{kind: avroGuardVarint, size: len(symbols)}
			named[name] = n
			return n, nil
		case "fixed":
			size, _ := t["size"].(float64)
			n := &avroGuardNode{kind: avroGuardFixed, size: int(size)}
			named[name] = n
			return n, nil
		case "array", "map":
			key := "items"
			n := &avroGuardNode{kind: avroGuardArray}
			if t["type"] == "map" {
				key, n.kind = "values", avroGuardMap
			}
			c, err := compileAvroGuardNode(t[key], named)
			if err != nil {
				return nil, err
			}
			n.children = []*avroGuardNode{c}
			return n, nil
		}
		return nil, fmt.Errorf("unknown type %v", t["type"])
	}
	return nil, fmt.Errorf("unexpected schema element %T", v)
}

// check walks body and fails when a length, count or union index does not fit
// the bytes that are left, so goavro never allocates more than the value could
// hold.
func (n *avroGuardNode) check(body []byte) error {
	_, err := n.walk(body, 0)
	return err
}

func (n *avroGuardNode) walk(b []byte, depth int) ([]byte, error) {
	if depth > avroGuardMaxDepth {
		return nil, errors.New("nested too deeply")
	}
	switch n.kind {
	case avroGuardNull:
		return b, nil
	case avroGuardBoolean:
		if len(b) < 1 {
			return nil, io.ErrUnexpectedEOF
		}
		return b[1:], nil
	case avroGuardVarint:
		_, rest, err := avroGuardLong(b)
		return rest, err
	case avroGuardFloat:
		return avroGuardSkip(b, 4)
	case avroGuardDouble:
		return avroGuardSkip(b, 8)
	case avroGuardFixed:
		return avroGuardSkip(b, int64(n.size))
	case avroGuardBytes:
		size, rest, err := avroGuardLong(b)
		if err != nil {
			return nil, err
		}
		if size < 0 {
			return nil, fmt.Errorf("negative length %d", size)
		}
		return avroGuardSkip(rest, size)
	case avroGuardRecord:
		var err error
		for _, f := range n.children {
			if b, err = f.walk(b, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case avroGuardUnion:
		idx, rest, err := avroGuardLong(b)
		if err != nil {
			return nil, err
		}
		if idx < 0 || idx >= int64(len(n.children)) {
			return nil, fmt.Errorf("union branch %d out of range", idx)
		}
		return n.children[idx].walk(rest, depth+1)
	case avroGuardArray, avroGuardMap:
		for {
			count, rest, err := avroGuardLong(b)
			if err != nil {
				return nil, err
			}
			b = rest
			if count == 0 {
				return b, nil
			}
			if count < 0 {
				if count == -1<<63 {
					return nil, fmt.Errorf("block count %d", count)
				}
				count = -count
				if _, b, err = avroGuardLong(b); err != nil { // block size in bytes
					return nil, err
				}
			}
			// Every item, even a null one, is counted against the bytes left:
			// no real inbound value has more items than bytes.
			if count > int64(len(b)) {
				return nil, fmt.Errorf("block of %d items in %d bytes", count, len(b))
			}
			for range count {
				if n.kind == avroGuardMap {
					if b, err = avroGuardMapKey.walk(b, depth+1); err != nil {
						return nil, err
					}
				}
				if b, err = n.children[0].walk(b, depth+1); err != nil {
					return nil, err
				}
			}
		}
	}
	return nil, fmt.Errorf("unknown guard kind %d", n.kind)
}

// avroGuardLong reads one zig-zag varint long.
func avroGuardLong(b []byte) (int64, []byte, error) {
	var u uint64
	for i := 0; i < 10; i++ {
		if i >= len(b) {
			return 0, nil, io.ErrUnexpectedEOF
		}
		u |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return int64(u>>1) ^ -int64(u&1), b[i+1:], nil
		}
	}
	return 0, nil, errors.New("varint longer than 10 bytes")
}

func avroGuardSkip(b []byte, n int64) ([]byte, error) {
	if n > int64(len(b)) {
		return nil, io.ErrUnexpectedEOF
	}
	return b[n:], nil
}
