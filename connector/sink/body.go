package sink

import (
	"errors"
	"fmt"
	"slices"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
)

// Errors of BodyBuilder.Add.
var (
	// ErrAssetTooLarge: the asset alone does not fit in an empty body.
	ErrAssetTooLarge = errors.New("asset does not fit in an import request")
	// ErrBodyFull: the asset does not fit in what is left of the body; send the
	// body and start a new one.
	ErrBodyFull = errors.New("import request body is full")
)

// BodyBuilder builds one POST /import/assets body,
// {"source":"...","assets":[{...},...]}, from validated assets, and always knows
// its exact encoded size: the body stays strictly below maxBytes. It is not safe
// for concurrent use.
type BodyBuilder struct {
	maxBytes int
	envelope int    // length of `{"source":"...","assets":[`
	buf      []byte // the whole body: envelope, assets separated by commas, "]}"
	count    int
	// starts and clouds are each asset's offset in buf and its provider, so
	// Asset can give it back: the sink keeps assets only in their body.
	starts []uint32
	clouds []Cloud
}

// bodyBuilderClosing ends every body.
const bodyBuilderClosing = "]}"

// NewBodyBuilder returns an empty body for source (non-empty; JSON-escaped in
// the body). maxBytes is at most tenable.MaxImportBodyBytes and must leave room
// for more than the bare envelope.
func NewBodyBuilder(source string, maxBytes int) (*BodyBuilder, error) {
	if source == "" {
		return nil, errors.New("import body: source is empty")
	}
	if maxBytes > tenable.MaxImportBodyBytes {
		return nil, fmt.Errorf("import body: limit of %d bytes is above Tenable's %d", maxBytes, tenable.MaxImportBodyBytes)
	}
	buf := append([]byte(nil), `{"source":`...)
	buf, err := jsontext.AppendQuote(buf, source)
	if err != nil {
		return nil, fmt.Errorf("import body: source %q: %w", source, err)
	}
	buf = append(buf, `,"assets":[`...)
	b := &BodyBuilder{maxBytes: maxBytes, envelope: len(buf), buf: append(buf, bodyBuilderClosing...)}
	if len(b.buf) >= maxBytes {
		return nil, fmt.Errorf("import body: limit of %d bytes leaves no room for an asset (the envelope alone takes %d)", maxBytes, len(b.buf))
	}
	return b, nil
}

// sizeWith is the body length with a added.
func (b *BodyBuilder) sizeWith(a Asset) int {
	n := len(b.buf) + len(a.JSON)
	if b.count > 0 {
		n++ // the comma before it
	}
	return n
}

// Fits reports whether adding a keeps the body strictly below maxBytes.
func (b *BodyBuilder) Fits(a Asset) bool { return b.sizeWith(a) < b.maxBytes }

// FitsEmpty reports whether a fits in an empty body: an asset for which it is
// false can never be imported, whatever the batch.
func (b *BodyBuilder) FitsEmpty(a Asset) bool {
	return b.envelope+len(a.JSON)+len(bodyBuilderClosing) < b.maxBytes
}

// Add appends a. It returns ErrAssetTooLarge when a alone cannot fit in an
// empty body, and ErrBodyFull when it does not fit now; the body is then
// unchanged.
func (b *BodyBuilder) Add(a Asset) error {
	if len(a.JSON) < 2 || a.JSON[0] != '{' || a.JSON[len(a.JSON)-1] != '}' {
		return errors.New("import body: asset is not a JSON object")
	}
	if !b.Fits(a) {
		if !b.FitsEmpty(a) {
			return fmt.Errorf("%w: it needs %d bytes, an empty body of at most %d bytes has room for %d",
				ErrAssetTooLarge, len(a.JSON), b.maxBytes, b.maxBytes-1-b.envelope-len(bodyBuilderClosing))
		}
		return ErrBodyFull
	}
	if need := b.sizeWith(a); need > cap(b.buf) {
		// Double, up to the limit the body stays below: append grows a large
		// slice by a quarter, which copies a full body about twenty times
		// over as it fills.
		b.buf = slices.Grow(b.buf, min(max(2*cap(b.buf), need), b.maxBytes)-len(b.buf))
	}
	b.buf = b.buf[:len(b.buf)-len(bodyBuilderClosing)]
	if b.count > 0 {
		b.buf = append(b.buf, ',')
	}
	b.starts = append(b.starts, uint32(len(b.buf)))
	b.clouds = append(b.clouds, a.Cloud)
	b.buf = append(b.buf, a.JSON...)
	b.buf = append(b.buf, bodyBuilderClosing...)
	b.count++
	return nil
}

// Len is the exact byte length of Bytes right now; an empty body is the bare
// envelope.
func (b *BodyBuilder) Len() int { return len(b.buf) }

// Count is the number of assets in the body.
func (b *BodyBuilder) Count() int { return b.count }

// Asset returns the i-th asset added (0 <= i < Count). Its JSON aliases the
// body's buffer and is valid until the next Add or Reset.
func (b *BodyBuilder) Asset(i int) Asset {
	end := len(b.buf) - len(bodyBuilderClosing)
	if i+1 < b.count {
		end = int(b.starts[i+1]) - 1 // the comma before the next one
	}
	return Asset{JSON: b.buf[b.starts[i]:end:end], Cloud: b.clouds[i]}
}

// Bytes returns the complete JSON body. It aliases the builder's buffer and is
// valid until the next Add or Reset.
func (b *BodyBuilder) Bytes() []byte { return b.buf }

// Reset empties the body, keeping its source, limit and buffer.
func (b *BodyBuilder) Reset() {
	b.buf = append(b.buf[:b.envelope], bodyBuilderClosing...)
	b.count = 0
	b.starts = b.starts[:0]
	b.clouds = b.clouds[:0]
}
