#!/bin/bash
# guest/test_truth_async on Debian's 6.12 kernel (the newest linux-image-6.12.*+deb12-amd64-unsigned,
# fetched and unpacked by probebench-vm --kernel-package, never installed; pbtest.ko is built
# against the headers the harness unpacks next to it): the seed's shape in the kernel matrix.
export PB_VM_KERNEL_PACKAGE='linux-image-6.12.*+deb12-amd64-unsigned'
unset PB_VM_KERNEL PB_VM_MODULES
exec bash "$(dirname "$0")/test_truth_async.sh"
