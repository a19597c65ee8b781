package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tvmkafka/tvmkafka/connector/source/findingindex"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// Closures: Tenable drops the findings of a deleted or terminated asset without
// ever moving them to FIXED, so every consumer would keep them open. The vulns
// and compliance streams keep an index of the open findings of each asset (from
// what Kafka acknowledged); when the deleted or terminated asset export sees an
// asset, each of those findings gets a closure on its own topic: its key, a
// null value, and these headers. Closures are acknowledged before the asset's
// chunk is checkpointed, so a crash in between publishes them again.
const (
	HeaderClosedReason = "tvm.closed_reason" // asset_deleted or asset_terminated
	HeaderAssetUUID    = "tvm.asset_uuid"
	HeaderClosedAt     = "tvm.closed_at" // the asset's deleted_at or terminated_at, RFC 3339 UTC
)

var metricClosed = telemetry.Counter("tvmkafka.source.findings_closed",
	"findings closed because their asset was deleted or terminated, by stream and reason", "{finding}")

// closedAtLayout formats tvm.closed_at: RFC 3339, UTC, milliseconds.
const closedAtLayout = "2006-01-02T15:04:05.000Z07:00"

// tap sees each record a chunk publisher hands to Kafka, and the chunk once
// Kafka acknowledged all of them, before its checkpoint. One tap serves one
// chunk.
type tap interface {
	// record is called with the record's key (it stays valid for the chunk)
	// and the transcoder that encoded it; it may append messages to p.batch.
	record(p *chunkPublisher, key []byte, tc *schemas.Transcoder)
	// acked is called once every message of the chunk was acknowledged.
	acked(ctx context.Context) error
}

// closer is what the taps of one source share.
type closer struct {
	*deps
	idx *findingindex.Index
	// recordTypes and topics, by index kind: where closures go.
	recordType map[findingindex.Kind]string
	topic      map[findingindex.Kind]string
}

func newCloser(d *deps, idx *findingindex.Index) *closer {
	c := &closer{deps: d, idx: idx, recordType: map[findingindex.Kind]string{}, topic: map[findingindex.Kind]string{}}
	for _, s := range Table {
		if s.findings != 0 {
			c.recordType[s.findings] = s.RecordType
			c.topic[s.findings] = d.topics.Stream[s.Name]
		}
	}
	return c
}

// closure is the tombstone that closes one finding.
func (c *closer) closure(kind findingindex.Kind, key []byte, asset string, cl findingindex.Closure) kafkaio.Record {
	return kafkaio.Record{Topic: c.topic[kind], Key: key, Headers: []kafkaio.Header{
		{Key: HeaderRecordType, Value: []byte(c.recordType[kind])},
		{Key: HeaderClosedReason, Value: []byte(cl.Reason.String())},
		{Key: HeaderAssetUUID, Value: []byte(asset)},
		{Key: HeaderClosedAt, Value: []byte(time.UnixMilli(cl.At).UTC().Format(closedAtLayout))},
		{Key: HeaderConnectorVersion, Value: []byte(c.version)},
	}}
}

func (c *closer) count(ctx context.Context, kind findingindex.Kind, reason findingindex.Reason, n int) {
	if n > 0 {
		metricClosed.Add(ctx, int64(n), metric.WithAttributes(attribute.String("stream", kind.String()),
			attribute.String("reason", reason.String())))
	}
}

// publish sends messages and waits for Kafka to acknowledge them.
func (c *closer) publish(ctx context.Context, msgs []kafkaio.Record) error {
	if len(msgs) == 0 {
		return nil
	}
	g := kafkaio.NewAckGroup()
	if err := c.pub.Send(ctx, g, msgs...); err != nil {
		return err
	}
	return g.Wait(ctx)
}

// newTap returns the tap of one chunk of the export e of stream st, or nil.
func (c *closer) newTap(st Stream, e export) tap {
	switch {
	case st.findings != 0:
		return &findingsTap{closer: c, kind: st.findings}
	case e.closes != 0:
		return &closingTap{closer: c, reason: e.closes, closedAt: e.closedAt}
	case e.restores:
		return &restoringTap{closer: c}
	}
	return nil
}

// findingsTap keeps the index up to date from a vulns or compliance chunk.
type findingsTap struct {
	*closer
	kind findingindex.Kind
	// keys holds a copy of each indexed finding's key, one after the other,
	// and changes their ends and states: the record's own key lives in the
	// chunk's slab, next to its value, and holding it until the chunk is
	// acknowledged would keep every value of the chunk in memory with it.
	keys    []byte
	changes []keyChange
	late    int
}

// keyChange is a finding of the chunk: where its key ends in keys, and whether
// it is open.
type keyChange struct {
	end  int
	open bool
}

// open says whether a finding record leaves its finding open: a vuln that is
// not FIXED; a compliance result whose state is not FIXED, or, in records from
// before Tenable had compliance states, whose status is not PASSED.
func (t *findingsTap) open(tc *schemas.Transcoder) bool {
	state := tc.Field("state")
	if t.kind == findingindex.KindCompliance && len(state) == 0 {
		return string(tc.Field("status")) != "PASSED"
	}
	return string(state) != "FIXED"
}

