/* SPDX-License-Identifier: Apache-2.0 */
/* KVM tests of the GDB stub with a scripted client thread: debug registers, kill, detach. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mem.h"
#include "nub/x86.h"
#include "pagewalk.h"
#include "rawkvm.h"
#include "sandbox.h"
#include "simple_fns.h"
#include "snapshot.h"
#include "testlib.h"

/* One exchange: send (packet), then expect a reply starting with (want) (NULL: none awaited). */
struct step {
	const char *packet;
	const char *want;
};

#define MAX_SESSIONS 3
#define MAX_STEPS 10

/* The client's script, one connection per session, and what went wrong (empty: nothing). */
struct client {
	uint16_t port;
	struct step session[MAX_SESSIONS][MAX_STEPS]; /* ends at a NULL packet */
	const char *final_want;                       /* after the last session: e.g. "W00" */
	sem_t *before_call; /* or NULL: posted by the test before session 1 may connect */
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
		if (s == 1 && c->before_call)
			sem_wait(c->before_call);
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

static struct nub_sandbox *evolve_with(uint16_t port, enum nub_gdb_breakpoints bp)
{
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.gdb_port = port;
	cfg.gdb_breakpoints = bp;
	return nub_test_evolve("simple", &cfg);
}

static struct nub_sandbox *evolve(uint16_t port)
{
	return evolve_with(port, NUB_GDB_BREAKPOINTS_AUTO);
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

/*
 * The engine's int3 probe agrees with a raw VM that owes nothing to the engine: the raw guest's
 * `jmp` becomes an int3 and runs under KVM_GUESTDBG_USE_SW_BP; a debug exit for vector 3 means
 * the host serves software breakpoints (hardware KVM), anything else that it does not (kvm_pvm:
 * an emulation failure).
 */
static void test_int3_probe_matches_a_raw_vm(void **state)
{
	(void)state;
	struct rawkvm k;
	struct rawkvm_vm vm;
	struct rawkvm_error e;
	assert_int_equal(rawkvm_open(&k, &e), 0);
	assert_int_equal(rawkvm_create(&k, &vm, NULL, &e), 0);
	vm.mem[RAWKVM_CODE + 2] = X86_OP_INT3; /* over the jmp after the out */
	struct kvm_guest_debug d = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP };
	assert_int_equal(ioctl(vm.vcpu_fd, KVM_SET_GUEST_DEBUG, &d), 0);
	assert_int_equal(ioctl(vm.vcpu_fd, KVM_RUN, NULL), 0);
	bool raw = vm.run->exit_reason == KVM_EXIT_DEBUG && vm.run->debug.arch.exception == 3;
	assert_int_equal(rawkvm_destroy(&k, &vm, &e), 0);
	rawkvm_close(&k);
	bool engine = !raw;
	struct nub_error err;
	assert_int_equal(nub_gdb_int3_supported(&engine, &err), NUB_OK);
	assert_int_equal(engine, raw);
	bool again = !raw;
	assert_int_equal(nub_gdb_int3_supported(&again, &err), NUB_OK); /* the cached answer */
	assert_int_equal(again, raw);
	print_message("this host %s int3 breakpoints at CPL0\n", raw ? "serves" : "cannot serve");
}

/* The guest-virtual address of function (name) in guest ELF (path) and its first byte. */
static uint64_t guest_symbol(const char *path, const char *name, uint8_t *first)
{
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	uint64_t addr = 0;
	Elf_Scn *scn = NULL;
	while (!addr && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			gelf_getsym(data, (int)i, &sym);
			if (!strcmp(elf_strptr(elf, sh.sh_link, sym.st_name), name))
				addr = sym.st_value;
		}
	}
	assert_int_not_equal(addr, 0);
	for (scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		gelf_getshdr(scn, &sh);
		if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_ALLOC) && addr >= sh.sh_addr &&
		    addr < sh.sh_addr + sh.sh_size)
			assert_int_equal(pread(fd, first, 1,
					       (off_t)(sh.sh_offset + addr - sh.sh_addr)),
					 1);
	}
	elf_end(elf);
	close(fd);
	return addr;
}

/*
 * Software breakpoints with int3 (config NUB_GDB_BREAKPOINTS_INT3): gdb reads the guest's own
 * byte under a Z0 while stopped, the int3 is in guest memory while the guest runs (on a host that
 * serves int3 the guest stops at it with swbreak and RIP on it, and detach lets the call finish;
 * on one that cannot, the call ends in the emulation failure at exactly that address), and after
 * the call the guest's byte is back, so the next snapshot holds the guest's code.
 */
