// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "probebench/config.h"
#include "probebench/inventory.h"

static const char good[] =
    "{\"results_dir\": \"/tmp/r\", \"retention\": {\"count\": 5, \"age\": \"7d\"},\n"
    " \"http\": {\"listen\": \"[::1]:9000\", \"max_connections\": 4}, \"textfile\": "
    "\"/tmp/t.prom\",\n"
    " \"plans\": [{\"name\": \"rng\", \"targets\": [\"0000:00:05.0\", {\"vendor\": \"1af4\","
    " \"device\": \"0x1044\", \"driver\": \"virtio-pci\"}], \"entry\": \"probe\","
    " \"iterations\": 7, \"warmup\": 0, \"interval\": \"10ms\", \"timeout\": 3,"
    " \"writer_nodes\": [0, 1], \"measure\": false, \"schedule\": {\"every\": \"1h\","
    " \"at_start\": true, \"on_add\": true}}, {\"name\": \"m\", \"targets\": "
    "[\"0000:00:05.0\", \"1af4:1044\", \"virtio_rng\", \"/sys/bus/pci/devices/0000:00:05.0\"]}]}\n";

static void parses_every_key(void **state)
{
	(void)state;
	struct pb_config *c = NULL;
	char err[512] = "";
	assert_int_equal(pb_config_parse(good, "t.json", &c, err, sizeof(err)), 0);
	assert_string_equal(c->results_dir, "/tmp/r");
	assert_int_equal(c->retention_count, 5);
	assert_true(c->retention_age_ns == 7ull * 86400 * 1000000000ull);
	assert_string_equal(c->http_listen, "[::1]:9000");
	assert_int_equal(c->http_max_connections, 4);
	assert_string_equal(c->textfile, "/tmp/t.prom");
	assert_int_equal(c->n_plans, 2);
	const struct pb_config_plan *p = &c->plans[0];
	assert_false(p->measure);
	assert_true(c->plans[1].measure); /* the default */
	/* explicit targets are any selector of probebench run, kept as written */
	assert_int_equal(c->plans[1].n_targets, 4);
	assert_string_equal(c->plans[1].targets[1].device, "1af4:1044");
	assert_string_equal(c->plans[1].targets[2].device, "virtio_rng");
	assert_string_equal(p->name, "rng");
	assert_int_equal(p->n_targets, 2);
	assert_string_equal(p->targets[0].device, "0000:00:05.0");
	assert_null(p->targets[1].device);
	assert_int_equal(p->targets[1].vendor, 0x1af4);
	assert_int_equal(p->targets[1].device_id, 0x1044);
	assert_string_equal(p->targets[1].driver, "virtio-pci");
	assert_int_equal(p->entry, PB_ENTRY_PROBE);
	assert_int_equal(p->iterations, 7);
	assert_int_equal(p->warmup, 0);
	assert_true(p->interval_ns == 10000000ull);
	assert_true(p->timeout_ns == 3000000000ull);
	assert_int_equal(p->n_writer_nodes, 2);
	assert_int_equal(p->writer_nodes[1], 1);
	assert_true(p->every_ns == 3600000000000ull);
	assert_true(p->at_start);
	assert_true(p->on_add);
	pb_config_free(c);
}

static void defaults(void **state)
{
	(void)state;
	struct pb_config *c = NULL;
	char err[512] = "";
	assert_int_equal(pb_config_parse("{\"plans\": []}", "d.json", &c, err, sizeof(err)), 0);
	assert_string_equal(c->results_dir, "/var/lib/probebench/runs");
	assert_string_equal(c->http_listen, "127.0.0.1:9464");
	assert_null(c->textfile);
	assert_int_equal(c->n_plans, 0);
	assert_int_equal(c->retention_count, 100);
	assert_true(c->retention_age_ns == 30ull * 86400 * 1000000000ull);
	assert_int_equal(c->http_max_connections, 16);
	pb_config_free(c);
	/* a plan's defaults; null means the default too, and "every": 0 means no periodic runs */
	assert_int_equal(pb_config_parse("{\"plans\": [{\"name\": \"p\", \"targets\": "
					 "[\"0000:00:05.0\"], \"timeout\": null, \"schedule\": "
					 "{\"every\": 0}}], \"retention\": {\"age\": null}}",
					 "d.json", &c, err, sizeof(err)),
			 0);
	const struct pb_config_plan *p = &c->plans[0];
	assert_int_equal(p->entry, PB_ENTRY_BIND);
	assert_true(p->measure);
	assert_int_equal(p->iterations, 20);
	assert_int_equal(p->warmup, 2);
	assert_true(p->interval_ns == 0);
	assert_true(p->timeout_ns == 10000000000ull);
	assert_int_equal(p->n_writer_nodes, 0);
	assert_true(p->every_ns == 0);
	assert_false(p->at_start);
	assert_false(p->on_add);
	assert_int_equal(p->targets[0].vendor, -1);
	assert_true(c->retention_age_ns == 30ull * 86400 * 1000000000ull);
	pb_config_free(c);
	assert_int_equal(
	    pb_config_parse("{\"plans\": [], \"http\": null}", "d.json", &c, err, sizeof(err)), 0);
	assert_null(c->http_listen);
	pb_config_free(c);
}

