/* SPDX-License-Identifier: Apache-2.0 */
/* The GDB remote stub's KVM side: socket, run loop with stops, registers, memory, debug regs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc.h"
#include "coredump.h"
#include "error.h"
#include "exit.h"
#include "gdb_packet.h"
#include "interrupt.h"
#include "kvm.h"
#include "layout.h"
#include "mem.h"
#include "nub/x86.h"
#include "outb.h"
#include "pagewalk.h"
#include "sandbox.h"

#define NUB_GDB_SLOTS 4u              /* DR0..DR3 */
#define NUB_GDB_SILENT_MS 30000       /* a stopped client silent this long is detached */
#define DR6_BS (UINT64_C(1) << 14)    /* single step */
#define DR7_FIXED (UINT64_C(1) << 10) /* reads as 1 */
#define PAGE_MASK_LOW (NUB_PAGE_SIZE - 1u)

struct bp_slot {
	bool used;
	enum nub_gdb_bp_type type;
	uint64_t addr, len;
};

/* A software breakpoint: an int3 written over the byte at (gpa) while the guest runs. */
struct int3_bp {
	uint64_t addr; /* guest-virtual, as gdb gave it */
	uint64_t gpa;  /* where it translated when gdb set it */
	uint8_t saved; /* the guest's byte, while inserted */
	bool inserted; /* 0xCC is in guest memory now */
};

struct nub_gdb {
	int listen_fd, client_fd; /* -1 when closed */
	struct nub_gdb_rx rx;
	bool swbreak, hwbreak;            /* gdb's qSupported: stop replies may name the reason */
	bool int3;                        /* Z0 writes int3 (else it takes a debug register) */
	struct bp_slot bp[NUB_GDB_SLOTS]; /* Z1..Z4, and Z0 without int3: the debug registers */
	struct int3_bp sw[NUB_GDB_INT3_MAX]; /* Z0 with int3 */
	unsigned nsw;
	bool stepping;                  /* the last resume was a step */
	int step_over;                  /* a slot left out for one step off its address, or -1 */
	int sw_step_over;               /* the same for an int3 breakpoint (index into sw), or -1 */
	struct kvm_guest_debug applied; /* what KVM has, to skip an unchanged KVM_SET_GUEST_DEBUG */
	struct nub_vcpu_state vcpu;     /* the stopped vCPU, read once per stop */
	bool vcpu_dirty;                /* gdb wrote registers: load them before resuming */
	struct nub_gdb_stop stop;       /* the current stop, for '?' */
	bool interrupt_queued;          /* a Ctrl-C read along with the resume packet before it */
	size_t last_len;                /* the last framed reply, sent again on '-' */
	uint8_t last[NUB_GDB_FRAME_MAX];
	uint8_t out[NUB_GDB_PACKET_MAX]; /* a reply payload */
	uint8_t mem[NUB_GDB_PACKET_MAX]; /* memory bytes of an 'm' or 'M' */
};

