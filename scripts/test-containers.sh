#!/usr/bin/env bash
# npm run test:containers
#
# The container path of the test suite, from a bare Debian machine to the last test:
#   1. installs what is missing (Debian packages: docker.io, docker-compose, and debootstrap when the
#      image has to be built) — only as root, and only what `command -v` does not find;
#   2. starts the Docker engine when none answers (dockerd, detached, log in /var/log/kafka-wire-dockerd.log);
#   3. picks the Kafka image: KAFKA_WIRE_IMAGE if set; else apache/kafka:<version> if the engine has it or
#      can pull it (a machine with a registry: nothing is built); else the local build of
#      docker/kafka/build.sh (reused when its inputs have not changed);
#   4. runs the harness's Docker path (KAFKA_WIRE_HARNESS=docker): harness contract, SASL, TLS, a
#      produce/consume round trip, Java tools in the container, node restarts, the 3-broker cluster;
#   5. runs docker-compose.yml as its header documents: the single broker (four listeners, its users
#      and CA) with the harness, round-trip and SASL tests, then the 3-node profile (PLAINTEXT) with the
#      cluster tests, stopping and starting its containers; and removes them.
# Each step prints `<prefix> <step> <time>` (prefix `containers:`, or KW_STEP_PREFIX); the last line
# is `tests: N passed, N failed` over every test run. Exits non-zero when any step or test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${KW_STEP_PREFIX:-containers:}
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", (b - a) / 1e9 }'; }
step() { printf '%s %-36s %s\n' "$prefix" "$1" "$2"; }
die() { echo "$prefix $*" >&2; exit 1; }
t_all=$(now)
version=$(sed -n "s/^export const KAFKA_VERSION = '\(.*\)'$/\1/p" src/testing/kafka-version.ts)

# --- 1. packages -------------------------------------------------------------------------------------
compose_cmd() {
  if docker compose version >/dev/null 2>&1; then echo "docker compose"
  elif command -v docker-compose >/dev/null 2>&1; then echo "docker-compose"
  fi
}
engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
need=()
if ! command -v dockerd >/dev/null 2>&1 && ! engine_up; then need+=(docker.io); fi
if [ -z "$(compose_cmd)" ]; then need+=(docker-compose); fi
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${need[*]}: install them (apt-get install ${need[*]}) or run this as root"
  t=$(now)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  step "installed ${need[*]}" "$(secs "$t")"
fi

# --- 2. engine ---------------------------------------------------------------------------------------
if ! engine_up; then
  [ -z "${DOCKER_HOST:-}" ] || die "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST"
  [ "$(id -u)" = 0 ] || die "no Docker engine answers at /var/run/docker.sock; start dockerd (as root) and try again"
  t=$(now)
  setsid nohup dockerd > /var/log/kafka-wire-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 300); do engine_up && break; sleep 0.2; done
  engine_up || { tail -20 /var/log/kafka-wire-dockerd.log >&2; die "dockerd did not answer within 60 s (log above)"; }
  step "started dockerd $(docker version --format '{{.Server.Version}}')" "$(secs "$t")"
fi
compose=$(compose_cmd)

# --- 3. image ----------------------------------------------------------------------------------------
t=$(now)
image=${KAFKA_WIRE_IMAGE:-}
if [ -z "$image" ]; then
  official="apache/kafka:$version"
  if docker image inspect "$official" >/dev/null 2>&1 || docker pull -q "$official" >/dev/null 2>&1; then
    image=$official
  else
    if ! command -v debootstrap >/dev/null 2>&1 && ! docker image inspect "kafka-wire/debian-jre:bookworm-17" >/dev/null 2>&1; then
      [ "$(id -u)" = 0 ] || die "building the image needs debootstrap: apt-get install debootstrap"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
    fi
    KW_BUILD_PREFIX="$prefix" bash docker/kafka/build.sh --version "$version"
    image="kafka-wire/kafka:$version"
  fi
