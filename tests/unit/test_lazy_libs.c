// SPDX-License-Identifier: GPL-2.0-or-later
/* libkmod, libsystemd and libmicrohttpd are mapped at their first use (src/lazy_libs.c): not
 * before, and then with every function the tool calls from them resolved. Read-only calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libkmod.h>
#include <microhttpd.h>
#include <systemd/sd-event.h>

/* Whether a library whose file name starts with name is mapped in this process. */
static bool mapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *slash = strrchr(line, '/');
		found = slash && strncmp(slash + 1, name, strlen(name)) == 0;
	}
	fclose(f);
	return found;
}

static void kmod_at_first_use(void **state)
{
	(void)state;
	assert_false(mapped("libkmod.so"));
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	assert_true(mapped("libkmod.so"));
	if (!ctx)
		skip(); /* no modules directory for this kernel: the library is loaded all the same
			 */
	struct kmod_module *mod = NULL;
	assert_int_equal(kmod_module_new_from_name(ctx, "virtio_rng", &mod), 0);
	assert_non_null(mod);
	(void)kmod_module_get_path(mod); /* NULL when built in or not installed */
	assert_null(kmod_module_unref(mod));
	assert_null(kmod_unref(ctx));
}

static void systemd_at_first_use(void **state)
{
	(void)state;
	assert_false(mapped("libsystemd.so"));
	sd_event *e = NULL;
	assert_int_equal(sd_event_new(&e), 0);
	assert_true(mapped("libsystemd.so"));
	assert_null(sd_event_unref(e));
}

static void microhttpd_at_first_use(void **state)
{
	(void)state;
	assert_false(mapped("libmicrohttpd.so"));
	assert_string_equal(MHD_get_reason_phrase_for(404), "Not Found");
	assert_true(mapped("libmicrohttpd.so"));
	static char body[] = "x";
	struct MHD_Response *r = MHD_create_response_from_buffer(1, body, MHD_RESPMEM_PERSISTENT);
	assert_non_null(r);
	assert_int_equal(MHD_add_response_header(r, "X-Test", "1"), MHD_YES);
	MHD_destroy_response(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(kmod_at_first_use),
	    cmocka_unit_test(systemd_at_first_use),
	    cmocka_unit_test(microhttpd_at_first_use),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
