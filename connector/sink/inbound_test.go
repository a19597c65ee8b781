package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/linkedin/goavro/v2"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/schemas"
	"github.com/tvmkafka/tvmkafka/schemas/registry"
)

var updateInboundGolden = flag.Bool("update-inbound", false, "rewrite the golden files in testdata/inbound")

// inboundCase is one decode case: the asset JSON it yields, or the exact
// dead-letter reason (or, with reasonPrefix, its beginning).
type inboundCase struct {
	name         string
	value        string
	want         string // compact asset JSON
	cloud        Cloud
	reason       string
	reasonPrefix bool
}

func (tc inboundCase) check(t *testing.T, got Asset, err error) {
	t.Helper()
	if tc.reason != "" {
		var invalid *InvalidError
		if !errors.As(err, &invalid) {
			t.Fatalf("Decode = %s, %v; want *InvalidError %q", got.JSON, err, tc.reason)
		}
		if tc.reasonPrefix && !strings.HasPrefix(invalid.Reason, tc.reason) || !tc.reasonPrefix && invalid.Reason != tc.reason {
			t.Fatalf("reason\n got: %s\nwant: %s", invalid.Reason, tc.reason)
		}
		if got.JSON != nil {
			t.Errorf("invalid value returned asset JSON %s", got.JSON)
		}
		return
	}
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if string(got.JSON) != tc.want || got.Cloud != tc.cloud {
		t.Fatalf("Decode\n got: %s (%v)\nwant: %s (%v)", got.JSON, got.Cloud, tc.want, tc.cloud)
	}
	assertInboundAssetRules(t, got)
}

