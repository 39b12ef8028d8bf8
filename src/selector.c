// SPDX-License-Identifier: GPL-2.0-or-later
/* Selectors: parsing (libpci's own slot and id filter parsers) and matching. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pci/pci.h>

#include "probebench/inventory.h"
#include "probebench/paths.h"
#include "probebench/selector.h"

const char *pb_selector_kind_name(enum pb_selector_kind kind)
{
	switch (kind) {
	case PB_SEL_SLOT:
		return "slot";
	case PB_SEL_ID:
		return "id";
	case PB_SEL_DRIVER:
		return "driver";
	case PB_SEL_PATH:
		return "path";
	case PB_SEL_NAME:
		return "name";
	}
	return "?";
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_hex_or_wild(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '*' && s[i] != 'x' && s[i] != 'X')
			return false;
	return true;
}

static int parse_slot(const char *s, const char *given, struct pb_selector *sel, char *err,
		      size_t errlen)
{
	struct pci_filter f;
	char buf[PATH_MAX];
	if (!*s)
		return fail(err, errlen, "empty PCI address in '%s'", given);
	snprintf(buf, sizeof(buf), "%s", s);
	pci_filter_init(NULL, &f);
	const char *e = pci_filter_parse_slot(&f, buf);
	if (e) {
		/* A word ("virtio-pci.1") is more likely a driver name than a mistyped address. */
		bool word = strpbrk(s, "_-") != NULL;
		for (size_t i = 0, run = 0; s[i] && !word; i++) {
			run = isalpha((unsigned char)s[i]) ? run + 1 : 0;
			word = run >= 3;
		}
		return fail(
		    err, errlen,
		    "malformed PCI address '%s': %s (expected [[DOMAIN:]BUS:]DEVICE.FUNCTION "
		    "in hex, e.g. 0000:00:05.0%s)",
		    given, e, word ? "; a driver name with a '.' is written driver:NAME" : "");
	}
	sel->kind = PB_SEL_SLOT;
	sel->domain = f.domain;
	sel->bus = f.bus;
	sel->slot = f.slot;
	sel->func = f.func;
	return 0;
}

static int parse_id(const char *s, const char *given, struct pb_selector *sel, char *err,
		    size_t errlen)
{
	struct pci_filter f;
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", s);
	pci_filter_init(NULL, &f);
	const char *e = pci_filter_parse_id(&f, buf);
	if (e)
		return fail(err, errlen,
			    "malformed vendor:device id '%s': %s (expected VENDOR:DEVICE[:CLASS"
			    "[:PROG_IF]] in hex, e.g. 1af4:1044)",
			    given, e);
	sel->kind = PB_SEL_ID;
	sel->vendor = f.vendor;
	sel->device = f.device;
	sel->device_class = f.device_class;
	sel->class_mask = f.device_class_mask;
	sel->prog_if = f.prog_if;
	return 0;
}

static bool valid_driver_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-+.", *s))
			return false;
	return true;
}

