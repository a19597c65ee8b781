// Package tenable is a client for the parts of the Tenable Vulnerability Management
// (Tenable VM) REST API that tvmkafka uses: the asynchronous exports of assets,
// vulnerability findings and compliance findings, the plugin list, and asset import.
//
// Every request carries the X-ApiKeys header and Tenable's standard integration
// User-Agent. Failures are sorted into permanent, throttled and retryable (see
// Classify); throttled and retryable ones are retried with exponential backoff that
// honours Retry-After and never waits past the context deadline, and retries carry
// X-Tio-Retry-Count. Keys never appear in logs or errors.
//
// An export runs in three steps:
//
//	job, err := client.StartVulnExport(ctx, tenable.VulnExportRequest{NumAssets: 2000, ...})
//	res, err := client.FollowExport(ctx, job, tenable.FollowOptions{}, func(ctx context.Context, chunk int) error {
//		_, err := client.DownloadChunk(ctx, job.Kind, job.UUID, chunk, func(record []byte) error {
//			// record is one finding's raw JSON, valid during this call only
//			return nil
//		})
//		return err
//	})
//
// StartXxxExport adopts an identical export that is already running (HTTP 409);
// FollowExport hands chunks out as they become available, treats chunk IDs as a
// set, and reports ERROR, CANCELLED and failed chunks as *ExportError; DownloadChunk
// streams a chunk record by record and resumes a broken download where it stopped.
package tenable
