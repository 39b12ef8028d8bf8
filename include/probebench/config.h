/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The daemon's configuration: a JSON file described by schema/config.schema.json. Loading
 * validates every key against one table (src/config.c) that also gives the defaults; the first
 * error names the file, the key path, what is expected and the bad value:
 *   "/etc/probebench.json: plans[0].iterations: must be an integer 1..1000000, got \"abc\""
 * Parsing is pure (text in, struct out) so unit tests need no files.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "probebench/run.h"

#define PB_CONFIG_MAX_PLANS   32
#define PB_CONFIG_MAX_TARGETS 32
#define PB_CONFIG_MAX_NODES   64
/* A shorter bind/unbind timeout would call ordinary writes hung. */
#define PB_CONFIG_MIN_TIMEOUT_NS 100000000

/*
 * A plan's target: an explicit device (a selector the run pipeline resolves: a PCI address
 * "0000:00:05.0" or an absolute sysfs path) or an allow rule that matches PCI functions by id
 * (and optionally by bound driver). Nothing the config does not name is ever cycled.
 */
struct pb_config_target {
	char *device; /* explicit selector, or NULL for a rule */
	int vendor;   /* rule: -1 = any (a rule always names vendor and device) */
	int device_id;
	char *driver; /* rule: only functions bound to this driver; NULL = any */
};

struct pb_config_plan {
	char *name; /* [A-Za-z0-9_.-]{1,64} */
	struct pb_config_target targets[PB_CONFIG_MAX_TARGETS];
	size_t n_targets;
	enum pb_entry_path entry;
	unsigned iterations;
	unsigned warmup;
	uint64_t interval_ns; /* pause between iterations */
	uint64_t timeout_ns;  /* bind/unbind hang limit */
	int writer_nodes[PB_CONFIG_MAX_NODES];
	size_t n_writer_nodes;
	bool measure;	/* per-probe measurement as in `probebench run` (default true) */
	bool placement; /* after each run, sample where the targets' users keep their memory */
	/* schedule */
	uint64_t every_ns; /* 0: no periodic runs */
	bool at_start;
	bool on_add; /* run when a matching device is added (kernel uevent "add") */
};

struct pb_config {
	char *path;
	char *results_dir;
	unsigned retention_count;  /* 0: unlimited */
	uint64_t retention_age_ns; /* 0: unlimited */
	char *http_listen;	   /* "127.0.0.1:9464", "[::1]:9464"; NULL: no HTTP server */
	unsigned http_max_connections;
	char *textfile; /* node_exporter textfile path or NULL */
	struct pb_config_plan plans[PB_CONFIG_MAX_PLANS];
	size_t n_plans;
};

/*
 * Parses and validates config text. path is only used in messages. On failure returns -EINVAL
 * (or -ENOMEM) and writes one message naming path, key and value into err.
 */
int pb_config_parse(const char *text, const char *path, struct pb_config **ret, char *err,
		    size_t err_size);
/* Reads path and parses it; a read failure is reported in err too. */
int pb_config_load(const char *path, struct pb_config **ret, char *err, size_t err_size);
void pb_config_free(struct pb_config *c);

struct pb_device;
/* Does the device (a PCI function) match t, as `probebench run` would select it? An explicit
 * target is a selector of run; a rule is the selector VENDOR:DEVICE, and its driver when it
 * names one. */
bool pb_config_target_matches(const struct pb_config_target *t, const struct pb_device *dev);

/*
 * The keys the configuration knows, from the table that parses them (for tests and docs): the
 * path ("plans[].schedule.every"; an array's element is "plans[]"), the kind of value ("string",
 * "path", "boolean", "integer", "duration", "enum", "object", "array", ...), the range (integers:
 * values, arrays: items), the names of an enum (NULL-terminated), the default as JSON text (NULL:
 * none) and the meaning.
 */
struct pb_config_key_info {
	char path[96];
	const char *type;
	bool has_range;
	long min, max;
	const char *const *names;
	const char *default_json;
	bool required, nullable;
	const char *description;
};
/* Fills up to max entries, in table order; returns how many keys there are. */
size_t pb_config_describe(struct pb_config_key_info *ret, size_t max);

/* Splits "127.0.0.1:9464" / "[::1]:9464" into host and port. 0 or -EINVAL. */
int pb_config_split_listen(const char *listen, char *host, size_t host_size, unsigned *port);
/*
 * The socket address of http.listen, as the listener binds it: a numeric IPv4 address, or an
 * IPv6 one in brackets, and a port 1..65535 (0 or -EINVAL; the config refuses what this
 * refuses, so --check-config and the daemon agree). *ret_loopback: the address is loopback
 * (127.0.0.0/8, ::1, ::ffff:127.x.x.x). ret and ret_loopback may be NULL.
 */
int pb_config_listen_addr(const char *listen, struct sockaddr_storage *ret, bool *ret_loopback);
