#!/usr/bin/env bash
# docker/kafka/build.sh [--version X.Y.Z] [--tag NAME:TAG] [--rebuild-base]
#
# Builds kafka-wire's local Kafka image without any image registry, from parts this machine can reach:
#   1. base image (kept between builds): a minimal Debian root file system made by debootstrap, with
#      OpenJDK 17's headless JRE, imported with `docker import`. The downloaded .debs are cached, so a
#      machine that lost its images rebuilds this without downloading again.
#   2. Apache Kafka's jars from Maven Central, the same set (and cache) the JVM harness uses.
#   3. `docker build` of docker/kafka/Dockerfile: our scripts in the official image's layout.
# The image is tagged kafka-wire/kafka:<version> (KAFKA_WIRE_IMAGE overrides) and labelled with a hash
# of everything it is built from: an image with the same hash is reused as it is, in about a second.
# Run as root (debootstrap needs it) on a machine with Docker; scripts/test-containers.sh installs what
# is missing first. Each step prints its time as `build: <step> <seconds>`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/docker/kafka"

version=$(sed -n "s/^export const KAFKA_VERSION = '\(.*\)'$/\1/p" "$root/src/testing/kafka-version.ts")
tag=
rebuild_base=false
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --rebuild-base) rebuild_base=true; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
tag=${tag:-${KAFKA_WIRE_IMAGE:-kafka-wire/kafka:$version}}
suite=bookworm
base="kafka-wire/debian-jre:$suite-17"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${KAFKA_WIRE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-wire}

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", (b - a) / 1e9 }'; }
step() { printf '%s %-36s %s\n' "${KW_BUILD_PREFIX:-build:}" "$1" "$2"; }

if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  echo "build.sh: no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}, socket /var/run/docker.sock); start dockerd or run scripts/test-containers.sh" >&2
  exit 1
fi
# The legacy builder needs no buildx plugin; BuildKit is used when the plugin is there.
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- 2 first: the jars take part in the inputs hash ------------------------------------------------
t=$(now)
libs=$(cd "$root" && node --import tsx --input-type=module -e "
  const { resolveKafkaJars } = await import('./src/testing/maven.ts')
  console.log(await resolveKafkaJars(process.argv[1], { log: (l) => console.error(l) }))
" "$version")
step "kafka $version jars" "$(secs "$t")"

inputs=$( { echo "$version $base"; (cd "$here" && find . -type f ! -name '*.md' | LC_ALL=C sort | xargs sha256sum); ls "$libs"; } | sha256sum | cut -c1-16)
if [ "$(docker image inspect --format '{{ index .Config.Labels "kafka-wire.inputs" }}' "$tag" 2>/dev/null || true)" = "$inputs" ]; then
  step "image $tag is up to date" ""
  exit 0
fi

# --- 1. base image -----------------------------------------------------------------------------------
if [ "$rebuild_base" = true ] || ! docker image inspect "$base" >/dev/null 2>&1; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    echo "build.sh: debootstrap is needed to make the base image $base (apt-get install debootstrap)" >&2
    exit 1
  fi
  t=$(now)
  mkdir -p "$cache/debootstrap"
  rootfs="$work/rootfs"
  if ! debootstrap --variant=minbase --include=openjdk-17-jre-headless --cache-dir="$cache/debootstrap" \
      "$suite" "$rootfs" "$mirror" > "$work/debootstrap.log" 2>&1; then
    tail -30 "$work/debootstrap.log" >&2
    echo "build.sh: debootstrap of Debian $suite from $mirror failed (log above)" >&2
    exit 1
  fi
  step "debootstrap $suite + openjdk-17" "$(secs "$t")"
  t=$(now)
  # What a container never needs: package caches and lists, documentation, translations.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --message "Debian $suite minbase with openjdk-17-jre-headless (kafka-wire docker/kafka/build.sh)" \
    - "$base" >/dev/null
  rm -rf "$rootfs"
  step "import $base" "$(secs "$t")"
fi

# --- 3. the Kafka image ------------------------------------------------------------------------------
t=$(now)
ctx="$work/context"
mkdir -p "$ctx/libs"
cp -R "$here/Dockerfile" "$here/bin" "$here/docker" "$ctx/"
# Hard links when the cache is on the same file system: no 54 MB copy.
cp -l "$libs"/*.jar "$ctx/libs/" 2>/dev/null || cp "$libs"/*.jar "$ctx/libs/"
while read -r script class; do
  case "$script" in ''|'#'*) continue ;; esac
  printf '#!/usr/bin/env bash\n# %s: runs %s (written by kafka-wire'"'"'s docker/kafka/build.sh from tools.txt).\nexport KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx512M}\nexec "$(dirname "$0")/kafka-run-class.sh" %s "$@"\n' \
    "$script" "$class" "$class" > "$ctx/bin/$script"
  chmod +x "$ctx/bin/$script"
done < "$here/tools.txt"
if ! docker build --quiet --label "kafka-wire.inputs=$inputs" --build-arg "BASE=$base" --build-arg "kafka_version=$version" \
    -t "$tag" "$ctx" > "$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  echo "build.sh: docker build of $tag failed (log above)" >&2
  exit 1
fi
step "docker build $tag" "$(secs "$t")"
