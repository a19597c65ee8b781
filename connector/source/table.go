package source

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source/findingindex"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// Table is the map of the source data flow: one entry per stream, from the
// Tenable VM export it runs to the Kafka topic it fills. Everything that
// differs between streams is declared here and nowhere else: the binary's
// --streams, its TVMKAFKA_TOPIC_<STREAM>, TVMKAFKA_TOPIC_<STREAM>_CLEANUP_POLICY
// and TVMKAFKA_RUN_<STREAM>_INTERVAL variables and their defaults, topic
// creation, schema registration, `tvmkafka schemas`, the demo and the README's
// configuration tables all read it.
//
// Adding a stream is one entry here, the export request type in
// connector/tenable and the .avsc in schemas.
var Table = []Stream{
	{
		Name: StreamAssets, Noun: "asset", Doc: "asset records",
		Kind: tenable.ExportAssets, Schema: schemas.NameAsset, RecordType: "asset", Key: "asset UUID",
		Topic: "tenable.vm.assets", Cleanup: "compact", Interval: time.Hour, Runs: RunExports,
		// Three delta exports, one after the other (gentle on Tenable's export
		// slots), each with its own watermark: assets updated, deleted and
		// terminated since then. The state a record's export implies fills the
		// schema's state field.
		exports: []export{
			{part: "active", derived: map[string]string{"state": AssetActive}, filter: assetFilter, restores: true,
				start: func(ctx context.Context, api Tenable, cfg Config, since time.Time) (tenable.ExportJob, error) {
					req := tenable.AssetExportRequest{ChunkSize: cfg.AssetsChunkSize}
					if since.After(time.Unix(1, 0)) {
						req.Filters.UpdatedAt = since
					}
					return api.StartAssetExport(ctx, req)
				}},
			{part: "deleted", derived: map[string]string{"state": AssetDeleted}, filter: assetFilter, tombstones: assetTombstones,
				closes: findingindex.ReasonDeleted, closedAt: "deleted_at",
				start: func(ctx context.Context, api Tenable, cfg Config, since time.Time) (tenable.ExportJob, error) {
					return api.StartAssetExport(ctx, tenable.AssetExportRequest{ChunkSize: cfg.AssetsChunkSize, Filters: tenable.AssetFilters{DeletedAt: since}})
				}},
			{part: "terminated", derived: map[string]string{"state": AssetTerminated}, filter: assetFilter, tombstones: assetTombstones,
				closes: findingindex.ReasonTerminated, closedAt: "terminated_at",
				start: func(ctx context.Context, api Tenable, cfg Config, since time.Time) (tenable.ExportJob, error) {
					return api.StartAssetExport(ctx, tenable.AssetExportRequest{ChunkSize: cfg.AssetsChunkSize, Filters: tenable.AssetFilters{TerminatedAt: since}})
				}},
		},
	},
	{
		Name: StreamVulns, Noun: "vulnerability", Doc: "vulnerability findings",
		Kind: tenable.ExportVulns, Schema: schemas.NameVuln, RecordType: "vuln", Key: "asset UUID|plugin ID|port|PROTOCOL",
		Topic: "tenable.vm.vulns", Cleanup: "delete", Interval: time.Hour, Runs: RunExports, findings: findingindex.KindVulns,
		exports: []export{{start: func(ctx context.Context, api Tenable, cfg Config, since time.Time) (tenable.ExportJob, error) {
			return api.StartVulnExport(ctx, tenable.VulnExportRequest{
				NumAssets: cfg.VulnsNumAssets, IncludeUnlicensed: &cfg.VulnsIncludeUnlicensed,
				// Every state is asked for explicitly: with since, FIXED findings are
				// matched on last_fixed, so fixes arrive as a delta too.
				Filters: tenable.VulnFilters{Since: since, State: cfg.VulnsState, Severity: cfg.VulnsSeverity},
			})
		}}},
	},
	{
		Name: StreamCompliance, Noun: "compliance", Doc: "compliance findings",
		Kind: tenable.ExportCompliance, Schema: schemas.NameCompliance, RecordType: "compliance", Key: "asset UUID|check ID",
		Topic: "tenable.vm.compliance", Cleanup: "delete", Interval: 6 * time.Hour, Runs: RunExports, findings: findingindex.KindCompliance,
		exports: []export{{start: func(ctx context.Context, api Tenable, cfg Config, since time.Time) (tenable.ExportJob, error) {
			return api.StartComplianceExport(ctx, tenable.ComplianceExportRequest{
				NumFindings: cfg.ComplianceNumFindings, Filters: tenable.ComplianceFilters{LastSeen: since},
			})
		}}},
	},
	{
		Name: StreamPlugins, Noun: "plugin", Doc: "plugin metadata",
		Schema: schemas.NamePlugin, RecordType: "plugin", Key: "plugin ID",
		Topic: "tenable.vm.plugins", Cleanup: "compact", Interval: 24 * time.Hour, Runs: RunPages,
	},
}

