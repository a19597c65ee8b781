package source

import (
	"strconv"
	"sync"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// Record headers. Every record carries its type, its schema identity, the export
// and chunk it came from, and the connector version; asset records also carry
// their state.
const (
	HeaderRecordType        = "tvm.record_type"
	HeaderSchemaFingerprint = "tvm.schema_fingerprint" // hex CRC-64-AVRO, single-object encoding
	HeaderSchemaID          = "tvm.schema_id"          // registry ID, Confluent wire format
	HeaderExportUUID        = "tvm.export_uuid"
	HeaderExportChunk       = "tvm.export_chunk"
	HeaderPluginsPage       = "tvm.plugins_page"
	HeaderAssetState        = "tvm.asset_state"
	HeaderConnectorVersion  = "tvm.connector_version"
	HeaderError             = "tvm.error" // on dead-lettered records: why
)

// Wire is how records of one schema are framed on their topic.
type Wire struct {
	Schema *schemas.Schema
	// RegistryID > 0 selects the Confluent wire format with that schema ID;
	// 0 selects Avro single-object encoding.
	RegistryID int
}

// appendHeader appends the framing that precedes the Avro body.
func (w Wire) appendHeader(dst []byte) []byte {
	if w.RegistryID > 0 {
		return schemas.AppendConfluentHeader(dst, w.RegistryID)
	}
	return schemas.AppendSingleObjectHeader(dst, w.Schema)
}

func (w Wire) header() kafkaio.Header {
	if w.RegistryID > 0 {
		return kafkaio.Header{Key: HeaderSchemaID, Value: []byte(strconv.Itoa(w.RegistryID))}
	}
	return kafkaio.Header{Key: HeaderSchemaFingerprint, Value: []byte(strconv.FormatUint(w.Schema.Fingerprint, 16))}
}

// encoder turns raw Tenable JSON records into framed Avro values and keys. It is
// not safe for concurrent use; encoderPool hands one to each worker.
type encoder struct {
	wire Wire
	tc   *schemas.Transcoder
}

type encoderPool struct {
	wire Wire
	pool sync.Pool
}

func newEncoderPool(w Wire) *encoderPool {
	p := &encoderPool{wire: w}
	p.pool.New = func() any { return &encoder{wire: w, tc: w.Schema.NewTranscoder()} }
	return p
}

func (p *encoderPool) get() *encoder  { return p.pool.Get().(*encoder) }
func (p *encoderPool) put(e *encoder) { p.pool.Put(e) }

// encodeTo writes the framed value straight into the slab, where it stays
// until Kafka acknowledged it: the transcoder appends after the header, with
// no copy of the body in between. The key belongs to the encoder and stays
// valid until the next call. On error the slab is unchanged.
func (e *encoder) encodeTo(s *slab, record []byte, derived map[string]string) (value, key []byte, err error) {
	// Avro is seldom longer than the JSON it comes from; room for twice that
	// makes a reallocation inside the transcoder rare.
	dst := s.reserve(2*len(record) + 64)
	start := len(dst)
	dst = e.wire.appendHeader(dst)
	dst, key, err = e.tc.Transcode(dst, record, derived)
	if err != nil {
		return nil, nil, err
	}
	value = dst[start:len(dst):len(dst)]
	if len(dst) <= cap(s.buf) {
		s.buf = dst // written in place
	} else {
		// The transcoder outgrew the block and appended to a new array: the
		// value lives there alone, and the next record starts a new block.
		s.buf = nil
	}
	return value, key, nil
}

// slab hands out copies of byte slices from large shared blocks: a message's key
// and value must outlive the encoder's buffers until Kafka acknowledges them, and
// one allocation per block beats two per record.
type slab struct{ buf []byte }

const slabSize = 256 << 10

// reserve returns the current block with room for at least n more bytes,
// starting a new one when it has not.
func (s *slab) reserve(n int) []byte {
	if cap(s.buf)-len(s.buf) < n {
		s.buf = make([]byte, 0, max(slabSize, n))
	}
	return s.buf
}

func (s *slab) copy(b []byte) []byte {
	if len(b) > slabSize/4 {
		return append([]byte(nil), b...)
	}
	if cap(s.buf)-len(s.buf) < len(b) {
		s.buf = make([]byte, 0, slabSize)
	}
	start := len(s.buf)
	s.buf = append(s.buf, b...)
	return s.buf[start:len(s.buf):len(s.buf)]
}
