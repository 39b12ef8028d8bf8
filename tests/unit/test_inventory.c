// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Inventory: tree building and node inheritance (pure), cpulists, JSON building, and loading the
 * fixture tree tests/fixtures/inventory/sys (libpci with its sysfs root moved there), whole and
 * with one attribute broken in a copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "probebench/inventory.h"
#include "probebench/policy.h"
#include "probebench/selector.h"
#include "testbed.h"

static struct pb_device *dev_at(const char *path, const char *subsys)
{
	struct pb_device *d = pb_device_new(path, "/sys");
	assert_non_null(d);
	d->subsystem = strdup(subsys);
	d->sysname = strdup(strrchr(path, '/') + 1);
	return d;
}

static void tree_build(void **state)
{
	(void)state;
	struct pb_device *root = dev_at("/sys/devices/pci0000:00/0000:00:02.0", "pci");
	/* Given out of order, with a "holder" directory (block/) between devices. */
	struct pb_device *devs[] = {
	    dev_at("/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda/vda1", "block"),
	    dev_at("/sys/devices/pci0000:00/0000:00:02.0/virtio10", "virtio"),
	    dev_at("/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda", "block"),
	    dev_at("/sys/devices/pci0000:00/0000:00:02.0/virtio1", "virtio"),
	    dev_at("/sys/devices/pci0000:00/0000:00:02.0/virtio2", "virtio"),
	};
	assert_int_equal(pb_device_tree_build(root, devs, 5), 0);
	assert_int_equal(root->n_children, 3);
	/* Natural order: virtio1, virtio2, virtio10. */
	assert_string_equal(root->children[0]->sysname, "virtio1");
	assert_string_equal(root->children[1]->sysname, "virtio2");
	assert_string_equal(root->children[2]->sysname, "virtio10");
	struct pb_device *v1 = root->children[0];
	assert_int_equal(v1->n_children, 1);
	assert_string_equal(v1->children[0]->sysname, "vda");
	assert_ptr_equal(v1->children[0]->parent, v1);
	assert_int_equal(v1->children[0]->n_children, 1);
	assert_string_equal(v1->children[0]->children[0]->sysname, "vda1");
	assert_string_equal(v1->devpath, "/devices/pci0000:00/0000:00:02.0/virtio1");

	/* Not below root: refused (and freed); a name prefix is not an ancestor. */
	struct pb_device *bad[] = {dev_at("/sys/devices/pci0000:00/0000:00:02.00", "x")};
	assert_int_equal(pb_device_tree_build(root, bad, 1), -EINVAL);
	assert_int_equal(root->n_children, 3);
	pb_device_free(root);
}

static void inherit(void **state)
{
	(void)state;
	struct pb_device *fn = dev_at("/sys/devices/pci0000:80/0000:80:00.0/0000:81:00.0", "pci");
	fn->has_own_node = true;
	fn->own_node = 1;
	struct pb_device *devs[] = {
	    dev_at("/sys/devices/pci0000:80/0000:80:00.0/0000:81:00.0/nvme/nvme0", "nvme"),
	    dev_at("/sys/devices/pci0000:80/0000:80:00.0/0000:81:00.0/nvme/nvme0/nvme0n1", "block"),
	    dev_at("/sys/devices/pci0000:80/0000:80:00.0/0000:81:00.0/x", "x"),
	    dev_at("/sys/devices/pci0000:80/0000:80:00.0/0000:81:00.0/x/y", "y"),
	};
	/* x has its own attribute saying 0: it, and y below it, take 0, not the function's 1. */
	devs[2]->has_own_node = true;
	devs[2]->own_node = 0;
	struct pb_device *x = devs[2], *y = devs[3], *disk = devs[1];
	assert_int_equal(pb_device_tree_build(fn, devs, 4), 0);
	pb_device_inherit_nodes(fn);
	assert_int_equal(fn->numa_node, 1);
	assert_int_equal(fn->node_source, PB_NODE_OWN);
	assert_ptr_equal(fn->node_from, fn);
	assert_int_equal(disk->numa_node, 1);
	assert_int_equal(disk->node_source, PB_NODE_INHERITED);
	assert_ptr_equal(disk->node_from, fn);
	assert_int_equal(x->numa_node, 0);
	assert_int_equal(x->node_source, PB_NODE_OWN);
	assert_int_equal(y->numa_node, 0);
	assert_ptr_equal(y->node_from, x);

	/* The kernel's -1 is inherited as unknown, still naming where it came from. */
	fn->own_node = -1;
	pb_device_inherit_nodes(fn);
	assert_int_equal(disk->numa_node, -1);
	assert_int_equal(disk->node_source, PB_NODE_INHERITED);
	assert_ptr_equal(disk->node_from, fn);

	/* No attribute anywhere (a kernel without CONFIG_NUMA): none. */
	fn->has_own_node = false;
	x->has_own_node = false;
	pb_device_inherit_nodes(fn);
	assert_int_equal(y->numa_node, -1);
	assert_int_equal(y->node_source, PB_NODE_NONE);
	assert_null(y->node_from);
	pb_device_free(fn);
}

