package tenable

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/tvmkafka/tvmkafka/schemas"
)

// findingsPerAsset is a typical count: most are informational, a few are not.
const findingsPerAsset = 35

// vulnChunkReader streams a vuln chunk of assets x findingsPerAsset findings built
// from the recorded real findings, with a distinct asset UUID per asset and a
// distinct plugin/port per finding, without holding the chunk in memory.
type vulnChunkReader struct {
	templates [][]byte // records with a placeholder asset UUID
	uuidAt    []int    // offset of the placeholder in each template
	assets    int
	next      int // index of the next record
	total     int
	buf       []byte
	off       int // read position in buf
	closed    bool
}

const uuidPlaceholder = "aaaaaaaa-0000-4000-8000-000000000000"

func newVulnChunkReader(tb testing.TB, assets int) *vulnChunkReader {
	tb.Helper()
	var samples []map[string]any
	for _, f := range []string{"j1-vuln-export-records-2022.json", "pytenable-cassette-vuln-export-records-2018.json", "openapi-vuln-export-chunk-example.json"} {
		var recs []map[string]any
		if err := json.Unmarshal(recorded(tb, f), &recs); err != nil {
			tb.Fatal(err)
		}
		samples = append(samples, recs...)
	}
	r := &vulnChunkReader{assets: assets, total: assets * findingsPerAsset}
	ports := []float64{0, 0, 0, 22, 443, 445, 3389, 161, 80, 8443}
	for i := range findingsPerAsset {
		rec := samples[i%len(samples)]
		rec["asset"].(map[string]any)["uuid"] = uuidPlaceholder
		rec["plugin"].(map[string]any)["id"] = float64(10000 + i*37)
		rec["port"] = map[string]any{"port": ports[i%len(ports)], "protocol": "TCP"}
		b, err := json.Marshal(rec, json.Deterministic(true))
		if err != nil {
			tb.Fatal(err)
		}
		r.templates = append(r.templates, b)
		r.uuidAt = append(r.uuidAt, bytes.Index(b, []byte(uuidPlaceholder)))
	}
	return r
}

func (r *vulnChunkReader) Read(p []byte) (int, error) {
	if r.off == len(r.buf) {
		if r.closed {
			return 0, io.EOF
		}
		r.fill()
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// fill renders the next batch of records into the reused buffer.
func (r *vulnChunkReader) fill() {
	r.buf, r.off = r.buf[:0], 0
	if r.next == 0 {
		r.buf = append(r.buf, '[')
	}
	for len(r.buf) < 64<<10 && r.next < r.total {
		i := r.next % findingsPerAsset
		if r.next > 0 {
			r.buf = append(r.buf, ',')
		}
		start := len(r.buf)
		r.buf = append(r.buf, r.templates[i]...)
		// Overwrite the last 12 digits of the placeholder UUID with the asset number.
		digits := r.buf[start+r.uuidAt[i]+24 : start+r.uuidAt[i]+36]
		for j, v := len(digits)-1, r.next/findingsPerAsset; j >= 0; j, v = j-1, v/10 {
			digits[j] = byte('0' + v%10)
		}
		r.next++
	}
	if r.next == r.total {
		r.buf = append(r.buf, ']')
		r.closed = true
	}
}

// BenchmarkDecodeVulnChunk decodes a 5,000-asset vulnerability chunk (175,000
// findings built from recorded real findings) as the client streams it: split
// only, and split plus transcoding to Avro with the vuln schema, as the source
// stage does with each record.
func BenchmarkDecodeVulnChunk(b *testing.B) {
	const assets = 5000
	probe := newVulnChunkReader(b, assets)
	chunkBytes, _ := io.Copy(io.Discard, probe)
	records := float64(assets * findingsPerAsset)
	for _, mode := range []struct {
		name       string
		transcoded bool
	}{{"raw", false}, {"transcoded", true}} {
		b.Run(fmt.Sprintf("assets=%d/%s", assets, mode.name), func(b *testing.B) {
			b.SetBytes(chunkBytes)
			tc := vulnTranscoder(b)
			var avro []byte
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				n, err := DecodeChunk(newVulnChunkReader(b, assets), 0, func(rec []byte) error {
					if mode.transcoded {
						var err error
						avro, _, err = tc.Transcode(avro[:0], rec, nil)
						return err
					}
					return nil
				})
				if err != nil || n != int(records) {
					b.Fatalf("n %d err %v", n, err)
				}
			}
			runtime.ReadMemStats(&after)
			perRecord := float64(b.N) * records
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/perRecord, "ns/record")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/perRecord, "B/record")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/perRecord, "allocs/record")
		})
	}
}

// TestDecodeChunkMemoryIsFlat decodes a chunk and one ten times larger while
// measuring the live heap: streaming means the larger one needs no more memory.
func TestDecodeChunkMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 77,000 findings")
	}
	tc := vulnTranscoder(t)
	var avro []byte
	peak := func(assets int) uint64 {
		var maxLive uint64
		var ms runtime.MemStats
		n, err := DecodeChunk(newVulnChunkReader(t, assets), 0, func(rec []byte) error {
			var err error
			avro, _, err = tc.Transcode(avro[:0], rec, nil)
			return err
		})
		if err != nil || n != assets*findingsPerAsset {
			t.Fatalf("decoded %d, err %v", n, err)
		}
		// Sample the live heap at many points of a second pass.
		i := 0
		_, err = DecodeChunk(newVulnChunkReader(t, assets), 0, func(rec []byte) error {
			i++
			if i%(assets*findingsPerAsset/20) == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				maxLive = max(maxLive, ms.HeapAlloc)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return maxLive
	}
	small := peak(200)
	large := peak(2000)
	t.Logf("peak live heap: %d KiB for 7,000 findings, %d KiB for 70,000", small>>10, large>>10)
	// Allow for noise of a few hundred KiB, far below the growth a buffered chunk
	// would show (the larger chunk is over 100 MB).
	if large > small+small/4+512<<10 {
		t.Errorf("a chunk ten times larger needed %d KiB, the small one %d KiB: decoding does not stream", large>>10, small>>10)
	}
}

// vulnTranscoder turns vulnerability records into Avro as the source stage does.
func vulnTranscoder(t testing.TB) *schemas.Transcoder {
	t.Helper()
	s, err := schemas.Get(schemas.NameVuln)
	if err != nil {
		t.Fatal(err)
	}
	return s.NewTranscoder()
}
