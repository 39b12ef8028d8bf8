# probebench run --entry module in the guest: the driver's module is unloaded and loaded again
# through libkmod, from the guest's /lib/modules tree.
#  - virtio_rng (the child of 0000:82:00.0; the module also drives the child of 0000:21:00.0):
#    every iteration ok, load_ns timed, both children's probes in each iteration's facts, both
#    bound again; the record validates and names the module;
#  - nvme with --module-options async_probe=1 (the load returns before the probes end): all four
#    functions bound again and probed in each iteration;
#  - e1000e (one function, its probe hops to a node-1 worker): ok, probed, bound again;
#  - refused before anything is touched: a built-in driver (pcieport), two targets of one module,
#    a module whose other device is protected (0000:22:00.0's namespace mounted, 0000:83:00.0
#    named);
#  - SIGKILL while the module is unloaded: the journal names it, `probebench restore` loads it
#    back and both children are bound again.
. "$(dirname "$0")/lib.sh"
"$PROBEBENCH" --help | grep -q '^  run ' || skip "this build has no run command"
need_vm

# shellcheck disable=SC2016 # expanded in the guest
vm_run module --module ext4 --module crc32c_generic --exec '
bound() { for d in /sys/bus/virtio/devices/* /sys/bus/pci/devices/*; do
	[ -e $d/driver ] && echo "${d##*/} $(basename "$(readlink $d/driver)")"; done; }
c=$(basename /sys/bus/pci/devices/0000:82:00.0/virtio*)
probebench run $c --entry module -n 4 -w 1 --json rng.json >rng.out 2>rng.err
echo "rng $?" >rc.txt
bound >after_rng.txt
probebench run 0000:83:00.0 --entry module --module-options async_probe=1 -n 2 -w 0 \
	--timeout 60s --json nvme.json >nvme.out 2>nvme.err
