// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The safety policy's pure decision, fed with fixture text (tests/fixtures/policy) and hand-made
 * subtrees and rtnetlink messages: each reason triggered and not triggered, --force masks, names,
 * JSON. No root, no sysfs, no netlink socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "probebench/policy.h"
#include "probebench/util.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static char *fixture(const char *name)
{
	const char *dir = getenv("PB_FIXTURES");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/policy/%s", dir ? dir : PB_SOURCE_DIR "/tests/fixtures",
		 name);
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *s = strdup(buf);
	assert_non_null(s);
	return s;
}

/* A snapshot from the fixture mountinfo, swaps and consoles; no network. */
static struct pb_policy_ctx *fixture_ctx(void)
{
	struct pb_policy_ctx *ctx;
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	char *t = fixture("mountinfo");
	assert_int_equal(pb_policy_ctx_add_mountinfo(ctx, t), 0);
	free(t);
	t = fixture("swaps");
	assert_int_equal(pb_policy_ctx_add_swaps(ctx, t), 0);
	free(t);
	t = fixture("consoles");
	assert_int_equal(pb_policy_ctx_add_consoles(ctx, t, "tty0 ttyS0"), 0);
	free(t);
	return ctx;
}

static int count_reason(const struct pb_verdict *v, enum pb_reason reason)
{
	int n = 0;
	for (size_t i = 0; i < v->n; i++)
		n += v->refusals[i].reason == reason;
	return n;
}

static const char *detail_of(const struct pb_verdict *v, enum pb_reason reason)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->refusals[i].reason == reason)
			return v->refusals[i].detail;
	return NULL;
}

static void check(struct pb_policy_ctx *ctx, const struct pb_policy_dev *devs, size_t n,
		  struct pb_verdict *v)
{
	assert_int_equal(pb_policy_check_devs(ctx, devs, n, v), 0);
	for (size_t i = 0; i < v->n; i++)
		print_message("  %s: %s\n", pb_reason_name(v->refusals[i].reason),
			      v->refusals[i].detail);
}

#define PCI(name_, drv_, class_)                                                                   \
	{                                                                                          \
		.name = (name_), .subsystem = "pci", .driver = (drv_), .pci_class = (class_),      \
		.boot_vga = -1, .virtio_type = -1                                                  \
	}
#define DEV(name_, sub_, drv_)                                                                     \
	{                                                                                          \
		.name = (name_), .subsystem = (sub_), .driver = (drv_), .pci_class = -1,           \
		.boot_vga = -1, .virtio_type = -1                                                  \
	}
#define BLK(name_, type_, maj_, min_, holders_)                                                    \
	{                                                                                          \
		.name = (name_), .subsystem = "block", .devtype = (type_),                         \
		.devnode = "/dev/" name_, .major = (maj_), .minor = (min_), .holders = (holders_), \
		.pci_class = -1, .boot_vga = -1, .virtio_type = -1                                 \
	}
#define NET(name_, ifindex_)                                                                       \
	{                                                                                          \
		.name = (name_), .subsystem = "net", .ifindex = (ifindex_), .pci_class = -1,       \
		.boot_vga = -1, .virtio_type = -1                                                  \
	}
#define TTY(name_, maj_, min_)                                                                     \
	{                                                                                          \
		.name = (name_), .subsystem = "tty", .devnode = "/dev/" name_, .major = (maj_),    \
		.minor = (min_), .pci_class = -1, .boot_vga = -1, .virtio_type = -1                \
	}

/* ---- names, masks, JSON --------------------------------------------------------------------- */

static void reason_names_round_trip(void **state)
{
	(void)state;
	const char *expected[] = {"mounted",	"swap",	   "holders",	"root-disk",
				  "net-active", "vsock",   "console",	"boot-vga",
				  "bridge",	"balloon", "no-driver", "module"};
	assert_int_equal(PB_ARRAY_SIZE(expected), PB_REASON__MAX);
	for (int r = 0; r < PB_REASON__MAX; r++) {
		assert_string_equal(pb_reason_name(r), expected[r]);
		assert_int_equal(pb_reason_from_name(pb_reason_name(r)), r);
	}
	assert_null(pb_reason_name(PB_REASON__MAX));
	assert_int_equal(pb_reason_from_name("mount"), -EINVAL);
	assert_int_equal(pb_reason_from_name("MOUNTED"), -EINVAL);
	assert_int_equal(pb_reason_from_name(""), -EINVAL);
	assert_int_equal(pb_reason_from_name(NULL), -EINVAL);
}

/* The root disk: mounted (/ and /boot/efi), root-disk, swap. */
static const struct pb_policy_dev nvme_tree[] = {
    PCI("0000:03:00.0", "nvme", 0x010802),	 DEV("nvme0", "nvme", NULL),
    BLK("nvme0n1", "disk", 259, 0, NULL),	 BLK("nvme0n1p1", "partition", 259, 1, NULL),
    BLK("nvme0n1p2", "partition", 259, 2, NULL), BLK("nvme0n1p3", "partition", 259, 3, NULL),
};

