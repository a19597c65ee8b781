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

func (w Wire) frame(dst, body []byte) []byte {
	if w.RegistryID > 0 {
		return schemas.AppendConfluent(dst, w.RegistryID, body)
	}
	return schemas.AppendSingleObject(dst, w.Schema, body)
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
	wire   Wire
	tc     *schemas.Transcoder
	body   []byte
	framed []byte
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

// encode returns the framed value and the key; both stay valid until the next call.
func (e *encoder) encode(record []byte, derived map[string]string) (value, key []byte, err error) {
	body, key, err := e.tc.Transcode(e.body[:0], record, derived)
	if err != nil {
		return nil, nil, err
	}
	e.body = body
	e.framed = e.wire.frame(e.framed[:0], body)
	return e.framed, key, nil
}

// slab hands out copies of byte slices from large shared blocks: a message's key
// and value must outlive the encoder's buffers until Kafka acknowledges them, and
// one allocation per block beats two per record.
type slab struct{ buf []byte }

const slabSize = 256 << 10

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
