package sink

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// BenchmarkBodyBuilder fills import bodies of at most 5,000,000 bytes with
// realistic assets; one op is one full body (or one of maxRecords assets).
// It reports the largest and the average body, how full bodies are relative
// to the limit, and assets per request, and fails if a body ever reaches the
// limit.
func BenchmarkBodyBuilder(b *testing.B) {
	g := newInboundAssetGen(7)
	corpus := make([]Asset, 4096)
	var corpusBytes int
	for i := range corpus {
		corpus[i] = g.asset(b)
		corpusBytes += len(corpus[i].JSON)
	}
	b.Logf("corpus: %d assets, average %d bytes", len(corpus), corpusBytes/len(corpus))
	for _, bc := range []struct {
		name       string
		maxRecords int // 0: bodies are cut by size only
	}{
		{name: "by-size"},
		{name: "max-records=2500", maxRecords: 2500},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body, err := NewBodyBuilder("tvmkafka Kafka Connector", tenable.MaxImportBodyBytes)
			if err != nil {
				b.Fatal(err)
			}
			var maxLen, totalLen, totalAssets, next int
			b.ReportAllocs()
			for b.Loop() {
				body.Reset()
				for bc.maxRecords == 0 || body.Count() < bc.maxRecords {
					err := body.Add(corpus[next%len(corpus)])
					if errors.Is(err, ErrBodyFull) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					next++
				}
				n := len(body.Bytes())
				if n >= tenable.MaxImportBodyBytes || n != body.Len() {
					b.Fatalf("body of %d bytes (Len %d) reaches the %d-byte limit", n, body.Len(), tenable.MaxImportBodyBytes)
				}
				maxLen = max(maxLen, n)
				totalLen += n
				totalAssets += body.Count()
			}
			b.SetBytes(int64(totalLen / b.N))
			b.ReportMetric(float64(maxLen), "max-req-B")
			b.ReportMetric(float64(totalLen)/float64(b.N), "avg-req-B")
			b.ReportMetric(float64(totalLen)/float64(b.N)/tenable.MaxImportBodyBytes, "fill-ratio")
			b.ReportMetric(float64(totalAssets)/float64(b.N), "assets/req")
		})
	}
}

// BenchmarkDecode decodes realistic assets in each input form.
func BenchmarkDecode(b *testing.B) {
	s := inboundSchema(b)
	g := newInboundAssetGen(11)
	forms := map[string][][]byte{}
	for range 256 {
		v := g.value()
		var generic map[string]any
		if err := json.Unmarshal(v, &generic); err != nil {
			b.Fatal(err)
		}
		attrs := map[string]any{}
		for name, x := range generic {
			if items, ok := x.([]any); ok {
				list := make([]string, len(items))
				for i, item := range items {
					list[i] = item.(string)
				}
				attrs[name] = list
			} else {
				attrs[name] = x
			}
		}
		body := inboundAvroBody(b, s, attrs)
		forms["json"] = append(forms["json"], v)
		forms["avro-single-object"] = append(forms["avro-single-object"], schemas.AppendSingleObject(nil, s, body))
		forms["confluent"] = append(forms["confluent"], schemas.AppendConfluent(nil, 1, body))
	}
	d := NewDecoder(newInboundFakeRegistry(b))
	for _, form := range []string{"json", "avro-single-object", "confluent"} {
		values := forms[form]
		b.Run(form, func(b *testing.B) {
			var total int
			for _, v := range values {
				total += len(v)
			}
			b.SetBytes(int64(total / len(values)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := d.Decode(b.Context(), values[i%len(values)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
