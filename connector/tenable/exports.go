package tenable

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// ExportKind names one of Tenable's asynchronous export workflows.
type ExportKind string

// The export workflows.
const (
	ExportAssets     ExportKind = "assets"
	ExportVulns      ExportKind = "vulns"
	ExportCompliance ExportKind = "compliance"
)

// jobPath is where status, chunks and cancel live; v2 asset jobs use the v1 paths.
func (k ExportKind) jobPath(uuid string) string {
	return "/" + string(k) + "/export/" + uuid
}

// ExportState is the status of an export job.
type ExportState string

// Export job states. READY is compliance only: some chunks are available while
// the rest are still processing.
const (
	StateQueued     ExportState = "QUEUED"
	StateProcessing ExportState = "PROCESSING"
	StateReady      ExportState = "READY"
	StateFinished   ExportState = "FINISHED"
	StateCancelled  ExportState = "CANCELLED"
	StateError      ExportState = "ERROR"
)

// Terminal reports whether the job can no longer change.
func (s ExportState) Terminal() bool {
	return s == StateFinished || s == StateCancelled || s == StateError
}

// ExportJob identifies a running export.
type ExportJob struct {
	Kind ExportKind
	UUID string
	// Adopted is true when Tenable answered 409 and the job is an identical export
	// that was already running (ours from an earlier run, or someone else's).
	Adopted bool
	// RequestedAt is Tenable's clock when the export was requested (the Date of the
	// answer to the request, or the job's created time for an adopted job). Zero when
	// unknown. It bounds what the export can contain: nothing indexed after it.
	RequestedAt time.Time
}

// ExportStatus is a job's status. Tenable sends a different subset of fields per
// export kind (assets send little more than status and chunks_available), so every
// counter is optional.
type ExportStatus struct {
	UUID                 string         `json:"uuid"`
	Status               ExportState    `json:"status"`
	Reason               string         `json:"reason"`
	ChunksAvailable      []int          `json:"chunks_available"`
	ChunksFailed         []int          `json:"chunks_failed"`
	ChunksCancelled      []int          `json:"chunks_cancelled"`
	TotalChunks          *int           `json:"total_chunks"`
	ChunksAvailableCount *int           `json:"chunks_available_count"`
	EmptyChunksCount     *int           `json:"empty_chunks_count"`
	FinishedChunks       *int           `json:"finished_chunks"`
	NumAssetsPerChunk    int            `json:"num_assets_per_chunk"`
	NumFindings          int            `json:"num_findings"`
	Created              int64          `json:"created"` // epoch milliseconds
	Filters              jsontext.Value `json:"filters"`
}

// CreatedAt returns the job's creation time, zero when not reported.
func (s ExportStatus) CreatedAt() time.Time {
	if s.Created <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(s.Created).UTC()
}

// ExportJobInfo is one entry of a job list (GET /<kind>/export/status).
type ExportJobInfo struct {
	UUID                 string      `json:"uuid"`
	Status               ExportState `json:"status"`
	Reason               string      `json:"reason"`
	TotalChunks          int         `json:"total_chunks"`
	FinishedChunks       int         `json:"finished_chunks"`
	ChunksAvailableCount int         `json:"chunks_available_count"`
	EmptyChunksCount     int         `json:"empty_chunks_count"`
	NumAssetsPerChunk    int         `json:"num_assets_per_chunk"`
	NumFindings          int         `json:"num_findings"`
	Created              int64       `json:"created"`
	// Filters as sent by Tenable: an object for vulns, a JSON-encoded string for assets.
	Filters jsontext.Value `json:"filters"`
}

// FiltersJSON returns the job's filters as a JSON object, decoding the
// string-encoded form asset job lists use.
func (j ExportJobInfo) FiltersJSON() jsontext.Value {
	if j.Filters.Kind() == '"' {
		var s string
		if err := json.Unmarshal(j.Filters, &s); err == nil && jsontext.Value(s).IsValid() {
			return jsontext.Value(s)
		}
	}
	return j.Filters
}

type startResponse struct {
	ExportUUID string `json:"export_uuid"`
}

type conflictResponse struct {
	ActiveJobID   string `json:"active_job_id"`
	FailureReason string `json:"failure_reason"`
}

type validator interface{ Validate() error }

// StartAssetExport requests a v1 asset export. A 409 for an identical running export
// adopts that job (ExportJob.Adopted).
func (c *Client) StartAssetExport(ctx context.Context, req AssetExportRequest) (ExportJob, error) {
	return c.startExport(ctx, ExportAssets, "/assets/export", req)
}

// StartAssetExportV2 requests a v2 asset export (nested records, Since filter).
func (c *Client) StartAssetExportV2(ctx context.Context, req AssetExportV2Request) (ExportJob, error) {
	return c.startExport(ctx, ExportAssets, "/assets/v2/export", req)
}

// StartVulnExport requests a vulnerability export.
func (c *Client) StartVulnExport(ctx context.Context, req VulnExportRequest) (ExportJob, error) {
	return c.startExport(ctx, ExportVulns, "/vulns/export", req)
}

