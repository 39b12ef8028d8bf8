// SPDX-License-Identifier: GPL-2.0-or-later
/* probebench list [--json] [SELECTOR...] */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <json-c/json.h>

#include "probebench/cmd.h"
#include "probebench/inventory.h"
#include "probebench/log.h"
#include "probebench/paths.h"
#include "probebench/policy.h"
#include "probebench/selector.h"

static void help(FILE *f)
{
	fprintf(
	    f,
	    "Usage: probebench list [--json] [SELECTOR...]\n\n"
	    "Shows every PCI function (libpci), the devices below each one (libudev) with their\n"
	    "drivers, device nodes, network interfaces and block devices, each device's NUMA\n"
	    "node (own numa_node attribute, or inherited from the nearest ancestor that has one),\n"
	    "and the NUMA topology (libnuma). Reads only; never writes anything.\n\n"
	    "With selectors, shows the functions that contain a matching device and marks the\n"
	    "matches with '*' (\"selected\": true in JSON). Selectors:\n"
	    "  0000:00:05.0, 00:05.0   PCI address (libpci slot filter; needs the '.')\n"
	    "  1af4:1044               vendor:device[:class[:prog_if]] (libpci id filter)\n"
	    "  virtio_rng              every device bound to this driver ('-' equals '_')\n"
	    "  /sys/...                a sysfs path of a function or of a device below one\n"
	    "  slot:, id:, driver:, path:   prefixes that force the kind\n\n"
	    "Options:\n"
	    "  -j, --json    print a JSON document (schema/inventory.schema.json)\n"
	    "  -h, --help    show this help\n\n"
	    "Each device shows the safety policy's verdict: \"may cycle\", or \"refused\" with\n"
	    "its reasons (mounted, root-disk, swap, holders, net-active, vsock, console, "
	    "boot-vga,\n"
	    "bridge, balloon, no-driver); the text output explains each refusal of a bound "
	    "device,\n"
	    "the JSON carries them under \"safety\" (doc/safety.md).\n\n"
	    "Exit status: 0 listed; 1 something could not be read (named on stderr);\n"
	    "2 bad option, malformed selector, or a selector that matches nothing.\n");
}

/* The safety verdict of every device shown, computed against one snapshot of the system. */
struct safety {
	struct pb_policy_ctx *ctx;
	const struct pb_inventory *inv; /* the listing's: each verdict's subtree comes from it */
	FILE *details;			/* text output: refusal details, printed after the tree */
	unsigned width;
	/* every device's verdict, taken together (each device read once): sorted by pointer */
	const struct pb_device **devs;
	struct pb_verdict *verdicts;
	int *errs;
	size_t n;
};

static int cmp_dev(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (const void *const *)a,
		  y = (uintptr_t) * (const void *const *)b;
	return x < y ? -1 : x > y;
}

