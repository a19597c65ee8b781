// Package tenablesim is a deterministic fake Tenable Vulnerability Management
// tenant: an http.Handler that serves Tenable VM's export workflows, plugin
// list and asset import with the documented field names, record shapes, status
// codes and error bodies, over a generated tenant of realistic assets,
// findings, compliance results and plugins.
//
// # The tenant
//
// New generates Config.Assets assets from Config.Seed: the same seed, size and
// start time give the same tenant, byte for byte. Assets are Windows, Linux,
// macOS, network, printer and hypervisor hosts with private IPv4 (some IPv6)
// addresses, FQDNs, NetBIOS names, MACs, agents, AWS/Azure/GCP identifiers,
// tags, sources, interfaces and scores; a few are deleted or (cloud) terminated.
// The plugin catalogue (Config.Plugins) has the well-known informational
// plugins every scan reports plus generated vulnerability plugins whose CVSS v2
// and v3 vectors and scores agree (computed with the published formulas), with
// VPR, VPR v2, EPSS, CVEs and cross references. An asset has 30 to 40
// findings, most of them informational, in states OPEN, REOPENED and FIXED;
// servers also have compliance results from CIS audit files.
//
// The tenant clock starts at Config.Start and moves only with Advance, which
// rescans assets, finds, fixes and reopens findings, adds, deletes and
// terminates assets and updates plugins, deterministically.
//
// # Semantics and decisions
//
//   - Exports are snapshots taken when requested. A job is QUEUED for
//     Config.QueueLatency, then one chunk becomes available every
//     Config.ChunkLatency, in a deterministic, roughly ascending order that is
//     not sorted. Compliance jobs are READY while some chunks are available.
//   - Vuln chunks hold the findings of num_assets assets; groups without
//     a matching finding are empty chunks: counted in total_chunks and
//     empty_chunks_count, never listed in chunks_available (downloading one
//     gives []).
//   - Without deleted or terminated filters (is_deleted, deleted_at,
//     is_terminated, terminated_at, or the v2 since), asset exports return live
//     assets only. Findings and compliance results of deleted or terminated
//     assets are never exported. Unlicensed assets' findings need
//     include_unlicensed.
//   - Asset time filters mean "later than"; vuln and compliance time filters
//     "on or after". A vuln export without any time filter covers findings
//     found or fixed in the 30 days before the tenant clock. A vuln since
//     without state returns OPEN/REOPENED findings last found since, plus FIXED
//     findings fixed since; with state, each state uses its own field.
//     Compliance since filters on indexed_at; compliance state omitted means
//     every state. cve_category, exploit_maturity and vpr_threat_intensity map
//     onto the plugin's threat data; weaponization, zero_day, initiative_id and
//     the software_vulns filters are accepted and do not filter.
//   - A second export with the same kind and normalised body while the first
//     runs answers 409 with active_job_id; more than
//     Config.MaxConcurrentExports running exports answer 429 with Retry-After
//     and nginx's HTML body.
//   - Chunks expire 24 hours (compliance: 3 days; cancelled jobs: 3 days after
//     the cancel) of tenant time after the export was requested, then answer
//     404. A chunk not yet available answers 400.
//   - Imports are validated and merged when accepted: an imported asset that
//     shares an FQDN, IPv4, MAC or NetBIOS name with a live asset updates it,
//     otherwise a new asset is created; the import source is added to
//     sources. The job reports IN_PROGRESS for Config.ImportLatency, then
//     COMPLETE. A request mixing AWS, Azure and GCP attributes is accepted and
//     its job ends in ERROR without changing the tenant.
//
// # Admin API
//
// Under /_sim/ the handler serves an unauthenticated admin API, JSON in and
// out. It mirrors the Go methods:
//
//	GET  /_sim/state                     clock, step, counts by kind, state, severity (State)
//	POST /_sim/advance                   {"hours":24} or {"duration":"36h"} (Advance)
//	GET  /_sim/faults                    the faults in force (Faults)
//	PUT  /_sim/faults                    replace them (SetFaults)
//	POST /_sim/truth/{kind}              kind: assets, assets-v2, vulns, compliance; body as for the export (Truth)
//	GET  /_sim/truth/plugins?last_updated=YYYY-MM-DD
//	GET  /_sim/truth/asset/{id}          one asset's findings; a gone asset's as they were when it went (AssetFindings)
//	GET  /_sim/stats                     requests by route and status, User-Agents, retries, exports (created, most running at once), imports (Stats)
//	POST /_sim/expire-chunks             make every existing chunk expired (ExpireChunks)
//	GET  /_sim/imports                   what was imported (Imports)
//
// Examples, against `tvmkafka sim --listen 127.0.0.1:8080 --access-key AK --secret-key SK`:
//
//	K='X-ApiKeys: accessKey=AK; secretKey=SK;'
//	curl -s -H "$K" -X POST localhost:8080/vulns/export -d '{"num_assets":500,"filters":{"since":1}}'
//	curl -s -H "$K" localhost:8080/vulns/export/$UUID/status
//	curl -s -H "$K" localhost:8080/vulns/export/$UUID/chunks/1 > chunk-1.json
//
//	curl -s localhost:8080/_sim/state
//	curl -s -X POST localhost:8080/_sim/truth/vulns -d '{"filters":{"since":1,"severity":["critical"]}}'
//	curl -s -X POST localhost:8080/_sim/truth/assets -d '{"chunk_size":100,"include_records":true}'
//	curl -s 'localhost:8080/_sim/truth/plugins?last_updated=2025-06-01'
//	curl -s -X POST localhost:8080/_sim/advance -d '{"hours":24}'
//	curl -s -X PUT localhost:8080/_sim/faults -d '{"rate_429":0.05,"retry_after_seconds":2,"export_errors":1,"export_error_after_chunks":2}'
//	curl -s -X PUT localhost:8080/_sim/faults -d '{"truncate_chunks":1,"slow_chunks":1,"slow_chunk_delay":"5s"}'
//	curl -s localhost:8080/_sim/stats
//	curl -s -X POST localhost:8080/_sim/expire-chunks
//	curl -s localhost:8080/_sim/imports
//
// Truth answers with {"count":N,"keys":[…]}: asset ids; [asset_uuid,
// plugin_id, port, protocol] for vulns; [asset_uuid, check_id] for compliance;
// plugin ids for plugins. With "include_records": true in the body (not a
// Tenable field; it is removed before the filters are read) it adds "records",
// the records exactly as chunks render them.
//
// # Faults
//
// Faults (Config.Faults, SetFaults, PUT /_sim/faults) inject random 429s and
// 5xxs on Tenable endpoints from their own seeded random stream, and scripted
// one-shots: exports that end in ERROR, exports that finish with a failed chunk
// (later chunks cancelled, with the "N of M chunks failed" reason), chunk
// downloads cut off inside a record (the full Content-Length is declared and
// the connection closed), and slow chunk downloads.
//
// # Performance
//
// Findings are kept compact (indexes into the asset and plugin tables, times as
// int64); plugin and asset JSON fragments are rendered once; chunks are
// streamed into the ResponseWriter through a fixed buffer with no reflection.
// See BenchmarkRenderVulnChunk.
package tenablesim
