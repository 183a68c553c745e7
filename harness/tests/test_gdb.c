/* SPDX-License-Identifier: Apache-2.0 */
/* KVM tests of the GDB stub with a scripted client thread: debug registers, kill, detach. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "simple_fns.h"
#include "snapshot.h"
#include "testlib.h"

/* One exchange: send (packet), then expect a reply starting with (want) (NULL: none awaited). */
struct step {
	const char *packet;
	const char *want;
};

#define MAX_SESSIONS 3
#define MAX_STEPS 8

/* The client's script, one connection per session, and what went wrong (empty: nothing). */
struct client {
	uint16_t port;
	struct step session[MAX_SESSIONS][MAX_STEPS]; /* ends at a NULL packet */
	const char *final_want;                       /* after the last session: e.g. "W00" */
	char failure[256];
};

/* A port nobody listens on right now (the kernel's choice for port 0). */
static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static int connect_retry(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int i = 0; i < 500; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
			struct timeval tv = { .tv_sec = 20 };
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			return fd;
		}
		close(fd);
		usleep(10000);
	}
	return -1;
}

/* Reads up to the next whole "$...#cc" and copies its payload into (buf); false on EOF/timeout. */
static bool read_packet(int fd, char *buf, size_t size)
{
	size_t n = 0;
	bool in = false;
	char c;
	while (recv(fd, &c, 1, 0) == 1) {
		if (!in) {
			in = c == '$';
			continue;
		}
		if (c == '#') {
			char sum[2];
			buf[n] = '\0';
			return recv(fd, sum, 2, MSG_WAITALL) == 2;
		}
		if (n + 1 < size)
			buf[n++] = c;
	}
	return false;
}

static void send_packet(int fd, const char *p)
{
	unsigned sum = 0;
	for (const char *q = p; *q; q++)
		sum += (unsigned char)*q;
	char frame[256];
	int n = snprintf(frame, sizeof frame, "$%s#%02x", p, sum & 0xffu);
	send(fd, frame, (size_t)n, MSG_NOSIGNAL);
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	int fd = -1;
	char got[1024];
	for (int s = 0; s < MAX_SESSIONS && c->session[s][0].packet; s++) {
		if (fd >= 0)
			close(fd);
		fd = connect_retry(c->port);
		if (fd < 0) {
			snprintf(c->failure, sizeof c->failure, "session %d: cannot connect", s);
			return NULL;
		}
		for (int i = 0; i < MAX_STEPS && c->session[s][i].packet; i++) {
			const struct step *st = &c->session[s][i];
			send_packet(fd, st->packet);
			if (!st->want)
				continue;
			if (!read_packet(fd, got, sizeof got) ||
			    strncmp(got, st->want, strlen(st->want)) != 0) {
				snprintf(c->failure, sizeof c->failure,
					 "session %d: '%s' got '%.64s', want '%s'", s, st->packet,
					 got, st->want);
				close(fd);
				return NULL;
			}
		}
	}
	if (c->final_want && (!read_packet(fd, got, sizeof got) || strcmp(got, c->final_want) != 0))
		snprintf(c->failure, sizeof c->failure, "final: got '%.64s', want '%s'", got,
			 c->final_want);
	close(fd);
	return NULL;
}

static struct nub_sandbox *evolve(uint16_t port)
{
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.gdb_port = port;
	return nub_test_evolve("simple", &cfg);
}

#define DATA_BP_DR7 (0x400u | 0x55u | 0xddddu << 16) /* the guest's own: L0..L3, R/W, LEN 1101b */

/*
 * The guest's debug registers and the debugger's stay apart: with a debugger breakpoint in DR0
 * (and KVM_GUESTDBG_USE_HW_BP on while the call runs), the guest's own MOV DR values are what a
 * snapshot records, and restore brings back the snapshot's exactly.
 */
static void test_guest_and_debugger_debug_registers_stay_apart(void **state)
{
	(void)state;
	struct client c = {
		.port = free_port(),
		.session = {
			{ { "?", "S05" }, { "D", "OK" } },                           /* init */
			{ { "?", "S05" }, { "Z1,1000,1", "OK" }, { "c", NULL } },      /* the call */
		},
		.final_want = "W00", /* the sandbox freed while gdb waits */
	};
	pthread_t t;
	pthread_create(&t, NULL, client_main, &c);
	struct nub_sandbox *sb = evolve(c.port);
	struct nub_snapshot *base = NULL, *s = NULL;
	struct nub_error err;
	assert_int_equal(nub_sandbox_snapshot(sb, &base, &err), NUB_OK);
	static const uint64_t drs[5] = { 0x100000, 0x100008, 0x100010, 0x100018, DATA_BP_DR7 };
	struct nub_buf resp = { 0 };
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_SET_DEBUG_REGS, drs, sizeof drs, &resp, &err),
			 NUB_OK);
	assert_int_equal(nub_sandbox_snapshot(sb, &s, &err), NUB_OK);
	assert_memory_equal(s->vcpu.dr, drs, sizeof s->vcpu.dr);
	assert_int_equal(s->vcpu.dr7, DATA_BP_DR7);
	nub_snapshot_unref(s);
	assert_int_equal(nub_sandbox_restore(sb, base, &err), NUB_OK);
	assert_int_equal(nub_sandbox_snapshot(sb, &s, &err), NUB_OK);
	assert_memory_equal(s->vcpu.dr, base->vcpu.dr, sizeof s->vcpu.dr);
	assert_int_equal(s->vcpu.dr7, base->vcpu.dr7);
	nub_snapshot_unref(s);
	nub_snapshot_unref(base);
	nub_buf_free(&resp);
	nub_sandbox_free(sb);
	pthread_join(t, NULL);
	if (c.failure[0])
		fail_msg("%s", c.failure);
}

/* gdb's k ends the call with NUB_E_CANCELLED and poisons the sandbox; init's D let it run on. */
static void test_kill_cancels_the_call(void **state)
{
	(void)state;
	struct client c = {
		.port = free_port(),
		.session = {
			{ { "?", "S05" }, { "D", "OK" } },
			{ { "?", "S05" }, { "k", NULL } },
		},
	};
	pthread_t t;
	pthread_create(&t, NULL, client_main, &c);
	struct nub_sandbox *sb = evolve(c.port);
	struct nub_buf resp = { 0 };
	struct nub_error err;
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "hi", 2, &resp, &err), NUB_E_CANCELLED);
	nub_assert_error(&err, NUB_E_CANCELLED, "killed by gdb");
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_POISONED);
	nub_sandbox_free(sb);
	pthread_join(t, NULL);
	if (c.failure[0])
		fail_msg("%s", c.failure);
}

/* A port another socket holds: evolve fails with NUB_E_IO naming it, nothing leaks. */
static void test_busy_port_is_an_io_error(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.gdb_port = ntohs(a.sin_port);
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_error err;
	assert_int_equal(nub_uninit_new(&env, &cfg, &u, &err), NUB_OK);
	assert_int_equal(nub_uninit_evolve(u, &sb, &err), NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO, "gdb stub on 127.0.0.1:");
	assert_null(sb);
	close(fd);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_guest_and_debugger_debug_registers_stay_apart),
	cmocka_unit_test(test_kill_cancels_the_call),
	cmocka_unit_test(test_busy_port_is_an_io_error),
};

NUB_TEST_SUITE(tests);
