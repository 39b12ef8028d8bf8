# An independent reference for the guest benchmarks (sourced): the kernel's own tracefs kprobe
# and kretprobe events on really_probe, recorded in the trace buffer (trace_clock mono) while
# probebench runs in the same boot. really_probe(struct device *dev, ...): the device's name is
# the first word of struct device (kobj.name), a pointer, so dev=+0(+0(%di)):string reads it
# (x86-64 calling convention).
#   "$vm" ... --exec "$REF_START
#   probebench run ...
#   $REF_STOP"             # leaves trace.txt in the guest's /out
#   python3 with bench/lib/reference.py: reference.load("trace.txt") -> {device: [(start, dur)]}
REF_START='T=/sys/kernel/tracing
echo "p:pbref/probe_in really_probe dev=+0(+0(%di)):string" >>$T/kprobe_events || exit 3
echo "r:pbref/probe_out really_probe ret=\$retval" >>$T/kprobe_events || exit 3
echo mono >$T/trace_clock
echo 4096 >$T/buffer_size_kb
echo 1 >$T/events/pbref/enable'
REF_STOP='echo 0 >$T/events/pbref/enable
cat $T/trace >trace.txt
echo >$T/kprobe_events'
