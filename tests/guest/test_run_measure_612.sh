#!/bin/bash
# The measurement facts of guest/test_run_measure, on Debian's 6.12 kernel (the newest
# linux-image-6.12.*+deb12-amd64-unsigned, fetched and unpacked by probebench-vm
# --kernel-package, never installed). On that kernel the perf kprobe PMU events once stopped
# firing after the first windows and `run` reported no probe at all: every iteration must have
# its probes, with the kprobe method (see doc/measurement.md).
export PB_VM_KERNEL_PACKAGE='linux-image-6.12.*+deb12-amd64-unsigned'
unset PB_VM_KERNEL PB_VM_MODULES
exec bash "$(dirname "$0")/test_run_measure.sh"
