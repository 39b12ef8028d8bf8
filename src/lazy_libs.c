// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libkmod, libsystemd and libmicrohttpd, loaded at their first use rather than at start-up.
 *
 * One binary serves every subcommand, and the dynamic loader maps and relocates every library it
 * names before main(): with libsystemd (libgcrypt, lz4, zstd, lzma, libcap), libmicrohttpd
 * (GnuTLS and its nine libraries) and libkmod (libcrypto) that was 12 M instructions and ~8 ms
 * of wall clock for every command, `list` and `--version` included, for three libraries that only
 * `daemon`, logging to the journal and `run --entry module` use. The binary no longer links them:
 * the functions the tool calls are defined here with the libraries' own prototypes (their
 * headers are included, so a mismatch does not compile) and forward to the library, which is
 * opened, and all of the tool's functions from it resolved, on the first call into it.
 *
 * The libraries are dependencies of the package: one that cannot be opened, or lacks a function,
 * ends the process with the loader's message and status 127, as the dynamic loader did at
 * start-up when the binary named them.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <libkmod.h>
#include <microhttpd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
/* as in log.c: sd_journal_sendv itself, not the macro that adds the caller's location */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "probebench/util.h"

struct lazy_lib {
	const char *soname;
	const char *const *names;
	void **fns;
	size_t n;
	bool loaded;
};

static pthread_mutex_t lazy_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noreturn)) static void lazy_fail(const struct lazy_lib *lib, const char *what)
{
	const char *e = dlerror();
	fprintf(stderr, "probebench: cannot load %s%s%s: %s\n", lib->soname, what ? ", " : "",
		what ? what : "", e ? e : "unknown error");
	exit(127);
}