static void forced_mask_lifts_exactly_one(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx = fixture_ctx();
	struct pb_verdict v;
	check(ctx, nvme_tree, PB_ARRAY_SIZE(nvme_tree), &v);
	uint32_t all =
	    (1u << PB_REASON_MOUNTED) | (1u << PB_REASON_ROOT_DISK) | (1u << PB_REASON_SWAP);
	assert_false(pb_verdict_allowed(&v, 0));
	assert_false(pb_verdict_allowed(&v, 1u << PB_REASON_MOUNTED));
	assert_false(pb_verdict_allowed(&v, 1u << PB_REASON_ROOT_DISK));
	assert_false(pb_verdict_allowed(&v, 1u << PB_REASON_SWAP));
	assert_false(pb_verdict_allowed(&v, all & ~(1u << PB_REASON_SWAP)));
	assert_false(pb_verdict_allowed(&v, 1u << PB_REASON_NET_ACTIVE));
	assert_true(pb_verdict_allowed(&v, all));
	struct pb_verdict empty = {0};
	assert_true(pb_verdict_allowed(&empty, 0));
	pb_policy_ctx_free(ctx);
}

static void verdict_json(void **state)
{
	(void)state;
	struct pb_verdict v = {.n = 2};
	v.refusals[0].reason = PB_REASON_MOUNTED;
	snprintf(v.refusals[0].detail, sizeof(v.refusals[0].detail), "vda1 is mounted on / (ext4)");
	v.refusals[1].reason = PB_REASON_SWAP;
	snprintf(v.refusals[1].detail, sizeof(v.refusals[1].detail), "vda2 is active swap");

	struct json_object *o = pb_verdict_to_json(&v, 1u << PB_REASON_SWAP);
	assert_non_null(o);
	struct json_object *allowed, *refusals, *x;
	assert_true(json_object_object_get_ex(o, "allowed", &allowed));
	assert_false(json_object_get_boolean(allowed));
	assert_true(json_object_object_get_ex(o, "refusals", &refusals));
	assert_int_equal(json_object_array_length(refusals), 2);
	struct json_object *r0 = json_object_array_get_idx(refusals, 0);
	assert_true(json_object_object_get_ex(r0, "reason", &x));
	assert_string_equal(json_object_get_string(x), "mounted");
	assert_true(json_object_object_get_ex(r0, "detail", &x));
	assert_string_equal(json_object_get_string(x), "vda1 is mounted on / (ext4)");
	assert_true(json_object_object_get_ex(r0, "forced", &x));
	assert_false(json_object_get_boolean(x));
	struct json_object *r1 = json_object_array_get_idx(refusals, 1);
	assert_true(json_object_object_get_ex(r1, "reason", &x));
	assert_string_equal(json_object_get_string(x), "swap");
	assert_true(json_object_object_get_ex(r1, "forced", &x));
	assert_true(json_object_get_boolean(x));
	json_object_put(o);

	o = pb_verdict_to_json(&v, (1u << PB_REASON_SWAP) | (1u << PB_REASON_MOUNTED));
	assert_true(json_object_object_get_ex(o, "allowed", &allowed));
	assert_true(json_object_get_boolean(allowed));
	json_object_put(o);

	struct pb_verdict empty = {0};
	o = pb_verdict_to_json(&empty, 0);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"allowed\":true,\"refusals\":[]}");
	json_object_put(o);
}

/* ---- block ---------------------------------------------------------------------------------- */

static void block_root_disk(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx = fixture_ctx();
	struct pb_verdict v;
	check(ctx, nvme_tree, PB_ARRAY_SIZE(nvme_tree), &v);
	assert_int_equal(count_reason(&v, PB_REASON_MOUNTED), 2); /* p1 /boot/efi, p2 / */
	assert_int_equal(count_reason(&v, PB_REASON_ROOT_DISK), 1);
	assert_int_equal(count_reason(&v, PB_REASON_SWAP), 1);
	assert_int_equal(count_reason(&v, PB_REASON_HOLDERS), 0);
	assert_int_equal(count_reason(&v, PB_REASON_NO_DRIVER), 0);
	assert_int_equal(v.n, 4);
	assert_string_equal(v.refusals[0].detail,
			    "nvme0n1p1 (block, below 0000:03:00.0) is mounted on /boot/efi (vfat)");
	assert_string_equal(v.refusals[1].detail,
			    "nvme0n1p2 (block, below 0000:03:00.0) is mounted on / (ext4)");
	assert_string_equal(detail_of(&v, PB_REASON_ROOT_DISK),
			    "nvme0n1p2 (block, below 0000:03:00.0) carries the root filesystem "
			    "(/dev/nvme0n1p2 on /, ext4)");
	assert_string_equal(
	    detail_of(&v, PB_REASON_SWAP),
	    "nvme0n1p3 (block, below 0000:03:00.0) is active swap (/dev/nvme0n1p3)");
	pb_policy_ctx_free(ctx);
}

static void block_unused_disk_allowed(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx = fixture_ctx();
	const struct pb_policy_dev tree[] = {
	    PCI("0000:04:00.0", "nvme", 0x010802),
	    DEV("nvme1", "nvme", NULL),
	    BLK("nvme1n1", "disk", 259, 4, NULL),
	    BLK("nvme1n1p1", "partition", 259, 5, NULL),
	};
	struct pb_verdict v;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 0);
	assert_true(pb_verdict_allowed(&v, 0));
	pb_policy_ctx_free(ctx);
}

