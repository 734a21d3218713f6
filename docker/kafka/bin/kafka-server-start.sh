#!/usr/bin/env bash
# kafka-server-start.sh [-daemon] server.properties [--override property=value]*
# Written for kafka-wire's local Kafka image, with the defaults of the script of the same name in
# Apache Kafka's release: a 1 GiB heap and the broker's log4j2 file, unless the environment says otherwise.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*" >&2
  exit 1
fi
base_dir=$(cd "$(dirname "$0")/.." && pwd)
export KAFKA_LOG4J_OPTS=${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base_dir/config/log4j2.yaml}
export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}
extra=(-name kafkaServer -loggc)
if [ "$1" = -daemon ]; then
  extra=(-daemon "${extra[@]}")
  shift
fi
exec "$base_dir/bin/kafka-run-class.sh" "${extra[@]}" kafka.Kafka "$@"