/* What serving a stop ended with. */
enum serve_result {
	SERVE_RESUME,   /* c, s, vCont: run on under the debugger */
	SERVE_DETACHED, /* D, or the client went away: run on without it */
	SERVE_KILL,     /* k: the call ends with NUB_E_CANCELLED */
	SERVE_ERROR,    /* the engine failed (err set) */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Sends the whole buffer; false if the client is gone or stopped reading (SO_SNDTIMEO). */
static bool send_all(struct nub_gdb *g, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(g->client_fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static bool reply(struct nub_gdb *g, const void *payload, size_t len)
{
	if (nub_gdb_frame(payload, len, g->last, sizeof g->last, &g->last_len) != NUB_OK)
		return false;
	return send_all(g, g->last, g->last_len);
}

static bool reply_str(struct nub_gdb *g, const char *s)
{
	return reply(g, s, strlen(s));
}

/* Engine signal numbers (coredump.h) to gdb's own numbering. */
static uint8_t gdb_signal(const struct nub_error *outcome)
{
	switch (nub_coredump_signal(outcome)) {
	case SIGILL:
		return NUB_GDB_SIGILL;
	case SIGTRAP:
		return NUB_GDB_SIGTRAP;
	case SIGABRT:
		return NUB_GDB_SIGABRT;
	case SIGFPE:
		return NUB_GDB_SIGFPE;
	case SIGKILL:
		return NUB_GDB_SIGKILL;
	case SIGBUS:
		return NUB_GDB_SIGBUS;
	case SIGALRM:
		return 0x0eu; /* gdb's SIGALRM */
	default:
		return NUB_GDB_SIGSEGV;
	}
}

static bool send_stop(struct nub_gdb *g)
{
	struct nub_gdb_stop s = g->stop;
	/* Without swbreak+/hwbreak+ from gdb, a breakpoint is a plain SIGTRAP. */
	if ((s.kind == NUB_GDB_STOP_SWBREAK && !g->swbreak) ||
	    (s.kind == NUB_GDB_STOP_HWBREAK && !g->hwbreak))
		s.kind = NUB_GDB_STOP_SIGNAL;
	size_t n;
	if (nub_gdb_stop_reply(&s, g->out, sizeof g->out, &n) != NUB_OK)
		return false;
	return reply(g, g->out, n);
}

/* ---- Debug registers ---- */

/* DR7's LEN field for a length of 1, 2, 4 or 8 bytes (SDM vol. 3 §18.2.4). */
static uint64_t dr7_len(uint64_t len)
{
	return len == 2 ? 1u : len == 8 ? 2u : len == 4 ? 3u : 0u;
}

static bool int3_insert_all(struct nub_sandbox *sb, struct nub_gdb *g);
static void int3_remove_all(struct nub_sandbox *sb, struct nub_gdb *g);

/*
 * Loads the breakpoints and the step flag into KVM, and (enable) writes the int3 breakpoints into
 * guest memory or (!enable) takes them out. While KVM_GUESTDBG_USE_HW_BP is set DR0..DR3 override
 * the guest's own debug registers in hardware; KVM keeps the guest's values (KVM_GET/SET_DEBUGREGS,
 * what snapshots and restore use) apart and loads them back when debugging is switched off.
 * KVM_GUESTDBG_USE_SW_BP makes every guest #BP a debug exit while an int3 of ours is in memory.
 */
static enum nub_status apply_debug(struct nub_sandbox *sb, struct nub_gdb *g, bool enable,
				   struct nub_error *err)
{
	struct kvm_guest_debug d;
	memset(&d, 0, sizeof d);
	uint64_t dr7 = 0;
	bool sw = false;
	if (enable)
		sw = int3_insert_all(sb, g);
	else
		int3_remove_all(sb, g);
	for (unsigned i = 0; enable && i < NUB_GDB_SLOTS; i++) {
		if (!g->bp[i].used || (int)i == g->step_over)
			continue;
		uint64_t rw = g->bp[i].type == NUB_GDB_WP_WRITE  ? 1u
			      : g->bp[i].type >= NUB_GDB_WP_READ ? 3u /* x86 has no read-only */
								 : 0u;
		uint64_t len = rw ? dr7_len(g->bp[i].len) : 0u;
		d.arch.debugreg[i] = g->bp[i].addr;
		dr7 |= (UINT64_C(1) << (2 * i)) | (rw << (16 + 4 * i)) | (len << (18 + 4 * i));
	}
	bool step = enable && (g->stepping || g->step_over >= 0 || g->sw_step_over >= 0);
	if (dr7 || step || sw) {
		d.control = KVM_GUESTDBG_ENABLE | (dr7 ? KVM_GUESTDBG_USE_HW_BP : 0u) |
			    (sw ? KVM_GUESTDBG_USE_SW_BP : 0u) |
			    (step ? KVM_GUESTDBG_SINGLESTEP : 0u);
		d.arch.debugreg[7] = dr7 ? dr7 | DR7_FIXED : 0u;
	}
	if (!memcmp(&d, &g->applied, sizeof d))
		return NUB_OK;
	enum nub_status st = nub_kvm_set_guest_debug(&sb->kvm, &d, err);
	if (st == NUB_OK)
		g->applied = d;
	return st;
}

static const char *set_int3_bp(struct nub_sandbox *sb, struct nub_gdb *g, uint64_t addr,
			       bool insert);

/*
 * Z/z: 'OK', or E22 for a misaligned watchpoint, E28 when all four registers (or, for int3, all
 * NUB_GDB_INT3_MAX breakpoints) are taken, E14 for an int3 at an unmapped address.
 */
static const char *set_bp(struct nub_sandbox *sb, struct nub_gdb *g, const struct nub_gdb_cmd *c,
			  bool insert)
{
	enum nub_gdb_bp_type type = c->bp.type;
	if (type == NUB_GDB_BP_SW && g->int3)
		return set_int3_bp(sb, g, c->bp.addr, insert);
	uint64_t len = type <= NUB_GDB_BP_HW ? 1u : c->bp.kind;
	/* Without int3 a Z0 is a debug register too, so it is the same kind of slot as a Z1. */
	bool exec = type <= NUB_GDB_BP_HW;
	int found = -1, free_slot = -1;
	for (unsigned i = 0; i < NUB_GDB_SLOTS; i++) {
		const struct bp_slot *b = &g->bp[i];
		if (!b->used) {
			if (free_slot < 0)
				free_slot = (int)i;
		} else if (b->addr == c->bp.addr && b->len == len &&
			   (exec ? b->type <= NUB_GDB_BP_HW : b->type == type)) {
			found = (int)i;
		}
	}
	if (!insert) {
		if (found >= 0)
			g->bp[found].used = false;
		return "OK";
	}
	if (found >= 0)
		return "OK";
	if (!exec && ((len & (len - 1)) || len == 0 || len > 8 || (c->bp.addr & (len - 1))))
		return "E22";
	if (free_slot < 0)
		return "E28";
	g->bp[free_slot] = (struct bp_slot){
		.used = true, .type = type, .addr = c->bp.addr, .len = len
	};
	return "OK";
}

/* The exec breakpoint slot at (rip), or -1: resuming there must step off it first. */
static int exec_slot_at(const struct nub_gdb *g, uint64_t rip)
{
	for (unsigned i = 0; i < NUB_GDB_SLOTS; i++)
		if (g->bp[i].used && g->bp[i].type <= NUB_GDB_BP_HW && g->bp[i].addr == rip)
			return (int)i;
	return -1;
}

/* ---- Memory, through the guest's own page tables ---- */

/*
 * The host pointer of (len) bytes at guest-virtual (gva), all inside one page; NULL if the guest's
 * tables (its CR3 at this stop) do not map it onto guest memory. The tables are the guest's, so
 * they are walked checked: a hostile table gives NULL, never a read outside guest memory.
 */
static volatile uint8_t *gva_ptr(struct nub_sandbox *sb, struct nub_gdb *g, uint64_t gva,
				 uint64_t len, uint64_t *gpa)
{
	uint32_t perms;
	if (!nub_pagewalk_translate(&sb->img.mem, g->vcpu.cr3, gva, gpa, &perms))
		return NULL;
	return nub_mem_ptr(&sb->img.mem, *gpa, len);
}

/* The bytes of the next chunk from (gva): up to (left), never across a page. */
static uint64_t chunk(uint64_t gva, uint64_t left)
{
	uint64_t room = NUB_PAGE_SIZE - (gva & PAGE_MASK_LOW);
	return left < room ? left : room;
}

/* 'm': as many bytes as are mapped from the start (a short read is allowed), else E14. */
static bool read_mem(struct nub_sandbox *sb, struct nub_gdb *g, uint64_t addr, uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		uint64_t gpa, n = chunk(addr + done, len - done);
		volatile uint8_t *p = gva_ptr(sb, g, addr + done, n, &gpa);
		if (!p)
			break;
		for (uint64_t i = 0; i < n; i++)
			g->mem[done + i] = p[i];
		done += n;
	}
	if (!done)
		return reply_str(g, "E14");
	size_t hl;
	if (nub_gdb_hex_encode(g->mem, done, g->out, sizeof g->out, &hl) != NUB_OK)
		return reply_str(g, "E01");
	return reply(g, g->out, hl);
}

/*
 * Host writes are invisible to KVM's dirty log, so a page gdb wrote is marked in the sandbox's
 * own bitmap: restore then copies it back from the snapshot like a page the guest dirtied.
 */
static void mark_dirty(struct nub_sandbox *sb, uint64_t gpa)
{
	const struct nub_layout *l = &sb->img.layout;
	uint64_t page;
	int slot;
	if (gpa >= NUB_PRIMARY_BASE && gpa - NUB_PRIMARY_BASE < l->primary_size) {
		slot = 0;
		page = (gpa - NUB_PRIMARY_BASE) / NUB_PAGE_SIZE;
	} else if (gpa >= l->scratch_gpa && gpa - l->scratch_gpa < l->scratch_size) {
		slot = 1;
		page = (gpa - l->scratch_gpa) / NUB_PAGE_SIZE;
	} else {
		return;
	}
	sb->dirty[slot][page / 64] |= UINT64_C(1) << (page % 64);
}

/*
 * 'M'/'X': all or nothing. Every page is translated before any byte is written, so a write that
 * runs into an unmapped page changes nothing (E14). gdb may write code: the guest's own W bit is
 * a guest policy, not a limit on its debugger.
 */
static bool write_mem(struct nub_sandbox *sb, struct nub_gdb *g, uint64_t addr,
		      const uint8_t *bytes, uint64_t len)
{
	uint64_t gpa;
	for (uint64_t done = 0; done < len; done += chunk(addr + done, len - done))
		if (!gva_ptr(sb, g, addr + done, chunk(addr + done, len - done), &gpa))
			return reply_str(g, "E14");
	for (uint64_t done = 0; done < len;) {
		uint64_t n = chunk(addr + done, len - done);
		volatile uint8_t *p = gva_ptr(sb, g, addr + done, n, &gpa);
		for (uint64_t i = 0; i < n; i++)
			p[i] = bytes[done + i];
		mark_dirty(sb, gpa);
		done += n;
	}
	return reply_str(g, "OK");
}

/* ---- Software breakpoints: int3 in guest memory ---- */

/* The int3 breakpoint at (addr), or -1. */
static int int3_at(const struct nub_gdb *g, uint64_t addr)
{
	for (unsigned i = 0; i < g->nsw; i++)
		if (g->sw[i].addr == addr)
			return (int)i;
	return -1;
}

/*
 * Z0/z0 with int3. The address is translated now, through the guest's tables at this stop, and
 * the breakpoint stays at that guest-physical byte: a later CR3 or table change by the guest
 * cannot make the stub write 0xCC anywhere else. Nothing is written until the guest resumes.
 */
static const char *set_int3_bp(struct nub_sandbox *sb, struct nub_gdb *g, uint64_t addr,
			       bool insert)
{
	int i = int3_at(g, addr);
	if (!insert) {
		if (i >= 0) {
			g->sw[i] = g->sw[g->nsw - 1];
			g->nsw--;
		}
		return "OK";
	}
	if (i >= 0)
		return "OK";
	if (g->nsw == NUB_GDB_INT3_MAX)
		return "E28";
	uint64_t gpa;
	if (!gva_ptr(sb, g, addr, 1, &gpa))
		return "E14";
	g->sw[g->nsw++] = (struct int3_bp){ .addr = addr, .gpa = gpa };
	return "OK";
}

/*
 * Writes 0xCC over each breakpoint's byte, saving the guest's, except the one being stepped over
 * (every stop took them all out, so it is not in memory); returns whether any int3 of ours is in
 * memory. A host write is invisible to KVM's dirty log, so the page is marked for restore too.
 */
static bool int3_insert_all(struct nub_sandbox *sb, struct nub_gdb *g)
{
	bool any = false;
	for (unsigned i = 0; i < g->nsw; i++) {
		struct int3_bp *b = &g->sw[i];
		volatile uint8_t *p = nub_mem_ptr(&sb->img.mem, b->gpa, 1);
		if ((int)i == g->sw_step_over || !p)
			continue;
		if (!b->inserted) {
			b->saved = *p;
			*p = X86_OP_INT3;
			b->inserted = true;
			mark_dirty(sb, b->gpa);
		}
		any = true;
	}
	return any;
}

/*
 * Puts the guest's bytes back: at every stop (gdb reads and writes the guest's own code), after
 * every run (snapshots and restore never see an int3 of ours) and on detach. A byte the guest
 * itself overwrote meanwhile is the guest's and stays.
 */
static void int3_remove_all(struct nub_sandbox *sb, struct nub_gdb *g)
{
	for (unsigned i = 0; i < g->nsw; i++) {
		struct int3_bp *b = &g->sw[i];
		if (!b->inserted)
			continue;
		volatile uint8_t *p = nub_mem_ptr(&sb->img.mem, b->gpa, 1);
		if (p && *p == X86_OP_INT3)
			*p = b->saved;
		b->inserted = false;
	}
}

/* Whether int3 reaches the stub as a debug exit: -1 not probed yet, else 0 or 1. */
static atomic_int int3_cache = -1;

/* The probe VM: page tables at 0x1000..0x3fff mapping 0..2 MiB, code at 0x4000, 5 pages in all. */
#define PROBE_PML4 0x1000u
#define PROBE_PDPT 0x2000u
#define PROBE_PD 0x3000u
#define PROBE_CODE 0x4000u
#define PROBE_SIZE 0x5000u

/*
 * One KVM_RUN of "int3; hlt" at CPL0 in long mode with KVM_GUESTDBG_USE_SW_BP: a debug exit for
 * vector 3 means the host serves int3 breakpoints. Anything else (kvm_pvm's emulation failure; a
 * shutdown because the empty IDT got the #BP; the hlt) means it does not.
 */
static enum nub_status probe_int3(bool *supported, struct nub_error *err)
{
	struct nub_kvm k;
	/* Once per process and cached: not through a sandbox's ioctl hook, like the XCR0 probe. */
	enum nub_status st = nub_kvm_create(&k, NULL, err);
	if (st != NUB_OK)
		return st;
	uint8_t *m = mmap(NULL, PROBE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			  0);
	if (m == MAP_FAILED) {
		st = nub_error_set_errno(err, NUB_E_NOMEM, errno, "int3 probe memory");
		nub_kvm_destroy(&k);
		return st;
	}
	uint64_t table = X86_PTE_P | X86_PTE_RW;
	((uint64_t *)(m + PROBE_PML4))[0] = PROBE_PDPT | table;
	((uint64_t *)(m + PROBE_PDPT))[0] = PROBE_PD | table;
	((uint64_t *)(m + PROBE_PD))[0] = table | X86_PTE_PS; /* GPA 0..2 MiB, 5 pages backed */
	m[PROBE_CODE] = X86_OP_INT3;
	m[PROBE_CODE + 1] = X86_OP_HLT;
	const struct nub_kvm_boot boot = { .rip = PROBE_CODE,
					   .rsp = PROBE_SIZE,
					   .cr3 = PROBE_PML4 };
	const struct kvm_guest_debug d = { .control = KVM_GUESTDBG_ENABLE |
						      KVM_GUESTDBG_USE_SW_BP };
	st = nub_kvm_map(&k, 0, 0, PROBE_SIZE, m, 0, err);
	if (st == NUB_OK)
		st = nub_kvm_boot(&k, &boot, err);
	if (st == NUB_OK)
		st = nub_kvm_set_guest_debug(&k, &d, err);
	if (st == NUB_OK) {
		int r;
		do
			r = nub_kvm_run(&k);
		while (r == -EINTR || r == -EAGAIN);
		if (r < 0)
			st = nub_error_set_errno(err, NUB_E_KVM, -r, "KVM_RUN (int3 probe)");
		else
			*supported = k.run->exit_reason == KVM_EXIT_DEBUG &&
				     k.run->debug.arch.exception == X86_VEC_BP;
	}
	nub_kvm_destroy(&k);
	munmap(m, PROBE_SIZE);
	return st;
}

enum nub_status nub_gdb_int3_supported(bool *supported, struct nub_error *err)
{
	int cached = atomic_load(&int3_cache);
	if (cached < 0) {
		bool yes = false;
		enum nub_status st = probe_int3(&yes, err);
		if (st != NUB_OK)
			return st;
		cached = yes;
		atomic_store(&int3_cache, cached);
	}
	*supported = cached;
	return NUB_OK;
}

/* ---- The connection ---- */

static enum nub_status listen_on(struct nub_gdb *g, uint16_t port, struct nub_error *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nub_error_set_errno(err, NUB_E_IO, errno, "gdb stub socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* Loopback only: the stub reads and writes all of guest memory for whoever connects. */
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0) {
		int e = errno;
		close(fd);
		return nub_error_set_errno(err, NUB_E_IO, e, "gdb stub on 127.0.0.1:%u", port);
	}
	g->listen_fd = fd;
	return NUB_OK;
}

/*
 * Waits for (fd) to become readable for up to (ms) (-1: forever). A signal (a kill, a stale
 * kick) ends the wait early with 0 so the caller can look at the call's state; -1 on timeout.
 */
static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, ms);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	return r == 0 ? -1 : 1;
}

