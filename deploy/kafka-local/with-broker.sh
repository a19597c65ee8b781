#!/usr/bin/env bash
# Runs a command with a real Kafka broker on 127.0.0.1:$KAFKA_PORT.
# Starts the broker when none runs, and then stops it afterwards (also on Ctrl-C);
# a broker that was already running is left alone. When the command fails, the
# tail of the broker log is printed, since a broker-side cause is easy to miss.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kafka=$here/kafka.sh
export KAFKA_PORT=${KAFKA_PORT:-19092}
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}

started=
if ! "$kafka" status; then
  "$kafka" up || exit 1
  started=1
fi
stop() { [ -n "$started" ] && "$kafka" down; }
trap stop EXIT
trap 'exit 130' INT TERM

"$@"
rc=$?
if [ $rc -ne 0 ]; then
  echo "--- tail of the Kafka broker log (command exited $rc)" >&2
  "$kafka" logs 60 >&2
fi
exit $rc
