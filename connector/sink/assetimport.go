package sink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/batchsink"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// assetConverter turns inbound records into validated assets, grouped by cloud
// provider, since one import request never mixes providers. The asset's JSON
// is written over one buffer, record after record: the sink copies it into a
// request body before it converts the next record (batchsink.Converter).
type assetConverter struct {
	dec *Decoder
	out []byte
}

func (c *assetConverter) Convert(ctx context.Context, rec kafkaio.Record) (Asset, string, error) {
	a, err := c.dec.decode(ctx, rec.Value, &c.out)
	var invalid *InvalidError
	if errors.As(err, &invalid) {
		return Asset{}, "", &batchsink.Refusal{Stage: batchsink.StageConvert, Exception: "InvalidAsset", Reason: invalid.Reason, Err: err}
	}
	if err != nil {
		return Asset{}, "", err
	}
	group := ""
	if a.Cloud != CloudNone {
		group = a.Cloud.String()
	}
	return a, group, nil
}

// assetImport is Tenable VM's asset import as a batch destination: bodies are
// POST /import/assets requests, jobs are import jobs.
type assetImport struct {
	importer Importer
	source   string
	maxBytes int
	// sent counts import requests made, retries included, whatever Tenable
	// answered: a sink whose every request is refused (a wrong key) must not
	// report that it made none.
	sent atomic.Int64
}

func (d *assetImport) NewBody() (batchsink.Body[Asset], error) {
	b, err := NewBodyBuilder(d.source, d.maxBytes)
	if err != nil {
		return nil, err
	}
	return assetBody{b}, nil
}

func (d *assetImport) Submit(ctx context.Context, body []byte) (string, error) {
	d.sent.Add(1)
	id, err := d.importer.ImportAssetsBody(ctx, body)
	var apiErr *tenable.APIError
	if errors.As(err, &apiErr) && refusesContent(apiErr.StatusCode) {
		return "", &batchsink.Refusal{Stage: batchsink.StagePut, Exception: "ImportRejected",
			Reason: fmt.Sprintf("Tenable refused the asset: %v", err), Err: err}
	}
	return id, classify(err)
}

func (d *assetImport) Job(ctx context.Context, id string) (batchsink.JobStatus, error) {
	job, err := d.importer.ImportJob(ctx, id)
	if err != nil {
		return batchsink.JobStatus{}, classify(err)
	}
	st := batchsink.JobStatus{Done: job.Done(), Status: string(job.Status), ItemsOK: job.UploadedAssets, ItemsFailed: job.FailedAssets}
	if st.Done && job.Status != tenable.ImportComplete {
		st.Failure = &batchsink.Refusal{Stage: batchsink.StagePut, Exception: "ImportJobError",
			Reason: fmt.Sprintf("import job %s ended in ERROR: %s", id, job.StatusMessage)}
	}
	return st, nil
}

// classify tells the retry loop what to do with a Tenable failure: give up on
// a permanent one, and wait as long as Tenable asked when it said.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if tenable.Classify(err) == tenable.Permanent {
		return retry.Permanent(err)
	}
	var apiErr *tenable.APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		return retry.After(err, apiErr.RetryAfter)
	}
	return err
}

// refusesContent tells statuses that are about the request's content, which
// splitting can narrow down, from those about the caller (401, 403, 404).
func refusesContent(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge ||
		status == http.StatusUnprocessableEntity || status == http.StatusConflict
}

// assetBody is a BodyBuilder as a batch body.
type assetBody struct{ b *BodyBuilder }

func (a assetBody) Add(asset Asset) error {
	err := a.b.Add(asset)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrBodyFull):
		return batchsink.ErrBodyFull
	case errors.Is(err, ErrAssetTooLarge):
		return &batchsink.Refusal{Stage: batchsink.StageConvert, Exception: "AssetTooLarge", Err: err,
			Reason: fmt.Sprintf("the asset needs %d bytes, more than an import request of at most %d bytes can hold", len(asset.JSON), a.b.maxBytes)}
	default:
		return err
	}
}

func (a assetBody) Bytes() []byte    { return a.b.Bytes() }
func (a assetBody) Len() int         { return a.b.Len() }
func (a assetBody) Count() int       { return a.b.Count() }
func (a assetBody) Item(i int) Asset { return a.b.Asset(i) }