static void *lazy_fn(struct lazy_lib *lib, size_t i)
{
	if (__atomic_load_n(&lib->loaded, __ATOMIC_ACQUIRE))
		return lib->fns[i];
	pthread_mutex_lock(&lazy_lock);
	if (!lib->loaded) {
		void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			lazy_fail(lib, NULL);
		for (size_t k = 0; k < lib->n; k++)
			if (!(lib->fns[k] = dlsym(h, lib->names[k])))
				lazy_fail(lib, lib->names[k]);
		__atomic_store_n(&lib->loaded, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lazy_lock);
	return lib->fns[i];
}

/* X(name, return type, (parameters), (arguments)); XV for functions returning void. */
#define KMOD_FNS(X, XV)                                                                            \
	X(kmod_new, struct kmod_ctx *, (const char *dirname, const char *const *config_paths),     \
	  (dirname, config_paths))                                                                 \
	X(kmod_unref, struct kmod_ctx *, (struct kmod_ctx * ctx), (ctx))                           \
	X(kmod_load_resources, int, (struct kmod_ctx * ctx), (ctx))                                \
	X(kmod_module_new_from_name, int,                                                          \
	  (struct kmod_ctx * ctx, const char *name, struct kmod_module **mod), (ctx, name, mod))   \
	X(kmod_module_unref, struct kmod_module *, (struct kmod_module * mod), (mod))              \
	X(kmod_module_get_path, const char *, (const struct kmod_module *mod), (mod))              \
	X(kmod_module_remove_module, int, (struct kmod_module * mod, unsigned int flags),          \
	  (mod, flags))                                                                            \
	X(kmod_module_probe_insert_module, int,                                                    \
	  (struct kmod_module * mod, unsigned int flags, const char *extra_options,                \
	   int (*run_install)(struct kmod_module * m, const char *cmdline, void *data),            \
	   const void *data,                                                                       \
	   void (*print_action)(struct kmod_module * m, bool install, const char *options)),       \
	  (mod, flags, extra_options, run_install, data, print_action))

#define SYSTEMD_FNS(X, XV)                                                                         \
	X(sd_event_new, int, (sd_event * *e), (e))                                                 \
	X(sd_event_unref, sd_event *, (sd_event * e), (e))                                         \
	X(sd_event_loop, int, (sd_event * e), (e))                                                 \
	X(sd_event_exit, int, (sd_event * e, int code), (e, code))                                 \
	X(sd_event_set_watchdog, int, (sd_event * e, int b), (e, b))                               \
	X(sd_event_add_io, int,                                                                    \
	  (sd_event * e, sd_event_source * *s, int fd, uint32_t events,                            \
	   sd_event_io_handler_t callback, void *userdata),                                        \
	  (e, s, fd, events, callback, userdata))                                                  \
	X(sd_event_add_post, int,                                                                  \
	  (sd_event * e, sd_event_source * *s, sd_event_handler_t callback, void *userdata),       \
	  (e, s, callback, userdata))                                                              \
	X(sd_event_add_signal, int,                                                                \
	  (sd_event * e, sd_event_source * *s, int sig, sd_event_signal_handler_t callback,        \
	   void *userdata),                                                                        \
	  (e, s, sig, callback, userdata))                                                         \
	X(sd_event_add_time, int,                                                                  \
	  (sd_event * e, sd_event_source * *s, clockid_t clock, uint64_t usec, uint64_t accuracy,  \
	   sd_event_time_handler_t callback, void *userdata),                                      \
	  (e, s, clock, usec, accuracy, callback, userdata))                                       \
	X(sd_event_source_disable_unref, sd_event_source *, (sd_event_source * s), (s))            \
	X(sd_event_source_set_enabled, int, (sd_event_source * s, int enabled), (s, enabled))      \
	X(sd_event_source_set_time, int, (sd_event_source * s, uint64_t usec), (s, usec))          \
	X(sd_notify, int, (int unset_environment, const char *state), (unset_environment, state))  \
	X(sd_journal_sendv, int, (const struct iovec *iov, int n), (iov, n))

#define MHD_FNS(X, XV)                                                                             \
	X(MHD_start_daemon_va, struct MHD_Daemon *,                                                \
	  (unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,         \
	   MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap),                                \
	  (flags, port, apc, apc_cls, dh, dh_cls, ap))                                             \
	XV(MHD_stop_daemon, (struct MHD_Daemon * daemon), (daemon))                                \
	X(MHD_create_response_from_buffer, struct MHD_Response *,                                  \
	  (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode), (size, buffer, mode))     \
	X(MHD_create_response_from_buffer_with_free_callback_cls, struct MHD_Response *,           \
	  (size_t size, void *buffer, MHD_ContentReaderFreeCallback crfc, void *crfc_cls),         \
	  (size, buffer, crfc, crfc_cls))                                                          \
	X(MHD_create_response_from_fd64, struct MHD_Response *, (uint64_t size, int fd),           \
	  (size, fd))                                                                              \
	X(MHD_add_response_header, enum MHD_Result,                                                \
	  (struct MHD_Response * response, const char *header, const char *content),               \
	  (response, header, content))                                                             \
	XV(MHD_destroy_response, (struct MHD_Response * response), (response))                     \
	X(MHD_queue_response, enum MHD_Result,                                                     \
	  (struct MHD_Connection * connection, unsigned int status_code,                           \
	   struct MHD_Response *response),                                                         \
	  (connection, status_code, response))                                                     \
	X(MHD_lookup_connection_value, const char *,                                               \
	  (struct MHD_Connection * connection, enum MHD_ValueKind kind, const char *key),          \
	  (connection, kind, key))                                                                 \
	X(MHD_get_reason_phrase_for, const char *, (unsigned int code), (code))                    \
	/* variadic, but no information type the tool asks for takes more arguments */             \
	X(MHD_get_connection_info, const union MHD_ConnectionInfo *,                               \
	  (struct MHD_Connection * connection, enum MHD_ConnectionInfoType info_type, ...),        \
	  (connection, info_type))

#define LAZY_INDEX(name, ...)	I_##name,
#define LAZY_INDEX_V(name, ...) I_##name,
#define LAZY_NAME(name, ...)	#name,
#define LAZY_NAME_V(name, ...)	#name,

#define LAZY_LIB(lib, SONAME, FNS)                                                                 \
	enum { FNS(LAZY_INDEX, LAZY_INDEX_V) N_##lib };                                            \
	static const char *const lib##_names[] = {FNS(LAZY_NAME, LAZY_NAME_V)};                    \
	static void *lib##_fns[N_##lib];                                                           \
	static struct lazy_lib lib = {                                                             \
	    .soname = SONAME, .names = lib##_names, .fns = lib##_fns, .n = N_##lib};

LAZY_LIB(kmod, "libkmod.so.2", KMOD_FNS)
LAZY_LIB(systemd, "libsystemd.so.0", SYSTEMD_FNS)
LAZY_LIB(mhd, "libmicrohttpd.so.12", MHD_FNS)

#define FORWARD(lib, name, ret, params, args)                                                      \
	ret name params                                                                            \
	{                                                                                          \
		return ((__typeof__(&name))lazy_fn(&lib, I_##name))args;                           \
	}
#define FORWARD_V(lib, name, params, args)                                                         \
	void name params                                                                           \
	{                                                                                          \
		((__typeof__(&name))lazy_fn(&lib, I_##name)) args;                                 \
	}
#define FORWARD_KMOD(...)      FORWARD(kmod, __VA_ARGS__)
#define FORWARD_KMOD_V(...)    FORWARD_V(kmod, __VA_ARGS__)
#define FORWARD_SYSTEMD(...)   FORWARD(systemd, __VA_ARGS__)
#define FORWARD_SYSTEMD_V(...) FORWARD_V(systemd, __VA_ARGS__)
#define FORWARD_MHD(...)       FORWARD(mhd, __VA_ARGS__)
#define FORWARD_MHD_V(...)     FORWARD_V(mhd, __VA_ARGS__)

KMOD_FNS(FORWARD_KMOD, FORWARD_KMOD_V)
SYSTEMD_FNS(FORWARD_SYSTEMD, FORWARD_SYSTEMD_V)
MHD_FNS(FORWARD_MHD, FORWARD_MHD_V)

/* The variadic entry points, through their va_list and string forms. */
int sd_notifyf(int unset_environment, const char *format, ...)
{
	char *s;
	va_list ap;
	va_start(ap, format);
	int r = vasprintf(&s, format, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	r = sd_notify(unset_environment, s);
	free(s);
	return r;
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
				    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	va_list ap;
	va_start(ap, dh_cls);
	struct MHD_Daemon *d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}
