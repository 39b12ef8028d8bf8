// SPDX-License-Identifier: GPL-2.0-or-later
/* The part of pci.ids that a listing hands to libpci (src/pci_ids.c): which lines it keeps, and
 * that libpci's lookups give the same names from it as from the whole list. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include <pci/pci.h>

#include "../../src/inventory_internal.h"

static const char list[] = "# pci.ids for the test\n"
			   "\n"
			   "1234  Vendor One\n"
			   "\t0001  Device One\n"
			   "\t\t9abc 0010  Sub Ten\n"
			   "# a comment between subsystems\n"
			   "\t# an indented comment\n"
			   "\t\t9abc 0011  Sub Eleven\n"
			   "\t0002  Device Two\n"
			   "\t\t9abc 0020  Sub Twenty\n"
			   "5678  Vendor Two\n"
			   "\t0003  Device Three\n"
			   "9abc  Subsystem Vendor\n"
			   "\t0004  Device Four\n"
			   "S 9abc\n"
			   "\t0030  Generic Thirty\n"
			   "C 01  Mass storage controller\n"
			   "\t06  SATA controller\n"
			   "\t\t01  AHCI 1.0\n"
			   "C 02  Network controller\n"
			   "\t00  Ethernet controller\n"
			   "X 11  Unknown block\n"
			   "\t22  nested\n";

static struct pb_pci_ids_want *want_one(void)
{
	struct pb_pci_ids_want *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	assert_int_equal(pb_pci_ids_want_device(w, 0x1234, 0x0001), 0);
	pb_pci_ids_want_vendor(w, 0x9abc);
	pb_pci_ids_want_class(w, 0x02);
	return w;
}

static void keeps_the_lines_that_name(void **state)
{
	(void)state;
	struct pb_pci_ids_want *w = want_one();
	char out[sizeof(list)];
	size_t n = pb_pci_ids_subset(list, strlen(list), w, out);
	out[n] = '\0';
	assert_string_equal(out, "1234  Vendor One\n"
				 "\t0001  Device One\n"
				 "\t\t9abc 0010  Sub Ten\n"
				 "\t\t9abc 0011  Sub Eleven\n"
				 "9abc  Subsystem Vendor\n"
				 "S 9abc\n"
				 "\t0030  Generic Thirty\n"
				 "C 02  Network controller\n"
				 "\t00  Ethernet controller\n");
	assert_int_equal(pb_pci_ids_want_device(w, 0x10000, 1), -ERANGE);
	pb_pci_ids_want_free(w);
}

static void keeps_unreadable_lines(void **state)
{
	(void)state;
	static const char bad[] = "1234  Vendor One\n"
				  "\tzz01  Bad device\n"
				  "\t\t9abc 0010  Its subsystem\n"
				  "\t0002  Device Two\n"
				  "5678  Vendor Two\n"
				  "not a vendor\n";
	struct pb_pci_ids_want *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	assert_int_equal(pb_pci_ids_want_device(w, 0x1234, 0x0001), 0);
	char out[sizeof(bad)];
	size_t n = pb_pci_ids_subset(bad, strlen(bad), w, out);
	out[n] = '\0';
	/* libpci stops at the first of these with a parse error, from either list */
	assert_string_equal(out, "1234  Vendor One\n"
				 "\tzz01  Bad device\n"
				 "\t\t9abc 0010  Its subsystem\n"
				 "not a vendor\n");
	pb_pci_ids_want_free(w);
}

