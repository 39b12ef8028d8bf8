// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Read-only HTTP API over libmicrohttpd (see http.h).
 *
 * libmicrohttpd bounds connections, per-address connections and per-connection memory, but its
 * only clock is an idle timeout that every byte resets: a client sending a header line a second
 * holds its slot for ever, and idle connections from one host fill the table. A watch thread
 * therefore tracks each connection (MHD's connection notifications) and shuts down the socket of
 * one that has not delivered a complete request within PB_HTTP_REQUEST_S, that has not taken
 * its answer within PB_HTTP_ANSWER_S, or that sits without a request for PB_HTTP_CROWDED_MS
 * while the table, or its address's share of it, is full. shutdown(2) from another thread is
 * safe here because MHD reports a connection closed before it closes the socket, and the report
 * waits for the same lock (the fd cannot be reused while the watch thread holds it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "probebench/config.h"
#include "probebench/http.h"
#include "probebench/util.h"

#define PB_HTTP_MEMORY_LIMIT (16 * 1024) /* URL + headers per connection */
#define PB_HTTP_TIMEOUT_S    10		 /* idle (MHD's own timeout) */
#define PB_HTTP_REQUEST_S    10		 /* from connect (or the last answer) to a whole request */
#define PB_HTTP_ANSWER_S     60		 /* from the request to the last byte of the answer */
#define PB_HTTP_CROWDED_MS   1000	 /* a connection without a request, when space is short */
#define PB_HTTP_WATCH_MS     250

struct conn {
	struct conn *next, *prev;
	int fd;
	struct sockaddr_storage addr;
	uint64_t since_ns; /* connect, or the end of the last answer, or the request */
	bool answering;	   /* a whole request arrived; its answer is being sent */
	bool shut;
};

struct pb_http {
	struct MHD_Daemon *mhd;
	pb_http_get_fn get;
	void *userdata;
	unsigned max_connections, per_ip;

	pthread_mutex_t lock; /* guards the list and stop */
	pthread_cond_t wake;
	struct conn *conns; /* oldest first */
	bool stop;
	pthread_t watch;
	bool watching;
};

enum pb_http_route pb_http_route_match(const char *url, const char **ret_id)
{
	static const char runs[] = "/api/v1/runs/", report[] = "/report/";
	if (!strcmp(url, "/report"))
		return PB_ROUTE_REPORT;
	if (!strncmp(url, report, sizeof(report) - 1) && url[sizeof(report) - 1] &&
	    !strchr(url + sizeof(report) - 1, '/')) {
		if (ret_id)
			*ret_id = url + sizeof(report) - 1;
		return PB_ROUTE_REPORT_RUN;
	}
	if (!strcmp(url, "/api/v1/status"))
		return PB_ROUTE_STATUS;
	if (!strcmp(url, "/api/v1/runs"))
		return PB_ROUTE_RUNS;
	if (!strcmp(url, "/api/v1/runs/latest"))
		return PB_ROUTE_RUNS_LATEST;
	if (!strcmp(url, "/metrics"))
		return PB_ROUTE_METRICS;
	if (!strncmp(url, runs, sizeof(runs) - 1) && url[sizeof(runs) - 1] &&
	    !strchr(url + sizeof(runs) - 1, '/')) {
		if (ret_id)
			*ret_id = url + sizeof(runs) - 1;
		return PB_ROUTE_RUN;
	}
	return PB_ROUTE_NONE;
}

unsigned pb_http_per_ip_limit(unsigned max_connections)
{
	/* one address may hold three quarters of the table: others always find room */
	unsigned n = max_connections - max_connections / 4;
	return n ? n : 1;
}

/* ---- connection tracking ------------------------------------------------------------------ */

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr,
			       sizeof(struct in6_addr));
	return false;
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct pb_http *h = cls;
	struct conn *c = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (!c)
			return;
		pthread_mutex_lock(&h->lock);
		if (c->prev)
			c->prev->next = c->next;
		else
			h->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		pthread_mutex_unlock(&h->lock);
		free(c);
		*socket_context = NULL;
		return;
	}
	const union MHD_ConnectionInfo *fd =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *ad =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!fd || !(c = calloc(1, sizeof(*c))))
		return; /* untracked: MHD's own limits still apply */
	c->fd = fd->connect_fd;
	if (ad && ad->client_addr) {
		size_t len = ad->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								    : sizeof(struct sockaddr_in);
		memcpy(&c->addr, ad->client_addr, len);
	}
	c->since_ns = pb_now_ns();
	pthread_mutex_lock(&h->lock);
	/* appended: the list stays oldest first */
	struct conn **tail = &h->conns, *prev = NULL;
	while (*tail) {
		prev = *tail;
		tail = &(*tail)->next;
	}
	c->prev = prev;
	*tail = c;
	pthread_mutex_unlock(&h->lock);
	*socket_context = c;
}

/* A request arrived whole (answering) or its answer is done (waiting for the next). */
static void mark(struct pb_http *h, struct MHD_Connection *mc, bool answering)
{
	const union MHD_ConnectionInfo *i =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *c = i ? i->socket_context : NULL;
	if (!c)
		return;
	pthread_mutex_lock(&h->lock);
	c->answering = answering;
	c->since_ns = pb_now_ns();
	pthread_mutex_unlock(&h->lock);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)req_cls, (void)toe;
	mark(cls, mc, false);
}