static void cpulist(void **state)
{
	(void)state;
	int *c = NULL;
	size_t n = 0;
	char buf[64];
	assert_int_equal(pb_cpulist_parse("0-3,8,10-11", &c, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(c[0], 0);
	assert_int_equal(c[3], 3);
	assert_int_equal(c[4], 8);
	assert_int_equal(c[6], 11);
	assert_string_equal(pb_cpulist_format(c, n, buf, sizeof(buf)), "0-3,8,10-11");
	free(c);
	assert_int_equal(pb_cpulist_parse("", &c, &n), 0);
	assert_int_equal(n, 0);
	free(c);
	assert_int_equal(pb_cpulist_parse("3-1", &c, &n), -EINVAL);
	assert_int_equal(pb_cpulist_parse("1,", &c, &n), -EINVAL);
	assert_int_equal(pb_cpulist_parse("a", &c, &n), -EINVAL);
	assert_int_equal(pb_cpulist_parse("1-", &c, &n), -EINVAL);
	assert_int_equal(pb_cpulist_parse("-1", &c, &n), -EINVAL);
}

static void decorate(const struct pb_device *dev, struct json_object *obj, void *userdata)
{
	(*(int *)userdata)++;
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "allowed", json_object_new_boolean(dev->pci == NULL));
	json_object_object_add(s, "refusals", json_object_new_array());
	json_object_object_add(obj, "safety", s);
}

static void json_build(void **state)
{
	(void)state;
	struct pb_device *fn = dev_at("/sys/devices/pci0000:00/0000:00:05.0", "pci");
	fn->has_own_node = true;
	fn->own_node = -1;
	fn->driver = strdup("virtio-pci");
	fn->pci = calloc(1, sizeof(*fn->pci));
	snprintf(fn->pci->bdf, sizeof(fn->pci->bdf), "0000:00:05.0");
	fn->pci->vendor_id = 0x1af4;
	fn->pci->device_id = 0x1044;
	fn->pci->revision = 1;
	struct pb_device *devs[] = {
	    dev_at("/sys/devices/pci0000:00/0000:00:05.0/virtio4", "virtio")};
	struct pb_device *child = devs[0];
	child->driver = strdup("virtio_rng");
	assert_int_equal(pb_device_tree_build(fn, devs, 1), 0);
	pb_device_inherit_nodes(fn);

	struct pb_device *fns[] = {fn};
	struct pb_inventory inv = {.functions = fns, .n_functions = 1, .children_method = "test"};
	int calls = 0;
	struct pb_device *sel[] = {child};
	struct pb_inventory_view view = {
	    .selected = sel, .n_selected = 1, .decorate_json = decorate, .userdata = &calls};
	struct json_object *doc = pb_inventory_to_json(&inv, &view);
	assert_non_null(doc);
	assert_int_equal(calls, 2);
	struct json_object *v, *f, *c, *numa, *pci;
	assert_true(json_object_object_get_ex(doc, "schema", &v));
	assert_string_equal(json_object_get_string(v), "probebench-inventory");
	assert_true(json_object_object_get_ex(doc, "version", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(doc, "functions", &v));
	assert_int_equal(json_object_array_length(v), 1);
	f = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(f, "pci", &pci));
	assert_true(json_object_object_get_ex(pci, "vendor_id", &v));
	assert_string_equal(json_object_get_string(v), "1af4");
	assert_true(json_object_object_get_ex(pci, "revision", &v));
	assert_string_equal(json_object_get_string(v), "01");
	assert_false(json_object_object_get_ex(f, "selected", &v));
	assert_true(json_object_object_get_ex(f, "children", &v));
	c = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(c, "driver", &v));
	assert_string_equal(json_object_get_string(v), "virtio_rng");
	assert_true(json_object_object_get_ex(c, "selected", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(c, "safety", &v));
	assert_false(json_object_object_get_ex(c, "pci", &v));
	assert_true(json_object_object_get_ex(c, "numa", &numa));
	assert_true(json_object_object_get_ex(numa, "node", &v));
	assert_null(v); /* -1: unknown */
	assert_true(json_object_object_get_ex(numa, "source", &v));
	assert_string_equal(json_object_get_string(v), "inherited");
	assert_true(json_object_object_get_ex(numa, "from", &v));
	assert_string_equal(json_object_get_string(v), "0000:00:05.0");
	json_object_put(doc);

	/* A selection outside this function hides it. */
	struct pb_device *other = dev_at("/sys/devices/elsewhere", "x");
	struct pb_device *sel2[] = {other};
	struct pb_inventory_view view2 = {.selected = sel2, .n_selected = 1};
	doc = pb_inventory_to_json(&inv, &view2);
	assert_true(json_object_object_get_ex(doc, "functions", &v));
	assert_int_equal(json_object_array_length(v), 0);
	json_object_put(doc);

	/* The text tree: one line per device, within 100 columns. */
	char *text = NULL;
	size_t len = 0;
	FILE *mf = open_memstream(&text, &len);
	pb_inventory_print(mf, &inv, NULL, 100);
	fclose(mf);
	assert_non_null(strstr(text, "0000:00:05.0 1af4:1044"));
	assert_non_null(strstr(text, "[virtio-pci] node ?"));
	assert_non_null(strstr(text, "└─ virtio/virtio4 [virtio_rng] node ? (inherited from "
				     "0000:00:05.0)"));
	free(text);
	pb_device_free(other);
	pb_device_free(fn);
}

static char fixture[PATH_MAX];

/* Loads the inventory of the tree dir/sys, which the code (libudev too) sees at /sys. */
static struct pb_inventory *load_at(const char *dir, int expect, const char *errpart)
{
	struct pb_inventory *inv = NULL;
	char err[1024] = "";
	assert_int_equal(testbed_enter(dir), 0);
	int r = pb_inventory_load(&inv, err, sizeof(err));
	testbed_leave();
	if (r != expect)
		fail_msg("load %s: %d (%s), expected %d", dir, r, err, expect);
	if (errpart && !strstr(err, errpart))
		fail_msg("load %s: message '%s' lacks '%s'", dir, err, errpart);
	return inv;
}

static void fixture_load(void **state)
{
	(void)state;
	struct pb_inventory *inv = load_at(fixture, 0, NULL);
	assert_non_null(inv);
	assert_int_equal(inv->n_functions, 5);
	assert_string_equal(inv->children_method, "libudev");
	assert_string_equal(inv->sysfs_root, "/sys");

	struct pb_device *rng = inv->functions[1];
	assert_string_equal(rng->pci->bdf, "0000:00:05.0");
	assert_int_equal(rng->pci->vendor_id, 0x1af4);
	assert_int_equal(rng->pci->device_id, 0x1044);
	assert_int_equal(rng->pci->revision, 1);
	assert_string_equal(rng->driver, "virtio-pci");
	assert_string_equal(rng->pci->local_cpulist, "0-1");
	assert_int_equal(rng->n_children, 1); /* virtio4; its power/ directory is no device */
	struct pb_device *v4 = rng->children[0];
	assert_string_equal(v4->subsystem, "virtio");
	assert_string_equal(v4->driver, "virtio_rng");
	assert_int_equal(v4->node_source, PB_NODE_INHERITED);
	assert_ptr_equal(v4->node_from, rng);

	/* The bridge does not swallow the function behind it. */
	struct pb_device *bridge = inv->functions[2];
	assert_string_equal(bridge->pci->bdf, "0000:80:00.0");
	assert_int_equal(bridge->n_children, 1);
	assert_string_equal(bridge->children[0]->subsystem, "pci_bus");

	struct pb_device *nvme = inv->functions[3];
	assert_string_equal(nvme->pci->bdf, "0000:81:00.0");
	assert_int_equal(nvme->numa_node, 1);
	assert_int_equal(nvme->pci->n_local_cpus, 2);
	struct pb_device *ctrl = nvme->children[0];
	assert_string_equal(ctrl->sysname, "nvme0");
	struct pb_device *disk = ctrl->children[0];
	assert_string_equal(disk->block, "nvme0n1");
	assert_string_equal(disk->devtype, "disk");
	assert_int_equal(disk->n_devnodes, 1);
	assert_string_equal(disk->devnodes[0], "/dev/nvme0n1");
	assert_int_equal(disk->numa_node, 1);
	assert_ptr_equal(disk->node_from, nvme);
	assert_string_equal(disk->children[0]->devtype, "partition");

	struct pb_device *nic = inv->functions[4];
	assert_string_equal(nic->children[0]->netif, "eth1");

	/* No numa_node attribute at all. */
	assert_int_equal(inv->functions[0]->node_source, PB_NODE_NONE);

	/* Selectors over the loaded tree, a path through a /sys/bus symlink included. */
	struct pb_selector s[2];
	char err[256];
	assert_int_equal(
	    pb_selector_parse("/sys/bus/pci/devices/0000:81:00.0", &s[0], err, sizeof(err)), 0);
	assert_int_equal(pb_selector_parse("e1000e", &s[1], err, sizeof(err)), 0);
	struct pb_device **out;
	size_t n, bad;
	assert_int_equal(testbed_enter(fixture), 0);
	assert_int_equal(pb_inventory_select(inv, s, 2, &out, &n, &bad), 0);
	testbed_leave();
	assert_int_equal(n, 2);
	assert_ptr_equal(out[0], nvme);
	assert_ptr_equal(out[1], nic);
	free(out);
	pb_inventory_free(inv);
}

/* A copy of the fixture with one thing broken by `cmd` (run inside the copy). */
static struct pb_inventory *load_broken(const char *cmd, int expect, const char *errpart)
{
	char tmp[] = "/tmp/pb-inv-XXXXXX", sh[PATH_MAX + 1024];
	assert_non_null(mkdtemp(tmp));
	snprintf(sh, sizeof(sh), "cp -a '%s/sys' '%s/sys' && cd '%s/sys' && %s", fixture, tmp, tmp,
		 cmd);
	assert_int_equal(system(sh), 0);
	struct pb_inventory *inv = load_at(tmp, expect, errpart);
	snprintf(sh, sizeof(sh), "rm -rf '%s'", tmp);
	assert_int_equal(system(sh), 0);
	return inv;
}

static void fixture_broken(void **state)
{
	(void)state;
	const char *fn = "devices/pci0000:00/0000:00:05.0";
	char cmd[512];

	/* An attribute libpci must read (a symlink loop cannot be opened, even by root). */
	snprintf(cmd, sizeof(cmd), "rm %s/vendor && ln -s vendor %s/vendor", fn, fn);
	assert_null(load_broken(cmd, -EIO, "0000:00:05.0: Cannot open"));
	/* An attribute that opens but cannot be read. */
	snprintf(cmd, sizeof(cmd), "rm %s/class && mkdir %s/class", fn, fn);
	assert_null(load_broken(cmd, -EIO, "/class: Is a directory"));
	snprintf(cmd, sizeof(cmd), "rm %s/numa_node && mkdir %s/numa_node", fn, fn);
	assert_null(load_broken(cmd, -EISDIR, "0000:00:05.0: cannot read"));
	snprintf(cmd, sizeof(cmd), "echo 'zero' > %s/numa_node", fn);
	assert_null(load_broken(cmd, -EINVAL, "numa_node"));
	snprintf(cmd, sizeof(cmd), "echo '0-' > %s/local_cpulist", fn);
	assert_null(load_broken(cmd, -EINVAL, "not a CPU list"));
	/* Below a function. */
	snprintf(cmd, sizeof(cmd), "mkdir %s/virtio4/numa_node", fn);
	assert_null(load_broken(cmd, -EISDIR, "virtio4/numa_node"));
	/* A uevent file libudev cannot read: it still lists the device, without its properties
	 * (what production does on a real system). */
	snprintf(cmd, sizeof(cmd), "rm %s/virtio4/uevent && mkdir %s/virtio4/uevent", fn, fn);
	struct pb_inventory *noprops = load_broken(cmd, 0, NULL);
	assert_non_null(noprops);
	assert_int_equal(noprops->functions[1]->n_children, 1);
	assert_string_equal(noprops->functions[1]->children[0]->sysname, "virtio4");
	assert_string_equal(noprops->functions[1]->children[0]->subsystem, "virtio");
	pb_inventory_free(noprops);
	/* The directory of functions. */
	assert_null(
	    load_broken("mkdir bus/pci/devices/garbage", -EINVAL, "unexpected entry 'garbage'"));
	assert_null(load_broken("rm -r bus/pci/devices", -ENOENT, "cannot open"));
	/* Without subsystem_vendor libpci reads config space, which the fixture lacks. */
	snprintf(cmd, sizeof(cmd), "rm %s/subsystem_vendor", fn);
	assert_null(load_broken(cmd, -EIO, "0000:00:05.0: Cannot open"));
	/* A function whose directory is gone (removed after the scan) is skipped, with a warning.
	 */
	struct pb_inventory *gone =
	    load_broken("rm -r bus/pci/devices/0000:00:05.0 && ln -s ../../../devices/gone "
			"bus/pci/devices/0000:00:05.0 && rm -r devices/pci0000:00/0000:00:05.0",
			0, NULL);
	assert_non_null(gone);
	assert_int_equal(gone->n_functions, 4);
	assert_int_equal(gone->n_warnings, 1);
	assert_non_null(strstr(gone->warnings[0], "0000:00:05.0 disappeared"));
	pb_inventory_free(gone);
	/* Missing optional attributes are not errors. */
	snprintf(cmd, sizeof(cmd), "rm %s/local_cpulist %s/driver", fn, fn);
	struct pb_inventory *inv = load_broken(cmd, 0, NULL);
	assert_non_null(inv);
	assert_null(inv->functions[1]->pci->local_cpulist);
	assert_null(inv->functions[1]->driver);
	pb_inventory_free(inv);
}

/* Whether a refusal of this reason names needle in its detail. */
static bool refused_naming(const struct pb_verdict *v, enum pb_reason reason, const char *needle)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->refusals[i].reason == reason && strstr(v->refusals[i].detail, needle))
			return true;
	return false;
}