int pb_selector_parse(const char *s, struct pb_selector *ret, char *err, size_t errlen)
{
	struct pb_selector sel = {0};
	const char *v;
	int r;

	if (!s || !*s)
		return fail(err, errlen, "empty selector");
	if (strlen(s) >= sizeof(sel.value))
		return fail(err, errlen, "selector too long (%zu characters)", strlen(s));
	size_t tl = strlen(s) < sizeof(sel.text) ? strlen(s) : sizeof(sel.text) - 1;
	memcpy(sel.text, s, tl); /* shortened in messages only */
	sel.text[tl] = '\0';
	sel.domain = sel.bus = sel.slot = sel.func = -1;
	sel.vendor = sel.device = sel.device_class = sel.prog_if = -1;
	sel.class_mask = ~0u;

	if ((v = strncmp(s, "slot:", 5) == 0 ? s + 5 : NULL)) {
		r = parse_slot(v, s, &sel, err, errlen);
	} else if ((v = strncmp(s, "id:", 3) == 0 ? s + 3 : NULL)) {
		r = parse_id(v, s, &sel, err, errlen);
	} else if ((v = strncmp(s, "driver:", 7) == 0 ? s + 7 : NULL)) {
		if (!valid_driver_name(v))
			return fail(err, errlen,
				    "malformed driver name '%s': use letters, digits, '_', '-', "
				    "'+' and '.'",
				    s);
		sel.kind = PB_SEL_DRIVER;
		snprintf(sel.value, sizeof(sel.value), "%s", v);
		r = 0;
	} else if ((v = strncmp(s, "name:", 5) == 0 ? s + 5 : NULL)) {
		if (!*v || strchr(v, '/'))
			return fail(err, errlen, "malformed device name '%s': a sysname has no '/'",
				    s);
		sel.kind = PB_SEL_NAME;
		snprintf(sel.value, sizeof(sel.value), "%s", v);
		r = 0;
	} else if ((v = strncmp(s, "path:", 5) == 0 ? s + 5 : NULL) || s[0] == '/') {
		const char *p = v ? v : s;
		if (p[0] != '/')
			return fail(err, errlen, "malformed sysfs path '%s': must be absolute", s);
		sel.kind = PB_SEL_PATH;
		snprintf(sel.value, sizeof(sel.value), "%s", p);
		/* Trailing slashes do not change the device. */
		for (size_t l = strlen(sel.value); l > 1 && sel.value[l - 1] == '/'; l--)
			sel.value[l - 1] = '\0';
		r = 0;
	} else if (strchr(s, '.') && strchr(s, ':')) {
		r = parse_slot(s, s, &sel, err, errlen);
	} else if (strchr(s, ':')) {
		const char *colon = strchr(s, ':');
		size_t l1 = colon - s;
		const char *rest = colon + 1;
		size_t l2 = strcspn(rest, ":");
		if (l1 <= 2 && l2 <= 2 && rest[l2] == '\0' && is_hex_or_wild(s, l1) &&
		    is_hex_or_wild(rest, l2))
			return fail(err, errlen,
				    "ambiguous selector '%s': write slot:%s for a PCI address, or "
				    "id:%s for a vendor:device id",
				    s, s, s);
		r = parse_id(s, s, &sel, err, errlen);
	} else if (strchr(s, '.')) {
		/* "05.0": a device and function on any bus, as lspci -s takes it. */
		r = parse_slot(s, s, &sel, err, errlen);
	} else if (valid_driver_name(s)) {
		sel.kind = PB_SEL_DRIVER;
		sel.or_name = true;
		snprintf(sel.value, sizeof(sel.value), "%s", s);
		r = 0;
	} else {
		return fail(err, errlen,
			    "malformed selector '%s': not a PCI address (0000:00:05.0), a "
			    "vendor:device id (1af4:1044), a driver name or a sysfs path",
			    s);
	}
	if (r < 0)
		return r;
	*ret = sel;
	return 0;
}

/* Driver names: '-' and '_' are the same, as for module names. */
static bool driver_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

bool pb_selector_match(const struct pb_selector *sel, const struct pb_device *dev)
{
	const struct pb_pci_info *p = dev->pci;
	switch (sel->kind) {
	case PB_SEL_SLOT:
		return p && (sel->domain < 0 || sel->domain == p->domain) &&
		       (sel->bus < 0 || (unsigned)sel->bus == p->bus) &&
		       (sel->slot < 0 || (unsigned)sel->slot == p->dev) &&
		       (sel->func < 0 || (unsigned)sel->func == p->func);
	case PB_SEL_ID:
		return p && (sel->vendor < 0 || sel->vendor == p->vendor_id) &&
		       (sel->device < 0 || sel->device == p->device_id) &&
		       (sel->device_class < 0 ||
			!(((unsigned)sel->device_class ^ p->class_id) & sel->class_mask)) &&
		       (sel->prog_if < 0 || sel->prog_if == p->prog_if);
	case PB_SEL_DRIVER:
		return (dev->driver && driver_eq(dev->driver, sel->value)) ||
		       (sel->or_name && strcmp(dev->sysname, sel->value) == 0);
	case PB_SEL_NAME:
		return strcmp(dev->sysname, sel->value) == 0;
	case PB_SEL_PATH:
		return strcmp(dev->syspath, sel->value) == 0 ||
		       strcmp(dev->devpath, sel->value) == 0;
	}
	return false;
}

