package tenablesim

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

var (
	benchOnce sync.Once
	benchSim  *Server
)

// benchServer is a 25,000-asset tenant (about a million findings), built once.
func benchServer(b *testing.B) *Server {
	benchOnce.Do(func() {
		s, err := New(Config{Assets: 25000, Seed: 1, AccessKey: "AK", SecretKey: "SK"})
		if err != nil {
			b.Fatal(err)
		}
		benchSim = s
	})
	return benchSim
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkRenderVulnChunk renders a vuln chunk of 500 assets (about 19,000
// findings) the way GET …/chunks/{id} streams it, and reports findings/s.
func BenchmarkRenderVulnChunk(b *testing.B) {
	s := benchServer(b)
	j, err := s.newJob(kindVulns, false, []byte(`{"num_assets":500,"filters":{"since":1}}`))
	if err != nil {
		b.Fatal(err)
	}
	s.plan(j)
	c := j.chunks[0].count
	var w countingWriter
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.renderChunk(context.Background(), &w, j, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.SetBytes(w.n / int64(b.N))
	b.ReportMetric(float64(c)*float64(b.N)/b.Elapsed().Seconds(), "findings/s")
	b.ReportMetric(float64(c), "findings/chunk")
}

// BenchmarkGenerate measures generating the 25,000-asset tenant and the heap it
// holds.
func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := New(Config{Assets: 25000, Seed: 2, AccessKey: "AK", SecretKey: "SK"})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
		st := s.State()
		b.ReportMetric(float64(st.Findings.Total), "findings")
		runtime.KeepAlive(s)
	}
}