/* A copy of the fixture tree in tmp (a mkdtemp template), its inventory and an empty policy
 * snapshot. */
static struct pb_inventory *fixture_copy(char *tmp, struct pb_policy_ctx **ctx)
{
	char sh[PATH_MAX + 1024];
	assert_non_null(mkdtemp(tmp));
	snprintf(sh, sizeof(sh), "cp -a '%s/sys' '%s/sys'", fixture, tmp);
	assert_int_equal(system(sh), 0);
	struct pb_inventory *inv = load_at(tmp, 0, NULL);
	assert_int_equal(pb_policy_ctx_new_empty(ctx), 0);
	return inv;
}

/*
 * The safety check takes the target's subtree from the inventory it is given, not from a new
 * enumeration: a device that appears below the target later is not in it until the inventory is
 * read again; one that went away since is skipped. The PCI functions behind a bridge, listed on
 * their own, are part of the bridge's subtree.
 */
static void policy_subtree_from_inventory(void **state)
{
	(void)state;
	char tmp[] = "/tmp/pb-inv-XXXXXX", sh[PATH_MAX + 1024];
	struct pb_policy_ctx *ctx;
	struct pb_inventory *inv = fixture_copy(tmp, &ctx);
	struct pb_verdict v;
	assert_int_equal(testbed_enter(tmp), 0);

	const struct pb_device **sub;
	size_t n;
	struct pb_device *bridge = inv->functions[2];
	assert_int_equal(pb_inventory_subtree(inv, bridge, &sub, &n), 0);
	assert_int_equal(n, 6); /* itself, pci_bus/0000:81, 0000:81:00.0 and its nvme0 stack */
	assert_ptr_equal(sub[0], bridge);
	assert_string_equal(sub[1]->sysname, "0000:81:00.0");
	assert_string_equal(sub[5]->sysname, "0000:81");
	free(sub);
	assert_int_equal(pb_policy_check(ctx, inv, bridge, &v), 0);
	assert_true(refused_naming(&v, PB_REASON_BRIDGE, "0000:81:00.0"));

	struct pb_device *nic = inv->functions[4];
	assert_int_equal(pb_policy_check(ctx, inv, nic, &v), 0);
	assert_true(refused_naming(&v, PB_REASON_NET_ACTIVE, "eth1"));
	/* An interface appears below the NIC: not in this inventory, so not checked. */
	snprintf(sh, sizeof(sh),
		 "cd '%s/sys/devices/pci0000:80/0000:82:00.0/net' && mkdir eth9 && "
		 "printf 'INTERFACE=eth9\\nIFINDEX=9\\n' >eth9/uevent && "
		 "ln -s ../../../../../class/net eth9/subsystem",
		 tmp);
	assert_int_equal(system(sh), 0);
	assert_int_equal(pb_policy_check(ctx, inv, nic, &v), 0);
	assert_true(refused_naming(&v, PB_REASON_NET_ACTIVE, "eth1"));
	assert_false(refused_naming(&v, PB_REASON_NET_ACTIVE, "eth9"));
	/* One that went away since the inventory was read is skipped. */
	snprintf(sh, sizeof(sh), "rm -r '%s/sys/devices/pci0000:80/0000:82:00.0/net/eth1'", tmp);
	assert_int_equal(system(sh), 0);
	assert_int_equal(pb_policy_check(ctx, inv, nic, &v), 0);
	assert_false(refused_naming(&v, PB_REASON_NET_ACTIVE, "eth1"));
	assert_false(refused_naming(&v, PB_REASON_NET_ACTIVE, "eth9"));
	testbed_leave();
	pb_inventory_free(inv);

	/* The next inventory has it. */
	inv = load_at(tmp, 0, NULL);
	assert_int_equal(testbed_enter(tmp), 0);
	assert_int_equal(pb_policy_check(ctx, inv, inv->functions[4], &v), 0);
	assert_true(refused_naming(&v, PB_REASON_NET_ACTIVE, "eth9"));
	/* The target itself gone: an error, as libudev cannot open it. */
	snprintf(sh, sizeof(sh), "rm -r '%s/sys/devices/pci0000:80/0000:82:00.0'", tmp);
	assert_int_equal(system(sh), 0);
	assert_true(pb_policy_check(ctx, inv, inv->functions[4], &v) < 0);
	testbed_leave();
	pb_inventory_free(inv);
	pb_policy_ctx_free(ctx);
	snprintf(sh, sizeof(sh), "rm -rf '%s'", tmp);
	assert_int_equal(system(sh), 0);
}

