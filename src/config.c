// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loads and validates the daemon configuration (schema/config.schema.json) from one table per
 * JSON object: each key's name, type, range or names, default, place in the struct and meaning.
 * Parsing, defaults, validation and the error messages all come from the tables; the unit test
 * holds them against the schema.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "probebench/config.h"
#include "probebench/inventory.h"
#include "probebench/paths.h"
#include "probebench/selector.h"
#include "probebench/util.h"

#define PB_CONFIG_MAX_SIZE (1 << 20)

enum key_type {
	K_ANY,	    /* accepted and ignored ("$schema") */
	K_STRING,   /* char *: non-empty, at most 4095 bytes */
	K_PATH,	    /* char *: an absolute path */
	K_NAME,	    /* char *: [A-Za-z0-9_.-]{1,64} */
	K_LISTEN,   /* char *: "ADDRESS:PORT" */
	K_BOOL,	    /* bool */
	K_UINT,	    /* unsigned, min..max */
	K_INT,	    /* int, min..max */
	K_DURATION, /* uint64_t ns, at least min (0 only when zero_ok) */
	K_ENUM,	    /* int: the index of the name in names */
	K_HEXID,    /* int: a 4-digit hex PCI id */
	K_OBJECT,   /* its keys (sub) live in the same struct */
	K_ARRAY,    /* elem_size each at offset, counted at count_offset; sub: the element */
	K_TARGET,   /* struct pb_config_target: a device string or a rule object (sub: keys) */
};

struct ctx;

struct key {
	const char *name;
	enum key_type type;
	size_t offset;		  /* into the struct the table describes */
	long min, max;		  /* K_UINT, K_INT: the range; K_ARRAY: items; K_DURATION: min ns */
	bool zero_ok;		  /* K_DURATION: 0 is allowed below min (it means "none") */
	const char *const *names; /* K_ENUM, NULL-terminated */
	const char *def;	  /* the default as JSON text; NULL: zero, false, NULL */
	bool nullable;		  /* null is accepted and means the default (strings: unset) */
	const char *required;	  /* NULL: optional; else why it is needed ("": no reason) */
	const char *expect;	  /* what the value must be, when the type does not say it well */
	const struct key *sub;	  /* K_OBJECT, K_TARGET: keys; K_ARRAY: the element */
	size_t count_offset, elem_size;
	/* A rule beyond the type (uniqueness): 0 or fail(). */
	int (*check)(struct ctx *c, struct json_object *v, const void *base, const char *where);
	const char *description;
};

struct ctx {
	const char *path;
	char *err;
	size_t err_size;
	struct pb_config *cfg;
};

static int check_unique_plan(struct ctx *c, struct json_object *v, const void *base,
			     const char *where);

/* K_ENUM stores an int. */
_Static_assert(sizeof(enum pb_entry_path) == sizeof(int), "entry is stored as an int");
static const char *const entry_names[] = {
    [PB_ENTRY_BIND] = "bind", [PB_ENTRY_PROBE] = "probe", [PB_ENTRY_MODULE] = "module", NULL};

#define TARGET(f) offsetof(struct pb_config_target, f)
static const struct key rule_keys[] = {
    {"vendor", K_HEXID, TARGET(vendor), .required = "a rule names the vendor and device id",
     .expect = "a 4-digit hex id like \"1af4\"", .description = "PCI vendor id"},
    {"device", K_HEXID, TARGET(device_id), .required = "a rule names the vendor and device id",
     .expect = "a 4-digit hex id like \"1044\"", .description = "PCI device id"},
    {"driver", K_STRING, TARGET(driver), .nullable = true,
     .description = "only functions bound to this driver; null: any"},
    {},
};

#define PLAN(f) offsetof(struct pb_config_plan, f)
static const struct key schedule_keys[] = {
    {"every", K_DURATION, PLAN(every_ns), .min = 1000000000, .zero_ok = true, .nullable = true,
     .description = "periodic runs, at least 1s; absent, null or 0: none"},
    {"at_start", K_BOOL, PLAN(at_start), .def = "false",
     .description = "once when the daemon starts"},
    {"on_add", K_BOOL, PLAN(on_add), .def = "false",
     .description = "when a matching PCI device is added (kernel uevent)"},
    {},
};

/* The elements of arrays: no name, at offset 0 of the element. */
static const struct key target_elem = {
    .type = K_TARGET,
    .sub = rule_keys,
    .description = "a PCI address or /sys path, or a {vendor, device, driver} rule",
};
static const struct key node_elem = {
    .type = K_INT,
    .min = 0,
    .max = 1023,
    .expect = "a NUMA node number",
    .description = "a NUMA node",
};

