// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "probebench/journal.h"
#include "probebench/paths.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/pb-journal-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	pb_set_state_dir(dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct pb_journal_entry sample(const char *name)
{
	struct pb_journal_entry e = {.state = PB_JOURNAL_CYCLING, .pid = 42, .time_unix_ns = 7};
	snprintf(e.syspath, sizeof(e.syspath), "/sys/devices/pci0000:00/%s", name);
	strcpy(e.bus, "pci");
	snprintf(e.sysname, sizeof(e.sysname), "%s", name);
	strcpy(e.driver, "virtio-pci");
	strcpy(e.power_control, "auto");
	return e;
}

static void roundtrip(void **state)
{
	(void)state;
	struct pb_journal_entry e = sample("0000:00:05.0"), back;
	strcpy(e.driver_override, "vfio-pci");
	struct json_object *o = pb_journal_entry_to_json(&e);
	assert_int_equal(pb_journal_entry_from_json(o, &back), 0);
	json_object_put(o);
	assert_memory_equal(&e, &back, sizeof(e));
}

/* --entry module: the module and its options survive a write and a load; an entry without
 * them has no such keys (journals of other entries read as before). */
static void module_roundtrip(void **state)
{
	(void)state;
	struct pb_journal_entry e = sample("virtio1"), back;
	struct json_object *o = pb_journal_entry_to_json(&e);
	assert_false(json_object_object_get_ex(o, "module", NULL));
	json_object_put(o);
	strcpy(e.module, "virtio_rng");
	strcpy(e.module_options, "async_probe=1 x=2");
	assert_int_equal(pb_journal_write(&e), 0);
	struct pb_journal_entry *v = NULL;
	size_t n = 0, bad = 0;
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(n, 1);
	assert_int_equal(bad, 0);
	assert_memory_equal(&e, &v[0], sizeof(e));
	free(v);
	o = pb_journal_entry_to_json(&e);
	json_object_object_add(o, "module", json_object_new_string("../evil"));
	assert_int_equal(pb_journal_entry_from_json(o, &back), -EINVAL);
	json_object_put(o);
	assert_int_equal(pb_journal_remove(e.sysname), 0);
}

static void rejects_malformed(void **state)
{
	(void)state;
	struct pb_journal_entry e;
	const char *bad[] = {
	    "[]",
	    "{\"syspath\":\"/x\",\"bus\":\"pci\",\"sysname\":\"a\",\"state\":\"cycling\"}",
	    "{\"syspath\":\"/"
	    "x\",\"bus\":\"pci\",\"sysname\":\"a\",\"driver\":\"d\",\"state\":\"x\"}",
	    "{\"syspath\":\"/x\",\"bus\":\"pci\",\"sysname\":\"a\",\"driver\":\"../d\",\"state\":"
	    "\"armed\"}",
	    "{\"syspath\":\"/"
	    "x\",\"bus\":\"pci\",\"sysname\":\"a\",\"driver\":7,\"state\":\"armed\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = json_tokener_parse(bad[i]);
		assert_int_equal(pb_journal_entry_from_json(o, &e), -EINVAL);
		json_object_put(o);
	}
	assert_int_equal(pb_journal_state_from_name("hung"), PB_JOURNAL_HUNG);
	assert_int_equal(pb_journal_state_from_name("nope"), -EINVAL);
}

static void file_names(void **state)
{
	(void)state;
	char buf[64];
	assert_int_equal(pb_journal_file_name("0000:00:05.0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "journal-0000_00_05.0.json");
	assert_int_equal(pb_journal_file_name("virtio4", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "journal-virtio4.json");
	assert_int_equal(pb_journal_file_name("a b/c", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "journal-a_b_c.json");
	assert_int_equal(pb_journal_file_name("x", buf, 8), -ENAMETOOLONG);
}

static void write_load_remove(void **state)
{
	(void)state;
	struct pb_journal_entry a = sample("0000:00:05.0"), b = sample("virtio4"), *v;
	size_t n, bad;
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(pb_journal_write(&a), 0);
	assert_int_equal(pb_journal_write(&b), 0);
	a.state = PB_JOURNAL_HUNG;
	assert_int_equal(pb_journal_write(&a), 0); /* replaces, does not add */
	/* a broken file is counted and left alone */
	char p[256];
	snprintf(p, sizeof(p), "%s/journal-broken.json", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("{not json", f);
	fclose(f);
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(n, 2);
	assert_int_equal(bad, 1);
	bool saw_hung = false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].sysname, "0000:00:05.0"))
			saw_hung = v[i].state == PB_JOURNAL_HUNG;
	assert_true(saw_hung);
	free(v);
	assert_int_equal(pb_journal_remove("0000:00:05.0"), 0);
	assert_int_equal(pb_journal_remove("0000:00:05.0"), 0); /* missing: fine */
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].sysname, "virtio4");
	free(v);
	unlink(p);
	/* no temporary files left behind */
	snprintf(p, sizeof(p), "%s/.journal-virtio4.json.tmp", dir);
	assert_int_equal(access(p, F_OK), -1);
}

static void lock_excludes(void **state)
{
	(void)state;
	pid_t holder = -1;
	int fd = pb_journal_lock(&holder);
	assert_true(fd >= 0);
	assert_int_equal(pb_journal_lock(&holder), -EWOULDBLOCK);
	assert_int_equal(holder, getpid());
	pb_journal_unlock(fd);
	fd = pb_journal_lock(&holder);
	assert_true(fd >= 0);
	pb_journal_unlock(fd);
}

static void hung_holds_within_a_boot(void **state)
{
	(void)state;
	struct pb_journal_entry e = sample("0000:00:05.0");
	assert_false(pb_journal_hung_now(&e, "b1")); /* cycling is not hung */
	e.state = PB_JOURNAL_HUNG;
	strcpy(e.boot_id, "b1");
	assert_true(pb_journal_hung_now(&e, "b1"));
	assert_false(pb_journal_hung_now(&e, "b2")); /* rebooted since */
	assert_true(pb_journal_hung_now(&e, ""));    /* unknown: keep the mark */
	e.boot_id[0] = '\0';
	assert_true(pb_journal_hung_now(&e, "b2"));
	char id[40];
	pb_journal_boot_id(id, sizeof(id));
	assert_int_equal(strlen(id), 36); /* a UUID on Linux */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(roundtrip),
	    cmocka_unit_test(rejects_malformed),
	    cmocka_unit_test(file_names),
	    cmocka_unit_test(hung_holds_within_a_boot),
	    cmocka_unit_test_setup_teardown(write_load_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(lock_excludes, setup, teardown),
	    cmocka_unit_test_setup_teardown(module_roundtrip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
