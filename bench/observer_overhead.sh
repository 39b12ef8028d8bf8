#!/bin/bash
# Observer overhead: median bind_ns with all measurement on (the automatically chosen method,
# kmem events, uevents, writer counters) against bare bind writes, on the host's virtio-rng
# function, same device, interleaved pairs with alternating order. Goal: ratio <= 1.05.
# bind_ns is CLOCK_MONOTONIC around each bind write; arming and collecting happen outside it.
# Holds the rng lock for the whole run and always rebinds. PB_BENCH_PAIRS (default 30).
set -eu
: "${PB_BUILD_DIR:?PB_BUILD_DIR must name the build directory}"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
exec "$PB_BUILD_DIR/measure_probe_driver" bench "${PB_BENCH_PAIRS:-30}"