static const struct key plan_keys[] = {
    {"name", K_NAME, PLAN(name), .required = "", .check = check_unique_plan,
     .description = "unique name, [A-Za-z0-9_.-]{1,64}"},
    {"targets", K_ARRAY, PLAN(targets), .min = 1, .max = PB_CONFIG_MAX_TARGETS,
     .required = "the devices this plan may cycle", .expect = "devices or rules",
     .sub = &target_elem, .count_offset = PLAN(n_targets),
     .elem_size = sizeof(struct pb_config_target),
     .description = "the only devices this plan may cycle"},
    {"entry", K_ENUM, PLAN(entry), .names = entry_names, .def = "\"bind\"",
     .description = "bind: DRV/unbind + DRV/bind; probe: driver_override + drivers_probe; "
		    "module: unload and load the driver's module"},
    {"measure", K_BOOL, PLAN(measure), .def = "true",
     .description = "per-probe measurement around every bind write"},
    {"iterations", K_UINT, PLAN(iterations), .min = 1, .max = 1000000, .def = "20",
     .description = "measured cycles per target"},
    {"warmup", K_UINT, PLAN(warmup), .min = 0, .max = 100000, .def = "2",
     .description = "unmeasured cycles first"},
    {"interval", K_DURATION, PLAN(interval_ns), .nullable = true, .def = "0",
     .description = "pause between iterations"},
    {"timeout", K_DURATION, PLAN(timeout_ns), .min = 1, .nullable = true, .def = "\"10s\"",
     .description = "a bind/unbind write longer than this is a hang"},
    {"writer_nodes", K_ARRAY, PLAN(writer_nodes), .min = 0, .max = PB_CONFIG_MAX_NODES,
     .expect = "NUMA nodes", .sub = &node_elem, .count_offset = PLAN(n_writer_nodes),
     .elem_size = sizeof(int), .description = "NUMA nodes the writing thread runs on"},
    {"schedule", K_OBJECT, 0, .sub = schedule_keys, .description = "when the plan runs"},
    {},
};

static const struct key plan_elem = {
    .type = K_OBJECT,
    .sub = plan_keys,
    .description = "a measurement plan",
};

#define CFG(f) offsetof(struct pb_config, f)
static const struct key retention_keys[] = {
    {"count", K_UINT, CFG(retention_count), .min = 0, .max = 1000000, .def = "100",
     .description = "keep at most this many runs; 0: no limit"},
    {"age", K_DURATION, CFG(retention_age_ns), .zero_ok = true, .nullable = true, .def = "\"30d\"",
     .description = "delete runs older than this; 0: no limit"},
    {},
};

static const struct key http_keys[] = {
    {"listen", K_LISTEN, CFG(http_listen), .def = "\"127.0.0.1:9464\"",
     .description = "ADDRESS:PORT, IPv6 as [::1]:9464"},
    {"max_connections", K_UINT, CFG(http_max_connections), .min = 1, .max = 1024, .def = "16",
     .description = "concurrent connections; more are refused"},
    {},
};

static const struct key root_keys[] = {
    {"results_dir", K_PATH, CFG(results_dir), .def = "\"" PB_DEFAULT_RESULTS_DIR "\"",
     .description = "one ID.json per run"},
    {"textfile", K_PATH, CFG(textfile), .nullable = true,
     .description = "node_exporter textfile rewritten after every run; null: none"},
    {"retention", K_OBJECT, 0, .sub = retention_keys, .description = "which runs are kept"},
    {"http", K_OBJECT, 0, .sub = http_keys, .nullable = true,
     .expect = "an object or null (no HTTP server)",
     .description = "the read-only HTTP API; null: no HTTP server"},
    {"plans", K_ARRAY, CFG(plans), .min = 0, .max = PB_CONFIG_MAX_PLANS,
     .required = "a list of measurement plans", .expect = "plans", .sub = &plan_elem,
     .count_offset = CFG(n_plans), .elem_size = sizeof(struct pb_config_plan),
     .description = "measurement plans"},
    {"$schema", K_ANY, 0, .description = "the schema this file follows (ignored)"},
    {},
};

