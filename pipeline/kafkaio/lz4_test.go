package kafkaio

import (
	"bytes"
	"io"
	"testing"

	"github.com/segmentio/kafka-go/compress"
)

// TestLz4CodecBlockSize checks that the lz4 batches written through kafka-go's
// codec table use 1 MB frame blocks (not lz4's 4 MB default, whose buffers
// held a third of the connector's memory) and still read back.
func TestLz4CodecBlockSize(t *testing.T) {
	codec := compress.Lz4.Codec()
	var payload []byte
	for i := range 20000 {
		payload = append(payload, byte(i), byte(i>>8), 'x', 'y')
	}
	for range 2 { // the second writer comes from the pool
		var buf bytes.Buffer
		w := codec.NewWriter(&buf)
		if _, err := w.Write(payload); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		frame := buf.Bytes()
		if len(frame) < 6 || !bytes.Equal(frame[:4], []byte{0x04, 0x22, 0x4d, 0x18}) {
			t.Fatalf("not an lz4 frame: % x", frame[:min(len(frame), 8)])
		}
		// The frame descriptor's BD byte: bits 4-6 are the block maximum size,
		// 4 = 64 KB, 5 = 256 KB, 6 = 1 MB, 7 = 4 MB.
		if got := frame[5] >> 4 & 7; got != 6 {
			t.Errorf("block size index %d, want 6 (1 MB)", got)
		}
		r := codec.NewReader(bytes.NewReader(frame))
		back, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		_ = r.Close()
		if !bytes.Equal(back, payload) {
			t.Fatalf("read back %d bytes, want the %d written", len(back), len(payload))
		}
	}
}