static void collect_devices(const struct pb_device *d, const struct pb_device **all, size_t *n)
{
	all[(*n)++] = d;
	for (size_t i = 0; i < d->n_children; i++)
		collect_devices(d->children[i], all, n);
}

/*
 * Many verdicts at once (list's): each device read once, and every target's verdict that of
 * pb_policy_check; a target gone since the inventory was read has its error, the others their
 * verdicts.
 */
static void policy_check_many_as_one_by_one(void **state)
{
	(void)state;
	char tmp[] = "/tmp/pb-inv-XXXXXX", sh[PATH_MAX + 1024];
	struct pb_policy_ctx *ctx;
	struct pb_inventory *inv = fixture_copy(tmp, &ctx);
	const struct pb_device *all[64];
	size_t n = 0;
	for (size_t i = 0; i < inv->n_functions; i++)
		collect_devices(inv->functions[i], all, &n);
	assert_true(n > inv->n_functions);
	struct pb_verdict many[64], one;
	int errs[64];
	assert_int_equal(testbed_enter(tmp), 0);
	assert_int_equal(pb_policy_check_many(ctx, inv, all, n, many, errs), 0);
	size_t refused = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(errs[i], 0);
		assert_int_equal(pb_policy_check(ctx, inv, all[i], &one), 0);
		assert_int_equal(many[i].n, one.n);
		for (size_t k = 0; k < one.n; k++) {
			assert_int_equal(many[i].refusals[k].reason, one.refusals[k].reason);
			assert_string_equal(many[i].refusals[k].detail, one.refusals[k].detail);
		}
		refused += one.n > 0;
	}
	assert_true(refused > 0);
	/* the NIC's function gone: its error, the others' verdicts as before */
	snprintf(sh, sizeof(sh), "rm -r '%s/sys/devices/pci0000:80/0000:82:00.0'", tmp);
	assert_int_equal(system(sh), 0);
	assert_int_equal(pb_policy_check_many(ctx, inv, all, n, many, errs), 0);
	for (size_t i = 0; i < n; i++) {
		bool gone = strstr(all[i]->syspath, "/0000:82:00.0") != NULL;
		if (gone)
			assert_true(errs[i] < 0);
		else
			assert_int_equal(errs[i], 0);
	}
	size_t nic = 0;
	while (nic < n && all[nic] != inv->functions[4])
		nic++;
	assert_true(nic < n && errs[nic] < 0);
	const struct pb_device *none[] = {NULL};
	assert_int_equal(pb_policy_check_many(ctx, inv, none, 1, many, errs), -EINVAL);
	testbed_leave();
	pb_inventory_free(inv);
	pb_policy_ctx_free(ctx);
	snprintf(sh, sizeof(sh), "rm -rf '%s'", tmp);
	assert_int_equal(system(sh), 0);
}