/* Each bad document must be refused with a message naming the file, the key and the value. */
static void refuses_with_clear_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"0000:00:05.0\"], \"iterations\": "
	     "\"abc\"}]}",
	     "c.json: plans[0].iterations: must be an integer 1..1000000, got \"abc\""},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"0000:00:05.0\"], \"iterations\": 0}]}",
	     "plans[0].iterations: must be an integer 1..1000000, got 0"},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": []}]}",
	     "plans[0].targets: must be an array of 1..32 devices or rules, got []"},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"00:zz.0\"]}]}",
	     "plans[0].targets[0]: not a device selector of probebench run: malformed PCI address"},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [{\"vendor\": \"1af4\"}]}]}",
	     "plans[0].targets[0].device: required"},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [{\"vendor\": \"1af4\", \"device\": "
	     "\"10444\"}]}]}",
	     "plans[0].targets[0].device: must be a 4-digit hex id like \"1044\", got \"10444\""},
	    {"{\"plans\": [{\"name\": \"a b\", \"targets\": [\"0000:00:05.0\"]}]}",
	     "plans[0].name: must be 1..64 characters"},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"0000:00:05.0\"]}, {\"name\": \"a\", "
	     "\"targets\": [\"0000:00:05.0\"]}]}",
	     "plans[1].name: duplicate plan name, got \"a\""},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"0000:00:05.0\"], \"schedule\": "
	     "{\"every\": \"soon\"}}]}",
	     "plans[0].schedule.every: must be a duration"},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"0000:00:05.0\"], \"entry\": \"x\"}]}",
	     "plans[0].entry: must be \"bind\", \"probe\" or \"module\", got \"x\""},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"0000:00:05.0\"], \"measure\": 1}]}",
	     "plans[0].measure: must be true or false, got 1"},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"0000:00:05.0\"], \"iteration\": 3}]}",
	     "plans[0].iteration: unknown key"},
	    {"{\"plans\": [], \"http\": {\"listen\": \"localhost\"}}",
	     "http.listen: must be \"ADDRESS:PORT\""},
	    {"{\"plans\": [], \"results_dir\": \"runs\"}",
	     "results_dir: must be an absolute path, got \"runs\""},
	    {"{\"plans\": [], \"retention\": {\"count\": -1}}",
	     "retention.count: must be an integer 0..1000000, got -1"},
	    {"{}", "c.json: plans: required"},
	    {"[]", "c.json: top level: must be an object, got []"},
	    {"{\"plans\": [\n}", "c.json:2:"},
	    {"{\"plans\": []} x", "not valid JSON"},
	    /* every kind of rule the tables carry, with its exact wording */
	    {"{\"plans\": [], \"results_dir\": 5}",
	     "c.json: results_dir: must be an absolute path, got 5"},
	    {"{\"plans\": [], \"textfile\": 3}",
	     "c.json: textfile: must be an absolute path or null, got 3"},
	    {"{\"plans\": [], \"retention\": 3}", "c.json: retention: must be an object, got 3"},
	    {"{\"plans\": [], \"http\": 3}",
	     "c.json: http: must be an object or null (no HTTP server), got 3"},
	    {"{\"plans\": [], \"http\": {\"max_connections\": 0}}",
	     "c.json: http.max_connections: must be an integer 1..1024, got 0"},
	    {"{\"plans\": {}}", "c.json: plans: must be an array of up to 32 plans, got {}"},
	    {"{\"plans\": [1]}", "c.json: plans[0]: must be an object, got 1"},
	    {"{\"plans\": [{\"targets\": [\"0000:00:05.0\"]}]}", "c.json: plans[0].name: required"},
	    {"{\"plans\": [{\"name\": \"a\"}]}",
	     "c.json: plans[0].targets: required (the devices this plan may cycle)"},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [3]}]}",
	     "c.json: plans[0].targets[0]: must be a device string or a rule object, got 3"},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [{\"vendor\": \"1af4\", \"device\": "
	     "\"1044\", \"driver\": \"\"}]}]}",
	     "c.json: plans[0].targets[0].driver: must be a non-empty string or null, got \"\""},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"0000:00:05.0\"], \"timeout\": 0}]}",
	     "c.json: plans[0].timeout: must be longer than 0, got 0"},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"0000:00:05.0\"], \"writer_nodes\": "
	     "[0, 1024]}]}",
	     "c.json: plans[0].writer_nodes[1]: must be a NUMA node number 0..1023, got 1024"},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"0000:00:05.0\"], \"schedule\": "
	     "{\"every\": \"0.5s\"}}]}",
	     "c.json: plans[0].schedule.every: must be at least 1s, got \"0.5s\""},
	    {"{\"plans\": [{\"name\": \"a\", \"targets\": [\"0000:00:05.0\"], \"schedule\": "
	     "{\"x\": 1}}]}",
	     "c.json: plans[0].schedule.x: unknown key"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pb_config *c = NULL;
		char err[512] = "";
		int r = pb_config_parse(bad[i].text, "c.json", &c, err, sizeof(err));
		if (r != -EINVAL || !strstr(err, bad[i].want) || strncmp(err, "c.json", 6) != 0)
			fail_msg("case %zu: r=%d err='%s', want '%s'", i, r, err, bad[i].want);
		assert_null(c);
	}
}

