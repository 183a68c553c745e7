/* SPDX-License-Identifier: Apache-2.0 */
/* cmocka support of the regression suite; see testlib.h. */
#include "testlib.h"

#include <elf.h>
#include <gelf.h>
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

struct nub_sandbox *nub_test_evolve(const char *guest, const struct nub_config *cfg)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s.elf", NUB_GUEST_DIR, guest);
	struct nub_guest_env env = { .path = path };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_error err;
	if (nub_uninit_new(&env, cfg, &u, &err) != NUB_OK ||
	    nub_uninit_evolve(u, &sb, &err) != NUB_OK)
		fail_msg("evolve %s: %s: %s", guest, nub_status_str(err.status), err.message);
	return sb;
}

const uint8_t *nub_test_elf_note(Elf *e, const char *name, uint32_t type, size_t *len)
{
	size_t n;
	assert_int_equal(elf_getphdrnum(e, &n), 0);
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		assert_non_null(gelf_getphdr(e, (int)i, &ph));
		if (ph.p_type != PT_NOTE)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz,
						   ELF_T_NHDR);
		assert_non_null(d);
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) != 0)
			if (nh.n_type == type &&
			    strcmp((const char *)d->d_buf + name_off, name) == 0) {
				*len = nh.n_descsz;
				return (const uint8_t *)d->d_buf + desc_off;
			}
	}
	return NULL;
}
