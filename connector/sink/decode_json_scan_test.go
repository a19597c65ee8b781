package sink

import (
	"fmt"
	"strings"
	"testing"
)

// scanCases are values around the edges of the fast path's form, besides
// inboundJSONCases.
var scanCases = []string{
	`{}`, ` {} `, `{ }`, `{`, `}`, `{"fqdn":["a.example.com"]}`, `{"fqdn":["a.example.com"],}`, `{"fqdn":["a.example.com"]`,
	`{"fqdn":["a.example.com"]} x`, `{"fqdn":["a.example.com"]}{}`, `{"fqdn":[]}`, `{"fqdn":[ ]}`, `{"fqdn":[,]}`, `{"fqdn":["a",]}`,
	`{"fqdn":["a.example.com"] "ipv4":["10.0.0.1"]}`, `{"fqdn" ["a.example.com"]}`, `{"fqdn":null}`, `{"fqdn":nul}`, `{"fqdn":nullx}`,
	`{"fqdn":null,"ipv4":["10.0.0.1"]}`, `{"netbios_name":null,"ipv4":["10.0.0.1"]}`, `{"netbios_name":"","ipv4":["10.0.0.1"]}`,
	`{"netbios_name":"H","netbios_name":"H"}`, `{"fqdn":["a.example.com"],"fqdn":["b.example.com"]}`,
	`{"netbios_name":["H"]}`, `{"fqdn":"a.example.com"}`, `{"fqdn":[1]}`, `{"fqdn":[null]}`, `{"fqdn":["a.example.com",1]}`,
	`{"netbios_name":1}`, `{"netbios_name":true}`, `{"netbios_name":{}}`, `{"unknown":"x"}`, `{"unknown":"x","fqdn":["a.example.com"]}`,
	`{"fq\u0064n":["a.example.com"]}`, `{"fqdn":["a\u002eexample.com"]}`, `{"fqdn":["a.example.com\n"]}`, "{\"fqdn\":[\"a.exa\tmple.com\"]}",
	`{"netbios_name":"Zürich"}`, "{\"netbios_name\":\"\xff\"}", `{"fqdn":["a b"]}`, `{"fqdn":[" "]}`, `{"netbios_name":" "}`,
	`{"fqdn":["A.Example.COM","a.example.com"]}`, `{"mac_address":["00-11-22-33-44-55","00:11:22:33:44:55"]}`,
	`{"ipv4":["10.0.0.1","10.0.0.1","10.0.0.2"]}`, `{"ipv4":["10.0.0.256"]}`, `{"ipv6":["2001:DB8::1"]}`,
	`{"aws_region":"eu-west-1","azure_vm_id":"x","fqdn":["a.example.com"]}`, `{"aws_region":"eu-west-1","fqdn":["a.example.com"]}`,
	`{"installed_software":["cpe:/a:x:y:1"],"netbios_name":"H"}`, `{"installed_software":["not a cpe"],"netbios_name":"H"}`,
	" \t\r\n{ \t\r\n\"fqdn\" \t\r\n: \t\r\n[ \t\r\n\"a.example.com\" \t\r\n, \"b.example.com\" ] \t\r\n, \"netbios_name\" : \"H\" } \t\r\n",
	"{\"fqdn\":[\"a.example.com\"]}\x00", `{"fqdn":["a.example.com"]}/`, `{"fqdn":["a.example.com"]`, `{"fqdn":["a.example.com"`,
	`{"fqdn":["a.example.com`, `{"fqdn":[`, `{"fqdn":`, `{"fqdn"`, `{"fq`, `[]`, `"x"`, `null`, ``, ` `,
}

