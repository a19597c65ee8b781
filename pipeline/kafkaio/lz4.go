package kafkaio

import (
	"io"
	"sync"

	"github.com/pierrec/lz4/v4"
	"github.com/segmentio/kafka-go/compress"
)

// lz4BlockSize is the frame block size of the lz4 batches the producer writes.
// kafka-go's codec uses lz4's default of 4 MB, for batches of at most
// BATCH_BYTES (1 MB by default): every writer then holds two 4 MB buffers, a
// few writers in parallel made up a third of the connector's peak memory, and
// each fresh buffer cost its zeroing. 1 MB blocks hold a default batch in one
// block, compress it as well (lz4 matches within 64 KB anyway) and cost the
// same CPU; 256 KB blocks cost a few per cent more.
const lz4BlockSize = lz4.Block1Mb

// lz4Codec is kafka-go's lz4 codec with a smaller block size. Reading is
// unchanged: an lz4 frame states its own block size.
type lz4Codec struct {
	compress.Codec // kafka-go's, for Code, Name and NewReader
	writers        sync.Pool
}

func init() {
	// kafka-go looks codecs up in this table by the batch's compression code;
	// installing ours there is how a codec's options are chosen.
	compress.Codecs[compress.Lz4] = &lz4Codec{Codec: compress.Codecs[compress.Lz4]}
}

func (c *lz4Codec) NewWriter(w io.Writer) io.WriteCloser {
	z, _ := c.writers.Get().(*lz4.Writer)
	if z == nil {
		z = lz4.NewWriter(w)
		if err := z.Apply(lz4.BlockSizeOption(lz4BlockSize)); err != nil {
			panic(err) // a constant, valid option
		}
	} else {
		z.Reset(w)
	}
	return &lz4Writer{Writer: z, pool: &c.writers}
}

type lz4Writer struct {
	*lz4.Writer
	pool *sync.Pool
}

func (w *lz4Writer) Close() error {
	z := w.Writer
	if z == nil {
		return nil
	}
	w.Writer = nil
	err := z.Close()
	z.Reset(nil)
	w.pool.Put(z)
	return err
}
