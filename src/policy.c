// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Safety policy, pure part: the snapshot's data, the text parsers that fill it, and the decision
 * for a described subtree. Nothing here touches the system; src/policy_collect.c does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <linux/rtnetlink.h>

#include "probebench/policy.h"
#include "probebench/util.h"

/* Refusals kept per reason; further ones of the same reason are counted in the last detail. */
#define PER_REASON_MAX 3
/* Virtio device type of a socket (vsock) device, from the virtio specification. */
#define VIRTIO_TYPE_VSOCK 19
/* ... and of a memory balloon (traditional balloon device). */
#define VIRTIO_TYPE_BALLOON 5
/* How far stacked interfaces (vlan on vlan on ...) are followed. */
#define UPPER_DEPTH_MAX 4

struct mount_ent {
	unsigned major, minor;
	char *source, *target, *fstype;
};

struct root_ent {
	unsigned major, minor;
	char *name;
};

struct console_ent {
	char name[64];
	bool has_devnum;
	unsigned major, minor;
};

struct chr_ent {
	unsigned major, minor;
	int pid, last_pid; /* first opener; the last one counted (the scan goes pid by pid) */
	char comm[32];
	unsigned n_openers;
};

struct link_ent {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags;
	int master, link;
};

struct addr_ent {
	int ifindex, family;
	uint8_t addr[16];
	unsigned prefixlen, scope;
};

#define VEC(type, name)                                                                            \
	struct {                                                                                   \
		type *v;                                                                           \
		size_t n, cap;                                                                     \
	} name

struct pb_policy_ctx {
	VEC(struct mount_ent, mounts);
	VEC(char *, swaps);
	VEC(struct root_ent, roots);
	VEC(struct console_ent, consoles);
	VEC(struct chr_ent, chrs);
	VEC(struct link_ent, links);
	VEC(struct addr_ent, addrs);
	VEC(struct pb_policy_route, routes);
	unsigned unreadable_fds;
	bool chrs_pending; /* chrs not read yet (pb_policy_check reads them when needed) */
};

/* Makes room for one more element; returns a pointer to it (zeroed) or NULL. */
static void *vec_push(void **v, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *p = realloc(*v, ncap * elem);
		if (!p)
			return NULL;
		*v = p;
		*cap = ncap;
	}
	void *e = (char *)*v + (*n)++ * elem;
	memset(e, 0, elem);
	return e;
}
#define PUSH(vec)                                                                                  \
	((__typeof__((vec).v))vec_push((void **)&(vec).v, &(vec).n, &(vec).cap, sizeof(*(vec).v)))

static const char *const reason_names[PB_REASON__MAX] = {
    [PB_REASON_MOUNTED] = "mounted",	   [PB_REASON_SWAP] = "swap",
    [PB_REASON_HOLDERS] = "holders",	   [PB_REASON_ROOT_DISK] = "root-disk",
    [PB_REASON_NET_ACTIVE] = "net-active", [PB_REASON_VSOCK] = "vsock",
    [PB_REASON_CONSOLE] = "console",	   [PB_REASON_BOOT_VGA] = "boot-vga",
    [PB_REASON_BRIDGE] = "bridge",	   [PB_REASON_BALLOON] = "balloon",
    [PB_REASON_NO_DRIVER] = "no-driver",   [PB_REASON_MODULE] = "module",
};

const char *pb_reason_name(enum pb_reason reason)
{
	if ((unsigned)reason >= PB_REASON__MAX)
		return NULL;
	return reason_names[reason];
}

int pb_reason_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int i = 0; i < PB_REASON__MAX; i++)
		if (strcmp(name, reason_names[i]) == 0)
			return i;
	return -EINVAL;
}

bool pb_verdict_allowed(const struct pb_verdict *v, uint32_t forced_mask)
{
	for (size_t i = 0; i < v->n; i++)
		if (!(forced_mask & (1u << v->refusals[i].reason)))
			return false;
	return true;
}

