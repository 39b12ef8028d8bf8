// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: the journal parser (pb_journal_entry_parse), a journal file's text as restore and
 * every run read it, then what restore does with an entry short of touching sysfs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "probebench/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > PB_JOURNAL_MAX_SIZE) /* longer files are refused before parsing */
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	struct pb_journal_entry e;
	if (pb_journal_entry_parse(text, &e) == 0) {
		char name[512];
		pb_journal_file_name(e.sysname, name, sizeof(name));
		pb_journal_hung_now(&e, "00000000-0000-0000-0000-000000000000");
		/* what a valid entry is written back as must read back the same */
		struct json_object *o = pb_journal_entry_to_json(&e);
		struct pb_journal_entry again;
		if (!o || pb_journal_entry_from_json(o, &again) < 0 ||
		    strcmp(again.syspath, e.syspath) || strcmp(again.driver, e.driver) ||
		    again.state != e.state)
			abort();
		json_object_put(o);
	}
	free(text);
	return 0;
}
