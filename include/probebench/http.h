/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The daemon's read-only HTTP API (libmicrohttpd, its own polling thread). Only GET and HEAD;
 * other methods get 405 with "Allow: GET, HEAD", unknown paths 404, request bodies 413, all
 * with JSON bodies. Connections (in all and per client address), per-connection memory (URL +
 * headers), idle time, the time to send a whole request and the time to take the answer are
 * bounded (src/http.c says how).
 */
#include <stddef.h>
#include <stdint.h>

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
 * What a GET answers with: a regular file (fd >= 0, size bytes; the server closes it) or bytes
 * the caller shares (data, len), released by release(release_cls) once the response is done
 * with them (NULL: nothing to release). content_type defaults to application/json.
 */
struct pb_http_body {
	const char *content_type;
	int fd;
	uint64_t size;
	const char *data;
	size_t len;
	void (*release)(void *cls);
	void *release_cls;
};

/*
 * Answers a GET: returns an HTTP status and, below 400, fills *ret; 400 and above are answered
 * with a JSON error body. Called from the HTTP thread; the callee locks what it shares.
 */
typedef int (*pb_http_get_fn)(void *userdata, enum pb_http_route route, const char *id,
			      struct pb_http_body *ret);

/* The JSON error body of an HTTP status ({"error":"not found","status":404}). Its length, or
 * -ENOBUFS. */
int pb_http_error_body(unsigned code, char *buf, size_t size);
/* Connections one client address may hold, of max_connections. */
unsigned pb_http_per_ip_limit(unsigned max_connections);

struct pb_http;

/* listen: "127.0.0.1:9464" or "[::1]:9464". 0 or -errno (-EADDRINUSE, -EINVAL ...). */
int pb_http_start(const char *listen, unsigned max_connections, pb_http_get_fn get, void *userdata,
		  struct pb_http **ret);
void pb_http_stop(struct pb_http *h);