struct json_object *pb_verdict_to_json(const struct pb_verdict *v, uint32_t forced_mask)
{
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	if (!o || !arr) {
		json_object_put(o);
		json_object_put(arr);
		return NULL;
	}
	json_object_object_add(o, "allowed",
			       json_object_new_boolean(pb_verdict_allowed(v, forced_mask)));
	for (size_t i = 0; i < v->n; i++) {
		const struct pb_refusal *r = &v->refusals[i];
		struct json_object *e = json_object_new_object();
		if (!e) {
			json_object_put(arr);
			json_object_put(o);
			return NULL;
		}
		json_object_object_add(e, "reason",
				       json_object_new_string(pb_reason_name(r->reason)));
		json_object_object_add(e, "detail", json_object_new_string(r->detail));
		json_object_object_add(
		    e, "forced", json_object_new_boolean(!!(forced_mask & (1u << r->reason))));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "refusals", arr);
	return o;
}

/* ---- the snapshot ---------------------------------------------------------------------- */

int pb_policy_ctx_new_empty(struct pb_policy_ctx **ret)
{
	struct pb_policy_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	*ret = ctx;
	return 0;
}

void pb_policy_ctx_free(struct pb_policy_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < ctx->mounts.n; i++) {
		free(ctx->mounts.v[i].source);
		free(ctx->mounts.v[i].target);
		free(ctx->mounts.v[i].fstype);
	}
	for (size_t i = 0; i < ctx->swaps.n; i++)
		free(ctx->swaps.v[i]);
	for (size_t i = 0; i < ctx->roots.n; i++)
		free(ctx->roots.v[i].name);
	free(ctx->mounts.v);
	free(ctx->swaps.v);
	free(ctx->roots.v);
	free(ctx->consoles.v);
	free(ctx->chrs.v);
	free(ctx->links.v);
	free(ctx->addrs.v);
	free(ctx->routes.v);
	free(ctx);
}

/* Undoes the octal escapes (\040 for space, ...) the kernel uses in mountinfo and swaps. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* Calls fn for every line of text (a writable copy, NUL-terminated, no newline). */
static int for_each_line(const char *text, void *data, int (*fn)(char *line, void *data))
{
	if (!text)
		return 0;
	_cleanup_free_ char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int r = fn(line, data);
		if (r < 0)
			return r;
	}
	return 0;
}

static int mountinfo_line(char *line, void *data)
{
	struct pb_policy_ctx *ctx = data;
	/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS */
	char *save = NULL, *tok[6];
	for (int i = 0; i < 6; i++) {
		tok[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!tok[i])
			return 0; /* a short line: not a mount, skip it */
	}
	unsigned major, minor;
	if (sscanf(tok[2], "%u:%u", &major, &minor) != 2)
		return 0;
	char *t;
	while ((t = strtok_r(NULL, " ", &save)) && strcmp(t, "-") != 0)
		;
	if (!t)
		return 0;
	char *fstype = strtok_r(NULL, " ", &save);
	char *source = strtok_r(NULL, " ", &save);
	if (!fstype)
		return 0;
	unescape_octal(tok[4]);
	if (source)
		unescape_octal(source);
	/* The same mount seen through another namespace's mountinfo is kept once. */
	for (size_t i = 0; i < ctx->mounts.n; i++) {
		struct mount_ent *m = &ctx->mounts.v[i];
		if (m->major == major && m->minor == minor && strcmp(m->target, tok[4]) == 0)
			return 0;
	}
	struct mount_ent *m = PUSH(ctx->mounts);
	if (!m)
		return -ENOMEM;
	m->major = major;
	m->minor = minor;
	m->target = strdup(tok[4]);
	m->fstype = strdup(fstype);
	m->source = strdup(source ? source : "");
	if (!m->target || !m->fstype || !m->source)
		return -ENOMEM;
	return 0;
}

int pb_policy_ctx_add_mountinfo(struct pb_policy_ctx *ctx, const char *text)
{
	return for_each_line(text, ctx, mountinfo_line);
}

static int swaps_line(char *line, void *data)
{
	struct pb_policy_ctx *ctx = data;
	/* Filename Type Size Used Priority; the header line starts with "Filename". */
	char *save = NULL;
	char *path = strtok_r(line, " \t", &save);
	if (!path || path[0] != '/')
		return 0;
	unescape_octal(path);
	char **e = PUSH(ctx->swaps);
	if (!e)
		return -ENOMEM;
	*e = strdup(path);
	return *e ? 0 : -ENOMEM;
}

int pb_policy_ctx_add_swaps(struct pb_policy_ctx *ctx, const char *text)
{
	return for_each_line(text, ctx, swaps_line);
}