func (t *findingsTap) record(p *chunkPublisher, key []byte, tc *schemas.Transcoder) {
	open := t.open(tc)
	asset, _, _ := bytes.Cut(key, []byte{'|'})
	if cl, closed := t.idx.Closed(asset); closed {
		// A finding of an asset already closed (an export that was running when
		// the asset went): published as it came, then closed again at once, so
		// the topic ends closed; the index does not reopen the asset.
		if open {
			p.batch = append(p.batch, t.closure(t.kind, key, string(asset), cl))
			t.late++
			t.count(p.ctx, t.kind, cl.Reason, 1)
		}
		return
	}
	t.keys = append(t.keys, key...)
	t.changes = append(t.changes, keyChange{end: len(t.keys), open: open})
}

func (t *findingsTap) acked(ctx context.Context) error {
	changes := make([]findingindex.Change, len(t.changes))
	start := 0
	for i, c := range t.changes {
		changes[i] = findingindex.Change{Key: t.keys[start:c.end:c.end], Open: c.open}
		start = c.end
	}
	late, bad, err := t.idx.Update(ctx, t.kind, changes)
	if err != nil {
		return err
	}
	if bad > 0 {
		t.log.Warn("finding keys the index cannot hold; those findings will not be closed with their asset",
			"stream", t.kind.String(), "findings", bad)
	}
	// Findings of assets closed after this chunk was read, and orphans: open
	// findings of closed assets found on the index topic.
	var msgs []kafkaio.Record
	for _, l := range late {
		if !l.Open {
			continue
		}
		msgs = append(msgs, t.closure(l.Kind, l.Key, l.Asset, l.Closure))
		t.count(ctx, l.Kind, l.Reason, 1)
	}
	if err := t.publish(ctx, msgs); err != nil {
		return err
	}
	return t.idx.Settle(ctx, late)
}

// closingTap closes the open findings of each asset of a deleted or terminated
// asset chunk.
type closingTap struct {
	*closer
	reason   findingindex.Reason
	closedAt string // the member dating the closure
	assets   []string
	at       []int64
}

func (t *closingTap) record(p *chunkPublisher, key []byte, tc *schemas.Transcoder) {
	at := t.now()
	if raw := tc.Field(t.closedAt); raw != nil {
		if ts, err := time.Parse(time.RFC3339Nano, string(raw)); err == nil {
			at = ts
		}
	}
	t.assets = append(t.assets, string(key))
	t.at = append(t.at, at.UnixMilli())
}

func (t *closingTap) acked(ctx context.Context) error {
	if len(t.assets) == 0 {
		return nil
	}
	closures := make([]findingindex.Closure, len(t.assets))
	for i := range t.assets {
		closures[i] = findingindex.Closure{Reason: t.reason, At: t.at[i]}
	}
	// The index reads what other processes wrote, then hands over the open
	// findings; it marks the assets closed only once publish returned, so a
	// crash before that leaves the findings open and the chunk runs again.
	late, err := t.idx.CloseAssets(ctx, t.assets, closures, func(ctx context.Context, late []findingindex.Late) error {
		msgs := make([]kafkaio.Record, 0, len(late))
		for _, l := range late {
			msgs = append(msgs, t.closure(l.Kind, l.Key, l.Asset, l.Closure))
		}
		return t.publish(ctx, msgs)
	})
	if err != nil {
		return err
	}
	perAsset := map[string]int{}
	counts := map[findingindex.Kind]int{}
	for _, l := range late {
		perAsset[l.Asset]++
		counts[l.Kind]++
		t.count(ctx, l.Kind, l.Reason, 1)
	}
	for _, a := range t.assets {
		if perAsset[a] == 0 {
			t.log.Debug("asset gone with no open finding tvmkafka published; nothing to close",
				"asset_uuid", a, "reason", t.reason.String())
		}
	}
	if len(late) > 0 {
		t.log.Info("closed the findings of gone assets", "reason", t.reason.String(), "assets", len(perAsset),
			"vulns", counts[findingindex.KindVulns], "compliance", counts[findingindex.KindCompliance])
	}
	return nil
}

// restoringTap clears the closure of assets exported as active again.
type restoringTap struct {
	*closer
	assets [][]byte
}

func (t *restoringTap) record(_ *chunkPublisher, key []byte, _ *schemas.Transcoder) {
	// A copy: the key shares the chunk's slab with the record's value (see
	// findingsTap.keys).
	t.assets = append(t.assets, bytes.Clone(key))
}

func (t *restoringTap) acked(ctx context.Context) error {
	n, err := t.idx.Restore(ctx, t.assets)
	if n > 0 {
		t.log.Info("assets exported as active again; their findings are indexed afresh", "assets", n)
	}
	return err
}

// ackTap hands a chunk's acknowledgement to its tap, under the same fence as
// the stream's checkpoints: the finding index has one writer per key, the
// stream's owner, and a replica whose generation ended writes neither (the
// next owner re-reads the index before it writes).
func ackTap(ctx context.Context, t tap) error {
	if err := fenceHeld(ctx, "finding index update"); err != nil {
		return err
	}
	if err := t.acked(ctx); err != nil {
		return indexFailure(ctx, err)
	}
	return nil
}

// indexFailure marks a failure of the tap after a chunk's acks: a Kafka
// failure, retried like one, unless the index could not be read.
func indexFailure(ctx context.Context, err error) error {
	if errors.Is(err, findingindex.ErrUndecodable) {
		return fmt.Errorf("finding index: %w", err)
	}
	return kafkaFailure(ctx, err)
}
