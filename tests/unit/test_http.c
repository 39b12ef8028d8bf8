// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The HTTP API's pure parts (routes, error bodies, the per-address share) and one server on
 * loopback: a shared document is sent as it is and released once the response is done with it;
 * a file is sent from its fd; errors are JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "probebench/http.h"

static void routes(void **state)
{
	(void)state;
	const char *id = NULL;
	assert_int_equal(pb_http_route_match("/api/v1/status", NULL), PB_ROUTE_STATUS);
	assert_int_equal(pb_http_route_match("/api/v1/runs", NULL), PB_ROUTE_RUNS);
	assert_int_equal(pb_http_route_match("/api/v1/runs/latest", NULL), PB_ROUTE_RUNS_LATEST);
	assert_int_equal(pb_http_route_match("/metrics", NULL), PB_ROUTE_METRICS);
	assert_int_equal(pb_http_route_match("/api/v1/runs/abc", &id), PB_ROUTE_RUN);
	assert_string_equal(id, "abc");
	assert_int_equal(pb_http_route_match("/api/v1/runs/", NULL), PB_ROUTE_NONE);
	assert_int_equal(pb_http_route_match("/api/v1/runs/a/b", NULL), PB_ROUTE_NONE);
	assert_int_equal(pb_http_route_match("/metrics/", NULL), PB_ROUTE_NONE);
	assert_int_equal(pb_http_route_match("", NULL), PB_ROUTE_NONE);
}

/* Every status the daemon answers with an error has a JSON body naming it. */
static void error_bodies(void **state)
{
	(void)state;
	static const unsigned codes[] = {400, 404, 405, 413, 414, 431, 500, 503, 505};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char body[160];
		int n = pb_http_error_body(codes[i], body, sizeof(body));
		assert_true(n > 0 && (size_t)n == strlen(body));
		struct json_object *j = json_tokener_parse(body), *v;
		if (!j)
			fail_msg("%u: not JSON: %s", codes[i], body);
		assert_true(json_object_object_get_ex(j, "status", &v));
		assert_int_equal(json_object_get_int(v), codes[i]);
		assert_true(json_object_object_get_ex(j, "error", &v));
		assert_true(json_object_get_string_len(v) > 0);
		json_object_put(j);
	}
	char small[8];
	assert_int_equal(pb_http_error_body(404, small, sizeof(small)), -ENOBUFS);
}

static void per_ip_share(void **state)
{
	(void)state;
	assert_int_equal(pb_http_per_ip_limit(1), 1);
	assert_int_equal(pb_http_per_ip_limit(2), 2);
	assert_int_equal(pb_http_per_ip_limit(8), 6);
	assert_int_equal(pb_http_per_ip_limit(16), 12);
	assert_int_equal(pb_http_per_ip_limit(1024), 768);
}

/* ---- a server on loopback ----------------------------------------------------------------- */

static const char doc_text[] = "{\"doc\": true}\n";
static atomic_int releases;

static void release(void *cls)
{
	assert_ptr_equal(cls, doc_text);
	atomic_fetch_add(&releases, 1);
}

static int get(void *userdata, enum pb_http_route route, const char *id, struct pb_http_body *ret)
{
	(void)userdata;
	if (route == PB_ROUTE_STATUS) {
		ret->data = doc_text;
		ret->len = sizeof(doc_text) - 1;
		ret->release = release;
		ret->release_cls = (void *)doc_text;
		return 200;
	}
	if (route == PB_ROUTE_RUN && !strcmp(id, "file")) {
		FILE *f = tmpfile();
		fputs("from a file\n", f);
		fflush(f);
		ret->fd = dup(fileno(f));
		fclose(f);
		ret->size = 12;
		ret->content_type = "text/plain";
		return 200;
	}
	return 404;
}

/* One request on a new connection; the whole answer (headers and body) into buf. */
static void request(unsigned port, const char *path, char *buf, size_t size)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	char req[256];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	assert_int_equal(write(s, req, (size_t)n), n);
	size_t len = 0;
	ssize_t k;
	while (len + 1 < size && (k = read(s, buf + len, size - 1 - len)) > 0)
		len += (size_t)k;
	buf[len] = 0;
	close(s);
}

static unsigned free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static void serves_shared_and_files(void **state)
{
	(void)state;
	char listen[32], buf[4096];
	unsigned port = free_port();
	struct pb_http *h = NULL;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	assert_int_equal(pb_http_start(listen, 4, get, NULL, &h), 0);
	request(port, "/api/v1/status", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_non_null(strstr(buf, "\r\n\r\n{\"doc\": true}\n"));
	request(port, "/api/v1/runs/file", buf, sizeof(buf));
	assert_non_null(strstr(buf, "Content-Type: text/plain"));
	assert_non_null(strstr(buf, "\r\n\r\nfrom a file\n"));
	request(port, "/api/v1/runs/none", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 404"));
	assert_non_null(strstr(buf, "\r\n\r\n{\"error\":\"not found\",\"status\":404}\n"));
	request(port, "/nowhere", buf, sizeof(buf));
	assert_non_null(strstr(buf, "Content-Type: application/json"));
	pb_http_stop(h);
	/* the shared document was handed back, once */
	assert_int_equal(atomic_load(&releases), 1);
	assert_int_equal(pb_http_start("localhost:80", 4, get, NULL, &h), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(routes),
	    cmocka_unit_test(error_bodies),
	    cmocka_unit_test(per_ip_share),
	    cmocka_unit_test(serves_shared_and_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