// compareScanToDecoder checks that when scanJSON takes value, the JSON
// decoder reads it to the same asset, or the same reason.
func compareScanToDecoder(t *testing.T, value []byte) (scanned bool) {
	t.Helper()
	var fast inboundCollector
	fast.reset()
	if !fast.scanJSON(value) {
		return false
	}
	a, err := fast.finish(nil)
	var full inboundJSONState
	full.dec = inboundJSONPool.New().(*inboundJSONState).dec
	full.c.reset()
	b, errFull := full.decode(value, nil)
	if string(a.JSON) != string(b.JSON) || a.Cloud != b.Cloud || fmt.Sprint(err) != fmt.Sprint(errFull) {
		t.Errorf("%q: fast path %s (%v), %v; JSON decoder %s (%v), %v", value, a.JSON, a.Cloud, err, b.JSON, b.Cloud, errFull)
	}
	return true
}

// TestScanJSONAgreesWithTheDecoder: whatever the fast path of JSON values
// takes, the JSON decoder reads to the same asset or the same reason; what it
// does not take, Decode still decodes as before (the decode cases cover it).
func TestScanJSONAgreesWithTheDecoder(t *testing.T) {
	scanned := 0
	for _, tc := range inboundJSONCases {
		if compareScanToDecoder(t, []byte(tc.value)) {
			scanned++
		}
	}
	for _, v := range scanCases {
		if compareScanToDecoder(t, []byte(v)) {
			scanned++
		}
	}
	if scanned < 20 {
		t.Errorf("the fast path took only %d of the cases", scanned)
	}
}

// TestScanJSONTakesTheCommonForm: the values a CMDB or an inventory script
// sends, compact or indented, never reach the JSON decoder; Decode returns
// their assets as before.
func TestScanJSONTakesTheCommonForm(t *testing.T) {
	var sw []string
	for j := range 12 {
		sw = append(sw, fmt.Sprintf(`"cpe:/a:vendor%d:product%d:1.%d"`, j, j, j))
	}
	values := []string{
		`{"fqdn":["host-000001.corp.example.com"],"ipv4":["10.0.0.1"],"netbios_name":"HOST000001","mac_address":["02:00:00:00:01:01"],"operating_system":["Ubuntu 24.04"]}`,
		`{"fqdn":["srv-000001.corp.example.com"],"ipv4":["10.0.0.1"],"ipv6":["fd00::1:1"],"mac_address":["02:00:00:00:01:01"],"netbios_name":"SRV000001",` +
			`"hostname":["srv-000001"],"operating_system":["Microsoft Windows Server 2022 Standard"],"ssh_fingerprint":"SHA256:00ff",` +
			`"bios_uuid":"4c4c4544-0001-0000-8000-000000000001","manufacturer_tpm_id":"tpm-00000001","installed_software":[` + strings.Join(sw, ",") + `]}`,
		"{\n  \"fqdn\": [\"a.example.com\", \"b.example.com\"],\n  \"aws_region\": \"eu-west-1\",\n  \"aws_vpc_id\": null\n}\n",
	}
	d := NewDecoder(nil)
	for _, v := range values {
		if !compareScanToDecoder(t, []byte(v)) {
			t.Errorf("the fast path did not take %s", v)
		}
		a, err := d.Decode(t.Context(), []byte(v))
		if err != nil {
			t.Fatalf("Decode(%s): %v", v, err)
		}
		var out []byte
		b, err := d.decode(t.Context(), []byte(v), &out)
		if err != nil || string(b.JSON) != string(a.JSON) || b.Cloud != a.Cloud || &b.JSON[0] != &out[0] {
			t.Errorf("decode into a buffer: %s (%v), %v; want %s (%v) in the buffer", b.JSON, b.Cloud, err, a.JSON, a.Cloud)
		}
	}
}

// FuzzScanJSON: the fast path and the JSON decoder agree on every value the
// fast path takes.
func FuzzScanJSON(f *testing.F) {
	for _, tc := range inboundJSONCases {
		f.Add([]byte(tc.value))
	}
	for _, v := range scanCases {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		compareScanToDecoder(t, value)
	})
}