int pb_policy_ctx_add_root_dev(struct pb_policy_ctx *ctx, unsigned major, unsigned minor,
			       const char *name)
{
	for (size_t i = 0; i < ctx->roots.n; i++)
		if (ctx->roots.v[i].major == major && ctx->roots.v[i].minor == minor)
			return 0;
	struct root_ent *e = PUSH(ctx->roots);
	if (!e)
		return -ENOMEM;
	e->major = major;
	e->minor = minor;
	e->name = strdup(name ? name : "");
	return e->name ? 0 : -ENOMEM;
}

static int add_console(struct pb_policy_ctx *ctx, const char *name, bool has_devnum, unsigned major,
		       unsigned minor)
{
	for (size_t i = 0; i < ctx->consoles.n; i++) {
		struct console_ent *c = &ctx->consoles.v[i];
		if (strcmp(c->name, name) == 0) {
			if (has_devnum && !c->has_devnum) {
				c->has_devnum = true;
				c->major = major;
				c->minor = minor;
			}
			return 0;
		}
	}
	struct console_ent *c = PUSH(ctx->consoles);
	if (!c)
		return -ENOMEM;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->has_devnum = has_devnum;
	c->major = major;
	c->minor = minor;
	return 0;
}

static int consoles_line(char *line, void *data)
{
	/* "ttyS0                -W- (EC  p a)    4:64": the name first, the device number last. */
	char *save = NULL, *last = NULL;
	char *name = strtok_r(line, " \t", &save);
	if (!name)
		return 0;
	for (char *t; (t = strtok_r(NULL, " \t", &save));)
		last = t;
	unsigned major = 0, minor = 0;
	bool has = last && sscanf(last, "%u:%u", &major, &minor) == 2;
	return add_console(data, name, has, major, minor);
}

