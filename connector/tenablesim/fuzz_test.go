package tenablesim

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseImport: whatever the body, parsing an import request never panics,
// and a body it accepts is one encoding/json reads as a request with a source
// and as many assets, each with an identifier.
func FuzzParseImport(f *testing.F) {
	for _, seed := range []string{
		`{"source":"tvmkafka Kafka Connector","assets":[{"fqdn":["a.example"],"ipv4":["192.0.2.1"]},{"netbios_name":"HOST"}]}`,
		`{"assets":[{"mac_address":["02:00:00:00:00:01"],"operating_system":null}],"source":"s"}`,
		`{"source":"s","assets":[]}`,
		`{"source":"s","assets":[{"fqdn":"x"}]}`,
		`{"source":"s","assets":[{"hostname":["h"]}]}`,
		`{"source":"s","assets":{}}`,
		`{"source":1,"assets":[{"fqdn":["a"]}]}`,
		`{"source":"s","assets":[{"fqdn":["a"]}],"extra":true}`,
		`{"source":"s","source":"t","assets":[{"fqdn":["a"],"fqdn":["b"]}]}`,
		`[]`, `null`, ``, `{"source":"s","assets":[{"fqdn":["a"]}]} {}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		source, assets, err := parseImport(body)
		if err != nil {
			return
		}
		if strings.TrimSpace(source) == "" || len(assets) == 0 {
			t.Fatalf("accepted a request without a source or assets: %q %d", source, len(assets))
		}
		for i, a := range assets {
			if len(nonEmpty(a.arrays["fqdn"])) == 0 && len(nonEmpty(a.ipv4())) == 0 && a.strings["netbios_name"] == "" &&
				len(nonEmpty(a.arrays["mac_address"])) == 0 {
				t.Fatalf("accepted asset %d without an identifier", i)
			}
		}
		var req struct {
			Source string `json:"source"`
			Assets []any  `json:"assets"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		if req.Source != source || len(req.Assets) != len(assets) {
			t.Fatalf("encoding/json reads source %q and %d assets, parseImport %q and %d", req.Source, len(req.Assets), source, len(assets))
		}
	})
}