// Stream names, as accepted by --streams and used for checkpoints.
const (
	StreamAssets     = "assets"
	StreamVulns      = "vulns"
	StreamCompliance = "compliance"
	StreamPlugins    = "plugins"
)

// StreamNames lists every stream of Table, in its order.
var StreamNames = func() []string {
	names := make([]string, len(Table))
	for i, s := range Table {
		names[i] = s.Name
	}
	return names
}()

// RunKind says how a stream fetches its records.
type RunKind int

const (
	// RunExports runs Tenable's asynchronous export workflow: request, poll,
	// download chunks.
	RunExports RunKind = iota
	// RunPages pages through a list endpoint (the plugin list).
	RunPages
)

// Stream declares one source stream.
type Stream struct {
	// Name is the stream's name in --streams, checkpoints, logs and metrics,
	// and upper-cased, in its variables (TVMKAFKA_TOPIC_ASSETS).
	Name string
	// Noun and Doc describe the records in documentation: "time between
	// vulnerability runs", a topic of "vulnerability findings".
	Noun, Doc string
	// Kind is the Tenable export the stream runs (RunExports only).
	Kind tenable.ExportKind
	// Schema is the Avro schema of the records; its tvm.key fields make the
	// Kafka key, which Key describes.
	Schema schemas.Name
	Key    string
	// RecordType is the tvm.record_type header of every record.
	RecordType string
	// Topic, Cleanup and Interval are the defaults of the stream's topic, the
	// cleanup.policy of that topic when tvmkafka creates it, and the time
	// between runs of tvmkafka run.
	Topic    string
	Cleanup  string
	Interval time.Duration
	// Runs says how the stream fetches its records.
	Runs RunKind

	// exports are the delta exports of one run (RunExports), in order.
	exports []export
	// findings, when set, is the finding index kind the stream's records keep
	// up to date (open findings per asset), for closing them when their asset goes.
	findings findingindex.Kind
}

// export is one delta export of a stream, with its own checkpoint.
type export struct {
	// part names the checkpoint "<stream>.<part>"; empty: the stream's name.
	part string
	// derived are schema fields the connector supplies, e.g. the asset state.
	derived map[string]string
	// tombstones says whether a null value follows each record's key.
	tombstones func(Config) bool
	// filter returns the function deciding whether a record is published; nil: all.
	filter func(Config) func(record []byte) bool
	// start requests the export of everything changed since the given time.
	start func(ctx context.Context, api Tenable, cfg Config, since time.Time) (tenable.ExportJob, error)
	// closes, when set, closes the open findings of each asset of the export,
	// dated by the record's closedAt member; restores clears the closure of
	// each asset (an asset exported as active again starts afresh).
	closes   findingindex.Reason
	closedAt string
	restores bool
}

func assetTombstones(cfg Config) bool { return cfg.AssetsTombstones }

func assetFilter(cfg Config) func([]byte) bool { return sourceFilter(cfg.AssetsExcludeSources) }

// Checkpoints names the checkpoint of each export of one run, in order:
// "vulns", or "assets.active", "assets.deleted" and "assets.terminated".
func (s Stream) Checkpoints() []string {
	if len(s.exports) == 0 {
		return []string{s.Name}
	}
	out := make([]string, len(s.exports))
	for i, e := range s.exports {
		out[i] = s.Name
		if e.part != "" {
			out[i] += "." + e.part
		}
	}
	return out
}

// Lookup returns the Table entry of the named stream.
func Lookup(name string) (Stream, bool) {
	i := slices.IndexFunc(Table, func(s Stream) bool { return s.Name == name })
	if i < 0 {
		return Stream{}, false
	}
	return Table[i], true
}

// Topics names the topics the sources write to.
type Topics struct {
	// Stream is each stream's topic, by stream name.
	Stream map[string]string
	// DeadLetter receives records the connector could not encode, as raw JSON
	// with the reason in headers, so a malformed record neither stops a stream
	// nor disappears.
	DeadLetter string
}

// validate checks that every stream of Table has a topic.
func (t Topics) validate() error {
	for _, s := range Table {
		if t.Stream[s.Name] == "" {
			return fmt.Errorf("no topic for stream %s", s.Name)
		}
	}
	if t.DeadLetter == "" {
		return fmt.Errorf("no dead-letter topic")
	}
	return nil
}