static void test_int3_breakpoint_in_guest_memory(void **state)
{
	(void)state;
	uint8_t orig;
	uint64_t addr = guest_symbol(NUB_TEST_GUEST("simple"), "fn_echo", &orig);
	bool served;
	struct nub_error err;
	assert_int_equal(nub_gdb_int3_supported(&served, &err), NUB_OK);
	char z0[64], m[64], byte[8];
	snprintf(z0, sizeof z0, "Z0,%llx,1", (unsigned long long)addr);
	snprintf(m, sizeof m, "m%llx,1", (unsigned long long)addr);
	snprintf(byte, sizeof byte, "%02x", orig);
	struct client c = {
		.port = free_port(),
		.session = {
			{ { "?", "S05" }, { "D", "OK" } }, /* init */
			{ /* the call */
			  { "qSupported:swbreak+;hwbreak+", "PacketSize" },
			  { "?", "S05" },
			  { z0, "OK" },
			  { m, byte }, /* the guest's byte, not the int3 */
			  { "c", served ? "T05swbreak:;" : "S04" }, /* SIGILL: the emulation failure */
			  { m, byte },
			  { "D", "OK" } },
		},
	};
	pthread_t t;
	pthread_create(&t, NULL, client_main, &c);
	struct nub_sandbox *sb = evolve_with(c.port, NUB_GDB_BREAKPOINTS_INT3);
	struct nub_snapshot *base = NULL;
	assert_int_equal(nub_sandbox_snapshot(sb, &base, &err), NUB_OK);
	struct nub_buf resp = { 0 };
	enum nub_status st = nub_sandbox_call(sb, SIMPLE_ECHO, "hi", 2, &resp, &err);
	pthread_join(t, NULL);
	if (c.failure[0])
		fail_msg("%s", c.failure);
	if (served) {
		assert_int_equal(st, NUB_OK);
		assert_int_equal(resp.len, 2);
		assert_memory_equal(resp.data, "hi", 2);
	} else {
		assert_int_equal(st, NUB_E_EMULATION);
		assert_int_equal(err.rip, addr);
		assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_POISONED);
	}
	uint64_t gpa;
	uint32_t perms;
	assert_true(nub_pagewalk_translate(&sb->img.mem, base->vcpu.cr3, addr, &gpa, &perms));
	assert_int_equal(*nub_mem_ptr(&sb->img.mem, gpa, 1), orig);
	assert_int_equal(nub_sandbox_restore(sb, base, &err), NUB_OK);
	assert_int_equal(nub_sandbox_verify(sb, base, &err), NUB_OK);
	nub_snapshot_unref(base);
	nub_buf_free(&resp);
	nub_sandbox_free(sb);
}

/*
 * Continuing from an int3 breakpoint under RIP steps off it first, with the guest's byte in
 * place (on this host an int3 executed would be an emulation failure), then puts the int3 back:
 * the call finishes normally and the guest's byte is back in memory afterwards.
 */
static void test_int3_breakpoint_under_rip_is_stepped_over(void **state)
{
	(void)state;
	char z0[64];
	sem_t ready;
	sem_init(&ready, 0, 0);
	struct client c = {
		.port = free_port(),
		.session = {
			{ { "?", "S05" }, { "D", "OK" } },
			{ { "?", "S05" }, { z0, "OK" }, { "c", NULL } },
		},
		.final_want = "W00",
		.before_call = &ready,
	};
	pthread_t t;
	pthread_create(&t, NULL, client_main, &c);
	struct nub_sandbox *sb = evolve_with(c.port, NUB_GDB_BREAKPOINTS_INT3);
	struct nub_snapshot *base = NULL;
	struct nub_error err;
	assert_int_equal(nub_sandbox_snapshot(sb, &base, &err), NUB_OK);
	uint64_t rip = base->vcpu.rip, gpa; /* where the call's entry stop is */
	uint32_t perms;
	assert_true(nub_pagewalk_translate(&sb->img.mem, base->vcpu.cr3, rip, &gpa, &perms));
	uint8_t orig = *nub_mem_ptr(&sb->img.mem, gpa, 1);
	snprintf(z0, sizeof z0, "Z0,%llx,1", (unsigned long long)rip);
	sem_post(&ready);
	struct nub_buf resp = { 0 };
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "hi", 2, &resp, &err), NUB_OK);
	assert_int_equal(resp.len, 2);
	assert_memory_equal(resp.data, "hi", 2);
	assert_int_equal(*nub_mem_ptr(&sb->img.mem, gpa, 1), orig);
	nub_snapshot_unref(base);
	nub_buf_free(&resp);
	nub_sandbox_free(sb);
	pthread_join(t, NULL);
	sem_destroy(&ready);
	if (c.failure[0])
		fail_msg("%s", c.failure);
}

/* An unknown breakpoint mode is refused before anything is built, naming the field. */
static void test_bad_breakpoint_mode_is_invalid(void **state)
{
	(void)state;
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.gdb_breakpoints = (enum nub_gdb_breakpoints)7;
	struct nub_error err;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_INVALID);
	nub_assert_error(
		&err, NUB_E_INVALID,
		"config.gdb_breakpoints 7 is not 0 (auto), 1 (int3) or 2 (debug registers)");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_guest_and_debugger_debug_registers_stay_apart),
	cmocka_unit_test(test_kill_cancels_the_call),
	cmocka_unit_test(test_busy_port_is_an_io_error),
	cmocka_unit_test(test_int3_probe_matches_a_raw_vm),
	cmocka_unit_test(test_int3_breakpoint_in_guest_memory),
	cmocka_unit_test(test_int3_breakpoint_under_rip_is_stepped_over),
	cmocka_unit_test(test_bad_breakpoint_mode_is_invalid),
};

NUB_TEST_SUITE(tests);
