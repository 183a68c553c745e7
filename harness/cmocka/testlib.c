/* SPDX-License-Identifier: Apache-2.0 */
/* cmocka support of the regression suite; see testlib.h. */
#include "testlib.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "elf_file.h"

static void capture_log(void *ctx, const struct nub_log_record *r)
{
	struct nub_test_capture *c = ctx;
	if (c->nlogs >= NUB_TEST_MAX_LOGS)
		return;
	int i = c->nlogs++;
	c->levels[i] = r->level;
	c->lines[i] = r->line;
	snprintf(c->messages[i], sizeof c->messages[i], "%.*s", (int)r->message_len, r->message);
	snprintf(c->files[i], sizeof c->files[i], "%s", r->file);
}

static void capture_print(void *ctx, const char *text, size_t len)
{
	struct nub_test_capture *c = ctx;
	size_t room = sizeof c->printed - 1 - c->printed_len;
	if (len > room)
		len = room;
	memcpy(c->printed + c->printed_len, text, len);
	c->printed_len += len;
	c->printed[c->printed_len] = '\0';
}

void nub_test_capture_attach(struct nub_config *cfg, struct nub_test_capture *cap)
{
	memset(cap, 0, sizeof *cap);
	cfg->log = capture_log;
	cfg->log_ctx = cap;
	cfg->debug_print = capture_print;
	cfg->debug_print_ctx = cap;
}

void nub_test_assert_error(const struct nub_error *err, enum nub_status st, const char *needle,
			   const char *file, int line)
{
	if (err->status != st) {
		print_error("%s:%d: status %s, expected %s (message: %s)\n", file, line,
			    nub_status_str(err->status), nub_status_str(st), err->message);
		_fail(file, line);
	}
	if (needle && !strstr(err->message, needle)) {
		print_error("%s:%d: message \"%s\" does not contain \"%s\"\n", file, line,
			    err->message, needle);
		_fail(file, line);
	}
}

/* Where the ABI note goes: inside the first page, after the program headers. */
#define GUEST_NOTE_OFF 0x200u

uint8_t *nub_test_build_guest(const struct nub_test_segment *segs, size_t n, uint64_t entry,
			      size_t *len)
{
	struct elf_seg s[NUB_TEST_MAX_SEGMENTS + 1];
	uint8_t note[20];

	assert_true(n >= 1 && n <= NUB_TEST_MAX_SEGMENTS);
	for (size_t i = 0; i < n; i++) {
		assert_true(segs[i].len <= 0x1000);
		s[i] = (struct elf_seg){ .type = PT_LOAD,
					 .flags = segs[i].flags,
					 .vaddr = segs[i].gpa,
					 .data = segs[i].bytes,
					 .len = segs[i].len,
					 .at = (i + 1) * 0x1000u };
	}
	elf_file_abi_note(note, NUB_ABI_VERSION, 4);
	s[n] = (struct elf_seg){ .type = PT_NOTE,
				 .flags = PF_R,
				 .data = note,
				 .len = sizeof note,
				 .at = GUEST_NOTE_OFF };
	const struct elf_spec spec = {
		.entry = entry, .segs = s, .nseg = n + 1, .size = (n + 1) * 0x1000u
	};
	uint8_t *b = elf_file_build(&spec, len);
	assert_non_null(b);
	return b;
}
