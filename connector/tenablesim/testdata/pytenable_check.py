#!/usr/bin/env python3
"""Drive the simulator with pyTenable, a Tenable VM client tvmkafka did not write.

Run by TestPyTenableCrossCheck (pytenable_test.go). The server and its keys come
from the environment variables pyTenable itself knows (TIO_URL, TIO_ACCESS_KEY,
TIO_SECRET_KEY); the scenario and its filter values come from the command line.

Stdout carries exactly one JSON document: for every export the export UUID, the
record count and the identity key of every record, in the order pyTenable
yielded them; the same for the plugin listings; the import round trip; and
every warning or error pyTenable and its HTTP layer logged. Logs go to stderr.
Any exception ends the process with a non-zero status and a message.

Scenarios:
  full    assets v1 and v2, vulns (defaults; since + every state), compliance
          (defaults; last_seen), plugins (all; last_updated), then an asset
          import, its job until COMPLETE, and an asset export that must show it.
  faults  one vulns export with num_assets=50 (several chunks), run while the
          test has faults switched on.
"""

import argparse
import datetime
import json
import logging
import os
import sys
import time
import traceback

IMPORT_SOURCE = 'tvmkafka-xcheck'
# The new asset's identifiers come from documentation ranges (RFC 5737, .test)
# so they cannot match a generated asset.
NEW_ASSET = {
    'fqdn': ['xcheck-new.tvmkafka.test'],
    'ipv4': ['198.51.100.77'],
    'netbios_name': 'XCHECK-NEW',
    'operating_system': ['Linux Kernel 6.1'],
}

log = logging.getLogger('pytenable_check')


