#!/bin/bash
# guest/test_run_module on Debian's 6.12 kernel (the newest linux-image-6.12.*+deb12-amd64-unsigned,
# fetched and unpacked by probebench-vm --kernel-package, never installed): its modules are
# .ko.xz, decompressed into the guest's tree, and virtio_pci is built in there.
export PB_VM_KERNEL_PACKAGE='linux-image-6.12.*+deb12-amd64-unsigned'
unset PB_VM_KERNEL PB_VM_MODULES
exec bash "$(dirname "$0")/test_run_module.sh"
