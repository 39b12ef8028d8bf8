/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The daemon's read-only HTTP API (libmicrohttpd, its own polling thread). Only GET and HEAD;
 * other methods get 405 with "Allow: GET, HEAD", unknown paths 404, request bodies 413.
 * Connections, per-connection memory (URL + headers) and idle time are bounded.
 */
#include <stddef.h>

enum pb_http_route {
	PB_ROUTE_NONE = -1,
	PB_ROUTE_STATUS,      /* /api/v1/status */
	PB_ROUTE_RUNS,	      /* /api/v1/runs */
	PB_ROUTE_RUNS_LATEST, /* /api/v1/runs/latest */
	PB_ROUTE_RUN,	      /* /api/v1/runs/ID */
	PB_ROUTE_METRICS,     /* /metrics */
	PB_ROUTE_REPORT,      /* /report: the newest run as an HTML report */
	PB_ROUTE_REPORT_RUN,  /* /report/ID */
};

/* Pure: maps a URL path to a route; *ret_id points into url for PB_ROUTE_RUN and
 * PB_ROUTE_REPORT_RUN. */
enum pb_http_route pb_http_route_match(const char *url, const char **ret_id);

/*
 * Answers a GET: returns an HTTP status and a malloc'ed body (*ret_body, *ret_len) with its
 * content type. Called from the HTTP thread; the callee locks what it shares.
 */
typedef int (*pb_http_get_fn)(void *userdata, enum pb_http_route route, const char *id,
			      char **ret_body, size_t *ret_len, const char **ret_content_type);

struct pb_http;

/* listen: "127.0.0.1:9464" or "[::1]:9464". 0 or -errno (-EADDRINUSE, -EINVAL ...). */
int pb_http_start(const char *listen, unsigned max_connections, pb_http_get_fn get, void *userdata,
		  struct pb_http **ret);
void pb_http_stop(struct pb_http *h);