// inboundJSONCases cover every rule on the JSON form.
var inboundJSONCases = []inboundCase{
	// Accepted values and what they become.
	{name: "minimal", value: `{"ipv4":["10.0.0.1"]}`, want: `{"ipv4":["10.0.0.1"]}`},
	{name: "white space around the object", value: " \n{ \"fqdn\" : [ \"a.example.com\" ] }\n", want: `{"fqdn":["a.example.com"]}`},
	{name: "attributes in import order", value: `{"netbios_name":"HOST1","servicenow_sys_id":"9d385017c611228701d22104cc95c371","fqdn":["a.example.com"]}`,
		want: `{"fqdn":["a.example.com"],"netbios_name":"HOST1","servicenow_sys_id":"9d385017c611228701d22104cc95c371"}`},
	{name: "nulls and empties dropped", value: `{"mac_address":[],"fqdn":["example.py.test"],"netbios_name":"","ipv4":["192.168.254.1"],"ipv6":null,"bios_uuid":null}`,
		want: `{"fqdn":["example.py.test"],"ipv4":["192.168.254.1"]}`},
	{name: "duplicates removed", value: `{"ipv4":["10.0.0.1","10.0.0.2","10.0.0.1"],"hostname":["web","web","db"]}`,
		want: `{"ipv4":["10.0.0.1","10.0.0.2"],"hostname":["web","db"]}`},
	{name: "mac addresses normalized then deduplicated", value: `{"mac_address":["00-11-22-33-44-55","00:11:22:33:44:55","0011.2233.4456","AA:BB:CC:DD:EE:FF"]}`,
		want: `{"mac_address":["00:11:22:33:44:55","00:11:22:33:44:56","aa:bb:cc:dd:ee:ff"]}`},
	{name: "ipv6 normalized", value: `{"ipv4":["10.0.0.1"],"ipv6":["2001:DB8:0:0::1","2001:db8::1","::ffff:10.0.0.1"]}`,
		want: `{"ipv4":["10.0.0.1"],"ipv6":["2001:db8::1","::ffff:10.0.0.1"]}`},
	{name: "legacy ip_address", value: `{"ip_address":["10.0.0.9"],"netbios_name":"H"}`, want: `{"ip_address":["10.0.0.9"],"netbios_name":"H"}`},
	{name: "100 mac addresses", value: inboundMACs(100, 5), want: `{"mac_address":[` + inboundMACList(100) + `]}`},
	{name: "software as CPE 2.2", value: `{"ipv4":["10.0.0.1"],"installed_software":["cpe:/a:openssl:openssl:1.1.1k","CPE:/o:microsoft:windows_10"]}`,
		want: `{"ipv4":["10.0.0.1"],"installed_software":["cpe:/a:openssl:openssl:1.1.1k","CPE:/o:microsoft:windows_10"]}`},
	{name: "text kept as is", value: `{"fqdn":["bücher.example"],"operating_system":["Linux <5.x> & \"friends\""]}`,
		want: `{"fqdn":["bücher.example"],"operating_system":["Linux <5.x> & \"friends\""]}`},
	{name: "trailing dot fqdn", value: `{"fqdn":["a.example.com."]}`, want: `{"fqdn":["a.example.com."]}`},
	{name: "aws", value: `{"ipv4":["10.1.2.3"],"aws_region":"eu-west-1","aws_ec2_instance_id":"i-0abc"}`,
		want: `{"ipv4":["10.1.2.3"],"aws_ec2_instance_id":"i-0abc","aws_region":"eu-west-1"}`, cloud: CloudAWS},
	{name: "azure", value: `{"fqdn":["vm1.example.com"],"azure_vm_id":"6f0e7a0c-1c1b-4b1e-9d0e-000000000001"}`,
		want: `{"fqdn":["vm1.example.com"],"azure_vm_id":"6f0e7a0c-1c1b-4b1e-9d0e-000000000001"}`, cloud: CloudAzure},
	{name: "gcp", value: `{"fqdn":["vm1.example.com"],"gcp_zone":"europe-west1-b","gcp_project_id":"p-1"}`,
		want: `{"fqdn":["vm1.example.com"],"gcp_project_id":"p-1","gcp_zone":"europe-west1-b"}`, cloud: CloudGCP},

	// The value as a whole.
	{name: "array", value: `[{"ipv4":["10.0.0.1"]}]`, reason: "the value is a JSON array, not an object"},
	{name: "string", value: `"10.0.0.1"`, reason: "the value is a JSON string, not an object"},
	{name: "number", value: `42`, reason: "the value is a JSON number, not an object"},
	{name: "null", value: `null`, reason: "the value is a JSON null, not an object"},
	{name: "truncated", value: `{"ipv4":["10.0.0.1"`, reason: `the value is neither Avro (single-object or Confluent framed) nor valid JSON: it ends early; it starts with 7b 22 69 70 76 34 22 3a 5b 22 31 30 2e 30 2e 30 ("{\"ipv4\":[\"10.0.0") of 19 bytes`},
	{name: "not json", value: `ipv4=10.0.0.1`, reason: "the value is neither Avro (single-object or Confluent framed) nor valid JSON: ", reasonPrefix: true},
	{name: "two values", value: `{"ipv4":["10.0.0.1"]} {}`, reason: "the value holds more than one JSON value"},
	{name: "garbage after", value: `{"ipv4":["10.0.0.1"]}x`, reason: "the value is neither Avro (single-object or Confluent framed) nor valid JSON: ", reasonPrefix: true},
	{name: "duplicate attribute", value: `{"ipv4":["10.0.0.1"],"ipv4":["10.0.0.2"]}`, reason: `the value is neither Avro (single-object or Confluent framed) nor valid JSON: duplicate object member name "ipv4"`, reasonPrefix: true},
	{name: "invalid utf-8", value: "{\"netbios_name\":\"\xff\"}", reason: "the value is neither Avro (single-object or Confluent framed) nor valid JSON: invalid UTF-8", reasonPrefix: true},
	{name: "short single-object header", value: "\xc3\x01\x00", reason: "the value is neither Avro (single-object or Confluent framed) nor valid JSON: ", reasonPrefix: true},

	// Unknown attributes.
	{name: "unknown", value: `{"ipv4":["10.0.0.1"],"network_id":"00000000-0000-0000-0000-000000000000"}`,
		reason: `unknown attribute "network_id": Tenable's asset import has no such attribute ("network_id": imports always go to the default network)`},
	{name: "unknown, sorted", value: `{"zeta":1,"ipv4":["10.0.0.1"],"alpha":{"x":[1]},"servicenow_sysid":"x"}`,
		reason: `unknown attributes "alpha", "servicenow_sysid", "zeta": Tenable's asset import has no such attributes ("servicenow_sysid": the import spells it "servicenow_sys_id")`},
	{name: "unknown reported before type errors", value: `{"ipv4":"10.0.0.1","tenable_uuid":"x"}`,
		reason: `unknown attribute "tenable_uuid": Tenable's asset import has no such attribute`},
	{name: "unknown names capped", value: `{"a1":1,"a2":1,"a3":1,"a4":1,"a5":1,"a6":1,"a7":1,"a8":1,"a9":1,"b1":1,"b2":1,"b3":1}`,
		reason: `unknown attributes "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "b1" and 2 more: Tenable's asset import has no such attributes`},
	{name: "unknown differs in case", value: `{"IPv4":["10.0.0.1"]}`, reason: `unknown attribute "IPv4": Tenable's asset import has no such attribute`},

	// Types.
	{name: "string for an array", value: `{"ipv4":"10.0.0.1"}`, reason: `attribute "ipv4": expected an array of strings, got a string ("10.0.0.1")`},
	{name: "array for a string", value: `{"ipv4":["10.0.0.1"],"netbios_name":["A"]}`, reason: `attribute "netbios_name": expected a string, got an array`},
	{name: "number for a string", value: `{"ipv4":["10.0.0.1"],"qualys_host_id":12345}`, reason: `attribute "qualys_host_id": expected a string, got a number (12345)`},
	{name: "object for an array", value: `{"fqdn":{"a":1}}`, reason: `attribute "fqdn": expected an array of strings, got an object`},
	{name: "boolean", value: `{"ipv4":["10.0.0.1"],"netbios_name":true}`, reason: `attribute "netbios_name": expected a string, got a boolean (true)`},
	{name: "number item", value: `{"ipv4":["10.0.0.1",7]}`, reason: `attribute "ipv4": item 2 is a number (7), expected a string`},
	{name: "null item", value: `{"ipv4":[null]}`, reason: `attribute "ipv4": item 1 is null, expected a string`},
	{name: "nested array item", value: `{"fqdn":[["a.example.com"]]}`, reason: `attribute "fqdn": item 1 is an array, expected a string`},
	{name: "object item", value: `{"fqdn":[{"name":"a"}]}`, reason: `attribute "fqdn": item 1 is an object, expected a string`},
	{name: "first problem wins", value: `{"ipv4":["10.0.0.300"],"netbios_name":7}`, reason: `attribute "ipv4": "10.0.0.300" is not an IPv4 address`},

	// Strings.
	{name: "empty item", value: `{"fqdn":["a.example.com",""]}`, reason: `attribute "fqdn": item 2 is empty`},
	{name: "blank string", value: `{"ipv4":["10.0.0.1"],"netbios_name":"   "}`, reason: `attribute "netbios_name": "   " is only white space`},
	{name: "blank item", value: `{"ipv4":["10.0.0.1"],"operating_system":["\u00a0"]}`, reason: `attribute "operating_system": "\u00a0" is only white space`},
	{name: "control character", value: `{"ipv4":["10.0.0.1"],"netbios_name":"HOST\u0007"}`, reason: `attribute "netbios_name": "HOST\a" contains a control character (U+0007)`},
	{name: "newline in item", value: `{"ipv4":["10.0.0.1"],"operating_system":["Linux\nKernel"]}`, reason: `attribute "operating_system": "Linux\nKernel" contains a control character (U+000A)`},
	{name: "C1 control", value: `{"ipv4":["10.0.0.1"],"bios_uuid":"x\u0085"}`, reason: `attribute "bios_uuid": "x\u0085" contains a control character (U+0085)`},
	{name: "long value shortened", value: `{"ipv4":["` + strings.Repeat("9", 200) + `"]}`,
		reason: `attribute "ipv4": "` + strings.Repeat("9", 80) + `"… (200 bytes) is not an IPv4 address`},

	// Addresses.
	{name: "ipv4 out of range", value: `{"ipv4":["10.0.0.300"]}`, reason: `attribute "ipv4": "10.0.0.300" is not an IPv4 address`},
	{name: "ipv4 leading zero", value: `{"ipv4":["010.0.0.1"]}`, reason: `attribute "ipv4": "010.0.0.1" is not an IPv4 address`},
	{name: "ipv6 in ipv4", value: `{"ipv4":["2001:db8::1"]}`, reason: `attribute "ipv4": "2001:db8::1" is not an IPv4 address`},
	{name: "mapped ipv4 in ipv4", value: `{"ipv4":["::ffff:10.0.0.1"]}`, reason: `attribute "ipv4": "::ffff:10.0.0.1" is not an IPv4 address`},
	{name: "ipv4 with spaces", value: `{"ipv4":[" 10.0.0.1"]}`, reason: `attribute "ipv4": " 10.0.0.1" is not an IPv4 address`},
	{name: "cidr in ip_address", value: `{"fqdn":["a.example.com"],"ip_address":["10.0.0.0/8"]}`, reason: `attribute "ip_address": "10.0.0.0/8" is not an IPv4 address`},
	{name: "ipv4 in ipv6", value: `{"ipv4":["10.0.0.1"],"ipv6":["10.0.0.1"]}`, reason: `attribute "ipv6": "10.0.0.1" is not an IPv6 address`},
	{name: "ipv6 zone", value: `{"ipv4":["10.0.0.1"],"ipv6":["fe80::1%eth0"]}`, reason: `attribute "ipv6": "fe80::1%eth0" is an IPv6 address with a zone, which an asset address cannot have`},
	{name: "mac too short", value: `{"mac_address":["00:11:22:33:44"]}`, reason: `attribute "mac_address": "00:11:22:33:44" is not a MAC address`},
	{name: "mac EUI-64", value: `{"mac_address":["00:11:22:33:44:55:66:77"]}`, reason: `attribute "mac_address": "00:11:22:33:44:55:66:77" is a 64-bit hardware address, not a 48-bit MAC address`},
	{name: "101 mac addresses", value: inboundMACs(101, 0), reason: `attribute "mac_address": 101 distinct items, more than the 100 the import accepts`},

	// Host names and software.
	{name: "fqdn with space", value: `{"fqdn":["web 01.example.com"]}`, reason: `attribute "fqdn": "web 01.example.com" is not a host name: it contains white space`},
	{name: "fqdn url", value: `{"fqdn":["https://a.example.com/"]}`, reason: `attribute "fqdn": "https://a.example.com/" is not a host name: it contains ':'`},
	{name: "hostname with slash", value: `{"ipv4":["10.0.0.1"],"hostname":["a/b"]}`, reason: `attribute "hostname": "a/b" is not a host name: it contains '/'`},
	{name: "hostname with backslash", value: `{"ipv4":["10.0.0.1"],"hostname":["CORP\\web"]}`, reason: `attribute "hostname": "CORP\\web" is not a host name: it contains '\\'`},
	{name: "fqdn too long", value: `{"fqdn":["` + strings.Repeat("a.", 128) + `"]}`,
		reason: `attribute "fqdn": "` + strings.Repeat("a.", 40) + `"… (256 bytes) is not a host name: it is 256 bytes long, more than 255`},
	{name: "fqdn 255 bytes", value: `{"fqdn":["` + strings.Repeat("a.", 127) + `a"]}`, want: `{"fqdn":["` + strings.Repeat("a.", 127) + `a"]}`},
	{name: "fqdn empty label", value: `{"fqdn":["a..example.com"]}`, reason: `attribute "fqdn": "a..example.com" is not a host name: it has an empty label`},
	{name: "fqdn leading dot", value: `{"fqdn":[".example.com"]}`, reason: `attribute "fqdn": ".example.com" is not a host name: it has an empty label`},
	{name: "software not CPE", value: `{"ipv4":["10.0.0.1"],"installed_software":["OpenSSL 1.1.1k"]}`,
		reason: `attribute "installed_software": "OpenSSL 1.1.1k" is not a CPE 2.2 name (cpe:/part:vendor:product:version)`},
	{name: "software CPE 2.3", value: `{"ipv4":["10.0.0.1"],"installed_software":["cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*"]}`,
		reason: `attribute "installed_software": "cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*" is not a CPE 2.2 name (cpe:/part:vendor:product:version)`},

	// Rules across attributes.
	{name: "no identifying attribute", value: `{"hostname":["web01"],"ip_address":["10.0.0.1"],"operating_system":["Linux"]}`,
		reason: `the asset has none of the attributes "fqdn", "ipv4", "netbios_name" and "mac_address" (non-empty); Tenable needs at least one`},
	{name: "empty object", value: `{}`, reason: `the asset has none of the attributes "fqdn", "ipv4", "netbios_name" and "mac_address" (non-empty); Tenable needs at least one`},
	{name: "identifying attributes empty", value: `{"fqdn":[],"ipv4":null,"netbios_name":"","mac_address":[]}`,
		reason: `the asset has none of the attributes "fqdn", "ipv4", "netbios_name" and "mac_address" (non-empty); Tenable needs at least one`},
	{name: "aws and azure", value: `{"ipv4":["10.0.0.1"],"aws_region":"eu-west-1","azure_vm_id":"x"}`,
		reason: `attributes "azure_vm_id" (Azure) and "aws_region" (AWS) are of two cloud providers; AWS, Azure and GCP data must be imported separately`},
	{name: "gcp and aws", value: `{"ipv4":["10.0.0.1"],"aws_vpc_id":"vpc-1","gcp_instance_id":"1"}`,
		reason: `attributes "gcp_instance_id" (GCP) and "aws_vpc_id" (AWS) are of two cloud providers; AWS, Azure and GCP data must be imported separately`},
	{name: "empty cloud attribute does not count", value: `{"ipv4":["10.0.0.1"],"aws_region":"eu-west-1","azure_vm_id":""}`,
		want: `{"ipv4":["10.0.0.1"],"aws_region":"eu-west-1"}`, cloud: CloudAWS},
}

