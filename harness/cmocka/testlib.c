/* Test support shared by the regression suite. */
#include "testlib.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define GUEST_NOTE_OFF 0x200u
#define GUEST_NOTE_SIZE 20u

uint8_t *nub_test_build_guest(const struct nub_test_segment *segs, size_t n, uint64_t entry,
			      size_t *len)
{
	assert_true(n >= 1 && n <= NUB_TEST_MAX_SEGMENTS);
	size_t size = (n + 1) * 0x1000u;
	uint8_t *b = calloc(1, size);
	assert_non_null(b);

	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof eh);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = entry;
	eh.e_phoff = sizeof eh;
	eh.e_ehsize = sizeof eh;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)(n + 1);
	memcpy(b, &eh, sizeof eh);

	for (size_t i = 0; i < n; i++) {
		Elf64_Phdr ph = {
			.p_type = PT_LOAD,
			.p_flags = segs[i].flags,
			.p_offset = (i + 1) * 0x1000u,
			.p_vaddr = segs[i].gpa,
			.p_paddr = segs[i].gpa,
			.p_filesz = segs[i].len,
			.p_memsz = segs[i].len,
			.p_align = 0x1000,
		};
		assert_true(segs[i].len <= 0x1000);
		memcpy(b + ph.p_offset, segs[i].bytes, segs[i].len);
		memcpy(b + sizeof eh + i * sizeof ph, &ph, sizeof ph);
	}
	Elf64_Phdr note = {
		.p_type = PT_NOTE,
		.p_flags = PF_R,
		.p_offset = GUEST_NOTE_OFF,
		.p_filesz = GUEST_NOTE_SIZE,
		.p_align = 4,
	};
	memcpy(b + sizeof eh + n * sizeof note, &note, sizeof note);
	const uint32_t hdr[3] = { sizeof NUB_NOTE_NAME, 4, NUB_NOTE_TYPE_ABI };
	const uint32_t version = NUB_ABI_VERSION;
	memcpy(b + GUEST_NOTE_OFF, hdr, sizeof hdr);
	memcpy(b + GUEST_NOTE_OFF + 12, NUB_NOTE_NAME, sizeof NUB_NOTE_NAME);
	memcpy(b + GUEST_NOTE_OFF + 16, &version, sizeof version);
	*len = size;
	return b;
}
