package sink

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
)

// inboundAssetGen makes realistic inbound assets, as a CMDB or a cloud
// inventory would produce them: a few names and addresses, an operating
// system, sometimes a software inventory of CPE names, sometimes one cloud's
// attributes.
type inboundAssetGen struct {
	rng *rand.Rand
	dec *Decoder
}

func newInboundAssetGen(seed uint64) *inboundAssetGen {
	return &inboundAssetGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), dec: NewDecoder(nil)}
}

var inboundGenSoftware = []string{"openssl:openssl", "apache:http_server", "nginx:nginx", "oracle:jdk", "microsoft:office",
	"google:chrome", "mozilla:firefox", "postgresql:postgresql", "mysql:mysql", "python:python", "openbsd:openssh", "zoom:zoom"}

// value returns the JSON value of one random asset.
func (g *inboundAssetGen) value() []byte {
	r := g.rng
	host := fmt.Sprintf("host-%05d", r.IntN(100000))
	attrs := map[string]any{}
	if r.IntN(10) < 8 {
		attrs["fqdn"] = []string{host + ".corp.example.com"}
	}
	var ips []string
	for range 1 + r.IntN(3) {
		ips = append(ips, fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254)))
	}
	attrs["ipv4"] = ips
	if r.IntN(3) == 0 {
		attrs["ipv6"] = []string{fmt.Sprintf("2001:db8:%x::%x", r.IntN(65536), 1+r.IntN(65535))}
	}
	if r.IntN(2) == 0 {
		var macs []string
		for range 1 + r.IntN(4) {
			macs = append(macs, fmt.Sprintf("00:50:56:%02x:%02x:%02x", r.IntN(256), r.IntN(256), r.IntN(256)))
		}
		attrs["mac_address"] = macs
	}
	attrs["hostname"] = []string{host}
	attrs["operating_system"] = []string{[]string{"Microsoft Windows Server 2022", "Ubuntu 22.04.4 LTS", "Red Hat Enterprise Linux 9.3", "macOS 14.4"}[r.IntN(4)]}
	if n := r.IntN(60); n > 10 {
		var sw []string
		for range n {
			sw = append(sw, fmt.Sprintf("cpe:/a:%s:%d.%d.%d", inboundGenSoftware[r.IntN(len(inboundGenSoftware))], r.IntN(20), r.IntN(20), r.IntN(100)))
		}
		attrs["installed_software"] = sw
	}
	if r.IntN(2) == 0 {
		attrs["netbios_name"] = strings.ToUpper(host)
	}
	if r.IntN(2) == 0 {
		attrs["servicenow_sys_id"] = fmt.Sprintf("%032x", r.Uint64())
		attrs["bios_uuid"] = fmt.Sprintf("%08X-%04X-%04X-%04X-%012X", r.Uint32(), r.IntN(65536), r.IntN(65536), r.IntN(65536), r.Uint64()&0xffffffffffff)
	}
	switch r.IntN(6) {
	case 0:
		attrs["aws_ec2_instance_id"] = fmt.Sprintf("i-%017x", r.Uint64()&0xfffffffffffffff)
		attrs["aws_region"] = "eu-west-1"
		attrs["aws_availability_zone"] = "eu-west-1a"
		attrs["aws_owner_id"] = fmt.Sprintf("%012d", r.Int64N(1e12))
		attrs["aws_vpc_id"] = fmt.Sprintf("vpc-%08x", r.Uint32())
	case 1:
		attrs["azure_vm_id"] = fmt.Sprintf("%08x-0000-4000-8000-%012x", r.Uint32(), r.Uint64()&0xffffffffffff)
	case 2:
		attrs["gcp_project_id"] = "prod-314159"
		attrs["gcp_zone"] = "europe-west1-b"
		attrs["gcp_instance_id"] = fmt.Sprintf("%d", r.Uint64()>>1)
	}
	v, err := json.Marshal(attrs)
	if err != nil {
		panic(err)
	}
	return v
}

// asset returns one random decoded asset.
func (g *inboundAssetGen) asset(t testing.TB) Asset {
	t.Helper()
	v := g.value()
	a, err := g.dec.Decode(t.Context(), v)
	if err != nil {
		t.Fatalf("generated asset %s: %v", v, err)
	}
	return a
}