// inboundMACs is a JSON value with n distinct MAC addresses and dups duplicates.
func inboundMACs(n, dups int) string {
	var items []string
	for i := range n {
		items = append(items, fmt.Sprintf(`"02:00:00:00:%02X:%02X"`, i/256, i%256))
	}
	for i := range dups {
		items = append(items, items[i])
	}
	return `{"mac_address":[` + strings.Join(items, ",") + `]}`
}

// inboundMACList is the normalized list inboundMACs(n, _) decodes to.
func inboundMACList(n int) string {
	var items []string
	for i := range n {
		items = append(items, fmt.Sprintf(`"02:00:00:00:%02x:%02x"`, i/256, i%256))
	}
	return strings.Join(items, ",")
}

func TestDecodeJSON(t *testing.T) {
	d := NewDecoder(nil)
	for _, tc := range inboundJSONCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Decode(t.Context(), []byte(tc.value))
			tc.check(t, got, err)
		})
	}
}

func TestDecodeTombstone(t *testing.T) {
	d := NewDecoder(nil)
	for _, v := range [][]byte{nil, {}} {
		_, err := d.Decode(t.Context(), v)
		var invalid *InvalidError
		if !errors.As(err, &invalid) || invalid.Reason != "the value is empty (a tombstone): there is no asset to import" {
			t.Errorf("Decode(%q) = %v, want a tombstone *InvalidError", v, err)
		}
	}
}

