// SPDX-License-Identifier: GPL-2.0-or-later
/* Loads and validates the daemon configuration (schema/config.schema.json). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "probebench/config.h"
#include "probebench/util.h"

#define PB_CONFIG_MAX_SIZE (1 << 20)

struct ctx {
	const char *path;
	char *err;
	size_t err_size;
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

/* Rejects keys the schema does not know, so a typo is an error instead of a silent default. */
static int check_keys(struct ctx *c, struct json_object *obj, const char *where,
		      const char *const *known)
{
	json_object_object_foreach(obj, key, val)
	{
		(void)val;
		size_t i;
		for (i = 0; known[i]; i++)
			if (!strcmp(key, known[i]))
				break;
		if (!known[i])
			return fail(c, NULL, "%s%s%s: unknown key", where, *where ? "." : "", key);
	}
	return 0;
}

static int get_uint(struct ctx *c, struct json_object *obj, const char *where, const char *key,
		    long min, long max, long def, long *ret)
{
	struct json_object *v;
	if (!json_object_object_get_ex(obj, key, &v)) {
		*ret = def;
		return 0;
	}
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i >= min && i <= max) {
			*ret = (long)i;
			return 0;
		}
	}
	return fail(c, v, "%s.%s: must be an integer %ld..%ld", where, key, min, max);
}