// paddedInboundAsset is a valid asset whose JSON is exactly size bytes long
// (size >= 60): an operating_system item pads it.
func paddedInboundAsset(t testing.TB, size int) Asset {
	t.Helper()
	const frame = `{"ipv4":["10.0.0.1"],"operating_system":[""]}`
	if size < len(frame)+1 {
		t.Fatalf("padded asset of %d bytes is too small", size)
	}
	v := fmt.Sprintf(`{"ipv4":["10.0.0.1"],"operating_system":["%s"]}`, strings.Repeat("x", size-len(frame)))
	a, err := NewDecoder(nil).Decode(t.Context(), []byte(v))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.JSON) != size {
		t.Fatalf("padded asset is %d bytes, want %d", len(a.JSON), size)
	}
	return a
}

// checkBuiltBody checks that the body's size is exact and that it decodes to source
// and the assets added.
func checkBuiltBody(t testing.TB, b *BodyBuilder, source string, added []Asset) {
	t.Helper()
	body := b.Bytes()
	if b.Len() != len(body) {
		t.Fatalf("Len() = %d, len(Bytes()) = %d", b.Len(), len(body))
	}
	if b.Count() != len(added) {
		t.Fatalf("Count() = %d, want %d", b.Count(), len(added))
	}
	if !json.Valid(body) {
		t.Fatalf("body is not valid JSON: %.200s", body)
	}
	var req struct {
		Source string            `json:"source"`
		Assets []json.RawMessage `json:"assets"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	if req.Source != source || req.Assets == nil || len(req.Assets) != len(added) {
		t.Fatalf("body has source %q and %d assets, want %q and %d", req.Source, len(req.Assets), source, len(added))
	}
	for i, a := range req.Assets {
		if string(a) != string(added[i].JSON) {
			t.Fatalf("asset %d is %s, want %s", i, a, added[i].JSON)
		}
	}
	var typed tenable.ImportRequest
	if err := json.Unmarshal(body, &typed); err != nil || len(typed.Assets) != len(added) {
		t.Fatalf("body does not decode as an import request: %v", err)
	}
}

func TestBodyBuilderSizesExact(t *testing.T) {
	g := newInboundAssetGen(1)
	const source = "tvmkafka Kafka Connector"
	const maxBytes = 30_000
	b, err := NewBodyBuilder(source, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	checkBuiltBody(t, b, source, nil)
	var added []Asset
	for range 1000 {
		a := g.asset(t)
		fits := b.Fits(a)
		err := b.Add(a)
		switch {
		case fits && err != nil:
			t.Fatalf("Fits but Add: %v", err)
		case !fits && !errors.Is(err, ErrBodyFull):
			t.Fatalf("does not fit but Add: %v", err)
		case err == nil:
			added = append(added, a)
		default:
			checkBuiltBody(t, b, source, added) // a full body is unchanged
			b.Reset()
			added = added[:0]
			checkBuiltBody(t, b, source, nil)
			continue
		}
		checkBuiltBody(t, b, source, added)
		if b.Len() >= maxBytes {
			t.Fatalf("body reached %d bytes", b.Len())
		}
	}
}

// TestBodyBuilderFillsToTheLimit: a body filled until the next asset does not
// fit is below the limit, and the next asset would take it to the limit or
// beyond.
func TestBodyBuilderFillsToTheLimit(t *testing.T) {
	g := newInboundAssetGen(2)
	corpus := make([]Asset, 512)
	for i := range corpus {
		corpus[i] = g.asset(t)
	}
	next := 0
	for _, maxBytes := range []int{1024, 10_000, 65_536, 1_000_000, tenable.MaxImportBodyBytes} {
		t.Run(fmt.Sprint(maxBytes), func(t *testing.T) {
			b, err := NewBodyBuilder("cmdb", maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			empty := b.Len()
			for round := range 3 {
				var a Asset
				for {
					a = corpus[next%len(corpus)]
					next++
					if empty+len(a.JSON) >= maxBytes {
						continue // too large for any body of this limit
					}
					if !b.Fits(a) {
						break
					}
					if err := b.Add(a); err != nil {
						t.Fatal(err)
					}
				}
				if b.Len() >= maxBytes {
					t.Fatalf("round %d: body of %d bytes, limit %d", round, b.Len(), maxBytes)
				}
				if grown := b.Len() + 1 + len(a.JSON); grown < maxBytes {
					t.Fatalf("round %d: Fits false but the body would be %d < %d bytes", round, grown, maxBytes)
				}
				if err := b.Add(a); !errors.Is(err, ErrBodyFull) {
					t.Fatalf("Add of an asset that does not fit: %v, want ErrBodyFull", err)
				}
				if !json.Valid(b.Bytes()) || b.Len() != len(b.Bytes()) {
					t.Fatal("full body is not exact valid JSON")
				}
				b.Reset()
			}
		})
	}
}

// TestBodyBuilderFiveMegabyteBoundary lands a body on 4,999,999 bytes (sent)
// and on 5,000,000 bytes (refused).
func TestBodyBuilderFiveMegabyteBoundary(t *testing.T) {
	const source = "tvmkafka Kafka Connector"
	b, err := NewBodyBuilder(source, tenable.MaxImportBodyBytes)
	if err != nil {
		t.Fatal(err)
	}
	big := paddedInboundAsset(t, 1_000_000)
	var added []Asset
	for range 4 {
		if err := b.Add(big); err != nil {
			t.Fatal(err)
		}
		added = append(added, big)
	}
	// The last asset adds a comma and its JSON.
	gap := tenable.MaxImportBodyBytes - b.Len() - 1
	reaches := paddedInboundAsset(t, gap) // body of exactly 5,000,000 bytes
	below := paddedInboundAsset(t, gap-1) // body of exactly 4,999,999 bytes
	if b.Fits(reaches) {
		t.Fatal("an asset that takes the body to 5,000,000 bytes fits")
	}
	if err := b.Add(reaches); !errors.Is(err, ErrBodyFull) {
		t.Fatalf("Add to 5,000,000 bytes: %v, want ErrBodyFull", err)
	}
	if !b.Fits(below) {
		t.Fatal("an asset that takes the body to 4,999,999 bytes does not fit")
	}
	if err := b.Add(below); err != nil {
		t.Fatal(err)
	}
	added = append(added, below)
	if b.Len() != 4_999_999 {
		t.Fatalf("body is %d bytes, want 4,999,999", b.Len())
	}
	checkBuiltBody(t, b, source, added)
	if tiny := paddedInboundAsset(t, 60); b.Fits(tiny) || !errors.Is(b.Add(tiny), ErrBodyFull) {
		t.Fatal("a full body accepts another asset")
	}

	// One asset alone: the largest that fits an empty body, and one byte more.
	b.Reset()
	room := tenable.MaxImportBodyBytes - 1 - b.Len()
	if err := b.Add(paddedInboundAsset(t, room+1)); !errors.Is(err, ErrAssetTooLarge) {
		t.Fatalf("Add of an asset that fills an empty body to 5,000,000 bytes: %v, want ErrAssetTooLarge", err)
	}
	if b.Count() != 0 || b.Len() != len(`{"source":"tvmkafka Kafka Connector","assets":[]}`) {
		t.Fatalf("refused asset changed the body: %d assets, %d bytes", b.Count(), b.Len())
	}
	if err := b.Add(paddedInboundAsset(t, room)); err != nil || b.Len() != 4_999_999 {
		t.Fatalf("Add of the largest asset: %v, body %d bytes", err, b.Len())
	}
}

func TestNewBodyBuilder(t *testing.T) {
	cases := []struct {
		source   string
		maxBytes int
		wantErr  string
	}{
		{source: "", maxBytes: 1000, wantErr: "import body: source is empty"},
		{source: "s", maxBytes: tenable.MaxImportBodyBytes + 1, wantErr: "import body: limit of 5000001 bytes is above Tenable's 5000000"},
		{source: "s", maxBytes: len(`{"source":"s","assets":[]}`), wantErr: "import body: limit of 26 bytes leaves no room for an asset (the envelope alone takes 26)"},
		{source: "s\xff", maxBytes: 1000, wantErr: `import body: source "s\xff": `},
		{source: "s", maxBytes: len(`{"source":"s","assets":[]}`) + 1},
		{source: "s", maxBytes: tenable.MaxImportBodyBytes},
	}
	for _, tc := range cases {
		b, err := NewBodyBuilder(tc.source, tc.maxBytes)
		if tc.wantErr == "" {
			if err != nil || b.Len() != len(b.Bytes()) || b.Count() != 0 {
				t.Errorf("NewBodyBuilder(%q, %d) = %v", tc.source, tc.maxBytes, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
			t.Errorf("NewBodyBuilder(%q, %d) error = %v, want %q", tc.source, tc.maxBytes, err, tc.wantErr)
		}
	}
}

func TestBodyBuilderEscapesSource(t *testing.T) {
	for _, source := range []string{`Vendor "Quoted" Product`, `back\slash`, "tab\tand\nnewline\x00", "Ünïcödé <&> \u2028", "emoji 🛰"} {
		b, err := NewBodyBuilder(source, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		a := paddedInboundAsset(t, 100)
		if err := b.Add(a); err != nil {
			t.Fatal(err)
		}
		checkBuiltBody(t, b, source, []Asset{a})
	}
}

func TestBodyBuilderEmptyAndReset(t *testing.T) {
	b, err := NewBodyBuilder("cmdb", 10_000)
	if err != nil {
		t.Fatal(err)
	}
	const empty = `{"source":"cmdb","assets":[]}`
	if string(b.Bytes()) != empty || b.Len() != len(empty) {
		t.Fatalf("empty body %s (%d bytes), want %s", b.Bytes(), b.Len(), empty)
	}
	a1, a2 := paddedInboundAsset(t, 70), paddedInboundAsset(t, 80)
	for _, a := range []Asset{a1, a2} {
		if err := b.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	if want := `{"source":"cmdb","assets":[` + string(a1.JSON) + `,` + string(a2.JSON) + `]}`; string(b.Bytes()) != want {
		t.Fatalf("body %s, want %s", b.Bytes(), want)
	}
	b.Reset()
	if string(b.Bytes()) != empty || b.Count() != 0 {
		t.Fatalf("after Reset: %s, %d assets", b.Bytes(), b.Count())
	}
	if err := b.Add(a2); err != nil || string(b.Bytes()) != `{"source":"cmdb","assets":[`+string(a2.JSON)+`]}` {
		t.Fatalf("after Reset and Add: %s, %v", b.Bytes(), err)
	}
}

func TestBodyBuilderRefusesNonObjects(t *testing.T) {
	b, err := NewBodyBuilder("cmdb", 10_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []Asset{{}, {JSON: []byte(`[]`)}, {JSON: []byte(`{`)}} {
		if err := b.Add(a); err == nil || errors.Is(err, ErrBodyFull) || errors.Is(err, ErrAssetTooLarge) {
			t.Errorf("Add(%q) = %v, want an error", a.JSON, err)
		}
	}
	if b.Count() != 0 || !json.Valid(b.Bytes()) {
		t.Fatal("refused assets changed the body")
	}
}

// TestBodyBuilderGivesBackItsAssets: the sink keeps assets only in their body
// and takes them back from it to split a refused request; each must come
// back as it was added, cloud provider included, also after a Reset.
func TestBodyBuilderGivesBackItsAssets(t *testing.T) {
	b, err := NewBodyBuilder("cmdb", 10_000)
	if err != nil {
		t.Fatal(err)
	}
	added := []Asset{paddedInboundAsset(t, 70), paddedInboundAsset(t, 90), paddedInboundAsset(t, 80)}
	added[1].Cloud = CloudAWS
	for round := range 2 {
		for _, a := range added {
			if err := b.Add(a); err != nil {
				t.Fatal(err)
			}
		}
		for i, want := range added {
			if got := b.Asset(i); string(got.JSON) != string(want.JSON) || got.Cloud != want.Cloud {
				t.Errorf("round %d: Asset(%d) = %s (%v), want %s (%v)", round, i, got.JSON, got.Cloud, want.JSON, want.Cloud)
			}
		}
		b.Reset()
		added = added[1:] // the second round starts with another asset
	}
}