static void block_btrfs_by_source_and_escapes(void **state)
{
	(void)state;
	/* btrfs reports 0:45 in mountinfo; the source path names the device. The mount point has
	 * an escaped space. */
	struct pb_policy_ctx *ctx = fixture_ctx();
	const struct pb_policy_dev tree[] = {
	    PCI("0000:00:17.0", "ahci", 0x010601),
	    BLK("sdb", "disk", 8, 16, NULL),
	    BLK("sdb1", "partition", 8, 17, NULL),
	};
	struct pb_verdict v;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.refusals[0].reason, PB_REASON_MOUNTED);
	assert_string_equal(v.refusals[0].detail,
			    "sdb1 (block, below 0000:00:17.0) is mounted on /srv/my data (btrfs)");
	pb_policy_ctx_free(ctx);
}

static void block_holders_and_root_stack(void **state)
{
	(void)state;
	/* / on dm-0, built on sdc2: sdc2 has a holder and is part of the root stack, but is not
	 * mounted itself. */
	struct pb_policy_ctx *ctx;
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(
	    pb_policy_ctx_add_mountinfo(ctx, "26 1 253:0 / / rw - xfs /dev/mapper/vg-root rw\n"),
	    0);
	assert_int_equal(pb_policy_ctx_add_root_dev(ctx, 253, 0, "dm-0"), 0);
	assert_int_equal(pb_policy_ctx_add_root_dev(ctx, 8, 34, "sdc2"), 0);
	const struct pb_policy_dev tree[] = {
	    PCI("0000:05:00.0", "megaraid_sas", 0x010400),
	    BLK("sdc", "disk", 8, 32, NULL),
	    BLK("sdc1", "partition", 8, 33, NULL),
	    BLK("sdc2", "partition", 8, 34, "dm-0"),
	};
	struct pb_verdict v;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(count_reason(&v, PB_REASON_MOUNTED), 0);
	assert_int_equal(count_reason(&v, PB_REASON_HOLDERS), 1);
	assert_int_equal(count_reason(&v, PB_REASON_ROOT_DISK), 1);
	assert_non_null(strstr(detail_of(&v, PB_REASON_HOLDERS), "sdc2 (block, below "
								 "0000:05:00.0) is held by dm-0"));
	assert_non_null(strstr(detail_of(&v, PB_REASON_ROOT_DISK), "sdc2 is part of the device"));
	/* Without the holder and outside the root stack, the same disk is free. */
	const struct pb_policy_dev free_tree[] = {
	    PCI("0000:06:00.0", "megaraid_sas", 0x010400),
	    BLK("sdd", "disk", 8, 48, NULL),
	    BLK("sdd1", "partition", 8, 49, ""),
	};
	check(ctx, free_tree, PB_ARRAY_SIZE(free_tree), &v);
	assert_int_equal(v.n, 0);
	pb_policy_ctx_free(ctx);
}

static void block_many_mounts_capped(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx;
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_add_mountinfo(ctx, "1 1 8:1 / /a rw - ext4 /dev/sda1 rw\n"
							  "2 1 8:2 / /b rw - ext4 /dev/sda2 rw\n"
							  "3 1 8:3 / /c rw - ext4 /dev/sda3 rw\n"
							  "4 1 8:4 / /d rw - ext4 /dev/sda4 rw\n"
							  "5 1 8:5 / /e rw - ext4 /dev/sda5 rw\n"
							  "6 1 8:5 / /f rw - ext4 /dev/sda5 rw\n"),
			 0);
	const struct pb_policy_dev tree[] = {
	    PCI("0000:00:17.0", "ahci", 0x010601), BLK("sda1", "partition", 8, 1, NULL),
	    BLK("sda2", "partition", 8, 2, NULL),  BLK("sda3", "partition", 8, 3, NULL),
	    BLK("sda4", "partition", 8, 4, NULL),  BLK("sda5", "partition", 8, 5, NULL),
	};
	struct pb_verdict v;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 3);
	assert_non_null(strstr(v.refusals[2].detail, "is mounted on /c (ext4) (+2 more)"));
	/* One device on two mount points is one refusal naming the count. */
	const struct pb_policy_dev one[] = {PCI("0000:00:17.0", "ahci", 0x010601),
					    BLK("sda5", "partition", 8, 5, NULL)};
	check(ctx, one, PB_ARRAY_SIZE(one), &v);
	assert_int_equal(v.n, 1);
	assert_non_null(strstr(v.refusals[0].detail, "mounted on /e (ext4) and 1 more mount"));
	pb_policy_ctx_free(ctx);
}