// TestDecodeAttributeTypes checks the type rule of every attribute: the
// documented type is accepted, every other JSON type is refused naming the
// attribute.
func TestDecodeAttributeTypes(t *testing.T) {
	d := NewDecoder(nil)
	for _, r := range inboundAttrs {
		valid := inboundValidValue(r.name)
		base := `"netbios_name":"H",`
		if r.name == "netbios_name" {
			base = `"ipv4":["10.0.0.1"],`
		}
		t.Run(r.name, func(t *testing.T) {
			var want string
			if r.list {
				want = fmt.Sprintf(`[%q]`, valid)
			} else {
				want = fmt.Sprintf(`%q`, valid)
			}
			a, err := d.Decode(t.Context(), []byte(`{`+base+`"`+r.name+`":`+want+`}`))
			if err != nil {
				t.Fatalf("documented type refused: %v", err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(a.JSON, &got); err != nil || string(got[r.name]) != want {
				t.Fatalf("asset %s: attribute %s, want %s", a.JSON, got[r.name], want)
			}
			wrong := []string{`12`, `true`, `{"a":"b"}`, `[[` + fmt.Sprintf("%q", valid) + `]]`, `[1]`}
			if r.list {
				wrong = append(wrong, fmt.Sprintf("%q", valid))
			} else {
				wrong = append(wrong, fmt.Sprintf("[%q]", valid))
			}
			for _, w := range wrong {
				_, err := d.Decode(t.Context(), []byte(`{`+base+`"`+r.name+`":`+w+`}`))
				var invalid *InvalidError
				if !errors.As(err, &invalid) || !strings.HasPrefix(invalid.Reason, fmt.Sprintf("attribute %q: ", r.name)) {
					t.Errorf("%s = %s: got %v, want an *InvalidError naming the attribute", r.name, w, err)
				}
			}
		})
	}
}

// inboundValidValue is a valid value (or list item) of an attribute.
func inboundValidValue(name string) string {
	switch name {
	case "fqdn":
		return "host.example.com"
	case "hostname":
		return "host"
	case "ipv4", "ip_address":
		return "10.0.0.1"
	case "ipv6":
		return "2001:db8::1"
	case "mac_address":
		return "00:11:22:33:44:55"
	case "installed_software":
		return "cpe:/a:openssl:openssl:3.0.2"
	}
	return "value-of-" + name
}

// TestInboundAttrsMatchSchema: the attribute table, tenable.ImportAsset and the
// inbound_asset schema (current and every released version) name the same
// attributes, with the same types, in the same order.
func TestInboundAttrsMatchSchema(t *testing.T) {
	if err := checkInboundAttrs(); err != nil {
		t.Fatal(err)
	}
	current, err := schemas.Get(schemas.NameInboundAsset)
	if err != nil {
		t.Fatal(err)
	}
	released, err := schemas.Released(schemas.NameInboundAsset)
	if err != nil {
		t.Fatal(err)
	}
	if len(released) == 0 {
		t.Fatal("no released inbound_asset schema")
	}
	for _, s := range append(released, current) {
		var def struct {
			Fields []struct {
				Name string `json:"name"`
				Type any    `json:"type"`
			} `json:"fields"`
		}
		if err := json.Unmarshal([]byte(s.Text), &def); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range def.Fields {
			if f.Name == "extra" {
				continue
			}
			names = append(names, f.Name)
			i, ok := inboundAttrIndex[f.Name]
			if !ok {
				t.Errorf("v%d field %q is not an import attribute", s.Version, f.Name)
				continue
			}
			typ, _ := json.Marshal(f.Type)
			want := `["null","string"]`
			if inboundAttrs[i].list {
				want = `["null",{"items":"string","type":"array"}]`
			}
			if string(typ) != want {
				t.Errorf("v%d field %q has type %s, want %s", s.Version, f.Name, typ, want)
			}
		}
		if s == current {
			var table []string
			for _, r := range inboundAttrs {
				table = append(table, r.name)
			}
			if !slices.Equal(names, table) {
				t.Errorf("current schema fields %v\n attribute table %v", names, table)
			}
		}
	}
}

func TestCloudString(t *testing.T) {
	for c, want := range map[Cloud]string{CloudNone: "none", CloudAWS: "AWS", CloudAzure: "Azure", CloudGCP: "GCP", 9: "Cloud(9)"} {
		if got := c.String(); got != want {
			t.Errorf("Cloud(%d).String() = %q, want %q", uint8(c), got, want)
		}
	}
}

func TestInvalidErrorMessage(t *testing.T) {
	err := error(&InvalidError{Reason: `attribute "ipv4": "x" is not an IPv4 address`})
	if got, want := err.Error(), `invalid inbound asset: attribute "ipv4": "x" is not an IPv4 address`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// ---- Avro ----

// inboundSchema returns the current inbound_asset schema.
func inboundSchema(t testing.TB) *schemas.Schema {
	t.Helper()
	s, err := schemas.Get(schemas.NameInboundAsset)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// inboundAvroBody encodes a record of s from attribute values: []string for
// arrays, string for strings, and "extra" as a string.
func inboundAvroBody(t testing.TB, s *schemas.Schema, attrs map[string]any) []byte {
	t.Helper()
	native := map[string]any{}
	for name, v := range attrs {
		switch x := v.(type) {
		case []string:
			items := make([]any, len(x))
			for i, item := range x {
				items[i] = item
			}
			native[name] = goavro.Union("array", items)
		case string:
			native[name] = goavro.Union("string", x)
		case nil:
			native[name] = nil
		default:
			t.Fatalf("attribute %s: unexpected %T", name, v)
		}
	}
	body, err := s.Codec.BinaryFromNative(nil, native)
	if err != nil {
		t.Fatalf("encode %v: %v", attrs, err)
	}
	return body
}

func TestDecodeAvroSingleObject(t *testing.T) {
	s := inboundSchema(t)
	d := NewDecoder(nil)
	single := func(attrs map[string]any) string {
		return string(schemas.AppendSingleObject(nil, s, inboundAvroBody(t, s, attrs)))
	}
	assetSchema, err := schemas.Get(schemas.NameAsset)
	if err != nil {
		t.Fatal(err)
	}
	valid := inboundAvroBody(t, s, map[string]any{"fqdn": []string{"a.example.com"}})
	// fqdn as two blocks, the first with a negative count and a byte size (as
	// encoders that buffer blocks write them), then every other field null.
	blocks := append([]byte{2, 3, 8, 6, 'a', '.', 'b', 6, 'c', '.', 'd', 2, 6, 'e', '.', 'f', 0}, make([]byte, len(inboundAttrs))...)
	// An array block of 2^31-1 items: goavro would allocate 32 GiB for it.
	hugeBlock := []byte{2, 0xfe, 0xff, 0xff, 0xff, 0x0f}

	cases := []inboundCase{
		{name: "minimal", value: single(map[string]any{"ipv4": []string{"10.0.0.1"}}), want: `{"ipv4":["10.0.0.1"]}`},
		{name: "normalized", value: single(map[string]any{
			"netbios_name": "HOST1", "mac_address": []string{"00-11-22-33-44-55", "00:11:22:33:44:55"},
			"aws_region": "eu-west-1", "servicenow_sys_id": "abc", "operating_system": []string{},
			"bios_uuid": "", "ipv6": nil,
		}), want: `{"mac_address":["00:11:22:33:44:55"],"netbios_name":"HOST1","servicenow_sys_id":"abc","aws_region":"eu-west-1"}`, cloud: CloudAWS},
		{name: "array in blocks", value: string(schemas.AppendSingleObject(nil, s, blocks)), want: `{"fqdn":["a.b","c.d","e.f"]}`},
		{name: "empty extra object", value: single(map[string]any{"ipv4": []string{"10.0.0.1"}, "extra": "{}"}), want: `{"ipv4":["10.0.0.1"]}`},
		{name: "extra refused", value: single(map[string]any{"ipv4": []string{"10.0.0.1"}, "extra": `{"network_id":"x","custom":{"a":1}}`}),
			reason: `unknown attributes "custom", "network_id" in field "extra": Tenable's asset import has no such attributes ("network_id": imports always go to the default network)`},
		{name: "extra not an object", value: single(map[string]any{"ipv4": []string{"10.0.0.1"}, "extra": `[1]`}),
			reason: `field "extra": "[1]" is not the JSON text of an object`},
		{name: "invalid address", value: single(map[string]any{"ipv4": []string{"10.0.0.300"}}), reason: `attribute "ipv4": "10.0.0.300" is not an IPv4 address`},
		{name: "empty item", value: single(map[string]any{"fqdn": []string{""}}), reason: `attribute "fqdn": item 1 is empty`},
		{name: "invalid utf-8", value: single(map[string]any{"ipv4": []string{"10.0.0.1"}, "netbios_name": "A\xffB"}), reason: `attribute "netbios_name": "A\xffB" is not valid UTF-8`},
		{name: "control character", value: single(map[string]any{"ipv4": []string{"10.0.0.1"}, "operating_system": []string{"a\x00"}}),
			reason: `attribute "operating_system": "a\x00" contains a control character (U+0000)`},
		{name: "mixed clouds", value: single(map[string]any{"ipv4": []string{"10.0.0.1"}, "gcp_zone": "z", "azure_resource_id": "r"}),
			reason: `attributes "gcp_zone" (GCP) and "azure_resource_id" (Azure) are of two cloud providers; AWS, Azure and GCP data must be imported separately`},
		{name: "nothing identifying", value: single(map[string]any{"hostname": []string{"web"}}),
			reason: `the asset has none of the attributes "fqdn", "ipv4", "netbios_name" and "mac_address" (non-empty); Tenable needs at least one`},
		{name: "another schema", value: string(schemas.AppendSingleObject(nil, assetSchema, valid)),
			reason: fmt.Sprintf("the Avro value is written with schema io.tvmkafka.tvm.Asset v%d (asset), not the inbound asset schema", assetSchema.Version)},
		{name: "unknown fingerprint", value: "\xc3\x01\x01\x02\x03\x04\x05\x06\x07\x08" + string(valid),
			reason: "the Avro value is written with an unknown schema (fingerprint 0807060504030201), not a version of the inbound asset schema"},
		{name: "trailing bytes", value: string(schemas.AppendSingleObject(nil, s, append(slices.Clone(valid), 0, 0, 0))),
			reason: "the Avro value has 3 bytes after the inbound asset record"},
		{name: "truncated", value: string(schemas.AppendSingleObject(nil, s, valid[:len(valid)-1])),
			reason: "the Avro value does not decode with inbound asset schema v1: ", reasonPrefix: true},
		{name: "empty body", value: string(schemas.AppendSingleObject(nil, s, nil)),
			reason: "the Avro value does not decode with inbound asset schema v1: ", reasonPrefix: true},
		{name: "union index out of range", value: string(schemas.AppendSingleObject(nil, s, []byte{6})),
			reason: "the Avro value does not decode with inbound asset schema v1: union branch 3 out of range"},
		{name: "huge array block", value: string(schemas.AppendSingleObject(nil, s, hugeBlock)),
			reason: "the Avro value does not decode with inbound asset schema v1: block of 2147483647 items in 0 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Decode(t.Context(), []byte(tc.value))
			tc.check(t, got, err)
		})
	}
}

// TestDecodeAvroReleasedVersions: values written with any released version of
// the inbound schema decode.
func TestDecodeAvroReleasedVersions(t *testing.T) {
	released, err := schemas.Released(schemas.NameInboundAsset)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(nil)
	for _, s := range released {
		v := schemas.AppendSingleObject(nil, s, inboundAvroBody(t, s, map[string]any{"fqdn": []string{"a.example.com"}}))
		got, err := d.Decode(t.Context(), v)
		if err != nil || string(got.JSON) != `{"fqdn":["a.example.com"]}` {
			t.Errorf("v%d: Decode = %s, %v", s.Version, got.JSON, err)
		}
	}
}

// inboundFakeRegistry resolves schema IDs from a table; it only reads.
type inboundFakeRegistry struct {
	byID  map[int]*registry.Registered
	errs  map[int]error
	mu    sync.Mutex
	calls int
}

func (f *inboundFakeRegistry) Register(context.Context, string, *schemas.Schema) (int, error) {
	return 0, errors.New("fake registry: read only")
}

func (f *inboundFakeRegistry) SchemaByID(ctx context.Context, id int) (*registry.Registered, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err, ok := f.errs[id]; ok {
		return nil, err
	}
	if r, ok := f.byID[id]; ok {
		return r, nil
	}
	return nil, &registry.Error{StatusCode: 404, Code: 40403, Message: "Schema not found"}
}

// newInboundFakeRegistry knows ID 1 (inbound_asset), 2 (asset), 3 (a schema
// this build does not know); ID 7 is unreachable.
func newInboundFakeRegistry(t testing.TB) *inboundFakeRegistry {
	inbound := inboundSchema(t)
	asset, err := schemas.Get(schemas.NameAsset)
	if err != nil {
		t.Fatal(err)
	}
	return &inboundFakeRegistry{
		byID: map[int]*registry.Registered{
			1: {ID: 1, Canonical: inbound.Canonical, Fingerprint: inbound.Fingerprint, Known: inbound},
			2: {ID: 2, Canonical: asset.Canonical, Fingerprint: asset.Fingerprint, Known: asset},
			3: {ID: 3, Canonical: `"string"`, Fingerprint: 42},
		},
		errs: map[int]error{7: errors.New("dial tcp 127.0.0.1:8081: connection refused")},
	}
}

func TestDecodeConfluent(t *testing.T) {
	s := inboundSchema(t)
	reg := newInboundFakeRegistry(t)
	d := NewDecoder(reg)
	body := inboundAvroBody(t, s, map[string]any{"ipv4": []string{"10.0.0.1"}, "azure_vm_id": "vm-1"})
	framed := func(id int) string { return string(schemas.AppendConfluent(nil, id, body)) }
	cases := []inboundCase{
		{name: "inbound schema", value: framed(1), want: `{"ipv4":["10.0.0.1"],"azure_vm_id":"vm-1"}`, cloud: CloudAzure},
		{name: "another schema", value: framed(2),
			reason: "the value is Avro in the Confluent wire format with schema ID 2, which is io.tvmkafka.tvm.Asset v1 (asset), not the inbound asset schema"},
		{name: "schema this build does not know", value: framed(3),
			reason: "the value is Avro in the Confluent wire format with schema ID 3, a schema this build does not know, not a version of the inbound asset schema"},
		{name: "schema ID not registered", value: framed(4),
			reason: "the value is Avro in the Confluent wire format with schema ID 4, which the schema registry does not have"},
		{name: "bad body", value: string(schemas.AppendConfluent(nil, 1, []byte{2, 2})),
			reason: "the Avro value does not decode with inbound asset schema v1: ", reasonPrefix: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Decode(t.Context(), []byte(tc.value))
			tc.check(t, got, err)
		})
	}

	t.Run("registry unreachable is transient", func(t *testing.T) {
		_, err := d.Decode(t.Context(), []byte(framed(7)))
		var invalid *InvalidError
		if err == nil || errors.As(err, &invalid) || !errors.Is(err, reg.errs[7]) {
			t.Fatalf("Decode = %v, want the registry's error, not an *InvalidError", err)
		}
		if !strings.Contains(err.Error(), "resolve schema ID 7") {
			t.Errorf("error %q does not name the schema ID", err)
		}
	})
	t.Run("context ended is transient", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := d.Decode(ctx, []byte(framed(1)))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Decode = %v, want context.Canceled", err)
		}
	})
	t.Run("no registry", func(t *testing.T) {
		_, err := NewDecoder(nil).Decode(t.Context(), []byte(framed(1)))
		var invalid *InvalidError
		want := "the value is Avro in the Confluent wire format (schema ID 1), but the schema registry is not configured"
		if !errors.As(err, &invalid) || invalid.Reason != want {
			t.Fatalf("Decode = %v, want reason %q", err, want)
		}
	})
}