static void listen_split(void **state)
{
	(void)state;
	char host[64];
	unsigned port;
	assert_int_equal(pb_config_split_listen("127.0.0.1:9464", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9464);
	assert_int_equal(pb_config_split_listen("[::1]:80", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(pb_config_split_listen("::1:80", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(pb_config_split_listen("h:0", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(pb_config_split_listen(":80", host, sizeof(host), &port), -EINVAL);
}

/* A PCI function as the inventory gives it, for the matcher. */
static struct pb_device *function(struct pb_device *d, struct pb_pci_info *pci, const char *name,
				  int vendor, int device, const char *driver)
{
	static char syspath[4][128];
	static unsigned next;
	char *sp = syspath[next++ % 4];
	snprintf(sp, 128, "/sys/devices/pci0000:00/%s", name);
	*pci = (struct pb_pci_info){.vendor_id = (uint16_t)vendor, .device_id = (uint16_t)device};
	sscanf(name, "%x:%x:%x.%x", (unsigned *)&pci->domain, &pci->bus, &pci->dev, &pci->func);
	*d = (struct pb_device){.syspath = sp,
				.devpath = sp + 4,
				.sysname = sp + strlen("/sys/devices/pci0000:00/"),
				.driver = (char *)driver,
				.pci = pci};
	return d;
}

/* Targets match as selectors of probebench run: explicit ones by their own text, rules as
 * VENDOR:DEVICE and their driver. */
static void target_matching(void **state)
{
	(void)state;
	struct pb_config_target dev = {.device = (char *)"0000:00:05.0", .vendor = -1};
	struct pb_config_target path = {.device = (char *)"/sys/devices/pci0000:00/0000:00:05.0"};
	struct pb_config_target rule = {.vendor = 0x1af4, .device_id = 0x1044};
	struct pb_config_target rule_drv = {
	    .vendor = 0x1af4, .device_id = 0x1044, .driver = (char *)"virtio-pci"};
	struct pb_device d;
	struct pb_pci_info pci;
	assert_true(pb_config_target_matches(
	    &dev, function(&d, &pci, "0000:00:05.0", 0x1af4, 0x1044, NULL)));
	assert_false(pb_config_target_matches(
	    &dev, function(&d, &pci, "0000:00:04.0", 0x1af4, 0x1044, NULL)));
	assert_true(
	    pb_config_target_matches(&path, function(&d, &pci, "0000:00:05.0", 0, 0, NULL)));
	assert_true(pb_config_target_matches(
	    &rule, function(&d, &pci, "0000:00:09.0", 0x1af4, 0x1044, NULL)));
	/* the disk, network and vsock functions share the vendor but never the device id */
	assert_false(pb_config_target_matches(
	    &rule, function(&d, &pci, "0000:00:04.0", 0x1af4, 0x1042, "virtio-pci")));
	assert_false(pb_config_target_matches(
	    &rule, function(&d, &pci, "0000:00:03.0", 0x1af4, 0x1053, "virtio-pci")));
	assert_true(pb_config_target_matches(
	    &rule_drv, function(&d, &pci, "0000:00:09.0", 0x1af4, 0x1044, "virtio-pci")));
	assert_false(pb_config_target_matches(
	    &rule_drv, function(&d, &pci, "0000:00:09.0", 0x1af4, 0x1044, NULL)));
	assert_false(pb_config_target_matches(
	    &rule_drv, function(&d, &pci, "0000:00:09.0", 0x1af4, 0x1044, "vfio-pci")));
	/* an explicit target is any selector of run: a vendor:device, a driver's name */
	struct pb_config_target by_id = {.device = (char *)"1af4:1044"};
	struct pb_config_target by_drv = {.device = (char *)"virtio-pci"};
	assert_true(pb_config_target_matches(
	    &by_id, function(&d, &pci, "0000:00:09.0", 0x1af4, 0x1044, NULL)));
	assert_false(pb_config_target_matches(
	    &by_id, function(&d, &pci, "0000:00:04.0", 0x1af4, 0x1042, NULL)));
	assert_true(pb_config_target_matches(
	    &by_drv, function(&d, &pci, "0000:00:09.0", 0x1af4, 0x1044, "virtio-pci")));
}

/* The shipped example must load (the schema check of the same file is in the host tests). */
static void example_loads(void **state)
{
	(void)state;
	struct pb_config *c = NULL;
	char err[512] = "";
	int r = pb_config_load(PB_SOURCE_DIR "/examples/probebench.json", &c, err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	assert_int_equal(c->n_plans, 1);
	assert_int_equal(c->plans[0].targets[0].vendor, 0x1af4);
	assert_int_equal(c->plans[0].targets[0].device_id, 0x1044);
	pb_config_free(c);
	r = pb_config_load("/nonexistent/probebench.json", &c, err, sizeof(err));
	assert_int_equal(r, -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/probebench.json: cannot open"));
}

/* ---- the key table against schema/config.schema.json --------------------------------------- */

struct schema_key {
	char path[96];
	struct json_object *node; /* as written, before $ref is followed */
	struct json_object *resolved;
	bool required;
};

static struct json_object *resolve(struct json_object *schema, struct json_object *node)
{
	struct json_object *ref, *defs, *target;
	while (json_object_object_get_ex(node, "$ref", &ref)) {
		const char *r = json_object_get_string(ref);
		assert_true(strncmp(r, "#/$defs/", 8) == 0);
		assert_true(json_object_object_get_ex(schema, "$defs", &defs));
		assert_true(json_object_object_get_ex(defs, r + 8, &target));
		node = target;
	}
	return node;
}

/* Every property and array element below node, with the path the table uses. */
static void schema_walk(struct json_object *schema, struct json_object *node, const char *path,
			struct schema_key *keys, size_t *n)
{
	struct json_object *n2 = resolve(schema, node), *alts, *props, *items, *req;
	bool one_of = json_object_object_get_ex(n2, "oneOf", &alts);
	size_t n_alts = one_of ? json_object_array_length(alts) : 1;
	for (size_t a = 0; a < n_alts; a++) {
		struct json_object *alt =
		    one_of ? resolve(schema, json_object_array_get_idx(alts, a)) : n2;
		if (json_object_object_get_ex(alt, "properties", &props)) {
			bool has_req = json_object_object_get_ex(alt, "required", &req);
			json_object_object_foreach(props, name, sub)
			{
				assert_true(*n < 128);
				struct schema_key *k = &keys[(*n)++];
				snprintf(k->path, sizeof(k->path), "%s%s%s", path, *path ? "." : "",
					 name);
				k->node = sub;
				k->resolved = resolve(schema, sub);
				for (size_t i = 0; has_req && i < json_object_array_length(req);
				     i++)
					if (!strcmp(json_object_get_string(
							json_object_array_get_idx(req, i)),
						    name))
						k->required = true;
				char p[96];
				snprintf(p, sizeof(p), "%s", k->path);
				schema_walk(schema, sub, p, keys, n);
			}
		}
		if (json_object_object_get_ex(alt, "items", &items)) {
			assert_true(*n < 128);
			struct schema_key *k = &keys[(*n)++];
			snprintf(k->path, sizeof(k->path), "%s[]", path);
			k->node = items;
			k->resolved = resolve(schema, items);
			char p[96];
			snprintf(p, sizeof(p), "%s", k->path);
			schema_walk(schema, items, p, keys, n);
		}
	}
}

static bool get_long(struct json_object *o, const char *key, long *ret)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return false;
	*ret = (long)json_object_get_int64(v);
	return true;
}

/* Each key of the table is in the schema with the same range, names, default and requiredness,
 * and each key of the schema is in the table. */
static void table_matches_schema(void **state)
{
	(void)state;
	struct json_object *schema =
	    json_object_from_file(PB_SOURCE_DIR "/schema/config.schema.json");
	assert_non_null(schema);
	struct schema_key skeys[128] = {0}; /* required: false unless the schema lists it */
	size_t ns = 0;
	schema_walk(schema, schema, "", skeys, &ns);
	struct pb_config_key_info info[128];
	size_t nt = pb_config_describe(info, 128);
	assert_true(nt > 0 && nt <= 128);
	assert_true(ns > 0);

	for (size_t i = 0; i < nt; i++) {
		const struct pb_config_key_info *t = &info[i];
		const struct schema_key *k = NULL;
		for (size_t j = 0; j < ns && !k; j++)
			if (!strcmp(skeys[j].path, t->path))
				k = &skeys[j];
		if (!k)
			fail_msg("%s: in the table, not in the schema", t->path);
		if (t->required != k->required)
			fail_msg("%s: required in %s only", t->path,
				 t->required ? "the table" : "the schema");
		bool is_array = !strcmp(t->type, "array");
		long smin = 0, smax = 0;
		bool has_min = get_long(k->resolved, is_array ? "minItems" : "minimum", &smin);
		bool has_max = get_long(k->resolved, is_array ? "maxItems" : "maximum", &smax);
		if (is_array && !has_min)
			has_min = true, smin = 0; /* no minItems: any length from 0 */
		if (t->has_range != (has_min && has_max) || (t->has_range && smin != t->min) ||
		    (t->has_range && smax != t->max))
			fail_msg("%s: range %ld..%ld in the table, %ld..%ld in the schema", t->path,
				 t->min, t->max, smin, smax);
		struct json_object *st, *enm, *def = NULL;
		if (json_object_object_get_ex(k->resolved, "type", &st) &&
		    json_object_is_type(st, json_type_string)) {
			const char *want = json_object_get_string(st);
			if ((!strcmp(t->type, "boolean") || !strcmp(t->type, "integer") ||
			     is_array) &&
			    strcmp(t->type, want) != 0)
				fail_msg("%s: %s in the table, %s in the schema", t->path, t->type,
					 want);
		}
		bool has_enum = json_object_object_get_ex(k->resolved, "enum", &enm);
		if (has_enum != (t->names != NULL))
			fail_msg("%s: an enum in one of them only", t->path);
		for (size_t e = 0; has_enum && (e < json_object_array_length(enm) || t->names[e]);
		     e++)
			if (e >= json_object_array_length(enm) || !t->names[e] ||
			    strcmp(json_object_get_string(json_object_array_get_idx(enm, e)),
				   t->names[e]))
				fail_msg("%s: the enum's names differ at %zu", t->path, e);
		if (!json_object_object_get_ex(k->node, "default", &def))
			json_object_object_get_ex(k->resolved, "default", &def);
		struct json_object *tdef =
		    t->default_json ? json_tokener_parse(t->default_json) : NULL;
		if (!!def != !!tdef || (def && !json_object_equal(def, tdef)))
			fail_msg("%s: default %s in the table, %s in the schema", t->path,
				 t->default_json ? t->default_json : "(none)",
				 def ? json_object_to_json_string(def) : "(none)");
		json_object_put(tdef);
		assert_non_null(t->description);
	}
	for (size_t j = 0; j < ns; j++) {
		bool found = false;
		for (size_t i = 0; i < nt && !found; i++)
			found = !strcmp(info[i].path, skeys[j].path);
		if (!found)
			fail_msg("%s: in the schema, not in the table", skeys[j].path);
	}
	json_object_put(schema);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_every_key),		 cmocka_unit_test(defaults),
	    cmocka_unit_test(refuses_with_clear_errors), cmocka_unit_test(listen_split),
	    cmocka_unit_test(target_matching),		 cmocka_unit_test(example_loads),
	    cmocka_unit_test(table_matches_schema),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
