#!/bin/bash
# guest/test_truth_run on Debian's 6.12 kernel (the newest linux-image-6.12.*+deb12-amd64-unsigned,
# fetched and unpacked by probebench-vm --kernel-package, never installed; pbtest.ko is built
# against the headers the harness unpacks next to it): the kernel matrix of the truth tests.
export PB_VM_KERNEL_PACKAGE='linux-image-6.12.*+deb12-amd64-unsigned'
unset PB_VM_KERNEL PB_VM_MODULES
exec bash "$(dirname "$0")/test_truth_run.sh"