static void block_exclusive_claims(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx = fixture_ctx();
	struct pb_verdict v;
	/* sde2 is a member of a ZFS pool: no mount, no holder, but an exclusive open fails. The
	 * whole disk is busy because of it and is not reported twice. */
	struct pb_policy_dev tree[] = {
	    PCI("0000:00:17.0", "ahci", 0x010601),
	    BLK("sde", "disk", 8, 64, NULL),
	    BLK("sde1", "partition", 8, 65, NULL),
	    BLK("sde2", "partition", 8, 66, NULL),
	};
	tree[1].excl_open_err = -EBUSY;
	tree[3].excl_open_err = -EBUSY;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.refusals[0].reason, PB_REASON_HOLDERS);
	assert_non_null(
	    strstr(v.refusals[0].detail, "sde2 (block, below 0000:00:17.0) is claimed"));
	/* A busy whole disk without partitions to explain it is reported itself. */
	tree[3].excl_open_err = 0;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 1);
	assert_non_null(strstr(v.refusals[0].detail, "sde (block, below 0000:00:17.0) is claimed"));
	/* Not allowed to try: unproven, refused. */
	tree[1].excl_open_err = -EACCES;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 1);
	assert_non_null(strstr(v.refusals[0].detail, "cannot be shown unclaimed"));
	/* A mounted partition makes its disk busy: only the mount is reported. */
	struct pb_policy_dev root[] = {
	    PCI("0000:03:00.0", "nvme", 0x010802),
	    BLK("nvme0n1", "disk", 259, 0, NULL),
	    BLK("nvme0n1p2", "partition", 259, 2, NULL),
	};
	root[1].excl_open_err = -EBUSY;
	root[2].excl_open_err = -EBUSY;
	check(ctx, root, PB_ARRAY_SIZE(root), &v);
	assert_int_equal(count_reason(&v, PB_REASON_HOLDERS), 0);
	assert_int_equal(count_reason(&v, PB_REASON_MOUNTED), 1);
	/* Opened fine: nothing. */
	tree[1].excl_open_err = 0;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 0);
	pb_policy_ctx_free(ctx);
}

/* ---- network -------------------------------------------------------------------------------- */

static struct pb_policy_route route4(uint32_t table, uint8_t type, int oif, const char *dst,
				     uint8_t dst_len, const char *gw)
{
	struct pb_policy_route r = {.family = AF_INET,
				    .table = table,
				    .type = type,
				    .oif = oif,
				    .dst_len = dst_len,
				    .protocol = RTPROT_BOOT};
	if (dst)
		assert_int_equal(inet_pton(AF_INET, dst, r.dst), 1);
	if (gw) {
		assert_int_equal(inet_pton(AF_INET, gw, r.gateway), 1);
		r.has_gateway = true;
	}
	return r;
}

static struct pb_policy_route route6(uint32_t table, uint8_t type, int oif, const char *dst,
				     uint8_t dst_len, const char *gw)
{
	struct pb_policy_route r = {.family = AF_INET6,
				    .table = table,
				    .type = type,
				    .oif = oif,
				    .dst_len = dst_len,
				    .protocol = RTPROT_KERNEL};
	if (dst)
		assert_int_equal(inet_pton(AF_INET6, dst, r.dst), 1);
	if (gw) {
		assert_int_equal(inet_pton(AF_INET6, gw, r.gateway), 1);
		r.has_gateway = true;
	}
	return r;
}

static void add_addr(struct pb_policy_ctx *ctx, int ifindex, int family, const char *s,
		     unsigned plen, unsigned scope)
{
	unsigned char a[16];
	assert_int_equal(inet_pton(family, s, a), 1);
	assert_int_equal(pb_policy_ctx_add_addr(ctx, ifindex, family, a, plen, scope), 0);
}

static void add_route(struct pb_policy_ctx *ctx, struct pb_policy_route r)
{
	assert_int_equal(pb_policy_ctx_add_route(ctx, &r), 0);
}

static const struct pb_policy_dev nic_tree[] = {
    PCI("0000:00:03.0", "virtio-pci", 0x020000),
    DEV("virtio2", "virtio", "virtio_net"),
    NET("eth0", 4),
};

/* Every up IPv6 interface gets these: they alone do not make it in use. */
static void add_link_local_only(struct pb_policy_ctx *ctx, int ifindex)
{
	add_addr(ctx, ifindex, AF_INET6, "fe80::fc:ff:fe00:1", 64, RT_SCOPE_LINK);
	add_route(ctx, route6(RT_TABLE_MAIN, RTN_UNICAST, ifindex, "fe80::", 64, NULL));
	add_route(ctx, route6(RT_TABLE_LOCAL, RTN_LOCAL, ifindex, "fe80::fc:ff:fe00:1", 128, NULL));
	add_route(ctx, route6(RT_TABLE_LOCAL, RTN_MULTICAST, ifindex, "ff00::", 8, NULL));
}

static void net_routed_interface(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx;
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 1, "lo", IFF_UP | IFF_LOOPBACK, 0, 0), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 4, "eth0", IFF_UP, 0, 0), 0);
	add_addr(ctx, 1, AF_INET, "127.0.0.1", 8, RT_SCOPE_HOST);
	add_addr(ctx, 4, AF_INET, "192.0.2.2", 24, RT_SCOPE_UNIVERSE);
	add_addr(ctx, 4, AF_INET6, "fd00::2", 64, RT_SCOPE_UNIVERSE);
	add_link_local_only(ctx, 4);
	add_route(ctx, route4(RT_TABLE_MAIN, RTN_UNICAST, 4, "192.0.2.0", 24, NULL));
	add_route(ctx, route4(RT_TABLE_MAIN, RTN_UNICAST, 4, NULL, 0, "192.0.2.1"));
	add_route(ctx, route4(RT_TABLE_LOCAL, RTN_LOCAL, 4, "192.0.2.2", 32, NULL));
	add_route(ctx, route4(RT_TABLE_LOCAL, RTN_BROADCAST, 4, "192.0.2.255", 32, NULL));
	add_route(ctx, route6(RT_TABLE_MAIN, RTN_UNICAST, 4, "fd00::", 64, NULL));
	add_route(ctx, route6(RT_TABLE_MAIN, RTN_UNICAST, 4, NULL, 0, "fd00::1"));
	struct pb_verdict v;
	check(ctx, nic_tree, PB_ARRAY_SIZE(nic_tree), &v);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.refusals[0].reason, PB_REASON_NET_ACTIVE);
	assert_string_equal(v.refusals[0].detail,
			    "eth0 (net, below 0000:00:03.0) is up with 2 addresses (192.0.2.2/24 "
			    "fd00::2/64) and 4 routes (table main: default via 192.0.2.1)");
	pb_policy_ctx_free(ctx);
}

