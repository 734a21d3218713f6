#!/usr/bin/env bash
# kafka-run-class.sh [-daemon] [-name NAME] [-loggc] CLASS [ARGS...]
#
# Written for kafka-wire's local Kafka image (docker/kafka). It keeps the interface of the script of the
# same name in Apache Kafka's binary release, which this image cannot ship (it is built from the Maven
# jars): the classpath is /opt/kafka/libs/*, and these variables are honoured the same way:
#   JAVA_HOME, CLASSPATH (prepended), KAFKA_HEAP_OPTS (default -Xmx256M), KAFKA_JVM_PERFORMANCE_OPTS,
#   KAFKA_GC_LOG_OPTS, KAFKA_JMX_OPTS and JMX_PORT, KAFKA_LOG4J_OPTS (default: the tools' log4j2 file),
#   KAFKA_OPTS, LOG_DIR.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2
  exit 1
fi

base_dir=$(cd "$(dirname "$0")/.." && pwd)
daemon=false
name=
gc_log=false
while [ $# -gt 0 ]; do
  case "$1" in
    -daemon) daemon=true; shift ;;
    -name) name=$2; shift 2 ;;
    -loggc) gc_log=true; shift ;;
    *) break ;;
  esac
done

java=java
if [ -n "${JAVA_HOME:-}" ]; then java="$JAVA_HOME/bin/java"; fi

classpath="$base_dir/libs/*"
if [ -n "${CLASSPATH:-}" ]; then classpath="$CLASSPATH:$classpath"; fi

log_dir=${LOG_DIR:-$base_dir/logs}
heap=${KAFKA_HEAP_OPTS:--Xmx256M}
perf=${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}
log4j=${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base_dir/config/tools-log4j2.yaml}
log4j="$log4j -Dkafka.logs.dir=$log_dir"

jmx=
if [ -n "${JMX_PORT:-}" ]; then
  jmx="${KAFKA_JMX_OPTS:--Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false} -Dcom.sun.management.jmxremote.port=$JMX_PORT"
fi

gc=
if [ "$gc_log" = true ] && [ -n "$name" ]; then
  mkdir -p "$log_dir" 2>/dev/null || true
  gc=${KAFKA_GC_LOG_OPTS:--Xlog:gc*:file=$log_dir/$name-gc.log:time,tags:filecount=10,filesize=100M}
fi

# Word splitting of the *_OPTS variables is intended: each holds several JVM options.
# shellcheck disable=SC2086
if [ "$daemon" = true ]; then
  mkdir -p "$log_dir"
  nohup "$java" $heap $perf $gc $jmx $log4j -cp "$classpath" ${KAFKA_OPTS:-} "$@" > "$log_dir/${name:-kafka}.out" 2>&1 < /dev/null &
else
  exec "$java" $heap $perf $gc $jmx $log4j -cp "$classpath" ${KAFKA_OPTS:-} "$@"
fi