// TestDecodeFormsAgree: one asset in all three forms decodes to the same
// bytes.
func TestDecodeFormsAgree(t *testing.T) {
	s := inboundSchema(t)
	d := NewDecoder(newInboundFakeRegistry(t))
	attrs := map[string]any{
		"fqdn": []string{"web01.corp.example.com"}, "ipv4": []string{"10.20.30.40", "10.20.30.40"},
		"mac_address": []string{"00:50:56:AB:CD:EF"}, "operating_system": []string{"Ubuntu 22.04"},
		"installed_software": []string{"cpe:/a:nginx:nginx:1.24.0"}, "netbios_name": "WEB01",
		"servicenow_sys_id": "46d44a5cdb7f2300a8a3ce3c57961937", "aws_ec2_instance_id": "i-0123456789abcdef0",
	}
	jsonValue, err := json.Marshal(attrs)
	if err != nil {
		t.Fatal(err)
	}
	body := inboundAvroBody(t, s, attrs)
	want := `{"fqdn":["web01.corp.example.com"],"ipv4":["10.20.30.40"],"mac_address":["00:50:56:ab:cd:ef"],"operating_system":["Ubuntu 22.04"],` +
		`"installed_software":["cpe:/a:nginx:nginx:1.24.0"],"netbios_name":"WEB01","servicenow_sys_id":"46d44a5cdb7f2300a8a3ce3c57961937",` +
		`"aws_ec2_instance_id":"i-0123456789abcdef0"}`
	for name, v := range map[string][]byte{
		"json":          jsonValue,
		"single-object": schemas.AppendSingleObject(nil, s, body),
		"confluent":     schemas.AppendConfluent(nil, 1, body),
	} {
		got, err := d.Decode(t.Context(), v)
		if err != nil || string(got.JSON) != want || got.Cloud != CloudAWS {
			t.Errorf("%s: Decode = %s (%v), %v\nwant %s (AWS)", name, got.JSON, got.Cloud, err, want)
		}
	}
}

