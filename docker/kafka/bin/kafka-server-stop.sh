#!/usr/bin/env bash
# kafka-server-stop.sh: sends SIGTERM (a clean, controlled shutdown) to every kafka.Kafka JVM of this
# container. Written for kafka-wire's local Kafka image; the image has no procps, so it reads /proc.
set -u
found=0
for cmdline in /proc/[0-9]*/cmdline; do
  pid=${cmdline#/proc/}; pid=${pid%/cmdline}
  if tr '\0' ' ' < "$cmdline" 2>/dev/null | grep -q ' kafka\.Kafka '; then
    kill -TERM "$pid" && found=1
  fi
done
if [ "$found" = 0 ]; then echo "No kafka server to stop" >&2; exit 1; fi
