// SPDX-License-Identifier: GPL-2.0-or-later
/* The daemon's placement step: its configuration key and its metrics. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probebench/config.h"
#include "probebench/inventory.h"
#include "probebench/metrics.h"
#include "probebench/placement.h"

static void config_key(void **state)
{
	(void)state;
	struct pb_config *c;
	char err[512];
	assert_int_equal(pb_config_parse("{\"plans\": [{\"name\": \"a\", \"targets\": "
					 "[\"0000:00:05.0\"]}, {\"name\": \"b\", \"targets\": "
					 "[\"0000:00:05.0\"], \"placement\": true}]}",
					 "p.json", &c, err, sizeof(err)),
			 0);
	assert_false(c->plans[0].placement); /* off unless asked for */
	assert_true(c->plans[1].placement);
	pb_config_free(c);
	assert_int_equal(pb_config_parse("{\"plans\": [{\"name\": \"a\", \"targets\": "
					 "[\"0000:00:05.0\"], \"placement\": \"yes\"}]}",
					 "p.json", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "placement"));
}

/* A consumer with pages (in base pages of 4 KiB) on nodes 0 and 1. */
static struct pb_placement_consumer consumer(uint64_t pages0, uint64_t pages1)
{
	struct pb_placement_consumer c = {.pid = 42};
	c.total.bytes[0] = pages0 * 4096;
	c.total.bytes[1] = pages1 * 4096;
	c.total.total_bytes = (pages0 + pages1) * 4096;
	return c;
}

static void metrics(void **state)
{
	(void)state;
	struct pb_device nvme = {.sysname = "0000:83:00.0"}, rng = {.sysname = "0000:00:05.0"},
			 idle = {.sysname = "0000:22:00.0"};
	struct pb_placement_consumer cs[] = {consumer(300, 100), consumer(0, 100)};
	struct pb_placement_consumer rc[] = {consumer(50, 0)};
	struct pb_placement_device devs[] = {
	    {.dev = &nvme, .node = 1, .consumers = cs, .n_consumers = 2},
	    {.dev = &rng, .node = -1, .consumers = rc, .n_consumers = 1},
	    {.dev = &idle, .node = 0}, /* nobody uses it: no series */
	};
	for (size_t i = 0; i < 3; i++)
		pb_placement_device_summarise(&devs[i]);
	struct pb_placement_report rep = {.devices = devs, .n_devices = 3, .page_bytes = 4096};
	struct pb_metrics_plan p = {.name = "nvme", .placement = &rep};
	struct pb_metrics_daemon d = {.version = "0.1.0"};
	char *text = NULL;
	assert_int_equal(pb_metrics_render(&d, &p, 1, &text), 0);
	assert_non_null(strstr(text, "# TYPE probebench_consumer_pages gauge\n"));
	assert_non_null(strstr(
	    text,
	    "probebench_consumer_pages{plan=\"nvme\",device=\"0000:83:00.0\",node=\"0\"} 300\n"));
	assert_non_null(strstr(
	    text,
	    "probebench_consumer_pages{plan=\"nvme\",device=\"0000:83:00.0\",node=\"1\"} 200\n"));
	assert_non_null(strstr(
	    text,
	    "probebench_consumer_pages{plan=\"nvme\",device=\"0000:00:05.0\",node=\"0\"} 50\n"));
	assert_null(strstr(text, "device=\"0000:00:05.0\",node=\"1\""));
	assert_null(strstr(text, "0000:22:00.0"));
	assert_non_null(strstr(text, "probebench_consumer_on_device_node_ratio{plan=\"nvme\","
				     "device=\"0000:83:00.0\"} 0.4\n"));
	/* node-less: pages, but no share */
	assert_null(strstr(text, "probebench_consumer_on_device_node_ratio{plan=\"nvme\","
				 "device=\"0000:00:05.0\"}"));
	/* each HELP/TYPE once */
	const char *t = strstr(text, "# TYPE probebench_consumer_pages");
	assert_null(strstr(t + 1, "# TYPE probebench_consumer_pages"));
	free(text);

	/* no sample (the plan has no "placement", or it failed): no series, no header */
	p.placement = NULL;
	assert_int_equal(pb_metrics_render(&d, &p, 1, &text), 0);
	assert_null(strstr(text, "probebench_consumer"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(config_key),
	    cmocka_unit_test(metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
