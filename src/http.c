// SPDX-License-Identifier: GPL-2.0-or-later
/* Read-only HTTP API over libmicrohttpd (see http.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "probebench/config.h"
#include "probebench/http.h"

#define PB_HTTP_MEMORY_LIMIT (16 * 1024) /* URL + headers per connection */
#define PB_HTTP_TIMEOUT_S    10

struct pb_http {
	struct MHD_Daemon *mhd;
	pb_http_get_fn get;
	void *userdata;
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

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, char *body, size_t len,
			     const char *type, bool allow)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result r = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned code, const char *msg,
				   bool allow)
{
	char *body = NULL;
	int n = asprintf(&body, "{\"error\":\"%s\",\"status\":%u}\n", msg, code);
	if (n < 0)
		return MHD_NO;
	return reply(conn, code, body, (size_t)n, "application/json", allow);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_data_size, void **req_cls)
{
	struct pb_http *h = cls;
	(void)version;
	(void)upload_data;
	(void)req_cls;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	const char *id = NULL;
	enum pb_http_route route = pb_http_route_match(url, &id);
	/* Answered on the first call, before any body is read: this API takes no input. */
	if (!get)
		return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", true);
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (*upload_data_size > 0 || (cl && strcmp(cl, "0") != 0) ||
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body not accepted",
				   false);
	if (route == PB_ROUTE_NONE)
		return reply_error(conn, MHD_HTTP_NOT_FOUND, "not found", false);
	char *body = NULL;
	size_t len = 0;
	const char *type = "application/json";
	int code = h->get(h->userdata, route, id, &body, &len, &type);
	if (!body)
		return reply_error(conn, code >= 400 ? (unsigned)code : 500,
				   code == 404 ? "not found" : "internal error", false);
	return reply(conn, (unsigned)code, body, len, type, false);
}

int pb_http_start(const char *listen, unsigned max_connections, pb_http_get_fn get, void *userdata,
		  struct pb_http **ret)
{
	char host[64];
	unsigned port;
	struct sockaddr_storage ss = {0};
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (pb_config_split_listen(listen, host, sizeof(host), &port) < 0)
		return -EINVAL;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else {
		return -EINVAL;
	}
	struct pb_http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->get = get;
	h->userdata = userdata;
	errno = 0;
	h->mhd = MHD_start_daemon(
	    flags, (uint16_t)port, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR, &ss,
	    MHD_OPTION_CONNECTION_LIMIT, max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)PB_HTTP_MEMORY_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)PB_HTTP_TIMEOUT_S, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
	if (!h->mhd) {
		int r = errno ? -errno : -EADDRINUSE;
		free(h);
		return r;
	}
	*ret = h;
	return 0;
}

void pb_http_stop(struct pb_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);
	free(h);
}