static char *write_tmp(const char *text, size_t len)
{
	char *path = strdup("/tmp/pb-test-pciids-XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

__attribute__((noreturn, format(printf, 1, 2))) static void pci_error(char *msg, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	fail_msg("libpci: %s", buf);
	abort();
}

__attribute__((format(printf, 1, 2))) static void pci_quiet(char *msg, ...)
{
	(void)msg;
}

static struct pci_access *names_from(char *path)
{
	struct pci_access *a = pci_alloc();
	assert_non_null(a);
	a->error = pci_error;
	a->warning = pci_quiet;
	a->debug = pci_quiet;
	pci_set_name_list_path(a, path, 0);
	return a;
}

struct lookup {
	int flags, a, b, c, d;
};

static void assert_same_names(struct pci_access *whole, struct pci_access *part,
			      const struct lookup *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char b1[256], b2[256];
		int f = l[i].flags | PCI_LOOKUP_NO_HWDB;
		const char *x =
		    pci_lookup_name(whole, b1, sizeof(b1), f, l[i].a, l[i].b, l[i].c, l[i].d);
		const char *y =
		    pci_lookup_name(part, b2, sizeof(b2), f, l[i].a, l[i].b, l[i].c, l[i].d);
		if (strcmp(x, y))
			fail_msg(
			    "lookup %zu (%x %x %x %x): '%s' from the whole list, '%s' from the "
			    "part",
			    i, l[i].a, l[i].b, l[i].c, l[i].d, x, y);
	}
}

static const struct lookup lookups[] = {
    {PCI_LOOKUP_VENDOR, 0x1234, 0, 0, 0},
    {PCI_LOOKUP_DEVICE, 0x1234, 0x0001, 0, 0},
    {PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_VENDOR, 0x9abc, 0, 0, 0},
    {PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE, 0x1234, 0x0001, 0x9abc, 0x0011},
    {PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE, 0x1234, 0x0001, 0x9abc, 0x0030}, /* generic */
    {PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE, 0x1234, 0x0001, 0x9abc, 0x0099}, /* none */
    {PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE, 0x1234, 0x0001, 0x1234, 0x0001}, /* = device */
    {PCI_LOOKUP_CLASS, 0x0200, 0, 0, 0},
    {PCI_LOOKUP_CLASS, 0x0280, 0, 0, 0}, /* class name only */
};

static void libpci_names_agree(void **state)
{
	(void)state;
	struct pb_pci_ids_want *w = want_one();
	char *whole = write_tmp(list, strlen(list));
	int fd = -1;
	assert_int_equal(pb_pci_ids_subset_file(whole, w, &fd), 0);
	char part[64];
	snprintf(part, sizeof(part), "/proc/self/fd/%d", fd);
	struct pci_access *a = names_from(whole), *b = names_from(part);
	assert_same_names(a, b, lookups, sizeof(lookups) / sizeof(lookups[0]));
	char buf[256];
	assert_string_equal(
	    pci_lookup_name(b, buf, sizeof(buf),
			    PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_HWDB, 0x1234,
			    0x0001, 0x9abc, 0x0030),
	    "Generic Thirty");
	pci_cleanup(a);
	pci_cleanup(b);
	close(fd);
	unlink(whole);
	free(whole);
	pb_pci_ids_want_free(w);
}

static void gzip_left_to_libpci(void **state)
{
	(void)state;
	static const char gz[] = "\x1f\x8b\x08\x00 not really";
	char *path = write_tmp(gz, sizeof(gz) - 1);
	struct pb_pci_ids_want *w = want_one();
	int fd = -1;
	assert_int_equal(pb_pci_ids_subset_file(path, w, &fd), -EMEDIUMTYPE);
	assert_int_equal(fd, -1);
	/* a name ending in .gz that is not there: the list without .gz, as libpci looks for it */
	char *gzname;
	assert_true(asprintf(&gzname, "%s.gz", path) > 0);
	unlink(path);
	char *text = write_tmp(list, strlen(list));
	assert_int_equal(rename(text, path), 0);
	assert_int_equal(pb_pci_ids_subset_file(gzname, w, &fd), 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pb_pci_ids_subset_file("/nonexistent/pci.ids", w, &fd), -ENOENT);
	unlink(path);
	free(gzname);
	free(text);
	free(path);
	pb_pci_ids_want_free(w);
}

/* This system's pci.ids, when there is one: every device and subsystem of a few vendors. */
static void system_list_agrees(void **state)
{
	(void)state;
	struct pci_access *probe = pci_alloc();
	assert_non_null(probe);
	char *path = strdup(probe->id_file_name);
	pci_cleanup(probe);
	int fd = -1;
	struct pb_pci_ids_want *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	static const unsigned vendors[] = {0x1af4, 0x8086, 0x10de, 0x15b3};
	struct lookup *l = NULL;
	size_t n = 0;
	/* the lookups: every device id 0..0x1fff of those vendors, with their vendor as
	 * subsystem vendor, and every class 00..13 with subclass 00 and 80 */
	for (size_t v = 0; v < sizeof(vendors) / sizeof(vendors[0]); v++)
		for (int d = 0; d < 0x2000; d += 7) {
			assert_int_equal(pb_pci_ids_want_device(w, vendors[v], (unsigned)d), 0);
			l = realloc(l, (n + 3) * sizeof(*l));
			assert_non_null(l);
			l[n++] = (struct lookup){PCI_LOOKUP_DEVICE, (int)vendors[v], d, 0, 0};
			l[n++] = (struct lookup){PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE,
						 (int)vendors[v], d, (int)vendors[v], d + 1};
			l[n++] = (struct lookup){PCI_LOOKUP_VENDOR, (int)vendors[v], 0, 0, 0};
		}
	for (int c = 0; c <= 0x13; c++) {
		pb_pci_ids_want_class(w, (unsigned)c);
		l = realloc(l, (n + 2) * sizeof(*l));
		assert_non_null(l);
		l[n++] = (struct lookup){PCI_LOOKUP_CLASS, c << 8, 0, 0, 0};
		l[n++] = (struct lookup){PCI_LOOKUP_CLASS, c << 8 | 0x80, 0, 0, 0};
	}
	int r = pb_pci_ids_subset_file(path, w, &fd);
	if (r == -ENOENT || r == -EMEDIUMTYPE) {
		free(l);
		free(path);
		pb_pci_ids_want_free(w);
		skip();
	}
	assert_int_equal(r, 0);
	char part[64];
	snprintf(part, sizeof(part), "/proc/self/fd/%d", fd);
	struct pci_access *a = names_from(path), *b = names_from(part);
	assert_same_names(a, b, l, n);
	char buf[256];
	assert_non_null(pci_lookup_name(
	    b, buf, sizeof(buf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_HWDB | PCI_LOOKUP_NO_NUMBERS,
	    0x8086));
	pci_cleanup(a);
	pci_cleanup(b);
	close(fd);
	free(l);
	free(path);
	pb_pci_ids_want_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keeps_the_lines_that_name), cmocka_unit_test(keeps_unreadable_lines),
	    cmocka_unit_test(libpci_names_agree),	 cmocka_unit_test(gzip_left_to_libpci),
	    cmocka_unit_test(system_list_agrees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