static void net_idle_interfaces_allowed(void **state)
{
	(void)state;
	struct pb_verdict v;
	struct pb_policy_ctx *ctx;
	/* Up with link-local only. */
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 4, "eth0", IFF_UP, 0, 0), 0);
	add_link_local_only(ctx, 4);
	check(ctx, nic_tree, PB_ARRAY_SIZE(nic_tree), &v);
	assert_int_equal(v.n, 0);
	pb_policy_ctx_free(ctx);
	/* Down, though addresses are configured. */
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 4, "eth0", IFF_BROADCAST, 0, 0), 0);
	add_addr(ctx, 4, AF_INET, "10.1.2.3", 24, RT_SCOPE_UNIVERSE);
	check(ctx, nic_tree, PB_ARRAY_SIZE(nic_tree), &v);
	assert_int_equal(v.n, 0);
	pb_policy_ctx_free(ctx);
	/* A routed interface with another ifindex is not this one. */
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 4, "eth0", IFF_UP, 0, 0), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 5, "eth1", IFF_UP, 0, 0), 0);
	add_addr(ctx, 5, AF_INET, "10.1.2.3", 24, RT_SCOPE_UNIVERSE);
	add_route(ctx, route4(RT_TABLE_MAIN, RTN_UNICAST, 5, NULL, 0, "10.1.2.1"));
	check(ctx, nic_tree, PB_ARRAY_SIZE(nic_tree), &v);
	assert_int_equal(v.n, 0);
	pb_policy_ctx_free(ctx);
}

static void net_route_in_other_table(void **state)
{
	(void)state;
	/* No address at all, but policy routing sends a table's default through it. */
	struct pb_policy_ctx *ctx;
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 4, "eth0", IFF_UP, 0, 0), 0);
	add_route(ctx, route6(100, RTN_UNICAST, 4, NULL, 0, "2001:db8::1"));
	struct pb_verdict v;
	check(ctx, nic_tree, PB_ARRAY_SIZE(nic_tree), &v);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.refusals[0].detail, "eth0 (net, below 0000:00:03.0) is up with 1 "
						  "route (table 100: default via 2001:db8::1)");
	pb_policy_ctx_free(ctx);
	/* Only an on-link subnet route in the main table. */
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 4, "eth0", IFF_UP, 0, 0), 0);
	add_route(ctx, route4(RT_TABLE_MAIN, RTN_UNICAST, 4, "10.9.0.0", 16, NULL));
	check(ctx, nic_tree, PB_ARRAY_SIZE(nic_tree), &v);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.refusals[0].detail, "eth0 (net, below 0000:00:03.0) is up with 1 "
						  "route (table main: 10.9.0.0/16 dev eth0)");
	pb_policy_ctx_free(ctx);
}

static void net_bond_member_and_vlan(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx;
	struct pb_verdict v;
	/* Enslaved to a bond, no address of its own, even down. */
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 4, "eth0", 0, 7, 0), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 7, "bond0", IFF_UP | IFF_MASTER, 0, 0), 0);
	check(ctx, nic_tree, PB_ARRAY_SIZE(nic_tree), &v);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.refusals[0].detail, "eth0 (net, below 0000:00:03.0) is a member of "
						  "bond0 (bond, bridge or team)");
	pb_policy_ctx_free(ctx);
	/* A vlan on it is up with an address: the lower interface carries it. */
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 4, "eth0", IFF_UP, 0, 0), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 9, "eth0.100", IFF_UP, 0, 4), 0);
	add_addr(ctx, 9, AF_INET, "198.51.100.7", 24, RT_SCOPE_UNIVERSE);
	check(ctx, nic_tree, PB_ARRAY_SIZE(nic_tree), &v);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.refusals[0].detail,
			    "eth0 (net, below 0000:00:03.0) carries eth0.100, which is up with 1 "
			    "address (198.51.100.7/24)");
	pb_policy_ctx_free(ctx);
	/* The same vlan down: nothing in use. */
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 4, "eth0", IFF_UP, 0, 0), 0);
	assert_int_equal(pb_policy_ctx_add_link(ctx, 9, "eth0.100", 0, 0, 4), 0);
	add_addr(ctx, 9, AF_INET, "198.51.100.7", 24, RT_SCOPE_UNIVERSE);
	check(ctx, nic_tree, PB_ARRAY_SIZE(nic_tree), &v);
	assert_int_equal(v.n, 0);
	pb_policy_ctx_free(ctx);
}

static void net_unknown_interface_refused(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx;
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	struct pb_verdict v;
	check(ctx, nic_tree, PB_ARRAY_SIZE(nic_tree), &v);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.refusals[0].reason, PB_REASON_NET_ACTIVE);
	assert_non_null(strstr(v.refusals[0].detail, "not in the network snapshot"));
	pb_policy_ctx_free(ctx);
}