void pb_selector_resolve_path(struct pb_selector *sel)
{
	char real[PATH_MAX];
	if (sel->kind != PB_SEL_PATH)
		return;
	if (pb_realpath(PB_ROOT_SYS, real, "%s", sel->value) == 0)
		snprintf(sel->value, sizeof(sel->value), "%s", real);
}

struct select_ctx {
	const struct pb_selector *sels;
	size_t n_sels;
	bool *hit;
	struct pb_device **out;
	size_t n_out, cap;
	int err;
};

static int select_cb(struct pb_device *dev, void *userdata)
{
	struct select_ctx *c = userdata;
	bool any = false;
	for (size_t i = 0; i < c->n_sels; i++)
		if (pb_selector_match(&c->sels[i], dev)) {
			c->hit[i] = true;
			any = true;
		}
	if (!any)
		return 0;
	if (c->n_out == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct pb_device **o = realloc(c->out, cap * sizeof(*o));
		if (!o) {
			c->err = -ENOMEM;
			return 1;
		}
		c->out = o;
		c->cap = cap;
	}
	c->out[c->n_out++] = dev;
	return 0;
}

int pb_inventory_select(const struct pb_inventory *inv, const struct pb_selector *sels,
			size_t n_sels, struct pb_device ***ret_devices, size_t *ret_n,
			size_t *ret_unmatched)
{
	struct pb_selector *copy = calloc(n_sels ? n_sels : 1, sizeof(*copy));
	bool *hit = calloc(n_sels ? n_sels : 1, sizeof(*hit));
	if (!copy || !hit) {
		free(copy);
		free(hit);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_sels; i++) {
		copy[i] = sels[i];
		pb_selector_resolve_path(&copy[i]);
	}
	struct select_ctx c = {.sels = copy, .n_sels = n_sels, .hit = hit};
	pb_inventory_foreach(inv, select_cb, &c);
	int r = c.err;
	for (size_t i = 0; r == 0 && i < n_sels; i++)
		if (!hit[i]) {
			if (ret_unmatched)
				*ret_unmatched = i;
			r = -ENOENT;
		}
	free(copy);
	free(hit);
	if (r < 0) {
		free(c.out);
		return r;
	}
	*ret_devices = c.out;
	*ret_n = c.n_out;
	return 0;
}

int pb_inventory_resolve(const struct pb_inventory *inv, const char *const *targets,
			 size_t n_targets, struct pb_device ***ret_devices, size_t *ret_n,
			 char *err, size_t errlen)
{
	struct pb_selector *sels = calloc(n_targets ? n_targets : 1, sizeof(*sels));
	if (!sels)
		return -ENOMEM;
	int r = 0;
	for (size_t i = 0; r == 0 && i < n_targets; i++)
		r = pb_selector_parse(targets[i], &sels[i], err, errlen);
	if (r == 0) {
		size_t bad = 0;
		r = pb_inventory_select(inv, sels, n_targets, ret_devices, ret_n, &bad);
		if (r == -ENOENT && err && errlen) {
			const struct pb_selector *s = &sels[bad];
			const char *hint = "";
			if (s->kind == PB_SEL_DRIVER && s->or_name)
				hint = " (no device has that name or is bound to a driver of that "
				       "name)";
			else if (s->kind == PB_SEL_DRIVER)
				hint = " (no device is bound to a driver of that name)";
			else if (s->kind == PB_SEL_PATH)
				hint = " (not a PCI function or a device below one)";
			snprintf(err, errlen, "selector '%s' (%s) matches no device%s", s->text,
				 pb_selector_kind_name(s->kind), hint);
		}
	}
	free(sels);
	return r;
}