static int get_bool(struct ctx *c, struct json_object *obj, const char *where, const char *key,
		    bool def, bool *ret)
{
	struct json_object *v;
	if (!json_object_object_get_ex(obj, key, &v)) {
		*ret = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return fail(c, v, "%s.%s: must be true or false", where, key);
	*ret = json_object_get_boolean(v);
	return 0;
}

/* A string key; *ret stays NULL when absent (or null and nullable). */
static int get_str(struct ctx *c, struct json_object *obj, const char *where, const char *key,
		   bool nullable, char **ret)
{
	struct json_object *v;
	*ret = NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (nullable && json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0 ||
	    json_object_get_string_len(v) > 4095)
		return fail(c, v, "%s.%s: must be a non-empty string%s", where, key,
			    nullable ? " or null" : "");
	*ret = strdup(json_object_get_string(v));
	return *ret ? 0 : -ENOMEM;
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

static int get_duration(struct ctx *c, struct json_object *obj, const char *where, const char *key,
			uint64_t def, uint64_t *ret)
{
	struct json_object *v;
	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
		*ret = def;
		return 0;
	}
	if (parse_duration(v, ret) < 0)
		return fail(c, v,
			    "%s.%s: must be a duration (\"500ms\", \"30s\", \"5m\", \"1h\", \"7d\" "
			    "or seconds)",
			    where, key);
	return 0;
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

/* "0000:00:05.0": domain:bus:slot.function, hex. */
static bool valid_pci_address(const char *s)
{
	static const char pat[] = "hhhh:hh:hh.h";
	if (strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == 'h' ? !isxdigit((unsigned char)s[i]) : s[i] != pat[i])
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

static int parse_target(struct ctx *c, struct json_object *v, const char *where,
			struct pb_config_target *t)
{
	t->vendor = t->device_id = -1;
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		if (!valid_pci_address(s) && strncmp(s, "/sys/", 5) != 0)
			return fail(
			    c, v,
			    "%s: an explicit device must be a PCI address (\"0000:00:05.0\") "
			    "or a /sys/ path; use {\"vendor\": ..., \"device\": ...} for a "
			    "rule",
			    where);
		t->device = strdup(s);
		return t->device ? 0 : -ENOMEM;
	}
	if (!json_object_is_type(v, json_type_object))
		return fail(c, v, "%s: must be a device string or a rule object", where);
	static const char *const known[] = {"vendor", "device", "driver", NULL};
	int r = check_keys(c, v, where, known);
	if (r < 0)
		return r;
	struct json_object *x;
	if (!json_object_object_get_ex(v, "vendor", &x))
		return fail(c, NULL, "%s.vendor: required (a rule names the vendor and device id)",
			    where);
	if (parse_id(x, &t->vendor) < 0)
		return fail(c, x, "%s.vendor: must be a 4-digit hex id like \"1af4\"", where);
	if (!json_object_object_get_ex(v, "device", &x))
		return fail(c, NULL, "%s.device: required (a rule names the vendor and device id)",
			    where);
	if (parse_id(x, &t->device_id) < 0)
		return fail(c, x, "%s.device: must be a 4-digit hex id like \"1044\"", where);
	return get_str(c, v, where, "driver", true, &t->driver);
}

static int parse_plan(struct ctx *c, struct json_object *p, size_t idx, struct pb_config *cfg)
{
	char where[64];
	snprintf(where, sizeof(where), "plans[%zu]", idx);
	struct pb_config_plan *pl = &cfg->plans[idx];
	if (!json_object_is_type(p, json_type_object))
		return fail(c, p, "%s: must be an object", where);
	static const char *const known[] = {"name",	"targets",  "entry",   "iterations",
					    "warmup",	"interval", "timeout", "writer_nodes",
					    "schedule", "measure",  NULL};
	int r = check_keys(c, p, where, known);
	if (r < 0)
		return r;
	r = get_str(c, p, where, "name", false, &pl->name);
	if (r < 0)
		return r;
	if (!pl->name)
		return fail(c, NULL, "%s.name: required", where);
	if (!valid_plan_name(pl->name))
		return fail(c, json_object_object_get(p, "name"),
			    "%s.name: must be 1..64 characters of A-Z a-z 0-9 _ . -", where);
	for (size_t i = 0; i < idx; i++)
		if (!strcmp(cfg->plans[i].name, pl->name))
			return fail(c, json_object_object_get(p, "name"),
				    "%s.name: duplicate plan name", where);

	struct json_object *tg;
	if (!json_object_object_get_ex(p, "targets", &tg))
		return fail(c, NULL, "%s.targets: required (the devices this plan may cycle)",
			    where);
	if (!json_object_is_type(tg, json_type_array) || json_object_array_length(tg) == 0 ||
	    json_object_array_length(tg) > PB_CONFIG_MAX_TARGETS)
		return fail(c, tg, "%s.targets: must be an array of 1..%d devices or rules", where,
			    PB_CONFIG_MAX_TARGETS);
	for (size_t i = 0; i < json_object_array_length(tg); i++) {
		char w[96];
		snprintf(w, sizeof(w), "%s.targets[%zu]", where, i);
		r = parse_target(c, json_object_array_get_idx(tg, i), w, &pl->targets[i]);
		pl->n_targets = i + 1;
		if (r < 0)
			return r;
	}

	struct json_object *v;
	pl->entry = PB_ENTRY_BIND;
	if (json_object_object_get_ex(p, "entry", &v)) {
		const char *s =
		    json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
		if (!strcmp(s, "bind"))
			pl->entry = PB_ENTRY_BIND;
		else if (!strcmp(s, "probe"))
			pl->entry = PB_ENTRY_PROBE;
		else
			return fail(c, v, "%s.entry: must be \"bind\" or \"probe\"", where);
	}
	if ((r = get_bool(c, p, where, "measure", true, &pl->measure)) < 0)
		return r;
	long x = 0;
	if ((r = get_uint(c, p, where, "iterations", 1, 1000000, 20, &x)) < 0)
		return r;
	pl->iterations = (unsigned)x;
	if ((r = get_uint(c, p, where, "warmup", 0, 100000, 2, &x)) < 0)
		return r;
	pl->warmup = (unsigned)x;
	if ((r = get_duration(c, p, where, "interval", 0, &pl->interval_ns)) < 0)
		return r;
	if ((r = get_duration(c, p, where, "timeout", 10000000000ull, &pl->timeout_ns)) < 0)
		return r;
	if (pl->timeout_ns == 0)
		return fail(c, json_object_object_get(p, "timeout"),
			    "%s.timeout: must be longer than 0", where);

	if (json_object_object_get_ex(p, "writer_nodes", &v)) {
		if (!json_object_is_type(v, json_type_array) ||
		    json_object_array_length(v) > PB_CONFIG_MAX_NODES)
			return fail(c, v,
				    "%s.writer_nodes: must be an array of up to %d NUMA nodes",
				    where, PB_CONFIG_MAX_NODES);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *n = json_object_array_get_idx(v, i);
			int64_t node = json_object_get_int64(n);
			if (!json_object_is_type(n, json_type_int) || node < 0 || node > 1023)
				return fail(
				    c, n,
				    "%s.writer_nodes[%zu]: must be a NUMA node number 0..1023",
				    where, i);
			pl->writer_nodes[pl->n_writer_nodes++] = (int)node;
		}
	}

	pl->at_start = false;
	if (json_object_object_get_ex(p, "schedule", &v)) {
		char w[96];
		snprintf(w, sizeof(w), "%s.schedule", where);
		if (!json_object_is_type(v, json_type_object))
			return fail(c, v, "%s: must be an object", w);
		static const char *const sk[] = {"every", "at_start", "on_add", NULL};
		if ((r = check_keys(c, v, w, sk)) < 0)
			return r;
		if ((r = get_duration(c, v, w, "every", 0, &pl->every_ns)) < 0)
			return r;
		if (pl->every_ns && pl->every_ns < 1000000000ull)
			return fail(c, json_object_object_get(v, "every"),
				    "%s.every: must be at least 1s", w);
		if ((r = get_bool(c, v, w, "at_start", false, &pl->at_start)) < 0)
			return r;
		if ((r = get_bool(c, v, w, "on_add", false, &pl->on_add)) < 0)
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
	if (!cfg)
		goto out;
	cfg->path = strdup(path);
	if (!cfg->path)
		goto out;
	if (!json_object_is_type(root, json_type_object)) {
		r = fail(&c, root, "top level: must be an object");
		goto out;
	}
	static const char *const known[] = {"results_dir", "retention", "http", "textfile",
					    "plans",	   "$schema",	NULL};
	if ((r = check_keys(&c, root, "", known)) < 0)
		goto out;
	if ((r = get_str(&c, root, "", "results_dir", false, &cfg->results_dir)) < 0)
		goto out;
	if (!cfg->results_dir) {
		cfg->results_dir = strdup("/var/lib/probebench/runs");
		if (!cfg->results_dir) {
			r = -ENOMEM;
			goto out;
		}
	} else if (cfg->results_dir[0] != '/') {
		r = fail(&c, json_object_object_get(root, "results_dir"),
			 "results_dir: must be an absolute path");
		goto out;
	}
	if ((r = get_str(&c, root, "", "textfile", true, &cfg->textfile)) < 0)
		goto out;
	if (cfg->textfile && cfg->textfile[0] != '/') {
		r = fail(&c, json_object_object_get(root, "textfile"),
			 "textfile: must be an absolute path or null");
		goto out;
	}

	struct json_object *v;
	cfg->retention_count = 100;
	cfg->retention_age_ns = 30 * 86400e9;
	if (json_object_object_get_ex(root, "retention", &v)) {
		if (!json_object_is_type(v, json_type_object)) {
			r = fail(&c, v, "retention: must be an object");
			goto out;
		}
		static const char *const rk[] = {"count", "age", NULL};
		if ((r = check_keys(&c, v, "retention", rk)) < 0)
			goto out;
		long n = 0;
		if ((r = get_uint(&c, v, "retention", "count", 0, 1000000, 100, &n)) < 0)
			goto out;
		cfg->retention_count = (unsigned)n;
		if ((r = get_duration(&c, v, "retention", "age", cfg->retention_age_ns,
				      &cfg->retention_age_ns)) < 0)
			goto out;
	}

	cfg->http_max_connections = 16;
	cfg->http_listen = strdup("127.0.0.1:9464");
	if (!cfg->http_listen) {
		r = -ENOMEM;
		goto out;
	}
	if (json_object_object_get_ex(root, "http", &v)) {
		if (json_object_is_type(v, json_type_null)) {
			free(cfg->http_listen);
			cfg->http_listen = NULL;
		} else if (!json_object_is_type(v, json_type_object)) {
			r = fail(&c, v, "http: must be an object or null (no HTTP server)");
			goto out;
		} else {
			static const char *const hk[] = {"listen", "max_connections", NULL};
			if ((r = check_keys(&c, v, "http", hk)) < 0)
				goto out;
			struct json_object *l;
			if (json_object_object_get_ex(v, "listen", &l)) {
				char host[64];
				unsigned port;
				if (!json_object_is_type(l, json_type_string) ||
				    pb_config_split_listen(json_object_get_string(l), host,
							   sizeof(host), &port) < 0) {
					r = fail(&c, l,
						 "http.listen: must be \"ADDRESS:PORT\" "
						 "(\"127.0.0.1:9464\", "
						 "\"[::1]:9464\")");
					goto out;
				}
				free(cfg->http_listen);
				cfg->http_listen = strdup(json_object_get_string(l));
				if (!cfg->http_listen) {
					r = -ENOMEM;
					goto out;
				}
			}
			long n = 0;
			if ((r = get_uint(&c, v, "http", "max_connections", 1, 1024, 16, &n)) < 0)
				goto out;
			cfg->http_max_connections = (unsigned)n;
		}
	}

	if (!json_object_object_get_ex(root, "plans", &v)) {
		r = fail(&c, NULL, "plans: required (a list of measurement plans)");
		goto out;
	}
	if (!json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) > PB_CONFIG_MAX_PLANS) {
		r = fail(&c, v, "plans: must be an array of up to %d plans", PB_CONFIG_MAX_PLANS);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		cfg->n_plans = i + 1;
		if ((r = parse_plan(&c, json_object_array_get_idx(v, i), i, cfg)) < 0)
			goto out;
	}
	*ret = TAKE_PTR(cfg);
	r = 0;
out:
	if (r == -ENOMEM)
		snprintf(err, err_size, "%s: out of memory", path);
	pb_config_free(cfg);
	json_object_put(root);
	return r;
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

bool pb_config_target_matches(const struct pb_config_target *t, const char *name, int vendor,
			      int device, const char *driver)
{
	if (t->device) {
		const char *base = strrchr(t->device, '/');
		return !strcmp(t->device, name) || (base && !strcmp(base + 1, name));
	}
	if (t->vendor != vendor || t->device_id != device)
		return false;
	return !t->driver || (driver && !strcmp(t->driver, driver));
}
