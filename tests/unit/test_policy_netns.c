// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rtnetlink snapshot against the real kernel, inside a private network namespace that this
 * test process creates (unshare(CLONE_NEWNET)) and that vanishes with it: the host's own network
 * is never touched. Interfaces, addresses and routes in several tables are set up with ip(8),
 * then the live snapshot must see each of them. Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN).
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "probebench/policy.h"
#include "probebench/util.h"

static const char *skip_reason;
static struct pb_policy_ctx *ctx;

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip_reason = "needs root to create a private network namespace";
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		skip_reason = "unshare(CLONE_NEWNET) failed";
		return 0;
	}
	/* Everything below happens in the new, empty namespace. */
	const char *script = "set -e; exec >/dev/null 2>&1;"
			     "ip link set lo up;"
			     /* v0: up, no address, one route in table 1234 only. */
			     "ip link add v0 type veth peer name v1;"
			     "ip link set v0 up; ip link set v1 up;"
			     "ip route add 198.51.100.0/24 dev v0 table 1234;"
			     /* v1: up, an IPv6 route in table 4321 only (no global address). */
			     "ip -6 route add 2001:db8:5::/48 dev v1 table 4321;"
			     /* v2: member of bridge b0, itself down and without addresses. */
			     "ip link add b0 type bridge;"
			     "ip link add v2 type veth peer name v3;"
			     "ip link set v2 master b0;"
			     /* v4: up with a global IPv4 address (and its kernel subnet route). */
			     "ip link add v4 type veth peer name v5;"
			     "ip link set v4 up;"
			     "ip addr add 192.0.2.77/24 dev v4;"
			     /* v6/v7: up, link-local IPv6 only: idle. */
			     "ip link add v6 type veth peer name v7;"
			     "ip link set v6 up; ip link set v7 up;"
			     /* v8: only the second nexthop of a multipath route in table 77. */
			     "ip link add v8 type veth peer name v9;"
			     "ip link set v8 up; ip link set v9 up;"
			     "ip route add 203.0.113.0/24 table 77 nexthop dev v4 nexthop dev v8;";
	if (system(script) != 0) {
		skip_reason = "ip(8) could not build the test namespace (veth, bridge)";
		return 0;
	}
	int r = pb_policy_ctx_new(&ctx);
	if (r < 0) {
		skip_reason = "pb_policy_ctx_new failed";
		return 0;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pb_policy_ctx_free(ctx);
	return 0;
}

static void verdict_for(const char *ifname, struct pb_verdict *v)
{
	if (skip_reason) {
		print_message("SKIP: %s\n", skip_reason);
		skip();
	}
	unsigned ifindex = if_nametoindex(ifname);
	assert_true(ifindex > 0);
	const struct pb_policy_dev devs[] = {
	    {.name = "0000:00:0f.0",
	     .subsystem = "pci",
	     .driver = "fake",
	     .pci_class = 0x020000,
	     .boot_vga = -1,
	     .virtio_type = -1},
	    {.name = ifname,
	     .subsystem = "net",
	     .ifindex = (int)ifindex,
	     .pci_class = -1,
	     .boot_vga = -1,
	     .virtio_type = -1},
	};
	assert_int_equal(pb_policy_check_devs(ctx, devs, PB_ARRAY_SIZE(devs), v), 0);
	print_message("%s: %s\n", ifname, v->n ? v->refusals[0].detail : "no refusal");
}

static void route_in_table_1234(void **state)
{
	(void)state;
	struct pb_verdict v;
	verdict_for("v0", &v);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.refusals[0].reason, PB_REASON_NET_ACTIVE);
	assert_non_null(strstr(v.refusals[0].detail, "(table 1234: 198.51.100.0/24 dev v0)"));
}

static void ipv6_route_in_table_4321(void **state)
{
	(void)state;
	struct pb_verdict v;
	verdict_for("v1", &v);
	assert_int_equal(v.n, 1);
	assert_non_null(strstr(v.refusals[0].detail, "(table 4321: 2001:db8:5::/48 dev v1)"));
}

static void bridge_member(void **state)
{
	(void)state;
	struct pb_verdict v;
	verdict_for("v2", &v);
	assert_int_equal(v.n, 1);
	assert_non_null(strstr(v.refusals[0].detail, "is a member of b0"));
}

static void global_address(void **state)
{
	(void)state;
	struct pb_verdict v;
	verdict_for("v4", &v);
	assert_int_equal(v.n, 1);
	assert_non_null(strstr(
	    v.refusals[0].detail,
	    "is up with 1 address (192.0.2.77/24) and 2 routes (table main: 192.0.2.0/24 dev v4)"));
}

static void multipath_nexthop(void **state)
{
	(void)state;
	struct pb_verdict v;
	verdict_for("v8", &v);
	assert_int_equal(v.n, 1);
	assert_non_null(strstr(v.refusals[0].detail, "(table 77: 203.0.113.0/24 dev v8)"));
}

static void link_local_only_is_idle(void **state)
{
	(void)state;
	struct pb_verdict v;
	verdict_for("v6", &v);
	assert_int_equal(v.n, 0);
	/* And the whole snapshot is what the namespace holds: lo is up but has only host scope. */
	verdict_for("lo", &v);
	assert_int_equal(v.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(route_in_table_1234), cmocka_unit_test(ipv6_route_in_table_4321),
	    cmocka_unit_test(bridge_member),	   cmocka_unit_test(global_address),
	    cmocka_unit_test(multipath_nexthop),   cmocka_unit_test(link_local_only_is_idle),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
