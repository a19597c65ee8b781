#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft mode) on loopback, for tests and local runs.
#
#   kafka.sh fetch    resolve the broker jars from Maven Central (cached)
#   kafka.sh up       fetch, format fresh storage, start, wait until clients are accepted
#   kafka.sh down     stop the broker started by `up` and remove its data
#   kafka.sh stop     stop the broker started by `up`, keeping its data
#   kafka.sh start    start a broker stopped by `stop` again on its data
#   kafka.sh status   exit 0 when the broker on KAFKA_PORT accepts connections
#   kafka.sh logs     print the tail of the broker log
#
# Environment:
#   KAFKA_PORT        client port (default 19092); the controller listens on KAFKA_PORT+1
#   KAFKA_VERSION     org.apache.kafka:kafka_2.13 version (default 4.1.2; 4.0.x refuses
#                     kafka-go's consumer-group join, fixed by KAFKA-19444 in 4.1)
#   KAFKA_CACHE_DIR   where jars, data and logs live (default <repo>/.cache/kafka)
#   KAFKA_HEAP        broker heap (default 512m)
#   JAVA_HOME         a Java 17+ runtime; otherwise the first Java 17 found, else `java`
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
port=${KAFKA_PORT:-19092}
controller_port=$((port + 1))
version=${KAFKA_VERSION:-4.1.2}
cache=${KAFKA_CACHE_DIR:-$repo/.cache/kafka}
libs=$cache/$version/libs
run=$cache/run-$port
pidfile=$run/broker.pid
logfile=$cache/broker-$port.log

log() { printf 'kafka-local: %s\n' "$*" >&2; }

find_java() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  for d in /usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/temurin-17* /usr/lib/jvm/java-1.17.0-*; do
    [ -x "$d/bin/java" ] && candidates+=("$d/bin/java")
  done
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  for j in "${candidates[@]}"; do
    major=$("$j" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
    if [ -n "$major" ] && [ "$major" -ge 17 ]; then
      echo "$j"
      return 0
    fi
  done
  log "no Java 17 or newer found; set JAVA_HOME"
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

fetch() {
  if [ -f "$libs/.complete" ]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || { log "mvn is needed to fetch the broker jars"; return 1; }
  log "fetching org.apache.kafka:kafka_2.13:$version from Maven Central into $libs"
  rm -rf "$libs"
  mkdir -p "$libs"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" -Dkafka.version="$version" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs"
  ls "$libs"/kafka_2.13-"$version".jar >/dev/null
  touch "$libs/.complete"
}

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

up() {
  if port_open "$port"; then
    log "a broker already listens on 127.0.0.1:$port; leaving it alone"
    return 0
  fi
  fetch
  local java
  java=$(find_java)
  rm -rf "$run"
  mkdir -p "$run/data"
  cat >"$run/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$run/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.segment.bytes=67108864
log.cleaner.backoff.ms=1000
EOF
  local cp="$libs/*"
  local cluster_id
  cluster_id=$("$java" -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
  "$java" -cp "$cp" -Dlog4j2.configurationFile="$here/log4j2.properties" -Dkafka.logfile="$logfile" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$run/server.properties" >"$run/format.out" 2>&1 ||
    { cat "$run/format.out" >&2; return 1; }
  : >"$logfile"
  launch "$java"
}

# start brings back a broker stopped by `stop`, on the storage `up` formatted,
# so its topics, records and committed offsets survive the restart.
start() {
  if port_open "$port"; then
    log "a broker already listens on 127.0.0.1:$port; leaving it alone"
    return 0
  fi
  if [ ! -f "$run/format.out" ]; then
    log "no stopped broker on port $port to start (kafka.sh up starts a fresh one)"
    return 1
  fi
  local java
  java=$(find_java)
  launch "$java"
}

# launch starts the broker of $run/server.properties and waits until it accepts clients.
launch() {
  local java=$1 cp="$libs/*" from
  # Readiness is this start's line in the log, not an earlier start's.
  from=$(($(wc -l <"$logfile" 2>/dev/null || echo 0) + 1))
  log "starting Kafka $version on 127.0.0.1:$port (log: $logfile)"
  nohup "$java" -Xms128m -Xmx"${KAFKA_HEAP:-512m}" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/log4j2.properties" -Dkafka.logfile="$logfile" \
    -cp "$cp" kafka.Kafka "$run/server.properties" >"$run/stdout.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-120}))
  while [ $SECONDS -lt $deadline ]; do
    if ! running_pid >/dev/null; then
      log "broker exited during start-up"
      tail -n 40 "$run/stdout.log" "$logfile" >&2 || true
      return 1
    fi
    if port_open "$port" && tail -n +"$from" "$logfile" | grep -q 'Kafka Server started'; then
      log "broker ready"
      return 0
    fi
    sleep 0.5
  done
  log "broker not ready after ${KAFKA_START_TIMEOUT:-120}s"
  tail -n 40 "$logfile" >&2 || true
  stop
  return 1
}

# stop ends the broker process and keeps its storage.
stop() {
  local pid
  if pid=$(running_pid); then
    log "stopping broker (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

down() {
  stop
  rm -rf "$run"
}

case "${1:-}" in
fetch) fetch ;;
up) up ;;
down) down ;;
stop) stop ;;
start) start ;;
status) port_open "$port" ;;
logs) tail -n "${2:-80}" "$logfile" 2>/dev/null || log "no broker log at $logfile" ;;
*)
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