/* Blocks until a gdb connects; NUB_E_CANCELLED if the call is killed meanwhile. */
static enum nub_status accept_client(struct nub_sandbox *sb, struct nub_gdb *g, uint64_t gen,
				     struct nub_error *err)
{
	while (g->client_fd < 0) {
		enum nub_status st = nub_interrupt_check(sb->intr, gen, err);
		if (st != NUB_OK)
			return st;
		if (wait_readable(g->listen_fd, -1) <= 0)
			continue;
		int fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		/* A client that stops reading must not block the call forever. */
		struct timeval tv = { .tv_sec = NUB_GDB_SILENT_MS / 1000 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		g->client_fd = fd;
		g->swbreak = g->hwbreak = false;
		nub_gdb_rx_init(&g->rx);
	}
	return NUB_OK;
}

/*
 * While the guest runs, a byte from gdb (its Ctrl-C) must stop it: the socket raises the
 * engine's kick signal on this thread (O_ASYNC), whose handler sets immediate_exit, so KVM_RUN
 * returns EINTR wherever the byte lands; the run loop polls the socket before each KVM_RUN for a
 * byte that came before. While stopped the stub reads the socket itself, so the signal is off.
 */
static void set_async(struct nub_sandbox *sb, struct nub_gdb *g, bool on)
{
	if (g->client_fd < 0)
		return;
	int fl = fcntl(g->client_fd, F_GETFL);
	if (on) {
		struct f_owner_ex owner = { .type = F_OWNER_TID, .pid = gettid() };
		fcntl(g->client_fd, F_SETSIG, SIGRTMIN + sb->img.cfg.interrupt_signal_offset);
		fcntl(g->client_fd, F_SETOWN_EX, &owner);
	}
	fcntl(g->client_fd, F_SETFL, on ? fl | O_ASYNC | O_NONBLOCK : (fl & ~O_ASYNC) | O_NONBLOCK);
}

/* Drops the client and every breakpoint: the guest runs on as if never debugged. */
static enum nub_status detach(struct nub_sandbox *sb, struct nub_gdb *g, struct nub_error *err)
{
	close_fd(&g->client_fd);
	memset(g->bp, 0, sizeof g->bp);
	g->stepping = false;
	g->step_over = g->sw_step_over = -1;
	enum nub_status st = apply_debug(sb, g, false, err);
	g->nsw = 0;
	return st;
}

/* ---- Serving a stop ---- */

/* Registers gdb changed go back into the vCPU before it runs again. */
static enum nub_status load_vcpu(struct nub_sandbox *sb, struct nub_gdb *g, struct nub_error *err)
{
	if (!g->vcpu_dirty)
		return NUB_OK;
	g->vcpu_dirty = false;
	return nub_kvm_set_state(&sb->kvm, &g->vcpu, err);
}

/* Sets up the resume of a c or s, at (addr) if (has_addr) and canonical. */
static void resume(struct nub_gdb *g, bool step, bool has_addr, uint64_t addr)
{
	if (has_addr && (uint64_t)((int64_t)(addr << 16) >> 16) == addr) {
		g->vcpu.rip = addr;
		g->vcpu_dirty = true;
	}
	g->stepping = step;
	/* An exec breakpoint under RIP would fire again at once: step off it with it disabled. */
	g->step_over = exec_slot_at(g, g->vcpu.rip);
	g->sw_step_over = int3_at(g, g->vcpu.rip);
}

/*
 * Handles one packet. Returns true to keep serving, false with *(res) set to end the stop.
 * (readonly): the guest already has its outcome; only reads, c, s, D and k are served.
 */
static bool handle(struct nub_sandbox *sb, struct nub_gdb *g, bool readonly, enum serve_result *res)
{
	struct nub_gdb_cmd c;
	struct nub_error e;
	nub_error_clear(&e);
	size_t n;
	enum nub_gdb_cmd_kind kind = nub_gdb_parse(g->rx.payload, g->rx.len, &c);
	bool writes = kind == NUB_GDB_CMD_WRITE_REGS || kind == NUB_GDB_CMD_WRITE_REG ||
		      kind == NUB_GDB_CMD_WRITE_MEM || kind == NUB_GDB_CMD_WRITE_MEM_BIN ||
		      kind == NUB_GDB_CMD_INSERT_BP;
	bool ok = true;
	if (readonly && writes)
		return reply_str(g, "E01") || (*res = SERVE_DETACHED, false);
	switch (kind) {
	case NUB_GDB_CMD_UNSUPPORTED:
		ok = reply(g, "", 0);
		break;
	case NUB_GDB_CMD_ERROR:
		ok = reply_str(g, "E01");
		break;
	case NUB_GDB_CMD_QSUPPORTED:
		g->swbreak = c.supported.swbreak;
		g->hwbreak = c.supported.hwbreak;
		ok = reply_str(g, NUB_GDB_QSUPPORTED_REPLY);
		break;
	case NUB_GDB_CMD_QXFER_FEATURES: {
		size_t dl;
		const char *doc = nub_gdb_target_xml(&dl);
		if (nub_gdb_qxfer_reply((const uint8_t *)doc, dl, c.xfer.offset, c.xfer.length,
					g->out, sizeof g->out, &n) != NUB_OK)
			ok = reply_str(g, "E00");
		else
			ok = reply(g, g->out, n);
		break;
	}
	case NUB_GDB_CMD_QATTACHED:
		ok = reply_str(g, "1"); /* attached to an existing "process": detach, not kill */
		break;
	case NUB_GDB_CMD_QC:
		ok = reply_str(g, "QC1");
		break;
	case NUB_GDB_CMD_QFTHREADINFO:
		ok = reply_str(g, "m1");
		break;
	case NUB_GDB_CMD_QSTHREADINFO:
		ok = reply_str(g, "l");
		break;
	case NUB_GDB_CMD_SET_THREAD:
	case NUB_GDB_CMD_THREAD_ALIVE:
		ok = reply_str(g, "OK");
		break;
	case NUB_GDB_CMD_STOP_REASON:
		ok = send_stop(g);
		break;
	case NUB_GDB_CMD_READ_REGS:
		if (nub_gdb_regs_encode(&g->vcpu, g->out, sizeof g->out, &n) != NUB_OK)
			ok = reply_str(g, "E01");
		else
			ok = reply(g, g->out, n);
		break;
	case NUB_GDB_CMD_WRITE_REGS:
		if (nub_gdb_regs_decode(&g->vcpu, c.regs.hex, c.regs.hex_len, &e) != NUB_OK) {
			ok = reply_str(g, "E16");
		} else {
			g->vcpu_dirty = true;
			ok = reply_str(g, "OK");
		}
		break;
	case NUB_GDB_CMD_READ_REG:
		if (nub_gdb_reg_get(&g->vcpu, c.reg.regno, g->out, sizeof g->out, &n) != NUB_OK)
			ok = reply_str(g, "E01");
		else
			ok = reply(g, g->out, n);
		break;
	case NUB_GDB_CMD_WRITE_REG:
		if (nub_gdb_reg_set(&g->vcpu, c.reg.regno, c.reg.hex, c.reg.hex_len, &e) !=
		    NUB_OK) {
			ok = reply_str(g, "E16");
		} else {
			g->vcpu_dirty = true;
			ok = reply_str(g, "OK");
		}
		break;
	case NUB_GDB_CMD_READ_MEM:
		ok = read_mem(sb, g, c.mem.addr, c.mem.len);
		break;
	case NUB_GDB_CMD_WRITE_MEM: {
		size_t bl;
		if (nub_gdb_hex_decode(c.mem.data, c.mem.data_len, g->mem, sizeof g->mem, &bl) !=
		    NUB_OK)
			ok = reply_str(g, "E01");
		else
			ok = write_mem(sb, g, c.mem.addr, g->mem, bl);
		break;
	}
	case NUB_GDB_CMD_WRITE_MEM_BIN:
		ok = c.mem.len ? write_mem(sb, g, c.mem.addr, c.mem.data, c.mem.len)
			       : reply_str(g, "OK");
		break;
	case NUB_GDB_CMD_INSERT_BP:
	case NUB_GDB_CMD_REMOVE_BP:
		ok = reply_str(g, set_bp(sb, g, &c, kind == NUB_GDB_CMD_INSERT_BP));
		break;
	case NUB_GDB_CMD_CONTINUE:
	case NUB_GDB_CMD_STEP:
		resume(g, kind == NUB_GDB_CMD_STEP, c.resume.has_addr, c.resume.addr);
		*res = SERVE_RESUME;
		return false;
	case NUB_GDB_CMD_VCONT_QUERY:
		ok = reply_str(g, NUB_GDB_VCONT_REPLY);
		break;
	case NUB_GDB_CMD_VCONT: {
		/* One thread: the first action that applies to it (all do) decides. */
		uint8_t op = c.vcont.action[0].op;
		resume(g, op == 's' || op == 'S', false, 0);
		*res = SERVE_RESUME;
		return false;
	}
	case NUB_GDB_CMD_KILL:
		*res = SERVE_KILL;
		return false;
	case NUB_GDB_CMD_DETACH:
		reply_str(g, "OK");
		*res = SERVE_DETACHED;
		return false;
	case NUB_GDB_CMD_KIND_COUNT:
		ok = reply_str(g, "E01");
		break;
	}
	if (!ok)
		*res = SERVE_DETACHED;
	return ok;
}

/*
 * For a fault, the vCPU is in the guest's exception handler; gdb is shown what the CPU saved in
 * the exception frame (RIP, RFLAGS, RSP, CS, SS) instead, as a core does, so it unwinds from the
 * faulting instruction. The view is never loaded back: after an outcome only reads are served.
 */
static void fault_view(struct nub_sandbox *sb, struct nub_gdb *g, const struct nub_error *outcome)
{
	struct nub_fault_frame f;
	if (outcome->status != NUB_E_GUEST_FAULT ||
	    !nub_exit_fault_frame(&sb->img.mem, &sb->img.layout, &f))
		return;
	g->vcpu.rip = outcome->rip;
	g->vcpu.rflags = f.rflags;
	g->vcpu.gpr[6] = f.rsp; /* rsp */
	g->vcpu.cs.selector = (uint16_t)f.cs;
	g->vcpu.ss.selector = (uint16_t)f.ss;
	g->vcpu.cr2 = outcome->cr2;
}

/*
 * Serves gdb while the guest is stopped for (g->stop): waits for a client if none is connected
 * (the stop at entry), reads the vCPU once, answers packets until one resumes, detaches or kills.
 * The call's time limit is paused meanwhile. A client that closes, errs or stays silent for
 * NUB_GDB_SILENT_MS is detached. (outcome) (or NULL): the guest's outcome, stopped read-only.
 */
static enum serve_result serve(struct nub_sandbox *sb, struct nub_gdb *g, uint64_t gen,
			       const struct nub_error *outcome, struct nub_error *err)
{
	bool readonly = outcome != NULL;
	enum serve_result res = SERVE_DETACHED;
	bool had_client = g->client_fd >= 0;
	int3_remove_all(sb, g); /* gdb sees, and may change, the guest's own bytes */
	set_async(sb, g, false);
	nub_interrupt_pause(sb->intr);
	enum nub_status st = accept_client(sb, g, gen, err);
	if (st != NUB_OK)
		return SERVE_ERROR; /* a kill while waiting: err says NUB_E_CANCELLED */
	/* An I/O exit's instruction completes on the next KVM_RUN: finish it so the registers are. */
	if (nub_kvm_exit_needs_completion(&sb->kvm, sb->kvm.port_write_rip))
		st = nub_kvm_flush(&sb->kvm, err);
	if (st == NUB_OK)
		st = nub_kvm_get_state(&sb->kvm, &g->vcpu, err);
	if (st != NUB_OK)
		return SERVE_ERROR;
	g->vcpu_dirty = false;
	if (outcome)
		fault_view(sb, g, outcome);
	/* gdb waits for this stop since its last resume; a new client asks with '?'. */
	bool serving = !had_client || send_stop(g);
	while (serving) {
		uint8_t buf[512];
		int ready = wait_readable(g->client_fd, NUB_GDB_SILENT_MS);
		if (ready < 0)
			break;
		/* A signal: nub_interrupt_kill ends the call even while gdb holds it stopped. */
		if (ready == 0 && nub_interrupt_check(sb->intr, gen, err) != NUB_OK)
			return SERVE_ERROR;
		ssize_t r = recv(g->client_fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break;
		ssize_t i = 0;
		for (; serving && i < r; i++) {
			switch (nub_gdb_rx_feed(&g->rx, buf[i])) {
			case NUB_GDB_EV_PACKET:
				serving = send_all(g, (const uint8_t *)"+", 1) &&
					  handle(sb, g, readonly, &res);
				break;
			case NUB_GDB_EV_NACK:
				serving = send_all(g, g->last, g->last_len);
				break;
			case NUB_GDB_EV_INTERRUPT: /* already stopped: say so again */
				serving = send_stop(g);
				break;
			case NUB_GDB_EV_BAD_CHECKSUM:
			case NUB_GDB_EV_OVERFLOW:
				serving = send_all(g, (const uint8_t *)"-", 1);
				break;
			case NUB_GDB_EV_BAD_PACKET:
				serving = send_all(g, (const uint8_t *)"+", 1) &&
					  reply_str(g, "E01");
				break;
			case NUB_GDB_EV_NONE:
			case NUB_GDB_EV_ACK:
				break;
			}
		}
		/*
		 * What came in the same read after a resume packet: a gdb interrupted just before it
		 * resumes sends its Ctrl-C right behind the vCont, and dropping it would let the
		 * guest run on unstopped.
		 */
		for (; i < r; i++)
			if (nub_gdb_rx_feed(&g->rx, buf[i]) == NUB_GDB_EV_INTERRUPT)
				g->interrupt_queued = true;
	}
	if (res == SERVE_RESUME) {
		st = load_vcpu(sb, g, err);
		if (st == NUB_OK)
			st = apply_debug(sb, g, true, err);
		if (st != NUB_OK)
			return SERVE_ERROR;
		set_async(sb, g, true);
	} else if (res == SERVE_DETACHED) {
		if (load_vcpu(sb, g, err) != NUB_OK || detach(sb, g, err) != NUB_OK)
			return SERVE_ERROR;
	} else if (res == SERVE_KILL && detach(sb, g, err) != NUB_OK) {
		return SERVE_ERROR; /* gdb closes its end after k */
	}
	nub_interrupt_resume(sb->intr);
	return res;
}

/* A byte from gdb while the guest runs: its Ctrl-C (anything else is stray and dropped). */
static bool interrupt_pending(struct nub_gdb *g)
{
	if (g->client_fd < 0)
		return false;
	uint8_t buf[64];
	bool stop = g->interrupt_queued;
	ssize_t r;
	g->interrupt_queued = false;
	while ((r = recv(g->client_fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
		for (ssize_t i = 0; i < r; i++)
			stop |= nub_gdb_rx_feed(&g->rx, buf[i]) == NUB_GDB_EV_INTERRUPT;
	/* A closed or broken connection stops too: serve() sees it and detaches. */
	return stop || r == 0 ||
	       (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* What a KVM_EXIT_DEBUG asks of the run loop. */
enum debug_action {
	DEBUG_STOP,     /* a breakpoint, watchpoint or step of gdb's: g->stop says which */
	DEBUG_RUN_ON,   /* the step off a breakpoint is done, or a spurious #DB */
	DEBUG_REINJECT, /* the guest's own int3: deliver its #BP to the guest */
};

/* Why the guest stopped at a KVM_EXIT_DEBUG; sets g->stop for DEBUG_STOP. */
static enum debug_action debug_stop(struct nub_gdb *g, const struct kvm_debug_exit_arch *a)
{
	/*
	 * A #BP exit comes before the int3 executes, with RIP on it: ours is a stop at its address
	 * (the stop leaves the int3 out of memory, and the resume steps over it); any other int3 is
	 * the guest's own, which KVM_GUESTDBG_USE_SW_BP took from it.
	 */
	if (a->exception == X86_VEC_BP) {
		int i = int3_at(g, a->pc);
		if (i < 0 || !g->sw[i].inserted)
			return DEBUG_REINJECT;
		g->step_over = g->sw_step_over = -1;
		g->stop = (struct nub_gdb_stop){ .kind = NUB_GDB_STOP_SWBREAK,
						 .signal = NUB_GDB_SIGTRAP,
						 .addr = a->pc };
		return DEBUG_STOP;
	}
	uint64_t hit = a->dr6 & 0xfu;
	if (g->step_over >= 0)
		hit &= ~(UINT64_C(1) << g->step_over);
	g->step_over = g->sw_step_over = -1;
	for (unsigned i = 0; i < NUB_GDB_SLOTS; i++) {
		if (!(hit & (UINT64_C(1) << i)) || !g->bp[i].used)
			continue;
		static const enum nub_gdb_stop_kind kinds[] = {
			[NUB_GDB_BP_SW] = NUB_GDB_STOP_SWBREAK,
			[NUB_GDB_BP_HW] = NUB_GDB_STOP_HWBREAK,
			[NUB_GDB_WP_WRITE] = NUB_GDB_STOP_WATCH,
			[NUB_GDB_WP_READ] = NUB_GDB_STOP_RWATCH,
			[NUB_GDB_WP_ACCESS] = NUB_GDB_STOP_AWATCH,
		};
		g->stop = (struct nub_gdb_stop){ .kind = kinds[g->bp[i].type],
						 .signal = NUB_GDB_SIGTRAP,
						 .addr = g->bp[i].addr };
		return DEBUG_STOP;
	}
	if (g->stepping && (a->exception == 1 || (a->dr6 & DR6_BS))) {
		g->stop = (struct nub_gdb_stop){ .kind = NUB_GDB_STOP_SIGNAL,
						 .signal = NUB_GDB_SIGTRAP };
		return DEBUG_STOP;
	}
	return DEBUG_RUN_ON;
}

/* The decoder's way to the vCPU's RIP and CR2. */
static enum nub_status read_fault_regs(void *vcpu, uint64_t *rip, uint64_t *cr2,
				       struct nub_error *err)
{
	return nub_kvm_read_fault_regs(vcpu, rip, cr2, err);
}

/* The run loop of nub_run_guest with stops for gdb; returns the call's result. */
static enum nub_status debug_loop(struct nub_sandbox *sb, struct nub_gdb *g, uint64_t gen,
				  struct nub_error *err)
{
	const struct nub_exit_env env = {
		.outb = &sb->outb,
		.mem = &sb->img.mem,
		.layout = &sb->img.layout,
		.read_fault_regs = read_fault_regs,
		.vcpu = &sb->kvm,
	};
	struct nub_exit x;
	enum nub_status st;
	g->stop = (struct nub_gdb_stop){ .kind = NUB_GDB_STOP_SIGNAL, .signal = NUB_GDB_SIGTRAP };
	enum serve_result res = serve(sb, g, gen, NULL, err);
	for (;;) {
		if (res == SERVE_KILL)
			return nub_error_set(err, NUB_E_CANCELLED, "call killed by gdb");
		if (res == SERVE_ERROR)
			return err->status;
		res = SERVE_RESUME;
		st = nub_interrupt_check(sb->intr, gen, err);
		if (st == NUB_E_CANCELLED)
			return st;
		if (st == NUB_OK && interrupt_pending(g)) {
			g->stop = (struct nub_gdb_stop){ .kind = NUB_GDB_STOP_SIGNAL,
							 .signal = NUB_GDB_SIGINT };
			res = serve(sb, g, gen, NULL, err);
			continue;
		}
		if (st == NUB_OK) {
			int r = nub_kvm_run(&sb->kvm);
			if (r == -EINTR || r == -EAGAIN)
				continue;
			if (r < 0 && !nub_kvm_run_faulted_on_memory(&sb->kvm, r))
				return nub_error_set_errno(err, NUB_E_KVM, -r, "KVM_RUN");
			if (r == 0 && sb->kvm.run->exit_reason == KVM_EXIT_DEBUG) {
				enum debug_action a = debug_stop(g, &sb->kvm.run->debug.arch);
				if (a == DEBUG_STOP)
					res = serve(sb, g, gen, NULL, err);
				else if (a == DEBUG_REINJECT)
					st = nub_kvm_inject_exception(&sb->kvm, X86_VEC_BP, err);
				else
					st = apply_debug(sb, g, g->client_fd >= 0, err);
				if (st != NUB_OK)
					res = SERVE_ERROR;
				continue;
			}
			nub_kvm_read_exit(&sb->kvm, &x);
			enum nub_outb_result out = nub_exit_handle(&env, &x, err);
			if (out == NUB_OUTB_CONTINUE)
				continue;
			if (out == NUB_OUTB_HALT)
				return NUB_OK;
			st = err->status;
		}
		/* An outcome: gdb sees it as a signal and may look, then the call returns it. */
		if (g->client_fd < 0)
			return st;
		struct nub_error outcome = *err;
		g->stop = (struct nub_gdb_stop){ .kind = NUB_GDB_STOP_SIGNAL,
						 .signal = gdb_signal(&outcome) };
		res = serve(sb, g, gen, &outcome, err);
		if (res == SERVE_KILL)
			return nub_error_set(err, NUB_E_CANCELLED, "call killed by gdb");
		*err = outcome;
		return st;
	}
}

enum nub_status nub_gdb_run_guest(struct nub_sandbox *sb, struct nub_error *err)
{
	struct nub_gdb *g = sb->gdb;
	if (!g) {
		g = nub_alloc_zeroed(&sb->img.cfg.alloc, sizeof *g);
		if (!g)
			return nub_error_set(err, NUB_E_NOMEM, "gdb stub (%zu bytes)", sizeof *g);
		g->listen_fd = g->client_fd = -1;
		g->step_over = g->sw_step_over = -1;
		enum nub_status st = NUB_OK;
		switch (sb->img.cfg.gdb_breakpoints) {
		case NUB_GDB_BREAKPOINTS_AUTO:
			st = nub_gdb_int3_supported(&g->int3, err);
			break;
		case NUB_GDB_BREAKPOINTS_INT3:
			g->int3 = true;
			break;
		case NUB_GDB_BREAKPOINTS_DEBUG_REGS:
			g->int3 = false;
			break;
		}
		if (st == NUB_OK)
			st = listen_on(g, sb->img.cfg.gdb_port, err);
		if (st != NUB_OK) {
			nub_alloc_free(&sb->img.cfg.alloc, g);
			return st;
		}
		sb->gdb = g;
	}
	uint64_t gen;
	enum nub_status st = nub_interrupt_begin(sb->intr, sb->kvm.run, sb->img.cfg.time_limit_ms,
						 &gen, err);
	if (st != NUB_OK)
		return st;
	st = debug_loop(sb, g, gen, err);
	/*
	 * Between runs the vCPU is the guest's alone: restore's reset stub and snapshots must see
	 * neither a pending single step nor the debugger's breakpoints in the debug registers.
	 */
	g->stepping = false;
	g->step_over = g->sw_step_over = -1;
	struct nub_error local;
	nub_error_clear(&local);
	if (apply_debug(sb, g, false, &local) != NUB_OK && st == NUB_OK)
		st = nub_error_set(err, local.status, "%s", local.message);
	set_async(sb, g, false);
	nub_interrupt_end(sb->intr);
	nub_outb_flush_print(&sb->outb);
	sb->abort.len = 0; /* a partial abort stream never carries over to the next call */
	return st;
}

void nub_gdb_free(struct nub_sandbox *sb)
{
	struct nub_gdb *g = sb->gdb;
	if (!g)
		return;
	/* gdb waits for a stop since its last resume: the "process" exited. */
	if (g->client_fd >= 0)
		reply_str(g, "W00");
	close_fd(&g->client_fd);
	close_fd(&g->listen_fd);
	nub_alloc_free(&sb->img.cfg.alloc, g);
	sb->gdb = NULL;
}