echo "nvme $?" >>rc.txt
bound >after_nvme.txt
probebench run 0000:81:00.0 --entry module -n 2 -w 0 --json e1000e.json >e1000e.out 2>e1000e.err
echo "e1000e $?" >>rc.txt
bound >after_e1000e.txt
probebench run 0000:80:01.0 --entry module -n 1 >builtin.out 2>builtin.err
echo "builtin $?" >>rc.txt
probebench run virtio_rng --entry module -n 1 >shared.out 2>shared.err
echo "shared $?" >>rc.txt
ns=$(ls -d /sys/bus/pci/devices/0000:22:00.0/nvme/nvme*/nvme*n1 | head -n 1)
mke2fs -q /dev/${ns##*/} && mkdir -p /mnt/t && mount -t ext2 /dev/${ns##*/} /mnt/t
probebench run 0000:83:00.0 --entry module -n 1 >mounted.out 2>mounted.err
echo "mounted $?" >>rc.txt
umount /mnt/t
grep "^nvme " /proc/modules >mounted_modules.txt
# Killed while virtio_rng is unloaded (between the unload and the load): tried until the kill
# lands in that window.
for try in 1 2 3 4 5 6 7 8 9 10; do
	probebench run $c --entry module -n 100000 -w 0 >/dev/null 2>kill.err &
	pid=$!
	while [ -e /sys/module/virtio_rng/initstate ] && kill -0 $pid 2>/dev/null; do :; done
	kill -9 $pid
	wait $pid
	[ -e /sys/module/virtio_rng/initstate ] || break
done
echo "tries $try" >kill.txt
[ -e /sys/module/virtio_rng/initstate ] && echo "loaded after kill" >>kill.txt
cat /var/lib/probebench/journal-*.json >journal.txt 2>/dev/null
probebench restore >restore.out 2>restore.err
echo "restore $?" >>rc.txt
[ -e /sys/module/virtio_rng/initstate ] && echo "loaded after restore" >>kill.txt
ls /var/lib/probebench >state_after.txt
sleep 1
bound >after_restore.txt
true'
expect_rc 0 "the guest command"
o=$vm_out
cat "$o/rc.txt"
grep -qx "rng 0" "$o/rc.txt" || fail "run --entry module on virtio_rng failed: $(cat "$o/rng.err")"
grep -qx "nvme 0" "$o/rc.txt" || fail "run --entry module on nvme failed: $(cat "$o/nvme.err")"
grep -qx "e1000e 0" "$o/rc.txt" || fail "run --entry module on e1000e failed: $(cat "$o/e1000e.err")"
grep -qx "0000:81:00.0 e1000e" "$o/after_e1000e.txt" || fail "0000:81:00.0 is not bound to e1000e again"
for f in rng nvme e1000e; do
	validate_json "$o/$f.json" "$PB_SOURCE_DIR/schema/run.schema.json" || fail "$f.json does not validate"
done
[ "$(grep -c " virtio_rng$" "$o/after_rng.txt")" = 2 ] || fail "the virtio children are not both bound again: $(cat "$o/after_rng.txt")"
for d in 0000:83:00.0 0000:84:00.0 0000:85:00.0 0000:22:00.0; do
	grep -qx "$d nvme" "$o/after_nvme.txt" || fail "$d is not bound to nvme again"
done
"$PY" - "$o/rng.json" "$o/nvme.json" "$o/e1000e.json" <<'PYEOF' || fail "the records do not show the module cycles"
import json, sys
bad = []
def check(path, module, options, devices):
    doc = json.load(open(path))
    if doc["options"]["entry"] != "module" or doc["options"].get("module_options") != options:
        bad.append(f"{path}: options {doc['options']}")
    if doc["targets"][0].get("module") != module:
        bad.append(f"{path}: target {doc['targets'][0]}")
    if doc.get("status") != "complete":
        bad.append(f"{path}: status {doc.get('status')}")
    for it in doc["iterations"]:
        if it["outcome"] != "ok" or not it["verified"]:
            bad.append(f"{path}: iteration {it['iteration']} {it['outcome']}")
        if not 0 < it["load_ns"] <= it["bind_ns"]:
            bad.append(f"{path}: load_ns {it['load_ns']} bind_ns {it['bind_ns']}")
        # Every probe of the load, whichever device and task (concurrent asynchronous probes
        # overlap in time, so their depth says little here).
        probed = sorted(p["device"] for p in it["measurement"].get("probes", []))
        if sorted(devices(doc)) != probed:
            bad.append(f"{path}: iteration {it['iteration']} probes {probed}")
    loads = sorted(it["load_ns"] / 1e6 for it in doc["iterations"])
    print(f"{module}: load ms {loads}, bind (load + wait) ms {sorted(it['bind_ns'] / 1e6 for it in doc['iterations'])}, unload ms {sorted(it['unbind_ns'] / 1e6 for it in doc['iterations'])}")
# virtio_rng drives both children; the names are those the guest gave them.
check(sys.argv[1], "virtio_rng", "", lambda d: [d["targets"][0]["name"], "virtio0" if d["targets"][0]["name"] == "virtio1" else "virtio1"])
check(sys.argv[2], "nvme", "async_probe=1", lambda d: ["0000:22:00.0", "0000:83:00.0", "0000:84:00.0", "0000:85:00.0"])
check(sys.argv[3], "e1000e", "", lambda d: ["0000:81:00.0"])
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
grep -qx "builtin 3" "$o/rc.txt" || fail "a built-in driver was not refused with 3: $(cat "$o/builtin.err")"
grep -q "built into the kernel" "$o/builtin.err" && grep -q -- "--entry bind" "$o/builtin.err" ||
	fail "the built-in refusal does not say why and what to do: $(cat "$o/builtin.err")"
grep -qx "shared 2" "$o/rc.txt" || fail "two targets of one module were not refused with 2: $(cat "$o/shared.err")"
grep -q "share module virtio_rng" "$o/shared.err" || fail "the shared-module refusal does not name it: $(cat "$o/shared.err")"
grep -qx "mounted 3" "$o/rc.txt" || fail "a module whose other device is mounted was not refused with 3: $(cat "$o/mounted.err")"
grep -q "module nvme also drives 0000:22:00.0: .*mounted" "$o/mounted.err" ||
	fail "the refusal does not name the protected device: $(cat "$o/mounted.err")"
[ -s "$o/mounted_modules.txt" ] || fail "nvme was unloaded although refused"
cat "$o/kill.txt"
grep -q "loaded after kill" "$o/kill.txt" && fail "no kill landed while virtio_rng was unloaded in 10 tries"
grep -q '"module": *"virtio_rng"' "$o/journal.txt" || fail "the journal does not name the module: $(cat "$o/journal.txt")"
grep -qx "restore 0" "$o/rc.txt" || fail "restore failed: $(cat "$o/restore.err")"
grep -q "loaded after restore" "$o/kill.txt" || fail "restore did not load virtio_rng back: $(cat "$o/restore.out" "$o/restore.err")"
grep -q "^journal" "$o/state_after.txt" && fail "the journal still holds an entry after restore: $(cat "$o/state_after.txt")"
[ "$(grep -c " virtio_rng$" "$o/after_restore.txt")" = 2 ] || fail "the virtio children are not bound after restore: $(cat "$o/after_restore.txt")"
echo PASS