int pb_policy_ctx_add_consoles(struct pb_policy_ctx *ctx, const char *proc_consoles,
			       const char *active)
{
	int r = for_each_line(proc_consoles, ctx, consoles_line);
	if (r < 0 || !active)
		return r;
	_cleanup_free_ char *copy = strdup(active);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		r = add_console(ctx, t, false, 0, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int pb_policy_ctx_add_open_chrdev(struct pb_policy_ctx *ctx, unsigned major, unsigned minor,
				  int pid, const char *comm)
{
	for (size_t i = 0; i < ctx->chrs.n; i++) {
		struct chr_ent *c = &ctx->chrs.v[i];
		if (c->major == major && c->minor == minor) {
			if (pid != c->pid && pid != c->last_pid) {
				c->n_openers++;
				c->last_pid = pid;
			}
			return 0;
		}
	}
	struct chr_ent *c = PUSH(ctx->chrs);
	if (!c)
		return -ENOMEM;
	c->major = major;
	c->minor = minor;
	c->pid = c->last_pid = pid;
	c->n_openers = 1;
	snprintf(c->comm, sizeof(c->comm), "%s", comm ? comm : "?");
	return 0;
}

void pb_policy_ctx_set_unreadable_fds(struct pb_policy_ctx *ctx, unsigned n_processes)
{
	ctx->unreadable_fds = n_processes;
}

void pb_policy_ctx_set_open_chrdevs_pending(struct pb_policy_ctx *ctx, bool pending)
{
	ctx->chrs_pending = pending;
}

bool pb_policy_ctx_open_chrdevs_pending(const struct pb_policy_ctx *ctx)
{
	return ctx->chrs_pending;
}

int pb_policy_ctx_add_link(struct pb_policy_ctx *ctx, int ifindex, const char *name, unsigned flags,
			   int master, int link)
{
	struct link_ent *l = NULL;
	for (size_t i = 0; i < ctx->links.n; i++)
		if (ctx->links.v[i].ifindex == ifindex)
			l = &ctx->links.v[i];
	if (!l && !(l = PUSH(ctx->links)))
		return -ENOMEM;
	l->ifindex = ifindex;
	snprintf(l->name, sizeof(l->name), "%s", name ? name : "?");
	l->flags = flags;
	l->master = master;
	l->link = link == ifindex ? 0 : link;
	return 0;
}

int pb_policy_ctx_add_addr(struct pb_policy_ctx *ctx, int ifindex, int family, const void *addr,
			   unsigned prefixlen, unsigned scope)
{
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	struct addr_ent *a = PUSH(ctx->addrs);
	if (!a)
		return -ENOMEM;
	a->ifindex = ifindex;
	a->family = family;
	memcpy(a->addr, addr, family == AF_INET ? 4 : 16);
	a->prefixlen = prefixlen;
	a->scope = scope;
	return 0;
}

int pb_policy_ctx_add_route(struct pb_policy_ctx *ctx, const struct pb_policy_route *route)
{
	struct pb_policy_route *r = PUSH(ctx->routes);
	if (!r)
		return -ENOMEM;
	*r = *route;
	return 0;
}

/* ---- the decision ------------------------------------------------------------------------ */

struct check {
	const struct pb_policy_ctx *ctx;
	const struct pb_policy_dev *devs;
	size_t n;
	struct pb_verdict *v;
	unsigned per_reason[PB_REASON__MAX];
	int last_of_reason[PB_REASON__MAX];
};

static bool str_empty(const char *s)
{
	return !s || !*s;
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

__attribute__((format(printf, 3, 4))) static void refuse(struct check *c, enum pb_reason reason,
							 const char *fmt, ...)
{
	c->per_reason[reason]++;
	if (c->per_reason[reason] > PER_REASON_MAX || c->v->n >= PB_ARRAY_SIZE(c->v->refusals))
		return;
	struct pb_refusal *r = &c->v->refusals[c->v->n];
	r->reason = reason;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	c->last_of_reason[reason] = (int)c->v->n++;
}

/* "vda (block, below 0000:00:02.0)", or "0000:00:02.0 (pci)" for the target itself. */
static void describe(const struct check *c, const struct pb_policy_dev *d, char *buf, size_t size)
{
	const char *sub = str_empty(d->subsystem) ? "device" : d->subsystem;
	if (d == &c->devs[0])
		snprintf(buf, size, "%s (%s)", d->name, sub);
	else
		snprintf(buf, size, "%s (%s, below %s)", d->name, sub, c->devs[0].name);
}

static bool devnum_set(const struct pb_policy_dev *d)
{
	return d->major != 0 || d->minor != 0;
}

static bool mount_matches(const struct mount_ent *m, const struct pb_policy_dev *d)
{
	/* btrfs and some others report an anonymous 0:N number; their source path still names
	 * the block device. */
	if (m->major != 0 && m->major == d->major && m->minor == d->minor)
		return true;
	return str_eq(m->source, d->devnode);
}

/* Returns whether anything specific (mount, root, swap, holders) was found for the device. */
static bool check_block(struct check *c, const struct pb_policy_dev *d, const char *desc)
{
	const struct pb_policy_ctx *ctx = c->ctx;
	size_t before = c->v->n;
	unsigned counted_before = 0;
	for (int r = 0; r < PB_REASON__MAX; r++)
		counted_before += c->per_reason[r];
	const struct mount_ent *first = NULL, *root = NULL;
	unsigned n_mounts = 0;
	for (size_t i = 0; i < ctx->mounts.n; i++) {
		const struct mount_ent *m = &ctx->mounts.v[i];
		if (!mount_matches(m, d))
			continue;
		if (!first)
			first = m;
		if (strcmp(m->target, "/") == 0)
			root = m;
		n_mounts++;
	}
	if (first) {
		if (n_mounts > 1)
			refuse(c, PB_REASON_MOUNTED,
			       "%s is mounted on %s (%s) and %u more mount points", desc,
			       first->target, first->fstype, n_mounts - 1);
		else
			refuse(c, PB_REASON_MOUNTED, "%s is mounted on %s (%s)", desc,
			       first->target, first->fstype);
	}

	const struct root_ent *chain = NULL;
	for (size_t i = 0; i < ctx->roots.n && devnum_set(d); i++)
		if (ctx->roots.v[i].major == d->major && ctx->roots.v[i].minor == d->minor)
			chain = &ctx->roots.v[i];
	if (root)
		refuse(c, PB_REASON_ROOT_DISK, "%s carries the root filesystem (%s on /, %s)", desc,
		       str_empty(root->source) ? d->name : root->source, root->fstype);
	else if (chain)
		refuse(c, PB_REASON_ROOT_DISK,
		       "%s carries the root filesystem (%s is part of the device stack under /)",
		       desc, chain->name);

	for (size_t i = 0; i < ctx->swaps.n; i++)
		if (str_eq(ctx->swaps.v[i], d->devnode))
			refuse(c, PB_REASON_SWAP, "%s is active swap (%s)", desc, ctx->swaps.v[i]);

	if (!str_empty(d->holders))
		refuse(c, PB_REASON_HOLDERS,
		       "%s is held by %s (device mapper, md or LVM on top of it)", desc,
		       d->holders);
	unsigned counted = 0;
	for (int r = 0; r < PB_REASON__MAX; r++)
		counted += c->per_reason[r];
	return c->v->n > before || counted > counted_before;
}

/*
 * The exclusive-open probe catches claims the checks above cannot name (a btrfs filesystem over
 * several devices, ZFS, bcache, a process holding it O_EXCL). A whole disk is busy whenever one
 * of its partitions is claimed, so a disk is only reported when no partition explains it.
 */
static void check_block_claims(struct check *c, const bool *specific)
{
	bool partition_explains = false;
	for (size_t i = 0; i < c->n; i++) {
		const struct pb_policy_dev *d = &c->devs[i];
		if (str_eq(d->subsystem, "block") && str_eq(d->devtype, "partition") &&
		    (specific[i] || d->excl_open_err == -EBUSY))
			partition_explains = true;
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct pb_policy_dev *d = &c->devs[i];
		if (!str_eq(d->subsystem, "block") || specific[i] || d->excl_open_err == 0)
			continue;
		char desc[112];
		describe(c, d, desc, sizeof(desc));
		if (d->excl_open_err == -EBUSY) {
			if (str_eq(d->devtype, "disk") && partition_explains)
				continue;
			refuse(
			    c, PB_REASON_HOLDERS,
			    "%s is claimed by something else (an exclusive open fails: %s), e.g. "
			    "a multi-device filesystem, ZFS, bcache or a process",
			    desc, "EBUSY");
		} else if (d->excl_open_err == -EACCES || d->excl_open_err == -EPERM) {
			refuse(c, PB_REASON_HOLDERS,
			       "%s cannot be shown unclaimed (an exclusive open fails: %s)", desc,
			       d->excl_open_err == -EACCES ? "EACCES" : "EPERM");
		}
	}
}

/* 9p and virtiofs mounts name their virtio device by its tag, not by a device number. */
static void check_shared_fs(struct check *c, const struct pb_policy_dev *d, const char *desc)
{
	for (size_t i = 0; i < c->ctx->mounts.n; i++) {
		const struct mount_ent *m = &c->ctx->mounts.v[i];
		if ((strcmp(m->fstype, "9p") == 0 || strcmp(m->fstype, "virtiofs") == 0) &&
		    str_eq(m->source, d->fs_tag)) {
			refuse(c, PB_REASON_MOUNTED, "%s is mounted on %s (%s, tag %s)", desc,
			       m->target, m->fstype, d->fs_tag);
			if (strcmp(m->target, "/") == 0)
				refuse(c, PB_REASON_ROOT_DISK,
				       "%s carries the root filesystem (%s, tag %s)", desc,
				       m->fstype, d->fs_tag);
		}
	}
}

static const struct link_ent *find_link(const struct pb_policy_ctx *ctx, int ifindex)
{
	for (size_t i = 0; i < ctx->links.n; i++)
		if (ctx->links.v[i].ifindex == ifindex)
			return &ctx->links.v[i];
	return NULL;
}

static bool addr_counts(const struct addr_ent *a)
{
	/* Global and site scope; link-local and host addresses come with every up interface. */
	return a->scope < RT_SCOPE_LINK;
}

static bool route_counts(const struct pb_policy_route *r)
{
	/* The local table only mirrors the interface's own addresses (already counted). */
	if (r->table == RT_TABLE_LOCAL)
		return false;
	if (r->type != RTN_UNICAST)
		return false;
	/* fe80::/64 (and any fe80::/10 route) is created for every up IPv6 interface. */
	if (r->family == AF_INET6 && r->dst_len >= 10 && r->dst[0] == 0xfe &&
	    (r->dst[1] & 0xc0) == 0x80)
		return false;
	return true;
}

static int route_rank(const struct pb_policy_route *r)
{
	return (r->dst_len == 0 ? 2 : 0) + (r->table == RT_TABLE_MAIN ? 1 : 0);
}

static void table_name(uint32_t table, char *buf, size_t size)
{
	switch (table) {
	case RT_TABLE_MAIN:
		snprintf(buf, size, "main");
		break;
	case RT_TABLE_DEFAULT:
		snprintf(buf, size, "default");
		break;
	case RT_TABLE_LOCAL:
		snprintf(buf, size, "local");
		break;
	default:
		snprintf(buf, size, "%u", table);
	}
}

static void format_route(const struct pb_policy_route *r, const char *ifname, char *buf,
			 size_t size)
{
	char tbl[16], dst[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN];
	table_name(r->table, tbl, sizeof(tbl));
	if (r->dst_len == 0)
		snprintf(dst, sizeof(dst), "default");
	else if (!inet_ntop(r->family, r->dst, dst, sizeof(dst)))
		snprintf(dst, sizeof(dst), "?");
	if (r->oif == -1)
		snprintf(buf, size,
			 "table %s: %s%s%.0u via a nexthop object the dump does not resolve", tbl,
			 dst, r->dst_len ? "/" : "", r->dst_len);
	else if (r->has_gateway && inet_ntop(r->family, r->gateway, gw, sizeof(gw)))
		snprintf(buf, size, "table %s: %s%s%.0u via %s", tbl, dst, r->dst_len ? "/" : "",
			 r->dst_len, gw);
	else
		snprintf(buf, size, "table %s: %s%s%.0u dev %s", tbl, dst, r->dst_len ? "/" : "",
			 r->dst_len, ifname);
}

/*
 * Writes why the interface is in use into buf ("is up with ..."), or returns false when it is not.
 * Stacked interfaces (vlan, macvlan: IFLA_LINK) that are in use make their lower one in use.
 */
static bool link_in_use(const struct pb_policy_ctx *ctx, const struct link_ent *l, int depth,
			char *buf, size_t size)
{
	if (l->master) {
		const struct link_ent *m = find_link(ctx, l->master);
		char mname[IFNAMSIZ + 16];
		if (m)
			snprintf(mname, sizeof(mname), "%s", m->name);
		else
			snprintf(mname, sizeof(mname), "ifindex %d", l->master);
		snprintf(buf, size, "is a member of %s (bond, bridge or team)", mname);
		return true;
	}
	if (l->flags & IFF_UP) {
		unsigned n_addr = 0, n_route = 0;
		char addrs[96] = "", route[112] = "";
		size_t alen = 0;
		for (size_t i = 0; i < ctx->addrs.n; i++) {
			const struct addr_ent *a = &ctx->addrs.v[i];
			if (a->ifindex != l->ifindex || !addr_counts(a))
				continue;
			char s[INET6_ADDRSTRLEN];
			if (n_addr < 2 && inet_ntop(a->family, a->addr, s, sizeof(s)) &&
			    alen < sizeof(addrs)) {
				int w = snprintf(addrs + alen, sizeof(addrs) - alen, "%s%s/%u",
						 n_addr ? " " : "", s, a->prefixlen);
				alen += w > 0 ? (size_t)w : 0;
			}
			n_addr++;
		}
		const struct pb_policy_route *example = NULL;
		for (size_t i = 0; i < ctx->routes.n; i++) {
			const struct pb_policy_route *r = &ctx->routes.v[i];
			/* A route through an unresolved nexthop object may use any interface. */
			if ((r->oif != l->ifindex && r->oif != -1) || !route_counts(r))
				continue;
			/* The example shown: a default route first, then one of the main table. */
			if (!example || route_rank(r) > route_rank(example))
				example = r;
			n_route++;
		}
		if (example)
			format_route(example, l->name, route, sizeof(route));
		if (n_addr || n_route) {
			char a_part[128] = "", r_part[140] = "";
			if (n_addr)
				snprintf(a_part, sizeof(a_part), "%u address%s (%s%s)", n_addr,
					 n_addr == 1 ? "" : "es", addrs, n_addr > 2 ? " ..." : "");
			if (n_route)
				snprintf(r_part, sizeof(r_part), "%u route%s (%s)", n_route,
					 n_route == 1 ? "" : "s", route);
			snprintf(buf, size, "is up with %s%s%s", a_part,
				 n_addr && n_route ? " and " : "", r_part);
			return true;
		}
	}
	if (depth >= UPPER_DEPTH_MAX)
		return false;
	for (size_t i = 0; i < ctx->links.n; i++) {
		const struct link_ent *u = &ctx->links.v[i];
		if (u->link != l->ifindex || u == l)
			continue;
		char inner[200];
		if (link_in_use(ctx, u, depth + 1, inner, sizeof(inner))) {
			snprintf(buf, size, "carries %s, which %s", u->name, inner);
			return true;
		}
	}
	return false;
}

static void check_net(struct check *c, const struct pb_policy_dev *d, const char *desc)
{
	const struct link_ent *l = find_link(c->ctx, d->ifindex);
	if (!l) {
		/* In sysfs but not in the rtnetlink dump: it appeared after the snapshot. Deny. */
		refuse(c, PB_REASON_NET_ACTIVE,
		       "%s is not in the network snapshot (ifindex %d); its state is unknown", desc,
		       d->ifindex);
		return;
	}
	char why[224];
	if (link_in_use(c->ctx, l, 0, why, sizeof(why)))
		refuse(c, PB_REASON_NET_ACTIVE, "%s %s", desc, why);
}

static void check_tty(struct check *c, const struct pb_policy_dev *d, const char *desc)
{
	const struct pb_policy_ctx *ctx = c->ctx;
	for (size_t i = 0; i < ctx->consoles.n; i++) {
		const struct console_ent *k = &ctx->consoles.v[i];
		bool by_num =
		    k->has_devnum && devnum_set(d) && k->major == d->major && k->minor == d->minor;
		if (by_num || str_eq(k->name, d->name)) {
			refuse(c, PB_REASON_CONSOLE, "%s is an active console (%s)", desc, k->name);
			return;
		}
	}
	if (!devnum_set(d))
		return;
	for (size_t i = 0; i < ctx->chrs.n; i++) {
		const struct chr_ent *o = &ctx->chrs.v[i];
		if (o->major != d->major || o->minor != d->minor)
			continue;
		if (o->n_openers > 1)
			refuse(c, PB_REASON_CONSOLE,
			       "%s is open by pid %d (%s) and %u more processes", desc, o->pid,
			       o->comm, o->n_openers - 1);
		else
			refuse(c, PB_REASON_CONSOLE, "%s is open by pid %d (%s)", desc, o->pid,
			       o->comm);
		return;
	}
	if (ctx->unreadable_fds)
		refuse(
		    c, PB_REASON_CONSOLE,
		    "%s cannot be shown unused: the open files of %u processes could not be read",
		    desc, ctx->unreadable_fds);
}

static bool console_is_hvc(const struct pb_policy_ctx *ctx, const char **name)
{
	for (size_t i = 0; i < ctx->consoles.n; i++)
		if (strncmp(ctx->consoles.v[i].name, "hvc", 3) == 0) {
			*name = ctx->consoles.v[i].name;
			return true;
		}
	return false;
}

static void check_vsock(struct check *c, const struct pb_policy_dev *d, const char *desc)
{
	/* Every vsock transport driver in the kernel carries "vsock" in its name
	 * (vmw_vsock_virtio_transport, vmw_vsock_vmci_transport, vhost_vsock); the VMCI device
	 * (vmw_vmci) is the transport's device on VMware; an unbound virtio socket device is
	 * recognized by its virtio device type. */
	if (d->driver && (strstr(d->driver, "vsock") || strcmp(d->driver, "vmw_vmci") == 0))
		refuse(c, PB_REASON_VSOCK, "%s is a vsock transport (bound to %s)", desc,
		       d->driver);
	else if (str_eq(d->subsystem, "virtio") && d->virtio_type == VIRTIO_TYPE_VSOCK)
		refuse(c, PB_REASON_VSOCK, "%s is a virtio socket device (virtio type %d, vsock)",
		       desc, VIRTIO_TYPE_VSOCK);
}

/*
 * A memory balloon is how the host (hypervisor) takes memory back from this guest and gives it
 * again: unbinding its driver deflates the balloon at once (every page the host reclaimed comes
 * back to the guest while the host may have lent it elsewhere) and leaves the host without
 * control of this machine's memory until the rebind.
 */
static void check_balloon(struct check *c, const struct pb_policy_dev *d, const char *desc)
{
	static const char *const drivers[] = {"virtio_balloon", "vmw_balloon", "hv_balloon",
					      "xen-balloon"};
	for (size_t i = 0; d->driver && i < PB_ARRAY_SIZE(drivers); i++)
		if (strcmp(d->driver, drivers[i]) == 0) {
			refuse(c, PB_REASON_BALLOON, "%s is a memory balloon (bound to %s)", desc,
			       d->driver);
			return;
		}
	if (str_eq(d->subsystem, "virtio") && d->virtio_type == VIRTIO_TYPE_BALLOON)
		refuse(c, PB_REASON_BALLOON,
		       "%s is a virtio memory balloon device (virtio type %d)", desc,
		       VIRTIO_TYPE_BALLOON);
}

static const char *bridge_kind(long cls)
{
	switch ((cls >> 8) & 0xff) {
	case 0x00:
		return "host bridge";
	case 0x01:
		return "ISA bridge";
	case 0x04:
		return "PCI-to-PCI bridge";
	case 0x07:
		return "CardBus bridge";
	default:
		return "bridge";
	}
}

static void check_pci(struct check *c, const struct pb_policy_dev *d, const char *desc)
{
	if (d->pci_class >= 0 && ((d->pci_class >> 16) & 0xff) == 0x06)
		refuse(c, PB_REASON_BRIDGE, "%s is a %s (class 0x%06lx)", desc,
		       bridge_kind(d->pci_class), d->pci_class);
	/* VFs are siblings in sysfs, not children; the PF's driver takes them away on unbind. */
	if (d->sriov_numvfs > 0)
		refuse(c, PB_REASON_BRIDGE,
		       "%s has %d SR-IOV virtual functions enabled (unbinding it removes them)",
		       desc, d->sriov_numvfs);
	if (d->boot_vga == 1)
		refuse(c, PB_REASON_BOOT_VGA, "%s is the boot VGA device (boot_vga=1)", desc);
	if (d != &c->devs[0])
		refuse(c, PB_REASON_BRIDGE, "%s is a PCI function behind it", desc);
}

int pb_policy_check_devs(const struct pb_policy_ctx *ctx, const struct pb_policy_dev *devs,
			 size_t n, struct pb_verdict *ret)
{
	if (!ctx || !devs || n == 0 || !ret)
		return -EINVAL;
	struct pb_verdict v = {0};
	struct check c = {.ctx = ctx, .devs = devs, .n = n, .v = &v};
	const char *hvc = NULL;
	bool hvc_reported = false;
	_cleanup_free_ bool *specific = calloc(n, sizeof(bool));
	if (!specific)
		return -ENOMEM;

	if (str_empty(devs[0].driver))
		refuse(&c, PB_REASON_NO_DRIVER, "%s has no driver bound: nothing to cycle",
		       devs[0].name);

	for (size_t i = 0; i < n; i++) {
		const struct pb_policy_dev *d = &devs[i];
		if (str_empty(d->name))
			return -EINVAL;
		char desc[112];
		describe(&c, d, desc, sizeof(desc));
		if (str_eq(d->subsystem, "block"))
			specific[i] = check_block(&c, d, desc);
		else if (str_eq(d->subsystem, "net"))
			check_net(&c, d, desc);
		else if (str_eq(d->subsystem, "tty") || str_eq(d->subsystem, "virtio-ports"))
			check_tty(&c, d, desc);
		else if (str_eq(d->subsystem, "pci"))
			check_pci(&c, d, desc);
		check_vsock(&c, d, desc);
		check_balloon(&c, d, desc);
		if (str_eq(d->subsystem, "virtio") && !str_empty(d->fs_tag))
			check_shared_fs(&c, d, desc);
		/* hvc consoles are virtual devices, not below the virtio console function. */
		if (str_eq(d->driver, "virtio_console") && !hvc_reported &&
		    console_is_hvc(ctx, &hvc)) {
			refuse(&c, PB_REASON_CONSOLE,
			       "%s is a virtio console and %s is an active console", desc, hvc);
			hvc_reported = true;
		}
	}

	check_block_claims(&c, specific);

	for (int r = 0; r < PB_REASON__MAX; r++) {
		if (c.per_reason[r] <= PER_REASON_MAX)
			continue;
		char *det = v.refusals[c.last_of_reason[r]].detail;
		size_t len = strlen(det), room = sizeof(v.refusals[0].detail) - 24;
		if (len > room)
			det[len = room] = '\0';
		snprintf(det + len, sizeof(v.refusals[0].detail) - len, " (+%u more)",
			 c.per_reason[r] - PER_REASON_MAX);
	}
	*ret = v;
	return 0;
}
