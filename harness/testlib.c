/* Test support shared by the regression suite. */
#include "testlib.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void nub_test_require_kvm(void)
{
	if (nub_kvm_available())
		return;
	const char *req = getenv("NUB_REQUIRE_KVM");
	if (req && strcmp(req, "1") == 0) {
		fprintf(stderr, "NUB_REQUIRE_KVM=1 but /dev/kvm cannot be opened\n");
		exit(1);
	}
	fprintf(stderr, "/dev/kvm cannot be opened: skipping\n");
	exit(77);
}

void nub_test_apply_filter(void)
{
	const char *pattern = getenv("NUB_TEST_FILTER");
	if (pattern && *pattern)
		cmocka_set_test_filter(pattern);
}

static void *counting_realloc(void *ctx, void *ptr, size_t size)
{
	struct nub_test_alloc *a = ctx;
	if (size == 0) {
		if (ptr) {
			a->live--;
			free(ptr);
		}
		return NULL;
	}
	a->calls++;
	if (a->fail_at > 0 && a->calls == a->fail_at)
		return NULL;
	void *p = realloc(ptr, size);
	if (p && !ptr)
		a->live++;
	return p;
}

struct nub_alloc_hook nub_test_alloc_hook(struct nub_test_alloc *a)
{
	struct nub_alloc_hook h = { .realloc = counting_realloc, .ctx = a };
	return h;
}

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