/*
 * The open character devices (a stat of every open file of every process) are read at the first
 * check whose subtree has a tty or console port with a number, not when the snapshot is taken;
 * a port some process holds open is refused all the same.
 */
static void policy_open_chrdevs_when_needed(void **state)
{
	(void)state;
	char tmp[] = "/tmp/pb-inv-XXXXXX", sh[PATH_MAX + 1024];
	assert_non_null(mkdtemp(tmp));
	/* a console port below the rng function's virtio device, numbered as /dev/null (1:3) */
	snprintf(
	    sh, sizeof(sh),
	    "cp -a '%s/sys' '%s/sys' && cd '%s/sys/devices/pci0000:00/0000:00:05.0/virtio4' && "
	    "mkdir -p virtio-ports/vport4p1 && "
	    "printf 'MAJOR=1\\nMINOR=3\\nDEVNAME=vport4p1\\n' >virtio-ports/vport4p1/uevent && "
	    "ln -s ../../../../../../class/virtio-ports virtio-ports/vport4p1/subsystem",
	    fixture, tmp, tmp);
	assert_int_equal(system(sh), 0);
	struct pb_inventory *inv = load_at(tmp, 0, NULL);
	struct pb_policy_ctx *ctx;
	int r = pb_policy_ctx_new(&ctx); /* the live system's state */
	if (r < 0) {
		pb_inventory_free(inv);
		snprintf(sh, sizeof(sh), "rm -rf '%s'", tmp);
		assert_int_equal(system(sh), 0);
		skip();
	}
	assert_true(pb_policy_ctx_open_chrdevs_pending(ctx));
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* held open by this process */
	assert_true(null_fd >= 0);
	assert_int_equal(testbed_enter(tmp), 0);
	struct pb_verdict v;
	struct pb_device *bridge = inv->functions[0], *rng = inv->functions[1];
	assert_string_equal(rng->pci->bdf, "0000:00:05.0");
	assert_int_equal(pb_policy_check(ctx, inv, bridge, &v), 0);
	assert_true(pb_policy_ctx_open_chrdevs_pending(ctx)); /* no tty below the bridge */
	assert_int_equal(pb_policy_check(ctx, inv, rng, &v), 0);
	assert_false(pb_policy_ctx_open_chrdevs_pending(ctx));
	assert_true(refused_naming(&v, PB_REASON_CONSOLE, "vport4p1 (virtio-ports, below "));
	assert_true(refused_naming(&v, PB_REASON_CONSOLE, "is open by pid"));
	testbed_leave();
	close(null_fd);
	pb_inventory_free(inv);
	pb_policy_ctx_free(ctx);
	snprintf(sh, sizeof(sh), "rm -rf '%s'", tmp);
	assert_int_equal(system(sh), 0);
}

int main(void)
{
	const char *f = getenv("PB_FIXTURES");
	snprintf(fixture, sizeof(fixture), "%s/inventory", f ? f : "tests/fixtures");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tree_build),
	    cmocka_unit_test(inherit),
	    cmocka_unit_test(cpulist),
	    cmocka_unit_test(json_build),
	    cmocka_unit_test(fixture_load),
	    cmocka_unit_test(fixture_broken),
	    cmocka_unit_test(policy_subtree_from_inventory),
	    cmocka_unit_test(policy_open_chrdevs_when_needed),
	    cmocka_unit_test(policy_check_many_as_one_by_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
