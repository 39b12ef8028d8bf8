// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The part of pci.ids that names the functions being listed. libpci reads and hashes the whole
 * file (some 36,000 lines) at the first name lookup, which was the largest single cost of `list`
 * and of lspci. The lines a lookup can reach are few: the line of each vendor and subsystem
 * vendor, the lines of each function's vendor:device with its subsystems, the generic subsystem
 * block (`S`) of each subsystem vendor and the class block (`C`) of each base class. Those lines,
 * copied in the file's order into a memory file that libpci then reads instead, give libpci's own
 * parser and lookups (hwdb fallback included) the same answers as the whole file.
 *
 * Lines are classified as libpci's parser does: blank lines and comments are skipped whatever
 * their indent, the number of leading tabs is the nesting. A top-level line or a device line of
 * a kept vendor that cannot be read is kept, so libpci reports it as it would in the whole file;
 * a malformed line in a part that is not copied goes unseen. Unknown blocks (another capital
 * letter and a space) are skipped, as libpci skips them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inventory_internal.h"

void pb_pci_ids_want_vendor(struct pb_pci_ids_want *w, unsigned id)
{
	if (id <= 0xffff)
		w->vendor[id / 8] |= (unsigned char)(1u << (id % 8));
}

void pb_pci_ids_want_class(struct pb_pci_ids_want *w, unsigned id)
{
	if (id <= 0xff)
		w->class_[id / 8] |= (unsigned char)(1u << (id % 8));
}

int pb_pci_ids_want_device(struct pb_pci_ids_want *w, unsigned vendor, unsigned device)
{
	if (vendor > 0xffff || device > 0xffff)
		return -ERANGE;
	unsigned *d = realloc(w->devices, (w->n_devices + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	w->devices = d;
	d[w->n_devices++] = vendor << 16 | device;
	pb_pci_ids_want_vendor(w, vendor);
	return 0;
}

void pb_pci_ids_want_free(struct pb_pci_ids_want *w)
{
	if (w)
		free(w->devices);
	free(w);
}

static int hex(const char *p, const char *end, int n)
{
	int v = 0;
	if (end - p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static bool white(const char *p, const char *end)
{
	return p < end && (*p == ' ' || *p == '\t');
}

static bool has(const unsigned char *bits, int id)
{
	return bits[id / 8] >> (id % 8) & 1;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

enum block { SKIP, KEEP, VENDOR };

/* What to do with the block whose top-level line is p..eol. */
static enum block block_kind(const struct pb_pci_ids_want *w, const char *p, const char *eol)
{
	int id;
	if (eol - p >= 2 && p[1] == ' ' && p[0] == 'C') {
		id = hex(p + 2, eol, 2);
		return id < 0 || !white(p + 4, eol) || has(w->class_, id) ? KEEP : SKIP;
	}
	if (eol - p >= 2 && p[1] == ' ' && p[0] == 'S') {
		id = hex(p + 2, eol, 4);
		return id < 0 || has(w->vendor, id) ? KEEP : SKIP;
	}
	if (eol - p >= 2 && p[1] == ' ' && p[0] >= 'A' && p[0] <= 'Z')
		return SKIP;
	id = hex(p, eol, 4);
	if (id < 0 || !white(p + 4, eol))
		return KEEP;
	return has(w->vendor, id) ? VENDOR : SKIP;
}

size_t pb_pci_ids_subset(const char *text, size_t len, struct pb_pci_ids_want *w, char *out)
{
	const char *end = text + len, *p = text;
	size_t n = 0;
	enum block kind = SKIP;
	bool keep_device = false;
	int vendor = 0;
	if (w->n_devices > 1)
		qsort(w->devices, w->n_devices, sizeof(*w->devices), cmp_uint);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *next = nl ? nl + 1 : end, *q = p;
		if (kind == SKIP && *p == '\t') { /* inside a block not kept: never a new block */
			p = next;
			continue;
		}
		/* libpci skips blank lines and comments, whatever their indent */
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (q == eol || *q == '#' || *q == '\r') {
			p = next;
			continue;
		}
		bool keep;
		if (*p != '\t') { /* top level: a new block */
			kind = block_kind(w, p, eol);
			vendor = kind == VENDOR ? hex(p, eol, 4) : 0;
			keep_device = false;
			keep = kind != SKIP;
		} else if (kind != VENDOR) {
			keep = kind == KEEP;
		} else if (p[1] !=
			   '\t') { /* a device of a vendor: kept when wanted or unreadable */
			int dev = hex(p + 1, eol, 4);
			unsigned key = (unsigned)vendor << 16 | (unsigned)dev;
			keep_device = dev < 0 || bsearch(&key, w->devices, w->n_devices,
							 sizeof(*w->devices), cmp_uint);
			keep = keep_device;
		} else { /* its subsystems */
			keep = keep_device;
		}
		if (keep) {
			memcpy(out + n, p, (size_t)(next - p));
			n += (size_t)(next - p);
		}
		p = next;
	}
	return n;
}

int pb_pci_ids_subset_file(const char *path, struct pb_pci_ids_want *w, int *ret_fd)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t plen = strlen(path);
	if (fd < 0 && plen > 3 && !strcmp(path + plen - 3, ".gz")) {
		/* as libpci: a list named .gz that is not there is looked for without .gz */
		char *stem = strndup(path, plen - 3);
		if (!stem)
			return -ENOMEM;
		fd = open(stem, O_RDONLY | O_CLOEXEC);
		free(stem);
	}
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 2) {
		close(fd);
		return -EINVAL;
	}
	size_t len = (size_t)st.st_size;
	char *text = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (text == MAP_FAILED)
		return -errno;
	int r = 0;
	/* libpci reads a gzip'd list through zlib: leave that one to libpci */
	if ((unsigned char)text[0] == 0x1f && (unsigned char)text[1] == 0x8b) {
		munmap(text, len);
		return -EMEDIUMTYPE;
	}
	char *out = malloc(len);
	int mfd = out ? memfd_create("pci.ids", MFD_CLOEXEC) : -1;
	if (!out || mfd < 0) {
		r = out ? -errno : -ENOMEM;
		goto done;
	}
	size_t n = pb_pci_ids_subset(text, len, w, out);
	for (size_t off = 0; off < n;) {
		ssize_t k = write(mfd, out + off, n - off);
		if (k < 0) {
			r = -errno;
			close(mfd);
			goto done;
		}
		off += (size_t)k;
	}
	*ret_fd = mfd;
done:
	free(out);
	munmap(text, len);
	return r;
}
