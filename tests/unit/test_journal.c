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

/* A journal file's text: one JSON object, white space after it at most; longer than an entry can
 * be, not read at all. */
static void parses_whole_files(void **state)
{
	(void)state;
	struct pb_journal_entry a = sample("0000:00:05.0"), e;
	struct json_object *o = pb_journal_entry_to_json(&a);
	char text[2048];
	snprintf(text, sizeof(text), "%s\n", json_object_to_json_string(o));
	json_object_put(o);
	assert_int_equal(pb_journal_entry_parse(text, &e), 0);
	assert_memory_equal(&a, &e, sizeof(a));
	strcat(text, "{}");
	assert_int_equal(pb_journal_entry_parse(text, &e), -EINVAL);
	assert_int_equal(pb_journal_entry_parse("", &e), -EINVAL);
	assert_int_equal(pb_journal_entry_parse("{\"syspath\":", &e), -EINVAL);
	/* written to the state directory: read when it fits, counted as bad when it does not */
	assert_int_equal(pb_journal_write(&a), 0);
	char p[256];
	snprintf(p, sizeof(p), "%s/journal-0000_00_05.0.json", dir);
	FILE *f = fopen(p, "a");
	assert_non_null(f);
	for (int i = 0; i < PB_JOURNAL_MAX_SIZE / 2; i++)
		fputc(' ', f);
	fclose(f);
	struct pb_journal_entry *v;
	size_t n, bad;
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(n, 1);
	free(v);
	f = fopen(p, "a");
	assert_non_null(f);
	for (int i = 0; i < PB_JOURNAL_MAX_SIZE; i++)
		fputc(' ', f);
	fclose(f);
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(n, 0);
	assert_int_equal(bad, 1);
	free(v);
	unlink(p);
}

/* An entry steers root's writes: every name stays one path component and the syspath is a
 * canonical one below /sys/devices. */
static void rejects_untrusted_names(void **state)
{
	(void)state;
	struct pb_journal_entry e;
	const char *fmt = "{\"syspath\":\"%s\",\"bus\":\"%s\",\"sysname\":\"%s\",\"driver\":"
			  "\"%s\",\"module\":\"%s\",\"state\":\"armed\"}";
	const char *good[5] = {"/sys/devices/pci0000:00/0000:00:05.0", "pci", "0000:00:05.0",
			       "virtio-pci", ""};
	const struct {
		int field;
		const char *value;
	} bad[] = {
	    {0, "/etc/passwd"},
	    {0, "/sys/bus/pci/devices/0000:00:05.0"}, /* not canonical: a link */
	    {0, "/sys/devices/../../etc"},
	    {0, "/sys/devices/pci0000:00/./0000:00:05.0"},
	    {0, "/sys/devices//0000:00:05.0"},
	    {0, "/sys/devices/pci0000:00/"},
	    {0, "/sys/devices"},
	    {0, "/sysx/devices/pci0000:00"},
	    {1, ".."},
	    {1, "."},
	    {2, ".."},
	    {2, "a\\nb"},
	    {3, ".."},
	    {3, "d\\u0001"},
	    {4, ".."},
	    {4, "x/y"},
	};
	char text[1024];
	snprintf(text, sizeof(text), fmt, good[0], good[1], good[2], good[3], good[4]);
	struct json_object *o = json_tokener_parse(text);
	assert_int_equal(pb_journal_entry_from_json(o, &e), 0); /* the good one passes */
	json_object_put(o);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *v[5];
		memcpy(v, good, sizeof(v));
		v[bad[i].field] = bad[i].value;
		snprintf(text, sizeof(text), fmt, v[0], v[1], v[2], v[3], v[4]);
		o = json_tokener_parse(text);
		assert_non_null(o);
		if (pb_journal_entry_from_json(o, &e) != -EINVAL)
			fail_msg("accepted: %s", text);
		json_object_put(o);
	}
}

/* The state directory and its files are trusted only when nobody but this user could have
 * written them. */
static void untrusted_state(void **state)
{
	(void)state;
	char p[256], t[256];
	/* a journal file that is a link, or writable by others, is not read (counted as bad) */
	struct pb_journal_entry a = sample("0000:00:05.0"), *v;
	assert_int_equal(pb_journal_write(&a), 0);
	snprintf(p, sizeof(p), "%s/journal-0000_00_05.0.json", dir);
	snprintf(t, sizeof(t), "%s/journal-link.json", dir);
	assert_int_equal(symlink(p, t), 0);
	size_t n, bad;
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(n, 1);
	assert_int_equal(bad, 1);
	free(v);
	unlink(t);
	assert_int_equal(chmod(p, 0666), 0);
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(n, 0);
	assert_int_equal(bad, 1);
	free(v);
	unlink(p);
	/* a lock that is a link is never opened for writing (its target is not truncated) */
	snprintf(p, sizeof(p), "%s/lock", dir);
	snprintf(t, sizeof(t), "%s/target", dir);
	FILE *f = fopen(t, "w");
	assert_non_null(f);
	fputs("keep me", f);
	fclose(f);
	unlink(p);
	assert_int_equal(symlink(t, p), 0);
	assert_true(pb_journal_lock(NULL) < 0);
	char buf[16] = "";
	f = fopen(t, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "keep me");
	unlink(p);
	/* a directory others can write to: refused */
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(pb_journal_lock(NULL), -EPERM);
	assert_int_equal(chmod(dir, 0700), 0);
	int fd = pb_journal_lock(NULL);
	assert_true(fd >= 0);
	pb_journal_unlock(fd);
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
	    cmocka_unit_test_setup_teardown(parses_whole_files, setup, teardown),
	    cmocka_unit_test(rejects_untrusted_names),
	    cmocka_unit_test_setup_teardown(untrusted_state, setup, teardown),
	    cmocka_unit_test(file_names),
	    cmocka_unit_test(hung_holds_within_a_boot),
	    cmocka_unit_test_setup_teardown(write_load_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(lock_excludes, setup, teardown),
	    cmocka_unit_test_setup_teardown(module_roundtrip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