static void shut(struct conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	c->shut = true;
}

/* One look at every connection (under the lock): shuts what overstayed. */
static void watch_once(struct pb_http *h, uint64_t now)
{
	unsigned open = 0;
	for (struct conn *c = h->conns; c; c = c->next)
		open += !c->shut;
	for (struct conn *c = h->conns; c; c = c->next) {
		if (c->shut)
			continue;
		uint64_t age = now > c->since_ns ? now - c->since_ns : 0;
		uint64_t limit =
		    (c->answering ? PB_HTTP_ANSWER_S : PB_HTTP_REQUEST_S) * 1000000000ull;
		bool crowded = false;
		if (!c->answering && age > PB_HTTP_CROWDED_MS * 1000000ull) {
			unsigned same = 0;
			for (struct conn *o = h->conns; o; o = o->next)
				same += !o->shut && same_addr(&o->addr, &c->addr);
			crowded = open >= h->max_connections || same >= h->per_ip;
		}
		if (age > limit || crowded) {
			shut(c);
			open--;
		}
	}
}

static void *watch_thread(void *arg)
{
	struct pb_http *h = arg;
	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += PB_HTTP_WATCH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->wake, &h->lock, &ts);
		if (!h->stop)
			watch_once(h, pb_now_ns());
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* ---- answers ------------------------------------------------------------------------------ */

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned code, struct MHD_Response *resp,
			     const char *type, bool allow)
{
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result r = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return r;
}

int pb_http_error_body(unsigned code, char *buf, size_t size)
{
	const char *msg = MHD_get_reason_phrase_for(code);
	int n = snprintf(buf, size, "{\"error\":\"%s\",\"status\":%u}\n",
			 code == MHD_HTTP_NOT_FOUND	       ? "not found"
			 : code == MHD_HTTP_METHOD_NOT_ALLOWED ? "method not allowed"
			 : code == MHD_HTTP_CONTENT_TOO_LARGE  ? "request body not accepted"
			 : code >= 500			       ? "internal error"
			 : msg && *msg			       ? msg
							       : "error",
			 code);
	return n < 0 || (size_t)n >= size ? -ENOBUFS : n;
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned code, bool allow)
{
	char body[160];
	int n = pb_http_error_body(code, body, sizeof(body));
	if (n < 0)
		return MHD_NO;
	return queue(conn, code,
		     MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY),
		     "application/json", allow);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_data_size, void **req_cls)
{
	struct pb_http *h = cls;
	(void)version;
	(void)upload_data;
	(void)req_cls;
	mark(h, conn, true);
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	const char *id = NULL;
	enum pb_http_route route = pb_http_route_match(url, &id);
	/* Answered on the first call, before any body is read: this API takes no input. */
	if (!get)
		return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, true);
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (*upload_data_size > 0 || (cl && strcmp(cl, "0") != 0) ||
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, false);
	if (route == PB_ROUTE_NONE)
		return reply_error(conn, MHD_HTTP_NOT_FOUND, false);
	struct pb_http_body b = {.fd = -1, .content_type = "application/json"};
	int code = h->get(h->userdata, route, id, &b);
	if (code >= 400 || code < 100)
		return reply_error(conn, code >= 400 && code < 600 ? (unsigned)code : 500, false);
	struct MHD_Response *resp;
	if (b.fd >= 0) {
		/* sent from the file (sendfile), closed by MHD: no copy of the record in memory */
		resp = MHD_create_response_from_fd64(b.size, b.fd);
		if (!resp)
			close(b.fd);
	} else {
		/* the daemon's document itself, released when this response is destroyed */
		resp = MHD_create_response_from_buffer_with_free_callback_cls(
		    b.len, (void *)b.data, b.release, b.release_cls);
		if (!resp && b.release)
			b.release(b.release_cls);
	}
	return queue(conn, (unsigned)code, resp, b.content_type, false);
}

int pb_http_start(const char *listen, unsigned max_connections, pb_http_get_fn get, void *userdata,
		  struct pb_http **ret)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (pb_config_listen_addr(listen, &ss, NULL) < 0)
		return -EINVAL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct pb_http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->get = get;
	h->userdata = userdata;
	h->max_connections = max_connections;
	h->per_ip = pb_http_per_ip_limit(max_connections);
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);
	errno = 0;
	h->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR, &ss,
	    MHD_OPTION_CONNECTION_LIMIT, max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    h->per_ip, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)PB_HTTP_MEMORY_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)PB_HTTP_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, h, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
	int r = h->mhd ? 0 : errno ? -errno : -EADDRINUSE;
	if (r == 0) {
		r = -pthread_create(&h->watch, NULL, watch_thread, h);
		h->watching = r == 0;
	}
	if (r < 0) {
		pb_http_stop(h);
		return r;
	}
	*ret = h;
	return 0;
}

void pb_http_stop(struct pb_http *h)
{
	if (!h)
		return;
	if (h->watching) {
		pthread_mutex_lock(&h->lock);
		h->stop = true;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->watch, NULL);
	}
	if (h->mhd)
		MHD_stop_daemon(h->mhd); /* reports every connection closed: the list empties */
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