class Collector(logging.Handler):
    """Keeps every WARNING-or-worse record logged by pyTenable or restfly."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        if record.name.startswith(('tenable', 'restfly')):
            self.records.append({'logger': record.name, 'level': record.levelname,
                                 'message': record.getMessage()})


def asset_key(rec):
    return rec['id']


def vuln_key(rec):
    return [rec['asset']['uuid'], rec['plugin']['id'], rec['port']['port'], rec['port']['protocol']]


def compliance_key(rec):
    return [rec['asset_uuid'], rec['check_id']]


def drain(name, iterator, key, keep=None):
    """Iterates an ExportsIterator to the end and summarises what it yielded."""
    started = time.monotonic()
    keys = []
    for rec in iterator:
        keys.append(key(rec))
        if keep is not None:
            keep(rec)
    out = {'name': name, 'export_uuid': str(iterator.uuid), 'status': iterator.status,
           'count': len(keys), 'keys': keys, 'seconds': round(time.monotonic() - started, 3)}
    log.info('%s: export %s gave %d records in %.2fs', name, out['export_uuid'], len(keys), out['seconds'])
    return out


def plugins(name, iterator):
    started = time.monotonic()
    keys = [p['id'] for p in iterator]
    out = {'name': name, 'count': len(keys), 'total_count': iterator.total, 'keys': keys,
           'seconds': round(time.monotonic() - started, 3)}
    log.info('%s: %d plugins (total_count %s)', name, len(keys), iterator.total)
    return out


def pick_update_target(records):
    """The live asset with the lowest id whose first FQDN no other asset has."""
    owners = {}
    for rec in records:
        for fqdn in rec.get('fqdns') or []:
            owners.setdefault(fqdn, set()).add(rec['id'])
    for rec in sorted(records, key=lambda r: r['id']):
        fqdns = rec.get('fqdns') or []
        if fqdns and len(owners[fqdns[0]]) == 1 and not rec.get('deleted_at') and not rec.get('terminated_at'):
            return rec['id'], fqdns[0]
    raise RuntimeError('no asset with a unique FQDN to update by import')


def run_import(tio, target_fqdn, deadline_seconds=20):
    job_uuid = tio.assets.asset_import(IMPORT_SOURCE, dict(NEW_ASSET), {'fqdn': [target_fqdn]})
    log.info('import job %s submitted', job_uuid)
    polls, job = 0, None
    deadline = time.monotonic() + deadline_seconds
    while True:
        job = tio.assets.import_job_details(job_uuid)
        polls += 1
        if job['status'] != 'IN_PROGRESS':
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f'import job {job_uuid} still IN_PROGRESS after {deadline_seconds}s')
        time.sleep(0.05)
    if job['status'] != 'COMPLETE':
        raise RuntimeError(f'import job {job_uuid} ended {job["status"]}: {job.get("status_message")}')
    return job_uuid, job, polls


def scenario_full(tio, args):
    out = {'exports': [], 'plugins': []}
    exports = out['exports']

    first_assets = []
    exports.append(drain('assets_v1', tio.exports.assets(), asset_key, keep=first_assets.append))
    if not hasattr(tio.exports, 'assets_v2'):
        raise RuntimeError('this pyTenable has no exports.assets_v2')
    # A chunk size below the tenant size makes pyTenable page through chunks.
    exports.append(drain('assets_v2', tio.exports.assets_v2(chunk_size=100), asset_key))
    exports.append(drain('vulns_default', tio.exports.vulns(), vuln_key))
    exports.append(drain('vulns_since', tio.exports.vulns(since=args.since, state=['open', 'reopened', 'fixed']),
                         vuln_key))
    exports.append(drain('compliance_default', tio.exports.compliance(), compliance_key))
    # num_findings below the result count makes pyTenable page through chunks.
    exports.append(drain('compliance_last_seen',
                         tio.exports.compliance(last_seen=args.last_seen, num_findings=500), compliance_key))

    updated = datetime.date.fromisoformat(args.plugins_updated)
    out['plugins'].append(plugins('plugins_all', tio.plugins.list()))
    out['plugins'].append(plugins('plugins_updated', tio.plugins.list(last_updated=updated)))

    target_id, target_fqdn = pick_update_target(first_assets)
    job_uuid, job, polls = run_import(tio, target_fqdn)
    after = []
    exports.append(drain('assets_after_import', tio.exports.assets(), asset_key, keep=after.append))
    sourced, new_ids = [], []
    for rec in after:
        if IMPORT_SOURCE in [s.get('name') for s in rec.get('sources') or []]:
            sourced.append(rec['id'])
        if NEW_ASSET['fqdn'][0] in (rec.get('fqdns') or []):
            new_ids.append(rec['id'])
    out['import'] = {'job_uuid': job_uuid, 'job': job, 'polls': polls, 'source': IMPORT_SOURCE,
                     'update_target': target_id, 'update_fqdn': target_fqdn,
                     'new_asset_ids': new_ids, 'ids_with_source': sorted(sourced)}
    return out


def scenario_faults(tio, args):
    return {'exports': [drain('vulns_faults', tio.exports.vulns(num_assets=args.num_assets), vuln_key)],
            'plugins': []}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('scenario', choices=['full', 'faults'])
    parser.add_argument('--since', type=int, help='vulns since (unix seconds)')
    parser.add_argument('--last-seen', type=int, help='compliance last_seen (unix seconds)')
    parser.add_argument('--plugins-updated', help='plugins last_updated (YYYY-MM-DD)')
    parser.add_argument('--num-assets', type=int, default=50, help='vulns num_assets in the faults scenario')
    args = parser.parse_args()
    if args.scenario == 'full' and None in (args.since, args.last_seen, args.plugins_updated):
        parser.error('full needs --since, --last-seen and --plugins-updated')

    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    collector = Collector()
    logging.getLogger().addHandler(collector)

    import tenable
    from tenable.io import TenableIO

    tio = TenableIO(os.environ['TIO_ACCESS_KEY'], os.environ['TIO_SECRET_KEY'], url=os.environ['TIO_URL'],
                    vendor='tvmkafka', product='cross-check', build='test')
    started = time.monotonic()
    result = scenario_full(tio, args) if args.scenario == 'full' else scenario_faults(tio, args)
    result['scenario'] = args.scenario
    result['pytenable_version'] = getattr(tenable, '__version__', 'unknown')
    result['seconds'] = round(time.monotonic() - started, 3)
    result['log_warnings'] = collector.records
    json.dump(result, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    try:
        main()
    except Exception as exc:  # report any failure with its traceback, exit non-zero
        traceback.print_exc(file=sys.stderr)
        print(f'pytenable_check: {type(exc).__name__}: {exc}', file=sys.stderr)
        sys.exit(1)