/* rtnetlink messages built by hand, as the kernel would send them in a dump. */
struct nlbuf {
	_Alignas(struct nlmsghdr) char data[4096];
	size_t len;
};

static struct nlmsghdr *nl_begin(struct nlbuf *b, uint16_t type, const void *body, size_t blen)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(b->data + b->len);
	memset(h, 0, NLMSG_SPACE(blen));
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_MULTI;
	h->nlmsg_len = NLMSG_LENGTH(blen);
	memcpy(NLMSG_DATA(h), body, blen);
	return h;
}

static struct rtattr *nl_attr(struct nlmsghdr *h, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (data)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nl_end(struct nlbuf *b, struct nlmsghdr *h)
{
	b->len += NLMSG_ALIGN(h->nlmsg_len);
}

static void net_rtnetlink_parse(void **state)
{
	(void)state;
	struct nlbuf b = {.len = 0};
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = 4, .ifi_flags = IFF_UP};
	struct nlmsghdr *h = nl_begin(&b, RTM_NEWLINK, &ifi, sizeof(ifi));
	nl_attr(h, IFLA_IFNAME, "eth0", 5);
	nl_end(&b, h);
	ifi.ifi_index = 5;
	h = nl_begin(&b, RTM_NEWLINK, &ifi, sizeof(ifi));
	nl_attr(h, IFLA_IFNAME, "eth1", 5);
	nl_end(&b, h);

	/* A multipath route in table 1000 (RTA_TABLE) whose second nexthop is eth1. */
	struct rtmsg rtm = {.rtm_family = AF_INET,
			    .rtm_table = RT_TABLE_COMPAT,
			    .rtm_type = RTN_UNICAST,
			    .rtm_protocol = RTPROT_STATIC};
	h = nl_begin(&b, RTM_NEWROUTE, &rtm, sizeof(rtm));
	uint32_t table = 1000;
	nl_attr(h, RTA_TABLE, &table, sizeof(table));
	char mp[64] = {0};
	size_t mlen = 0;
	int oifs[] = {4, 5};
	const char *gws[] = {"10.0.0.1", "10.0.1.1"};
	for (int i = 0; i < 2; i++) {
		struct rtnexthop *nh = (struct rtnexthop *)(mp + mlen);
		nh->rtnh_ifindex = oifs[i];
		nh->rtnh_len = RTNH_LENGTH(RTA_LENGTH(4));
		struct rtattr *ga = RTNH_DATA(nh);
		ga->rta_type = RTA_GATEWAY;
		ga->rta_len = RTA_LENGTH(4);
		assert_int_equal(inet_pton(AF_INET, gws[i], RTA_DATA(ga)), 1);
		mlen += RTNH_ALIGN(nh->rtnh_len);
	}
	nl_attr(h, RTA_MULTIPATH, mp, mlen);
	nl_end(&b, h);

	struct pb_policy_ctx *ctx;
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_parse_rtnl(ctx, b.data, b.len), 0);
	/* NLMSG_DONE ends the dump. */
	struct nlbuf done = {.len = 0};
	int zero = 0;
	h = nl_begin(&done, NLMSG_DONE, &zero, sizeof(zero));
	nl_end(&done, h);
	assert_int_equal(pb_policy_ctx_parse_rtnl(ctx, done.data, done.len), 1);

	const struct pb_policy_dev tree[] = {PCI("0000:07:00.1", "ixgbe", 0x020000),
					     NET("eth1", 5)};
	struct pb_verdict v;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.refusals[0].detail, "eth1 (net, below 0000:07:00.1) is up with 1 "
						  "route (table 1000: default via 10.0.1.1)");
	pb_policy_ctx_free(ctx);

	/* An error answer and a truncated buffer are errors, not an empty snapshot. */
	struct nlbuf err = {.len = 0};
	struct nlmsgerr e = {.error = -EPERM};
	h = nl_begin(&err, NLMSG_ERROR, &e, sizeof(e));
	nl_end(&err, h);
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_parse_rtnl(ctx, err.data, err.len), -EPERM);
	assert_int_equal(pb_policy_ctx_parse_rtnl(ctx, b.data, b.len - 3), -EBADMSG);
	pb_policy_ctx_free(ctx);
}

static void shared_fs_by_tag(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx;
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(
	    pb_policy_ctx_add_mountinfo(ctx, "40 26 0:50 / /srv/share rw - virtiofs hostshare rw\n"
					     "41 26 0:51 / / rw - 9p rootfs rw,trans=virtio\n"),
	    0);
	struct pb_policy_dev tree[] = {PCI("0000:00:08.0", "virtio-pci", 0x018000),
				       DEV("virtio7", "virtio", "virtiofs")};
	tree[1].virtio_type = 26;
	tree[1].fs_tag = "hostshare";
	struct pb_verdict v;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.refusals[0].detail, "virtio7 (virtio, below 0000:00:08.0) is mounted "
						  "on /srv/share (virtiofs, tag hostshare)");
	/* The 9p root: mounted and root-disk. */
	tree[1].driver = "9pnet_virtio";
	tree[1].virtio_type = 9;
	tree[1].fs_tag = "rootfs";
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(count_reason(&v, PB_REASON_MOUNTED), 1);
	assert_int_equal(count_reason(&v, PB_REASON_ROOT_DISK), 1);
	/* A tag nobody mounted. */
	tree[1].fs_tag = "spare";
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 0);
	pb_policy_ctx_free(ctx);
}