fi
step "image $image" "$(secs "$t")"

export KAFKA_WIRE_IMAGE=$image KAFKA_IMAGE=$image KAFKA_WIRE_HARNESS=docker
# Ryuk's image may not be reachable; the harness removes its containers itself (and a watchdog does if
# the process dies). A local engine publishes ports on this machine, so that is where tests connect.
export TESTCONTAINERS_RYUK_DISABLED=${TESTCONTAINERS_RYUK_DISABLED:-true}
case "${DOCKER_HOST:-unix://}" in unix://*) export TESTCONTAINERS_HOST_OVERRIDE=${TESTCONTAINERS_HOST_OVERRIDE:-localhost} ;; esac

passed=0
failed=0
status=0
log=$(mktemp)
cleanup() {
  $compose --profile cluster down -v --remove-orphans >/dev/null 2>&1 || true
  rm -f "$log"
}
trap cleanup EXIT

# run_tests NAME [npm test arguments]: one test run, its counts added to the totals.
run_tests() {
  local name=$1
  shift
  local t code p f k skipped_note
  t=$(now)
  set +e
  npm test -- "$@" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  set -e
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  k=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$log" | tail -1)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ "$code" != 0 ]; then status=1; fi
  # Tests that do not apply to this setup say so (their # SKIP lines give why); the step counts them.
  skipped_note=""
  if [ "${k:-0}" != 0 ]; then skipped_note=", ${k} skipped (# SKIP lines above say why)"; fi
  step "$name: ${p:-0} passed, ${f:-0} failed${skipped_note}" "$(secs "$t")"
}


# --- 4. the harness's Docker path --------------------------------------------------------------------
run_tests "harness (docker path)" \
  test/testing/kafka.test.ts test/testing/docker.test.ts test/containers/docker.test.ts test/testing/kafka-cluster.test.ts \
  test/client/producer/roundtrip.test.ts test/client/sasl/sasl-broker.test.ts

# --- 5. docker-compose.yml ---------------------------------------------------------------------------
$compose --profile cluster down -v --remove-orphans >/dev/null 2>&1 || true
t=$(now)
if [ "$compose" = "docker compose" ]; then
  $compose up -d --wait kafka
else
  $compose up -d kafka
fi
$compose run --rm kafka-users
step "compose: kafka up, users made ($compose)" "$(secs "$t")"
KAFKA_BOOTSTRAP=127.0.0.1:9092 KAFKA_SASL_BOOTSTRAP=127.0.0.1:9094 KAFKA_TLS_BOOTSTRAP=127.0.0.1:9095 \
  KAFKA_SASL_TLS_BOOTSTRAP=127.0.0.1:9096 KAFKA_TLS_CA_FILE=.kafka-certs/ca.pem KAFKA_CONTAINERS=kafka-wire-kafka \
  run_tests "compose: single broker" \
  test/testing/kafka.test.ts test/client/producer/roundtrip.test.ts test/client/sasl/sasl-broker.test.ts
$compose down -v

t=$(now)
if [ "$compose" = "docker compose" ]; then
  $compose --profile cluster up -d --wait kafka-1 kafka-2 kafka-3
else
  $compose --profile cluster run --rm cluster-ready
fi
step "compose: 3-node profile up" "$(secs "$t")"
# The profile has PLAINTEXT listeners only: the listener tests of kafka.test.ts ran on the single broker
# above (here they could only skip), and kafka-cluster.test.ts checks every node answers.
KAFKA_BOOTSTRAP=127.0.0.1:19092,127.0.0.1:29092,127.0.0.1:31092 KAFKA_BROKERS=3 \
  KAFKA_CONTAINERS=kafka-wire-kafka-1,kafka-wire-kafka-2,kafka-wire-kafka-3 \
  run_tests "compose: 3-node cluster" test/testing/kafka-cluster.test.ts
$compose --profile cluster down -v

step "container path total" "$(secs "$t_all")"
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