// TestDecodeConcurrent decodes from several goroutines (run with -race).
func TestDecodeConcurrent(t *testing.T) {
	s := inboundSchema(t)
	d := NewDecoder(newInboundFakeRegistry(t))
	body := inboundAvroBody(t, s, map[string]any{"ipv4": []string{"10.0.0.1"}})
	values := [][]byte{
		[]byte(`{"ipv4":["10.0.0.1"]}`),
		schemas.AppendSingleObject(nil, s, body),
		schemas.AppendConfluent(nil, 1, body),
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				got, err := d.Decode(t.Context(), values[(g+i)%len(values)])
				if err != nil || string(got.JSON) != `{"ipv4":["10.0.0.1"]}` {
					t.Errorf("Decode = %s, %v", got.JSON, err)
					return
				}
				if _, err := d.Decode(t.Context(), []byte(`{"ipv4":["x"]}`)); err == nil {
					t.Error("invalid value accepted")
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestDecodeGolden decodes testdata/inbound/*.json and compares with the
// .golden files next to them (rewrite with -update-inbound).
func TestDecodeGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "inbound", "*.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	d := NewDecoder(nil)
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			value, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			a, err := d.Decode(t.Context(), value)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			got := fmt.Sprintf("%s\ncloud: %v\n", a.JSON, a.Cloud)
			golden := strings.TrimSuffix(in, ".json") + ".golden"
			if *updateInboundGolden {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s\n got: %s\nwant: %s", in, got, want)
			}

			// The golden file is the decoder's own output; check it against
			// the input read with encoding/json and the import rules written
			// out plainly: empty and null attributes dropped, IPv6 in
			// canonical text, MAC addresses in lower-case colon form,
			// duplicates dropped (first one kept), the cloud named by the
			// attribute prefixes.
			assertInboundAssetRules(t, a)
			var input map[string]any
			if err := json.Unmarshal(value, &input); err != nil {
				t.Fatalf("input is not a JSON object: %v", err)
			}
			wantAttrs := map[string]any{}
			wantCloud := CloudNone
			for name, v := range input {
				switch v := v.(type) {
				case nil:
				case string:
					if v != "" {
						wantAttrs[name] = v
					}
				case []any:
					var items []any
					for _, x := range v {
						item := x.(string)
						switch name {
						case "ipv6":
							item = net.ParseIP(item).String()
						case "mac_address":
							hexDigits := strings.ToLower(strings.NewReplacer(":", "", "-", "", ".", "").Replace(item))
							if len(hexDigits) != 12 {
								t.Fatalf("test input MAC %q is not 48 bits", item)
							}
							var parts []string
							for i := 0; i < 12; i += 2 {
								parts = append(parts, hexDigits[i:i+2])
							}
							item = strings.Join(parts, ":")
						}
						if !slices.Contains(items, any(item)) {
							items = append(items, item)
						}
					}
					if len(items) > 0 {
						wantAttrs[name] = items
					}
				default:
					t.Fatalf("test input %s has a %T", name, v)
				}
				if _, ok := wantAttrs[name]; ok {
					switch {
					case strings.HasPrefix(name, "aws_"):
						wantCloud = CloudAWS
					case strings.HasPrefix(name, "azure_"):
						wantCloud = CloudAzure
					case strings.HasPrefix(name, "gcp_"):
						wantCloud = CloudGCP
					}
				}
			}
			var gotAttrs map[string]any
			if err := json.Unmarshal(a.JSON, &gotAttrs); err != nil {
				t.Fatalf("decoded asset is not a JSON object: %v", err)
			}
			if !reflect.DeepEqual(gotAttrs, wantAttrs) {
				t.Errorf("decoded attributes differ from the input:\n got: %v\nwant: %v", gotAttrs, wantAttrs)
			}
			if a.Cloud != wantCloud {
				t.Errorf("cloud %v, want %v", a.Cloud, wantCloud)
			}
		})
	}
}

// TestDecodePyTenableSample decodes the asset of the import request pyTenable
// recorded and builds the same request body, compacted, without the empty
// attributes.
func TestDecodePyTenableSample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "pytenable-cassette-import-assets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample struct {
		Payload struct {
			RequestBody struct {
				Source string            `json:"source"`
				Assets []json.RawMessage `json:"assets"`
			} `json:"request_body"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(raw, &sample); err != nil {
		t.Fatal(err)
	}
	req := sample.Payload.RequestBody
	b, err := NewBodyBuilder(req.Source, tenable.MaxImportBodyBytes)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(nil)
	for _, v := range req.Assets {
		a, err := d.Decode(t.Context(), v)
		if err != nil {
			t.Fatalf("Decode(%s): %v", v, err)
		}
		if err := b.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"source":"pytest","assets":[{"fqdn":["example.py.test"],"ipv4":["192.168.254.1"]}]}`
	if string(b.Bytes()) != want {
		t.Errorf("body\n got: %s\nwant: %s", b.Bytes(), want)
	}
}

// assertInboundAssetRules checks a decoded asset against the rules
// independently of the decoder: compact JSON of known attributes in import
// order, documented types, no empties or duplicates, addresses that parse, at
// most 100 MAC addresses, an identifying attribute, one cloud provider, which
// is a.Cloud.
func assertInboundAssetRules(t testing.TB, a Asset) {
	t.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, a.JSON); err != nil || !bytes.Equal(compact.Bytes(), a.JSON) {
		t.Fatalf("asset JSON %q is not compact JSON: %v", a.JSON, err)
	}
	var ia tenable.ImportAsset
	dec := json.NewDecoder(bytes.NewReader(a.JSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ia); err != nil {
		t.Fatalf("asset JSON %s: %v", a.JSON, err)
	}
	again, err := jsonv2.Marshal(ia) // the encoding of the import client
	if err != nil || !bytes.Equal(again, a.JSON) {
		t.Fatalf("asset JSON %s is not in import order (re-encoded %s)", a.JSON, again)
	}
	v, typ := reflect.ValueOf(ia), reflect.TypeOf(ia)
	clouds := map[Cloud]bool{}
	identified := false
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		f := v.Field(i)
		if f.IsZero() {
			continue
		}
		var values []string
		if f.Kind() == reflect.Slice {
			values = f.Interface().([]string)
			seen := map[string]bool{}
			for _, s := range values {
				if seen[s] {
					t.Fatalf("%s: duplicate %q in %s", a.JSON, s, name)
				}
				seen[s] = true
			}
		} else {
			values = []string{f.String()}
		}
		for _, s := range values {
			if strings.TrimSpace(s) == "" || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }) >= 0 {
				t.Fatalf("%s: %s value %q is blank or has a control character", a.JSON, name, s)
			}
			switch name {
			case "ipv4", "ip_address":
				if ip, err := netip.ParseAddr(s); err != nil || !ip.Is4() {
					t.Fatalf("%s: %s %q is not IPv4", a.JSON, name, s)
				}
			case "ipv6":
				if ip, err := netip.ParseAddr(s); err != nil || !ip.Is6() || ip.Zone() != "" {
					t.Fatalf("%s: %s %q is not IPv6", a.JSON, name, s)
				}
			case "mac_address":
				if hw, err := net.ParseMAC(s); err != nil || len(hw) != 6 {
					t.Fatalf("%s: %s %q is not a MAC address", a.JSON, name, s)
				}
			case "fqdn", "hostname":
				if len(s) > 255 || strings.ContainsAny(s, " /\\") {
					t.Fatalf("%s: %s %q is not a host name", a.JSON, name, s)
				}
			}
		}
		if name == "mac_address" && len(values) > 100 {
			t.Fatalf("%s: %d MAC addresses", a.JSON, len(values))
		}
		switch name {
		case "fqdn", "ipv4", "netbios_name", "mac_address":
			identified = true
		}
		switch {
		case strings.HasPrefix(name, "aws_"):
			clouds[CloudAWS] = true
		case strings.HasPrefix(name, "azure_"):
			clouds[CloudAzure] = true
		case strings.HasPrefix(name, "gcp_"):
			clouds[CloudGCP] = true
		}
	}
	if !identified {
		t.Fatalf("%s: no identifying attribute", a.JSON)
	}
	if len(clouds) > 1 || len(clouds) == 1 && !clouds[a.Cloud] || len(clouds) == 0 && a.Cloud != CloudNone {
		t.Fatalf("%s: clouds %v, Cloud %v", a.JSON, clouds, a.Cloud)
	}
}

// TestDecodeAvroLaterVersion: a field a later inbound schema version adds, and
// this build's attribute table does not know, is refused by name when set.
func TestDecodeAvroLaterVersion(t *testing.T) {
	current := inboundSchema(t)
	text := strings.Replace(current.Text, `{"name": "extra"`,
		`{"name": "asset_tag", "type": ["null", "string"], "default": null, "doc": "A later attribute."},
    {"name": "extra"`, 1)
	codec, err := goavro.NewCodec(text)
	if err != nil {
		t.Fatal(err)
	}
	canonical, _, err := schemas.CanonicalFingerprint(text)
	if err != nil {
		t.Fatal(err)
	}
	guard, err := schemas.NewAvroGuard(canonical)
	if err != nil {
		t.Fatal(err)
	}
	later := &inboundAvroSchema{schema: &schemas.Schema{Name: schemas.NameInboundAsset, Version: current.Version + 1, Codec: codec}, guard: guard}
	for _, tc := range []inboundCase{
		{name: "later field unset", value: string(inboundAvroBody(t, later.schema, map[string]any{"ipv4": []string{"10.0.0.1"}})), want: `{"ipv4":["10.0.0.1"]}`},
		{name: "later field set", value: string(inboundAvroBody(t, later.schema, map[string]any{"ipv4": []string{"10.0.0.1"}, "asset_tag": "T-1"})),
			reason: `unknown attribute "asset_tag": Tenable's asset import has no such attribute`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := later.decode([]byte(tc.value), nil)
			tc.check(t, got, err)
		})
	}
}