static void tty_unproven_when_fds_unreadable(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx;
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	const struct pb_policy_dev tree[] = {PCI("0000:00:16.3", "serial", 0x070002),
					     TTY("ttyS2", 4, 66)};
	struct pb_verdict v;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 0);
	pb_policy_ctx_set_unreadable_fds(ctx, 3);
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.refusals[0].reason, PB_REASON_CONSOLE);
	assert_non_null(
	    strstr(v.refusals[0].detail, "open files of 3 processes could not be read"));
	pb_policy_ctx_free(ctx);
}

static void net_unresolved_nexthop_object(void **state)
{
	(void)state;
	/* nexthop_compat_mode=0: the route carries RTA_NH_ID only; any up interface may carry it.
	 */
	struct nlbuf b = {.len = 0};
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = 4, .ifi_flags = IFF_UP};
	struct nlmsghdr *h = nl_begin(&b, RTM_NEWLINK, &ifi, sizeof(ifi));
	nl_attr(h, IFLA_IFNAME, "eth0", 5);
	nl_end(&b, h);
	struct rtmsg rtm = {.rtm_family = AF_INET6,
			    .rtm_table = RT_TABLE_MAIN,
			    .rtm_type = RTN_UNICAST,
			    .rtm_protocol = RTPROT_STATIC};
	h = nl_begin(&b, RTM_NEWROUTE, &rtm, sizeof(rtm));
	uint32_t id = 12;
	nl_attr(h, RTA_NH_ID, &id, sizeof(id));
	nl_end(&b, h);
	struct pb_policy_ctx *ctx;
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_parse_rtnl(ctx, b.data, b.len), 0);
	struct pb_verdict v;
	check(ctx, nic_tree, PB_ARRAY_SIZE(nic_tree), &v);
	assert_int_equal(v.n, 1);
	assert_non_null(strstr(v.refusals[0].detail, "default via a nexthop object"));
	pb_policy_ctx_free(ctx);
}

/* ---- vsock, console, boot VGA, bridge, driver ---------------------------------------------- */

static void vsock_transport(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx = fixture_ctx();
	struct pb_verdict v;
	struct pb_policy_dev tree[] = {
	    PCI("0000:00:04.0", "virtio-pci", 0xffff00),
	    DEV("virtio3", "virtio", "vmw_vsock_virtio_transport"),
	};
	tree[1].virtio_type = 19;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.refusals[0].detail,
			    "virtio3 (virtio, below 0000:00:04.0) is a vsock "
			    "transport (bound to vmw_vsock_virtio_transport)");
	/* Not bound (the transport module not loaded): its virtio type still says what it is. */
	tree[1].driver = NULL;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(count_reason(&v, PB_REASON_VSOCK), 1);
	assert_non_null(strstr(detail_of(&v, PB_REASON_VSOCK), "virtio type 19"));
	/* A balloon: refused through its virtio child, bound or not. */
	struct pb_policy_dev balloon[] = {
	    PCI("0000:00:01.0", "virtio-pci", 0xffff00),
	    DEV("virtio0", "virtio", "virtio_balloon"),
	};
	balloon[1].virtio_type = 5;
	check(ctx, balloon, PB_ARRAY_SIZE(balloon), &v);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.refusals[0].detail,
			    "virtio0 (virtio, below 0000:00:01.0) is a memory balloon "
			    "(bound to virtio_balloon)");
	balloon[1].driver = NULL;
	check(ctx, balloon, PB_ARRAY_SIZE(balloon), &v);
	assert_int_equal(count_reason(&v, PB_REASON_BALLOON), 1);
	assert_non_null(strstr(detail_of(&v, PB_REASON_BALLOON), "virtio type 5"));
	/* The rng: virtio type 4, driver virtio_rng. Allowed. */
	struct pb_policy_dev rng[] = {
	    PCI("0000:00:05.0", "virtio-pci", 0xffff00),
	    DEV("virtio4", "virtio", "virtio_rng"),
	};
	rng[1].virtio_type = 4;
	check(ctx, rng, PB_ARRAY_SIZE(rng), &v);
	assert_int_equal(v.n, 0);
	pb_policy_ctx_free(ctx);
}

