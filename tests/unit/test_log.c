// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "probebench/log.h"

/* stderr goes to a temporary file while a test logs; captured() returns what was written. */
static char path[] = "/tmp/pb-log-XXXXXX";
static int saved_stderr = -1;
static char text[16384];

static int capture(void **state)
{
	(void)state;
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	pb_log_open(PB_LOG_STDERR);
	pb_log_set_level(LOG_INFO);
	return 0;
}

static int release(void **state)
{
	(void)state;
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	unlink(path);
	strcpy(path, "/tmp/pb-log-XXXXXX");
	return 0;
}

static const char *captured(void)
{
	fflush(stderr);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, text, sizeof(text) - 1);
	assert_true(n >= 0);
	text[n] = '\0';
	close(fd);
	assert_int_equal(ftruncate(STDERR_FILENO, 0), 0);
	lseek(STDERR_FILENO, 0, SEEK_SET);
	return text;
}

static void plain_messages_keep_their_text(void **state)
{
	(void)state;
	pb_error("--entry: '%s' is neither 'bind' nor 'probe'", "x");
	assert_string_equal(captured(), "probebench: --entry: 'x' is neither 'bind' nor 'probe'\n");
	assert_int_equal(pb_error_errno(-ENOENT, "cannot write %s", "/x"), -ENOENT);
	assert_string_equal(captured(), "probebench: cannot write /x: No such file or directory\n");
}

static void fields_become_a_prefix(void **state)
{
	(void)state;
	pb_log_struct(
	    LOG_INFO,
	    PB_LOG_FIELDS({"PLAN", "rng"}, {"DEVICE", "0000:00:05.0"}, {"DRIVER", "virtio-pci"}),
	    "plan %s: ok", "rng");
	assert_string_equal(
	    captured(),
	    "probebench: [plan=rng device=0000:00:05.0 driver=virtio-pci] plan rng: ok\n");
	/* NULL and empty values are left out; none at all means no brackets */
	pb_log_struct(LOG_WARNING,
		      PB_LOG_FIELDS({"PLAN", NULL}, {"DEVICE", "virtio4"}, {"DRIVER", ""}), "m");
	assert_string_equal(captured(), "probebench: [device=virtio4] m\n");
	pb_log_struct(LOG_ERR, PB_LOG_FIELDS({"PLAN", NULL}), "bare");
	assert_string_equal(captured(), "probebench: bare\n");
}

static void levels_filter(void **state)
{
	(void)state;
	pb_debug("hidden");
	assert_string_equal(captured(), "");
	pb_log_set_level(LOG_DEBUG);
	pb_debug("shown %d", 1);
	assert_string_equal(captured(), "probebench: shown 1\n");
	pb_log_set_level(LOG_WARNING);
	pb_info("hidden");
	pb_log_struct(LOG_INFO, PB_LOG_FIELDS({"PLAN", "a"}), "hidden");
	pb_warn("warned");
	assert_string_equal(captured(), "probebench: warned\n");
	assert_int_equal(pb_log_level(), LOG_WARNING);
}

static void long_messages_are_whole(void **state)
{
	(void)state;
	static char big[6000];
	memset(big, 'a', sizeof(big) - 1);
	pb_log_struct(LOG_INFO, PB_LOG_FIELDS({"PLAN", "p"}), "%s|end", big);
	const char *t = captured();
	assert_int_equal(strlen(t),
			 strlen("probebench: [plan=p] ") + strlen(big) + strlen("|end\n"));
	assert_non_null(strstr(t, "a|end\n"));
}

static void targets(void **state)
{
	(void)state;
	enum pb_log_target t;
	assert_int_equal(pb_log_target_from_name("journal", &t), 0);
	assert_int_equal(t, PB_LOG_JOURNAL);
	assert_int_equal(pb_log_target_from_name("stderr", &t), 0);
	assert_int_equal(t, PB_LOG_STDERR);
	assert_int_equal(pb_log_target_from_name("auto", &t), 0);
	assert_int_equal(t, PB_LOG_AUTO);
	assert_int_equal(pb_log_target_from_name("syslog", &t), -EINVAL);
	/* auto: the journal only when JOURNAL_STREAM names the file stderr is */
	setenv("JOURNAL_STREAM", "1:2", 1);
	assert_false(pb_log_open(PB_LOG_AUTO));
	struct stat st;
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	char v[64];
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	bool journald = access("/run/systemd/journal/socket", F_OK) == 0;
	assert_int_equal(pb_log_open(PB_LOG_AUTO), journald);
	unsetenv("JOURNAL_STREAM");
	assert_false(pb_log_open(PB_LOG_AUTO));
	assert_false(pb_log_open(PB_LOG_STDERR));
	pb_log_open(PB_LOG_STDERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(plain_messages_keep_their_text, capture, release),
	    cmocka_unit_test_setup_teardown(fields_become_a_prefix, capture, release),
	    cmocka_unit_test_setup_teardown(levels_filter, capture, release),
	    cmocka_unit_test_setup_teardown(long_messages_are_whole, capture, release),
	    cmocka_unit_test_setup_teardown(targets, capture, release),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