// StartComplianceExport requests a compliance export.
func (c *Client) StartComplianceExport(ctx context.Context, req ComplianceExportRequest) (ExportJob, error) {
	return c.startExport(ctx, ExportCompliance, "/compliance/export", req)
}

func (c *Client) startExport(ctx context.Context, kind ExportKind, path string, req validator) (ExportJob, error) {
	if err := req.Validate(); err != nil {
		return ExportJob{}, fmt.Errorf("%s export request: %w", kind, err)
	}
	var out startResponse
	hdr, err := c.doJSON(ctx, http.MethodPost, path, nil, req, &out)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusConflict {
			return c.adopt(ctx, kind, apiErr)
		}
		return ExportJob{}, fmt.Errorf("start %s export: %w", kind, err)
	}
	if out.ExportUUID == "" {
		return ExportJob{}, fmt.Errorf("start %s export: answer has no export_uuid", kind)
	}
	return ExportJob{Kind: kind, UUID: out.ExportUUID, RequestedAt: c.serverTime(hdr)}, nil
}

// adopt takes over the running export named by a 409 answer, as Tenable intends:
// it refuses duplicates of an export in progress.
func (c *Client) adopt(ctx context.Context, kind ExportKind, conflict *APIError) (ExportJob, error) {
	var body conflictResponse
	if err := json.Unmarshal(conflict.Body, &body); err != nil || body.ActiveJobID == "" {
		return ExportJob{}, fmt.Errorf("start %s export: conflict without an active_job_id to adopt: %w", kind, conflict)
	}
	job := ExportJob{Kind: kind, UUID: body.ActiveJobID, Adopted: true}
	c.log.LogAttrs(ctx, slog.LevelWarn, "adopting the identical export already running",
		slog.String("kind", string(kind)), slog.String("export_uuid", job.UUID), slog.String("reason", body.FailureReason))
	created, err := c.exportCreated(ctx, kind, job.UUID)
	if err != nil {
		return ExportJob{}, fmt.Errorf("adopt %s export %s: %w", kind, job.UUID, err)
	}
	job.RequestedAt = created
	return job, nil
}

// exportCreated finds when an export was created: from its status when Tenable
// reports it there (vulns, compliance), else from the job list (assets).
func (c *Client) exportCreated(ctx context.Context, kind ExportKind, uuid string) (time.Time, error) {
	st, err := c.ExportStatus(ctx, kind, uuid)
	if err != nil {
		return time.Time{}, err
	}
	if t := st.CreatedAt(); !t.IsZero() {
		return t, nil
	}
	jobs, err := c.ListExports(ctx, kind)
	if err != nil {
		return time.Time{}, err
	}
	for _, j := range jobs {
		if j.UUID == uuid && j.Created > 0 {
			return time.UnixMilli(j.Created).UTC(), nil
		}
	}
	return time.Time{}, nil
}

// ExportStatus fetches a job's status.
func (c *Client) ExportStatus(ctx context.Context, kind ExportKind, uuid string) (ExportStatus, error) {
	var st ExportStatus
	if _, err := c.doJSON(ctx, http.MethodGet, kind.jobPath(uuid)+"/status", nil, nil, &st); err != nil {
		if errors.Is(err, ErrNotFound) {
			return st, fmt.Errorf("status of %s export %s: %w: %w", kind, uuid, ErrExportExpired, err)
		}
		return st, fmt.Errorf("status of %s export %s: %w", kind, uuid, err)
	}
	if st.Status == "" {
		return st, fmt.Errorf("status of %s export %s: answer has no status", kind, uuid)
	}
	return st, nil
}

// ErrExportExpired: Tenable no longer knows the export (404 on its status).
var ErrExportExpired = errors.New("tenable: export unknown or expired")

// CancelExport cancels a running export. Chunks already finished stay downloadable
// for three days. Cancelling a job that already ended is not an error.
func (c *Client) CancelExport(ctx context.Context, kind ExportKind, uuid string) error {
	_, err := c.doJSON(ctx, http.MethodPost, kind.jobPath(uuid)+"/cancel", nil, nil, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest {
		// "Cannot cancel a completed job" / "Cannot cancel finished export".
		return nil
	}
	if err != nil {
		return fmt.Errorf("cancel %s export %s: %w", kind, uuid, err)
	}
	return nil
}

// ListExports returns the recent export jobs of a kind (Tenable keeps up to 1,000).
func (c *Client) ListExports(ctx context.Context, kind ExportKind) ([]ExportJobInfo, error) {
	var out struct {
		Exports []ExportJobInfo `json:"exports"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/"+string(kind)+"/export/status", nil, nil, &out); err != nil {
		if errors.Is(err, ErrNotFound) { // documented for compliance when there are no jobs
			return nil, nil
		}
		return nil, fmt.Errorf("list %s exports: %w", kind, err)
	}
	return out.Exports, nil
}

func chunkPath(kind ExportKind, uuid string, chunk int) string {
	return kind.jobPath(uuid) + "/chunks/" + strconv.Itoa(chunk)
}