static void console_and_open_tty(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx = fixture_ctx();
	assert_int_equal(pb_policy_ctx_add_open_chrdev(ctx, 4, 65, 812, "agetty"), 0);
	assert_int_equal(pb_policy_ctx_add_open_chrdev(ctx, 4, 65, 900, "minicom"), 0);
	assert_int_equal(pb_policy_ctx_add_open_chrdev(ctx, 4, 65, 900, "minicom"), 0);
	const struct pb_policy_dev tree[] = {PCI("0000:00:16.3", "serial", 0x070002),
					     TTY("ttyS0", 4, 64), TTY("ttyS1", 4, 65),
					     TTY("ttyS2", 4, 66)};
	struct pb_verdict v;
	check(ctx, tree, PB_ARRAY_SIZE(tree), &v);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.refusals[0].detail,
			    "ttyS0 (tty, below 0000:00:16.3) is an active console (ttyS0)");
	assert_string_equal(v.refusals[1].detail, "ttyS1 (tty, below 0000:00:16.3) is open by pid "
						  "812 (agetty) and 1 more processes");
	/* Only the unused port: allowed. */
	const struct pb_policy_dev idle[] = {PCI("0000:00:16.3", "serial", 0x070002),
					     TTY("ttyS2", 4, 66)};
	check(ctx, idle, PB_ARRAY_SIZE(idle), &v);
	assert_int_equal(v.n, 0);
	pb_policy_ctx_free(ctx);

	/* A virtio console function while an hvc console is active. */
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	assert_int_equal(pb_policy_ctx_add_consoles(ctx, "hvc0 -W- (EC p ) 229:0\n", NULL), 0);
	const struct pb_policy_dev vcon[] = {PCI("0000:00:07.0", "virtio-pci", 0x078000),
					     DEV("virtio6", "virtio", "virtio_console")};
	check(ctx, vcon, PB_ARRAY_SIZE(vcon), &v);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.refusals[0].reason, PB_REASON_CONSOLE);
	assert_non_null(strstr(v.refusals[0].detail, "hvc0 is an active console"));
	pb_policy_ctx_free(ctx);
}

static void boot_vga_bridge_no_driver(void **state)
{
	(void)state;
	struct pb_policy_ctx *ctx;
	assert_int_equal(pb_policy_ctx_new_empty(&ctx), 0);
	struct pb_verdict v;

	struct pb_policy_dev gpu[] = {PCI("0000:00:02.0", "i915", 0x030000)};
	gpu[0].boot_vga = 1;
	check(ctx, gpu, 1, &v);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.refusals[0].reason, PB_REASON_BOOT_VGA);
	gpu[0].boot_vga = 0;
	check(ctx, gpu, 1, &v);
	assert_int_equal(v.n, 0);

	/* A root port with a NIC behind it: a bridge twice over (class, and a function below). */
	const struct pb_policy_dev port[] = {PCI("0000:00:1c.0", "pcieport", 0x060400),
					     PCI("0000:02:00.0", "e1000e", 0x020000)};
	check(ctx, port, PB_ARRAY_SIZE(port), &v);
	assert_int_equal(count_reason(&v, PB_REASON_BRIDGE), 2);
	assert_string_equal(v.refusals[0].detail,
			    "0000:00:1c.0 (pci) is a PCI-to-PCI bridge (class 0x060400)");
	assert_string_equal(v.refusals[1].detail,
			    "0000:02:00.0 (pci, below 0000:00:1c.0) is a PCI function behind it");
	/* The host bridge, unbound: bridge and no-driver. */
	const struct pb_policy_dev host[] = {PCI("0000:00:00.0", NULL, 0x060000)};
	check(ctx, host, 1, &v);
	assert_int_equal(v.n, 2);
	assert_int_equal(count_reason(&v, PB_REASON_NO_DRIVER), 1);
	assert_int_equal(count_reason(&v, PB_REASON_BRIDGE), 1);
	assert_non_null(strstr(detail_of(&v, PB_REASON_BRIDGE), "host bridge"));
	/* A physical function with virtual functions enabled. */
	struct pb_policy_dev pf[] = {PCI("0000:03:00.0", "ice", 0x020000)};
	pf[0].sriov_numvfs = 4;
	check(ctx, pf, 1, &v);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.refusals[0].detail, "0000:03:00.0 (pci) has 4 SR-IOV virtual "
						  "functions enabled (unbinding it removes them)");
	/* An ordinary bound endpoint: allowed. */
	const struct pb_policy_dev nic[] = {PCI("0000:02:00.0", "e1000e", 0x020000)};
	check(ctx, nic, 1, &v);
	assert_int_equal(v.n, 0);
	/* Bad input. */
	assert_int_equal(pb_policy_check_devs(ctx, nic, 0, &v), -EINVAL);
	assert_int_equal(pb_policy_check_devs(NULL, nic, 1, &v), -EINVAL);
	pb_policy_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reason_names_round_trip),
	    cmocka_unit_test(forced_mask_lifts_exactly_one),
	    cmocka_unit_test(verdict_json),
	    cmocka_unit_test(block_root_disk),
	    cmocka_unit_test(block_unused_disk_allowed),
	    cmocka_unit_test(block_btrfs_by_source_and_escapes),
	    cmocka_unit_test(block_holders_and_root_stack),
	    cmocka_unit_test(block_many_mounts_capped),
	    cmocka_unit_test(block_exclusive_claims),
	    cmocka_unit_test(net_routed_interface),
	    cmocka_unit_test(net_idle_interfaces_allowed),
	    cmocka_unit_test(net_route_in_other_table),
	    cmocka_unit_test(net_bond_member_and_vlan),
	    cmocka_unit_test(net_unknown_interface_refused),
	    cmocka_unit_test(net_rtnetlink_parse),
	    cmocka_unit_test(vsock_transport),
	    cmocka_unit_test(console_and_open_tty),
	    cmocka_unit_test(boot_vga_bridge_no_driver),
	    cmocka_unit_test(shared_fs_by_tag),
	    cmocka_unit_test(tty_unproven_when_fds_unreadable),
	    cmocka_unit_test(net_unresolved_nexthop_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