static int __attribute__((format(printf, 3, 4)))
fail(struct ctx *c, struct json_object *val, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (val) {
		const char *s = json_object_to_json_string_ext(
		    val, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		char shown[128];
		snprintf(shown, sizeof(shown), "%s", s);
		if (strlen(s) >= sizeof(shown))
			memcpy(shown + sizeof(shown) - 4, "...", 4);
		snprintf(c->err, c->err_size, "%s: %s, got %s", c->path, msg, shown);
	} else {
		snprintf(c->err, c->err_size, "%s: %s", c->path, msg);
	}
	return -EINVAL;
}

/* Per type: its name in pb_config_describe(), and what a value must be ("KEY: must be ..."). */
static const struct {
	const char *name, *expect;
} types[] = {
    [K_ANY] = {"any", ""},
    [K_STRING] = {"string", "a non-empty string"},
    [K_PATH] = {"path", "an absolute path"},
    [K_NAME] = {"name", "1..64 characters of A-Z a-z 0-9 _ . -"},
    [K_LISTEN] = {"listen", "\"ADDRESS:PORT\" (\"127.0.0.1:9464\", \"[::1]:9464\")"},
    [K_BOOL] = {"boolean", "true or false"},
    [K_UINT] = {"integer", "an integer"},
    [K_INT] = {"integer", "an integer"},
    [K_DURATION] = {"duration",
		    "a duration (\"500ms\", \"30s\", \"5m\", \"1h\", \"7d\" or seconds)"},
    [K_ENUM] = {"enum", ""},
    [K_HEXID] = {"hexid", "a 4-digit hex id"},
    [K_OBJECT] = {"object", "an object"},
    [K_ARRAY] = {"array", "an array"},
    [K_TARGET] = {"target", "a device string or a rule object"},
};

/* What a value of k must be: the key's own words, else its type's, with the range or names. */
static void expectation(const struct key *k, char *buf, size_t size)
{
	const char *what = k->expect ? k->expect : types[k->type].expect;
	bool says_null = k->nullable && !k->expect &&
			 (k->type == K_STRING || k->type == K_PATH || k->type == K_OBJECT);
	size_t len = 0;
	switch (k->type) {
	case K_UINT:
	case K_INT:
		snprintf(buf, size, "%s %ld..%ld", what, k->min, k->max);
		break;
	case K_ARRAY:
		if (k->min > 0)
			snprintf(buf, size, "an array of %ld..%ld %s", k->min, k->max, k->expect);
		else
			snprintf(buf, size, "an array of up to %ld %s", k->max, k->expect);
		break;
	case K_ENUM:
		buf[0] = '\0';
		for (size_t i = 0; k->names[i] && len < size; i++)
			len += (size_t)snprintf(buf + len, size - len, "%s\"%s\"",
						i == 0		  ? ""
						: k->names[i + 1] ? ", "
								  : " or ",
						k->names[i]);
		break;
	default:
		snprintf(buf, size, "%s%s", what, says_null ? " or null" : "");
	}
}

static int fail_expect(struct ctx *c, const struct key *k, struct json_object *v, const char *where)
{
	char want[160];
	expectation(k, want, sizeof(want));
	return fail(c, v, "%s: must be %s", where, want);
}

/* Durations: "10ms", "2.5s", "5m", "1h", "7d", or a number of seconds. */
static int parse_duration(struct json_object *v, uint64_t *ret)
{
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		if (!(d >= 0 && d < 1.8e10))
			return -EINVAL;
		*ret = (uint64_t)(d * 1e9);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	const char *s = json_object_get_string(v);
	size_t n = strlen(s);
	if (n > 1 && s[n - 1] == 'd' && isdigit((unsigned char)s[n - 2])) {
		char buf[64];
		double days;
		if (n >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s, n - 1);
		buf[n - 1] = 0;
		if (pb_parse_double(buf, 0, 1e5, &days) < 0)
			return -EINVAL;
		*ret = (uint64_t)(days * 86400e9);
		return 0;
	}
	return pb_parse_duration_ns(s, ret);
}

static bool valid_plan_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static int parse_id(struct json_object *v, int *ret)
{
	long x = 0;
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	const char *s = json_object_get_string(v);
	if (!strncmp(s, "0x", 2))
		s += 2;
	if (strlen(s) != 4 || pb_parse_long(s, 16, 0, 0xffff, &x) < 0)
		return -EINVAL;
	*ret = (int)x;
	return 0;
}

static int check_unique_plan(struct ctx *c, struct json_object *v, const void *base,
			     const char *where)
{
	const struct pb_config_plan *p = base;
	for (const struct pb_config_plan *o = c->cfg->plans; o < p; o++)
		if (!strcmp(o->name, p->name))
			return fail(c, v, "%s: duplicate plan name", where);
	return 0;
}

#define FIELD(base, k, type) ((type *)((char *)(base) + (k)->offset))

static void join(char *buf, size_t size, const char *where, const char *name)
{
	snprintf(buf, size, "%s%s%s", where, *where ? "." : "", name);
}

static int parse_object(struct ctx *c, const struct key *keys, struct json_object *obj, void *base,
			const char *where);
static int parse_value(struct ctx *c, const struct key *k, struct json_object *v, void *base,
		       const char *where);

/* Sets every key of keys (and of the objects among them) to its default. */
static int apply_defaults(struct ctx *c, const struct key *keys, void *base, const char *where)
{
	for (const struct key *k = keys; k->name; k++) {
		char w[128];
		join(w, sizeof(w), where, k->name);
		if (k->type == K_OBJECT) {
			int r = apply_defaults(c, k->sub, base, w);
			if (r < 0)
				return r;
		}
		if (!k->def)
			continue;
		struct json_object *v = json_tokener_parse(k->def);
		int r = v ? parse_value(c, k, v, base, w) : -ENOMEM;
		json_object_put(v);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Strings of keys (and of the objects among them) unset: a null object turns them off. */
static void unset_strings(const struct key *keys, void *base)
{
	for (const struct key *k = keys; k->name; k++) {
		if (k->type == K_OBJECT)
			unset_strings(k->sub, base);
		else if (k->type == K_STRING || k->type == K_PATH || k->type == K_NAME ||
			 k->type == K_LISTEN) {
			free(*FIELD(base, k, char *));
			*FIELD(base, k, char *) = NULL;
		}
	}
}

static int set_string(char **slot, const char *s)
{
	char *copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

static int parse_array(struct ctx *c, const struct key *k, struct json_object *v, void *base,
		       const char *where)
{
	if (!json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) < (size_t)k->min ||
	    json_object_array_length(v) > (size_t)k->max)
		return fail_expect(c, k, v, where);
	size_t *count = (size_t *)((char *)base + k->count_offset);
	char *elems = FIELD(base, k, char);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		char w[128];
		snprintf(w, sizeof(w), "%s[%zu]", where, i);
		void *elem = elems + i * k->elem_size;
		/* counted first, so that a failure frees what the element already holds */
		*count = i + 1;
		int r = 0;
		if (k->sub->type == K_OBJECT)
			r = apply_defaults(c, k->sub->sub, elem, w);
		if (r >= 0)
			r = parse_value(c, k->sub, json_object_array_get_idx(v, i), elem, w);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_target(struct ctx *c, const struct key *k, struct json_object *v,
			struct pb_config_target *t, const char *where)
{
	t->vendor = t->device_id = -1;
	if (json_object_is_type(v, json_type_object))
		return parse_object(c, k->sub, v, t, where);
	if (!json_object_is_type(v, json_type_string))
		return fail_expect(c, k, v, where);
	const char *s = json_object_get_string(v);
	struct pb_selector sel;
	char err[300];
	if (pb_selector_parse(s, &sel, err, sizeof(err)) < 0)
		return fail(c, v, "%s: not a device selector of probebench run: %s", where, err);
	return set_string(&t->device, s);
}

/* Parses v as the value of k into base (the struct k's table describes). */
static int parse_value(struct ctx *c, const struct key *k, struct json_object *v, void *base,
		       const char *where)
{
	if (json_object_is_type(v, json_type_null) && k->nullable) {
		if (k->type == K_OBJECT)
			unset_strings(k->sub, base);
		else if (k->def) {
			struct json_object *d = json_tokener_parse(k->def);
			int r = d ? parse_value(c, k, d, base, where) : -ENOMEM;
			json_object_put(d);
			return r;
		} else if (k->type == K_STRING || k->type == K_PATH) {
			free(*FIELD(base, k, char *));
			*FIELD(base, k, char *) = NULL;
		} else if (k->type == K_DURATION) {
			*FIELD(base, k, uint64_t) = 0;
		}
		return 0;
	}
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	int64_t i = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
	int r = 0;
	switch (k->type) {
	case K_ANY:
		return 0;
	case K_STRING:
	case K_PATH:
	case K_NAME:
	case K_LISTEN: {
		char host[64];
		unsigned port;
		if (!s || !*s || json_object_get_string_len(v) > 4095 ||
		    (k->type == K_PATH && s[0] != '/') ||
		    (k->type == K_NAME && !valid_plan_name(s)) ||
		    (k->type == K_LISTEN &&
		     pb_config_split_listen(s, host, sizeof(host), &port) < 0))
			return fail_expect(c, k, v, where);
		r = set_string(FIELD(base, k, char *), s);
		break;
	}
	case K_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return fail_expect(c, k, v, where);
		*FIELD(base, k, bool) = json_object_get_boolean(v);
		break;
	case K_UINT:
	case K_INT:
		if (!json_object_is_type(v, json_type_int) || i < k->min || i > k->max)
			return fail_expect(c, k, v, where);
		if (k->type == K_UINT)
			*FIELD(base, k, unsigned) = (unsigned)i;
		else
			*FIELD(base, k, int) = (int)i;
		break;
	case K_DURATION: {
		uint64_t ns;
		if (parse_duration(v, &ns) < 0)
			return fail_expect(c, k, v, where);
		if (ns < (uint64_t)k->min && !(ns == 0 && k->zero_ok)) {
			if (k->min == 1)
				return fail(c, v, "%s: must be longer than 0", where);
			return fail(c, v, "%s: must be at least %lds", where, k->min / 1000000000);
		}
		*FIELD(base, k, uint64_t) = ns;
		break;
	}
	case K_ENUM: {
		size_t n;
		for (n = 0; k->names[n]; n++)
			if (s && !strcmp(s, k->names[n]))
				break;
		if (!k->names[n])
			return fail_expect(c, k, v, where);
		*FIELD(base, k, int) = (int)n;
		break;
	}
	case K_HEXID:
		if (parse_id(v, FIELD(base, k, int)) < 0)
			return fail_expect(c, k, v, where);
		break;
	case K_OBJECT:
		if (!json_object_is_type(v, json_type_object))
			return fail_expect(c, k, v, where);
		r = parse_object(c, k->sub, v, base, where);
		break;
	case K_ARRAY:
		r = parse_array(c, k, v, base, where);
		break;
	case K_TARGET:
		r = parse_target(c, k, v, base, where);
		break;
	}
	if (r == 0 && k->check)
		r = k->check(c, v, base, where);
	return r;
}

/*
 * Parses the keys of obj into base. Unknown keys are refused first, so a typo is an error
 * instead of a silent default; then the keys are read in the table's order.
 */
static int parse_object(struct ctx *c, const struct key *keys, struct json_object *obj, void *base,
			const char *where)
{
	json_object_object_foreach(obj, name, val)
	{
		(void)val;
		const struct key *k;
		for (k = keys; k->name; k++)
			if (!strcmp(name, k->name))
				break;
		if (!k->name) {
			char w[128];
			join(w, sizeof(w), where, name);
			return fail(c, NULL, "%s: unknown key", w);
		}
	}
	for (const struct key *k = keys; k->name; k++) {
		char w[128];
		struct json_object *v;
		join(w, sizeof(w), where, k->name);
		if (!json_object_object_get_ex(obj, k->name, &v)) {
			if (k->required)
				return fail(c, NULL, "%s: required%s%s%s", w,
					    *k->required ? " (" : "", k->required,
					    *k->required ? ")" : "");
			continue;
		}
		int r = parse_value(c, k, v, base, w);
		if (r < 0)
			return r;
	}
	return 0;
}

int pb_config_split_listen(const char *listen, char *host, size_t host_size, unsigned *port)
{
	const char *colon;
	const char *h = listen;
	size_t hl;
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		h = listen + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || strchr(listen, ':') != colon)
			return -EINVAL;
		hl = (size_t)(colon - listen);
	}
	if (hl == 0 || hl >= host_size)
		return -EINVAL;
	long p;
	if (pb_parse_long(colon + 1, 10, 1, 65535, &p) < 0)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	*port = (unsigned)p;
	return 0;
}

static void describe(const struct key *k, const char *path, struct pb_config_key_info *ret,
		     size_t max, size_t *n)
{
	if (*n < max) {
		struct pb_config_key_info *i = &ret[*n];
		*i = (struct pb_config_key_info){
		    .type = types[k->type].name,
		    .has_range = k->type == K_UINT || k->type == K_INT || k->type == K_ARRAY,
		    .min = k->min,
		    .max = k->max,
		    .names = k->names,
		    .default_json = k->def,
		    .required = k->required != NULL,
		    .nullable = k->nullable,
		    .description = k->description,
		};
		snprintf(i->path, sizeof(i->path), "%s", path);
	}
	(*n)++;
	char sub[sizeof(ret->path)];
	if (k->type == K_ARRAY) {
		snprintf(sub, sizeof(sub), "%s[]", path);
		describe(k->sub, sub, ret, max, n);
	} else if (k->type == K_OBJECT || k->type == K_TARGET) {
		for (const struct key *s = k->sub; s->name; s++) {
			join(sub, sizeof(sub), path, s->name);
			describe(s, sub, ret, max, n);
		}
	}
}

size_t pb_config_describe(struct pb_config_key_info *ret, size_t max)
{
	size_t n = 0;
	for (const struct key *k = root_keys; k->name; k++)
		describe(k, k->name, ret, max, &n);
	return n;
}

int pb_config_parse(const char *text, const char *path, struct pb_config **ret, char *err,
		    size_t err_size)
{
	struct ctx c = {.path = path, .err = err, .err_size = err_size};
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	size_t len = strlen(text);
	struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success || off < len) {
		/* trailing whitespace is fine; anything else after the document is not */
		bool trailing_ok = root && jerr == json_tokener_success;
		for (size_t i = off; trailing_ok && i < len; i++)
			if (!isspace((unsigned char)text[i]))
				trailing_ok = false;
		if (!trailing_ok) {
			unsigned line = 1, col = 1;
			for (size_t i = 0; i < off && i < len; i++, col++)
				if (text[i] == '\n')
					line++, col = 0;
			json_object_put(root);
			snprintf(err, err_size, "%s:%u:%u: not valid JSON: %s", path, line, col,
				 jerr == json_tokener_success	 ? "text after the document"
				 : jerr == json_tokener_continue ? "unexpected end of file"
								 : json_tokener_error_desc(jerr));
			return -EINVAL;
		}
	}

	struct pb_config *cfg = calloc(1, sizeof(*cfg));
	int r = -ENOMEM;
	if (!cfg || !(cfg->path = strdup(path)))
		goto out;
	c.cfg = cfg;
	if (!json_object_is_type(root, json_type_object))
		r = fail(&c, root, "top level: must be an object");
	else if ((r = apply_defaults(&c, root_keys, cfg, "")) >= 0)
		r = parse_object(&c, root_keys, root, cfg, "");
	if (r >= 0)
		*ret = TAKE_PTR(cfg);
out:
	if (r == -ENOMEM)
		snprintf(err, err_size, "%s: out of memory", path);
	pb_config_free(cfg);
	json_object_put(root);
	return r < 0 ? r : 0;
}

int pb_config_load(const char *path, struct pb_config **ret, char *err, size_t err_size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;
		snprintf(err, err_size, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PB_CONFIG_MAX_SIZE) {
		snprintf(err, err_size, "%s: not a regular file of at most %d bytes", path,
			 PB_CONFIG_MAX_SIZE);
		return -EINVAL;
	}
	_cleanup_free_ char *text = malloc((size_t)st.st_size + 1);
	if (!text)
		return -ENOMEM;
	size_t n = 0;
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, text + n, (size_t)st.st_size - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int r = k < 0 ? -errno : -EIO;
			snprintf(err, err_size, "%s: cannot read: %s", path, strerror(-r));
			return r;
		}
		n += (size_t)k;
	}
	text[n] = 0;
	if (strlen(text) != n) {
		snprintf(err, err_size, "%s: contains a NUL byte", path);
		return -EINVAL;
	}
	return pb_config_parse(text, path, ret, err, err_size);
}

void pb_config_free(struct pb_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_plans; i++) {
		free(c->plans[i].name);
		for (size_t j = 0; j < c->plans[i].n_targets; j++) {
			free(c->plans[i].targets[j].device);
			free(c->plans[i].targets[j].driver);
		}
	}
	free(c->path);
	free(c->results_dir);
	free(c->http_listen);
	free(c->textfile);
	free(c);
}

bool pb_config_target_matches(const struct pb_config_target *t, const struct pb_device *dev)
{
	char text[PATH_MAX], err[256];
	struct pb_selector sel;
	if (t->device)
		snprintf(text, sizeof(text), "%s", t->device);
	else
		snprintf(text, sizeof(text), "%04x:%04x", (unsigned)t->vendor,
			 (unsigned)t->device_id);
	if (pb_selector_parse(text, &sel, err, sizeof(err)) < 0)
		return false;
	pb_selector_resolve_path(&sel);
	if (!pb_selector_match(&sel, dev))
		return false;
	return t->device || !t->driver || (dev->driver && !strcmp(t->driver, dev->driver));
}