static int add_devs(struct safety *s, const struct pb_device *dev)
{
	const struct pb_device **d = realloc(s->devs, (s->n + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	s->devs = d;
	d[s->n++] = dev;
	for (size_t i = 0; i < dev->n_children; i++) {
		int r = add_devs(s, dev->children[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The verdicts of every device of the listing; without them each is taken when shown. */
static void safety_check_all(struct safety *s)
{
	int r = 0;
	for (size_t i = 0; i < s->inv->n_functions && r >= 0; i++)
		r = add_devs(s, s->inv->functions[i]);
	if (r >= 0) {
		qsort(s->devs, s->n, sizeof(*s->devs), cmp_dev);
		s->verdicts = calloc(s->n ? s->n : 1, sizeof(*s->verdicts));
		s->errs = calloc(s->n ? s->n : 1, sizeof(*s->errs));
		r = s->verdicts && s->errs ? 0 : -ENOMEM;
	}
	if (r >= 0)
		r = pb_policy_check_many(s->ctx, s->inv, s->devs, s->n, s->verdicts, s->errs);
	if (r < 0) {
		free(s->devs);
		free(s->verdicts);
		free(s->errs);
		s->devs = NULL;
		s->verdicts = NULL;
		s->errs = NULL;
		s->n = 0;
	}
}

static void safety_free(struct safety *s)
{
	free(s->devs);
	free(s->verdicts);
	free(s->errs);
	pb_policy_ctx_free(s->ctx);
}

/* Prints text indented, broken at spaces so that no line is wider than width. */
static void print_folded(FILE *f, const char *text, unsigned indent, unsigned width)
{
	size_t avail = width > indent + 20 ? width - indent : 20;
	while (*text) {
		size_t len = strlen(text);
		if (len > avail) {
			len = avail;
			while (len > 0 && text[len] != ' ')
				len--;
			if (len == 0)
				len = avail; /* one long word: cut it */
		}
		fprintf(f, "%*s%.*s\n", (int)indent, "", (int)len, text);
		text += len;
		while (*text == ' ')
			text++;
	}
}

static int device_verdict(struct safety *s, const struct pb_device *dev, struct pb_verdict *v)
{
	if (!s->ctx)
		return -ENOTSUP;
	const struct pb_device **k =
	    s->n ? bsearch(&dev, s->devs, s->n, sizeof(*s->devs), cmp_dev) : NULL;
	if (!k)
		return pb_policy_check(s->ctx, s->inv, dev, v);
	*v = s->verdicts[k - s->devs];
	return s->errs[k - s->devs];
}

static void decorate_json(const struct pb_device *dev, struct json_object *obj, void *userdata)
{
	struct pb_verdict v;
	if (device_verdict(userdata, dev, &v) < 0)
		return;
	struct json_object *j = pb_verdict_to_json(&v, 0);
	if (j)
		json_object_object_add(obj, "safety", j);
}

static void decorate_text(const struct pb_device *dev, char *buf, size_t size, void *userdata)
{
	struct safety *s = userdata;
	struct pb_verdict v;
	if (device_verdict(s, dev, &v) < 0)
		return;
	if (pb_verdict_allowed(&v, 0)) {
		snprintf(buf, size, "(may cycle)");
		return;
	}
	size_t len = (size_t)snprintf(buf, size, "(refused:");
	for (size_t i = 0; i < v.n && len < size; i++) {
		const char *name = pb_reason_name(v.refusals[i].reason);
		if (i == 0 || v.refusals[i - 1].reason != v.refusals[i].reason)
			len += snprintf(buf + len, size - len, "%s%s", i ? "," : " ", name);
	}
	if (len < size)
		snprintf(buf + len, size - len, ")");
	/* A device with no driver is self-explanatory; the details matter for bound ones. */
	if (dev->driver && s->details)
		for (size_t i = 0; i < v.n; i++) {
			fprintf(s->details, "  %s %s:\n", dev->sysname,
				pb_reason_name(v.refusals[i].reason));
			print_folded(s->details, v.refusals[i].detail, 6, s->width);
		}
}

static unsigned term_width(void)
{
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 60)
		return ws.ws_col < 100 ? ws.ws_col : 100;
	return 100;
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) >= 0) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			help(stdout);
			return PB_EXIT_OK;
		default:
			fprintf(stderr, "Try 'probebench list --help'.\n");
			return PB_EXIT_USAGE;
		}
	}

	size_t n_sels = argc - optind;
	const char *const *targets = (const char *const *)argv + optind;
	char err[1024] = "";
	/* Malformed selectors are reported before anything is read. */
	for (size_t i = 0; i < n_sels; i++) {
		struct pb_selector s;
		if (pb_selector_parse(targets[i], &s, err, sizeof(err)) < 0) {
			pb_error("%s", err);
			return PB_EXIT_USAGE;
		}
	}

	struct pb_inventory *inv = NULL;
	int r = pb_inventory_load(&inv, err, sizeof(err));
	if (r < 0) {
		pb_error("cannot list devices: %s", err[0] ? err : strerror(-r));
		return PB_EXIT_FAILURE;
	}
	for (size_t i = 0; i < inv->n_warnings; i++)
		pb_warn("%s", inv->warnings[i]);

	struct pb_inventory_view view = {0};
	struct pb_device **sel = NULL;
	if (n_sels) {
		size_t n = 0;
		r = pb_inventory_resolve(inv, targets, n_sels, &sel, &n, err, sizeof(err));
		if (r == -EINVAL || r == -ENOENT) {
			pb_error("%s", err);
			pb_inventory_free(inv);
			return PB_EXIT_USAGE;
		}
		if (r < 0) {
			pb_error_errno(r, "selecting devices");
			pb_inventory_free(inv);
			return PB_EXIT_FAILURE;
		}
		view.selected = sel;
		view.n_selected = n;
	}

	/* The verdicts `run` would give: under a fixture root the policy walks the fixture's tree
	 * as run does (libudev reads only the real /sys). */
	struct safety safety = {.inv = inv};
	r = pb_policy_ctx_new(&safety.ctx);
	if (r < 0)
		pb_warn("safety verdicts not shown: cannot snapshot the system state: %s",
			strerror(-r));
	else if (!n_sels)
		safety_check_all(&safety); /* all are shown: each device is read once */
	view.decorate_json = decorate_json;
	view.decorate_text = decorate_text;
	view.userdata = &safety;

	int ret = PB_EXIT_OK;
	if (json) {
		struct json_object *doc = pb_inventory_to_json(inv, &view);
		if (!doc) {
			pb_error_errno(-ENOMEM, "building JSON");
			ret = PB_EXIT_FAILURE;
		} else {
			puts(json_object_to_json_string_ext(
			    doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(doc);
		}
	} else {
		char *details = NULL;
		size_t details_len = 0;
		safety.details = open_memstream(&details, &details_len);
		safety.width = term_width();
		pb_inventory_print(stdout, inv, &view, safety.width);
		if (safety.details) {
			fclose(safety.details);
			if (details_len)
				printf("\nWhy bound devices are refused (safety policy; "
				       "--force=REASON "
				       "lifts one reason in run):\n%s",
				       details);
		}
		free(details);
	}
	safety_free(&safety);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		pb_error_errno(-errno, "writing the listing");
		ret = PB_EXIT_FAILURE;
	}
	free(sel);
	pb_inventory_free(inv);
	return ret;
}
