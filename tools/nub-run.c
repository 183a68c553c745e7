/* SPDX-License-Identifier: Apache-2.0 */
/* nub-run: evolve a guest ELF into a sandbox and optionally call one of its functions from the command line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h" /* NUB_MAX_HEAP_SIZE: the engine's own limit */
#include "input_file.h"
#include "nub/nub.h"
#include "timing.h"

#ifndef NUB_GUEST_DIR
#define NUB_GUEST_DIR "guests"
#endif

/* Exit statuses, after nub.h's outcome classes (see usage()). */
enum {
	EXIT_OK = 0,
	EXIT_ENGINE = 1,      /* an engine or environment failure (NUB_E_KVM, NOMEM, IO, ...) */
	EXIT_USAGE = 2,       /* a bad command line */
	EXIT_GUEST_ERROR = 3, /* the guest function returned an error response */
	EXIT_GUEST_OUTCOME =
		4, /* abort, fault, MMIO, triple fault, protocol, emulation, time, cancel */
};

#define MAX_INPUT_FILE (256u << 20) /* --file and --init-data: at most 256 MiB */
#define MAX_REPEAT 100000000ull

struct options {
	const char *guest;
	const char *guest_dir;
	bool have_fn;
	uint32_t fn_id;
	const char *text;
	const char *hex;
	const char *file;
	const char *init_data;
	uint32_t init_perms; /* 0 = not given */
	uint32_t time_limit_ms;
	bool have_log_level;
	enum nub_abi_log_level log_level;
	uint64_t heap_size; /* 0 = default */
	uint64_t repeat;
	const char *save_snapshot; /* --save-snapshot PATH, or NULL */
	const char *from_snapshot; /* --from-snapshot PATH (instead of GUEST), or NULL */
	bool restore_each;         /* restore the post-init snapshot before every call */
	uint16_t gdb_port;         /* --gdb PORT, or 0 */
	enum nub_gdb_breakpoints gdb_breakpoints; /* --gdb-breakpoints, else auto */
	bool gdb_breakpoints_given;
	const char *core_dir; /* --core DIR, or NULL */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nub-run [options] GUEST[.elf] [FN_ID]\n"
		"       nub-run [options] --from-snapshot PATH [FN_ID]\n"
		"\n"
		"Evolves GUEST (a path, or a name looked up as DIR/NAME.elf in the guest directory) into a\n"
		"sandbox, or makes the sandbox from a snapshot file, and, if FN_ID is given, calls that\n"
		"guest function. Guest logs and debug prints go to stderr as they arrive; the response\n"
		"goes to stdout, as text if it is printable ASCII, else as hex. With --repeat the function\n"
		"is called N times and the last response printed.\n"
		"\n"
		"Payload (at most one; default empty):\n"
		"  --text STR          the bytes of STR\n"
		"  --hex HEXBYTES      bytes in hex, e.g. 01000000ff (even length, no separators)\n"
		"  --file PATH         the contents of PATH (at most 256 MiB)\n"
		"Sandbox:\n"
		"  --init-data PATH    init data copied into guest memory\n"
		"  --init-perms r|rw|rx  permissions of the init data (default r)\n"
		"  --time-limit MS     per call and for init, 0 = none (default 5000)\n"
		"  --log-level 0..5    most verbose guest log level delivered: 0 off, 1 error .. 5 trace\n"
		"  --heap SIZE         guest heap in bytes, 1 to %llu (1g); suffix k, m or g for KiB,\n"
		"                      MiB, GiB (default %llu)\n"
		"  --repeat N          call FN_ID N times (1..%llu, default 1); stops at the first failure\n"
		"  --guest-dir DIR     where guest names are looked up (default %s)\n"
		"Snapshots:\n"
		"  --save-snapshot PATH  after init, or after the call(s) when FN_ID is given, snapshot\n"
		"                      the sandbox and write it to PATH (atomically)\n"
		"  --from-snapshot PATH  make the sandbox from the snapshot file PATH instead of evolving\n"
		"                      GUEST (no GUEST argument; no host functions; --init-data and\n"
		"                      --init-perms are refused; --heap must match the snapshot's)\n"
		"  --restore-each      needs FN_ID: snapshot after init (with --from-snapshot: that\n"
		"                      snapshot) and restore it before each call, so every repetition\n"
		"                      starts from the same state; the time --repeat reports includes\n"
		"                      the restores\n"
		"  --gdb PORT          serve gdb on 127.0.0.1:PORT (1..65535): init and the call each\n"
		"                      stop at entry and wait for gdb; the command to attach is\n"
		"                      printed on stderr\n"
		"  --gdb-breakpoints M how --gdb serves gdb's software breakpoints: auto (default:\n"
		"                      int3 where this host serves it, else the debug registers),\n"
		"                      int3, or debugreg (at most 4 breakpoints and watchpoints)\n"
		"  --core DIR          write an ELF core into DIR (made if missing) for an outcome that\n"
		"                      poisons the sandbox (fault, abort, time limit, ...); print its path\n"
		"  --help              this text\n"
		"\n"
		"\n"
		"--file, --init-data and --from-snapshot must name regular files (a FIFO, device or\n"
		"socket is refused, never waited on); --save-snapshot never replaces anything but a\n"
		"regular file.\n"
		"\n"
		"Exit status:\n"
		"  0  ok\n"
		"  1  engine or environment error: NUB_E_KVM, NUB_E_NOMEM, NUB_E_IO, NUB_E_ELF, NUB_E_ABI,\n"
		"     NUB_E_LAYOUT, NUB_E_SNAPSHOT, NUB_E_INVALID, ...; an unreadable input or guest file;\n"
		"     a snapshot that cannot be saved; a write error on stdout\n"
		"  2  usage: a bad option, argument or combination\n"
		"  3  the guest function returned an error response (NUB_E_GUEST_ERROR)\n"
		"  4  guest outcome: NUB_E_GUEST_ABORT, NUB_E_GUEST_FAULT, NUB_E_MMIO, NUB_E_TRIPLE_FAULT,\n"
		"     NUB_E_PROTOCOL, NUB_E_EMULATION, NUB_E_TIME_LIMIT, NUB_E_CANCELLED\n",
		(unsigned long long)NUB_MAX_HEAP_SIZE, (unsigned long long)NUB_DEFAULT_HEAP_SIZE,
		MAX_REPEAT, NUB_GUEST_DIR);
}

static void bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bad_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("nub-run: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n(try nub-run --help)\n", stderr);
	va_end(ap);
}

/* Fails with a message when writing to stdout failed (e.g. >/dev/full). */
static bool stdout_ok(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return true;
	fprintf(stderr, "nub-run: writing to stdout failed: %s\n", strerror(errno ? errno : EIO));
	return false;
}

/* Parses an unsigned decimal in [min, max] (no sign, no trailing bytes); false on anything else. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false; /* strtoull would accept spaces, '+' and '-' */
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Parses a size in bytes with an optional k/m/g (KiB/MiB/GiB) suffix, in [1, max]. */
static bool parse_size(const char *s, uint64_t max, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return false;
	unsigned shift = 0;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*end != '\0' || v == 0 || v > (max >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes (hex) into a new buffer; false (with a message) if it is odd-length or not hex. */
static bool decode_hex(const char *hex, uint8_t **out, size_t *len)
{
	size_t n = strlen(hex);
	if (n % 2) {
		fprintf(stderr, "nub-run: --hex: odd number of digits (%zu)\n", n);
		return false;
	}
	uint8_t *b = malloc(n / 2 + 1);
	if (!b) {
		fprintf(stderr, "nub-run: --hex: out of memory\n");
		return false;
	}
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "nub-run: --hex: not a hex digit at offset %zu\n",
				hi < 0 ? i : i + 1);
			free(b);
			return false;
		}
		b[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*len = n / 2;
	return true;
}

/*
 * Reads all of the regular file (path) (at most MAX_INPUT_FILE bytes) into a new buffer; false
 * with a message naming (what), the path and, for anything but a regular file, what it is.
 */
static bool read_file(const char *what, const char *path, uint8_t **out, size_t *len)
{
	char msg[4200];
	enum input_file_status st = input_file_read(path, MAX_INPUT_FILE, out, len, msg,
						    sizeof msg);
	if (st == INPUT_FILE_OK)
		return true;
	if (st == INPUT_FILE_DIRECTORY)
		fprintf(stderr, "nub-run: %s %s: is a directory, not a regular file\n", what, path);
	else
		fprintf(stderr, "nub-run: %s %s\n", what, msg);
	return false;
}

/* Parses argv into (o); returns -1 to continue, else the exit status to return at once. */
static int parse_args(int argc, char **argv, struct options *o)
{
	enum {
		O_TEXT = 256,
		O_HEX,
		O_FILE,
		O_INIT_DATA,
		O_INIT_PERMS,
		O_TIME_LIMIT,
		O_LOG_LEVEL,
		O_HEAP,
		O_REPEAT,
		O_GUEST_DIR,
		O_HELP,
		O_SAVE_SNAPSHOT,
		O_FROM_SNAPSHOT,
		O_RESTORE_EACH,
		O_GDB,
		O_GDB_BREAKPOINTS,
		O_CORE
	};
	static const struct option longopts[] = {
		{ "text", required_argument, NULL, O_TEXT },
		{ "hex", required_argument, NULL, O_HEX },
		{ "file", required_argument, NULL, O_FILE },
		{ "init-data", required_argument, NULL, O_INIT_DATA },
		{ "init-perms", required_argument, NULL, O_INIT_PERMS },
		{ "time-limit", required_argument, NULL, O_TIME_LIMIT },
		{ "log-level", required_argument, NULL, O_LOG_LEVEL },
		{ "heap", required_argument, NULL, O_HEAP },
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "guest-dir", required_argument, NULL, O_GUEST_DIR },
		{ "help", no_argument, NULL, O_HELP },
		{ "save-snapshot", required_argument, NULL, O_SAVE_SNAPSHOT },
		{ "from-snapshot", required_argument, NULL, O_FROM_SNAPSHOT },
		{ "restore-each", no_argument, NULL, O_RESTORE_EACH },
		{ "gdb", required_argument, NULL, O_GDB },
		{ "gdb-breakpoints", required_argument, NULL, O_GDB_BREAKPOINTS },
		{ "core", required_argument, NULL, O_CORE },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int payloads = 0;

	*o = (struct options){ .guest_dir = NUB_GUEST_DIR, .time_limit_ms = 5000, .repeat = 1 };
	opterr = 0;
	for (;;) {
		int before = optind;
		int c = getopt_long(argc, argv, ":h", longopts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case O_TEXT:
			o->text = optarg;
			payloads++;
			break;
		case O_HEX:
			o->hex = optarg;
			payloads++;
			break;
		case O_FILE:
			o->file = optarg;
			payloads++;
			break;
		case O_INIT_DATA:
			o->init_data = optarg;
			break;
		case O_INIT_PERMS:
			if (strcmp(optarg, "r") == 0)
				o->init_perms = NUB_MEM_READ;
			else if (strcmp(optarg, "rw") == 0)
				o->init_perms = NUB_MEM_READ | NUB_MEM_WRITE;
			else if (strcmp(optarg, "rx") == 0)
				o->init_perms = NUB_MEM_READ | NUB_MEM_EXECUTE;
			else {
				bad_usage("--init-perms must be r, rw or rx, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_TIME_LIMIT:
			if (!parse_u64(optarg, 0, UINT32_MAX, &v)) {
				bad_usage(
					"--time-limit needs milliseconds in 0..4294967295, not '%s'",
					optarg);
				return EXIT_USAGE;
			}
			o->time_limit_ms = (uint32_t)v;
			break;
		case O_LOG_LEVEL:
			if (!parse_u64(optarg, NUB_LEVEL_OFF, NUB_LEVEL_TRACE, &v)) {
				bad_usage("--log-level needs 0..5, not '%s'", optarg);
				return EXIT_USAGE;
			}
			o->have_log_level = true;
			o->log_level = (enum nub_abi_log_level)v;
			break;
		case O_HEAP:
			if (!parse_size(optarg, NUB_MAX_HEAP_SIZE, &o->heap_size)) {
				bad_usage(
					"--heap needs a size from 1 byte to %llu bytes (1g; k/m/g "
					"suffix), not '%s'",
					(unsigned long long)NUB_MAX_HEAP_SIZE, optarg);
				return EXIT_USAGE;
			}
			break;
		case O_REPEAT:
			if (!parse_u64(optarg, 1, MAX_REPEAT, &o->repeat)) {
				bad_usage("--repeat needs a count in 1..100000000, not '%s'",
					  optarg);
				return EXIT_USAGE;
			}
			break;
		case O_GUEST_DIR:
			o->guest_dir = optarg;
			break;
		case O_SAVE_SNAPSHOT:
			if (*optarg == '\0') {
				bad_usage("%s", "--save-snapshot needs a non-empty path");
				return EXIT_USAGE;
			}
			o->save_snapshot = optarg;
			break;
		case O_FROM_SNAPSHOT:
			if (*optarg == '\0') {
				bad_usage("%s", "--from-snapshot needs a non-empty path");
				return EXIT_USAGE;
			}
			o->from_snapshot = optarg;
			break;
		case O_RESTORE_EACH:
			o->restore_each = true;
			break;
		case O_GDB:
			if (!parse_u64(optarg, 1, UINT16_MAX, &v)) {
				bad_usage("--gdb needs a port in 1..65535, not '%s'", optarg);
				return EXIT_USAGE;
			}
			o->gdb_port = (uint16_t)v;
			break;
		case O_GDB_BREAKPOINTS:
			if (!strcmp(optarg, "auto")) {
				o->gdb_breakpoints = NUB_GDB_BREAKPOINTS_AUTO;
			} else if (!strcmp(optarg, "int3")) {
				o->gdb_breakpoints = NUB_GDB_BREAKPOINTS_INT3;
			} else if (!strcmp(optarg, "debugreg")) {
				o->gdb_breakpoints = NUB_GDB_BREAKPOINTS_DEBUG_REGS;
			} else {
				bad_usage(
					"--gdb-breakpoints takes auto, int3 or debugreg, not '%s'",
					optarg);
				return EXIT_USAGE;
			}
			o->gdb_breakpoints_given = true;
			break;
		case O_CORE:
			if (*optarg == '\0') {
				bad_usage("%s", "--core needs a non-empty directory");
				return EXIT_USAGE;
			}
			o->core_dir = optarg;
			break;
		case O_HELP:
		case 'h':
			usage(stdout);
			return stdout_ok() ? EXIT_OK : EXIT_ENGINE;
		case ':':
			bad_usage("%s needs an argument", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			/* A negative number such as -1 is an FN_ID out of range, not an option. */
			for (int i = before; i <= optind && i < argc; i++) {
				const char *a = argv[i];
				if (a[0] == '-' && a[1] >= '0' && a[1] <= '9') {
					bad_usage("bad function id '%s': FN_ID must be a number in "
						  "0..4294967295",
						  a);
					return EXIT_USAGE;
				}
			}
			bad_usage("unknown option '%s'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (payloads > 1) {
		bad_usage("%s", "at most one of --text, --hex and --file");
		return EXIT_USAGE;
	}
	if (o->init_perms && !o->init_data) {
		bad_usage("%s", "--init-perms needs --init-data");
		return EXIT_USAGE;
	}
	if (o->gdb_breakpoints_given && !o->gdb_port) {
		bad_usage("%s", "--gdb-breakpoints needs --gdb");
		return EXIT_USAGE;
	}
	int rest = argc - optind;
	const char *fn_arg = NULL;
	if (o->from_snapshot) {
		/* The snapshot holds the guest's memory, init data included. */
		if (o->init_data) {
			bad_usage("%s", "--init-data cannot be combined with --from-snapshot");
			return EXIT_USAGE;
		}
		if (rest > 1) {
			bad_usage("%s",
				  "too many arguments (--from-snapshot takes the place of GUEST)");
			return EXIT_USAGE;
		}
		if (rest == 1)
			fn_arg = argv[optind];
	} else {
		if (rest < 1 || rest > 2) {
			bad_usage("%s", rest < 1 ? "missing GUEST" : "too many arguments");
			return EXIT_USAGE;
		}
		o->guest = argv[optind];
		if (rest == 2)
			fn_arg = argv[optind + 1];
	}
	if (fn_arg) {
		if (!parse_u64(fn_arg, 0, UINT32_MAX, &v)) {
			bad_usage("bad function id '%s': FN_ID must be a number in 0..4294967295",
				  fn_arg);
			return EXIT_USAGE;
		}
		o->have_fn = true;
		o->fn_id = (uint32_t)v;
	}
	if (!o->have_fn && (payloads || o->repeat != 1)) {
		bad_usage("%s", "a payload or --repeat needs FN_ID");
		return EXIT_USAGE;
	}
	if (!o->have_fn && o->restore_each) {
		bad_usage("%s", "--restore-each needs FN_ID");
		return EXIT_USAGE;
	}
	return -1;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Resolves (guest): an existing file or anything with a '/' is used as is; a bare name is looked
 * up as DIR/NAME and DIR/NAME.elf. Returns a new string, or NULL (with a message) when out of
 * memory or when a bare name is found nowhere.
 */
static char *resolve_guest(const char *guest, const char *dir)
{
	if (is_file(guest) || strchr(guest, '/')) {
		char *p = strdup(guest);
		if (!p)
			fprintf(stderr, "nub-run: out of memory\n");
		return p;
	}
	static const char *const suffixes[] = { "", ".elf" };
	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(dir) + strlen(guest) + strlen(suffixes[i]) + 2;
		char *p = malloc(n);
		if (!p) {
			fprintf(stderr, "nub-run: out of memory\n");
			return NULL;
		}
		snprintf(p, n, "%s/%s%s", dir, guest, suffixes[i]);
		if (is_file(p))
			return p;
		free(p);
	}
	/* Not found: name the directory and the files tried. */
	struct stat st;
	if (stat(dir, &st) != 0)
		fprintf(stderr, "nub-run: guest directory %s: %s\n", dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		fprintf(stderr, "nub-run: guest directory %s: is %s, not a directory\n", dir,
			input_file_kind(st.st_mode));
	fprintf(stderr,
		"nub-run: guest '%s' not found: tried %s, %s/%s and %s/%s.elf (set the directory "
		"with --guest-dir)\n",
		guest, guest, dir, guest, dir, guest);
	return NULL;
}

static const char *level_name(enum nub_abi_log_level level)
{
	static const char *const names[] = { "off", "error", "warn", "info", "debug", "trace" };
	return (unsigned)level < sizeof(names) / sizeof(names[0]) ? names[level] : "?";
}

/* Writes untrusted text to (f), escaping control bytes other than newline and tab. */
static void write_escaped(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void on_log(void *ctx, const struct nub_log_record *r)
{
	(void)ctx;
	fprintf(stderr, "[%s %s", r->source == NUB_LOG_FROM_GUEST ? "guest" : "engine",
		level_name(r->level));
	if (r->file && r->file[0]) {
		fputc(' ', stderr);
		write_escaped(stderr, r->file, strlen(r->file));
		fprintf(stderr, ":%" PRIu32, r->line);
	}
	fputs("] ", stderr);
	write_escaped(stderr, r->message, r->message_len);
	fputc('\n', stderr);
}

static void on_print(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	write_escaped(stderr, text, len);
	fflush(stderr);
}

/* The exit status for an engine status. */
static int exit_code(enum nub_status st)
{
	switch (st) {
	case NUB_OK:
		return EXIT_OK;
	case NUB_E_GUEST_ERROR:
		return EXIT_GUEST_ERROR;
	case NUB_E_GUEST_ABORT:
	case NUB_E_GUEST_FAULT:
	case NUB_E_MMIO:
	case NUB_E_TRIPLE_FAULT:
	case NUB_E_PROTOCOL:
	case NUB_E_CANCELLED:
	case NUB_E_TIME_LIMIT:
	case NUB_E_EMULATION:
		return EXIT_GUEST_OUTCOME;
	default:
		return EXIT_ENGINE;
	}
}

static const char *vector_name(uint8_t v)
{
	static const char *const names[] = {
		"#DE",      "#DB", "NMI", "#BP", "#OF",
		"#BR",      "#UD", "#NM", "#DF", "coprocessor overrun",
		"#TS",      "#NP", "#SS", "#GP", "#PF",
		"reserved", "#MF", "#AC", "#MC", "#XM",
		"#VE",      "#CP",
	};
	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static void report_failure(const char *what, enum nub_status st, const struct nub_error *err)
{
	fprintf(stderr, "nub-run: %s failed: %s: ", what, nub_status_str(st));
	write_escaped(stderr, err->message, strnlen(err->message, sizeof(err->message)));
	fputc('\n', stderr);
	switch (st) {
	case NUB_E_GUEST_FAULT:
		fprintf(stderr,
			"  vector %u (%s), rip 0x%016" PRIx64 ", cr2 0x%016" PRIx64
			", error code 0x%" PRIx64 "\n",
			err->vector, vector_name(err->vector), err->rip, err->cr2, err->error_code);
		break;
	case NUB_E_GUEST_ERROR:
	case NUB_E_GUEST_ABORT:
		fprintf(stderr, "  code %" PRIu32 "\n", err->guest_code);
		break;
	case NUB_E_MMIO:
		fprintf(stderr, "  gpa 0x%" PRIx64 "\n", err->gpa);
		break;
	default:
		break;
	}
	if (err->sys_errno)
		fprintf(stderr, "  errno %d (%s)\n", err->sys_errno, strerror(err->sys_errno));
}

/*
 * Prints (b) to stdout: as text if every byte is printable ASCII, newline or tab, else as hex.
 * False (with a message) on a write error.
 */
static bool print_response(const struct nub_buf *b)
{
	bool text = true;
	for (size_t i = 0; i < b->len && text; i++) {
		uint8_t c = b->data[i];
		text = (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t';
	}
	if (b->len == 0) {
		fprintf(stderr, "nub-run: empty response\n");
	} else if (text) {
		fwrite(b->data, 1, b->len, stdout);
		if (b->data[b->len - 1] != '\n')
			fputc('\n', stdout);
	} else {
		for (size_t i = 0; i < b->len; i++)
			printf("%02x", b->data[i]);
		fputc('\n', stdout);
	}
	return stdout_ok();
}

/* Loads the payload and init data named by (o); false with a message. */
static bool load_inputs(const struct options *o, uint8_t **payload, size_t *plen, uint8_t **init,
			size_t *ilen)
{
	if (o->text) {
		*plen = strlen(o->text);
		*payload = malloc(*plen + 1);
		if (!*payload) {
			fprintf(stderr, "nub-run: out of memory\n");
			return false;
		}
		memcpy(*payload, o->text, *plen);
	} else if (o->hex) {
		if (!decode_hex(o->hex, payload, plen))
			return false;
	} else if (o->file) {
		if (!read_file("--file", o->file, payload, plen))
			return false;
	}
	if (o->init_data && !read_file("--init-data", o->init_data, init, ilen))
		return false;
	return true;
}

/*
 * Snapshots (sb) and writes the snapshot to (path). Returns the exit status: EXIT_OK, or the
 * failure's after reporting it.
 */
static int save_snapshot(struct nub_sandbox *sb, const char *path)
{
	struct nub_snapshot *snap = NULL;
	struct nub_error err = { 0 };
	enum nub_status st = nub_sandbox_snapshot(sb, &snap, &err);
	if (st != NUB_OK) {
		report_failure("taking the snapshot for --save-snapshot", st, &err);
		return exit_code(st);
	}
	st = nub_snapshot_save(snap, path, &err);
	nub_snapshot_unref(snap);
	if (st != NUB_OK) { /* the engine's message names the path */
		report_failure("saving the snapshot", st, &err);
		return exit_code(st);
	}
	fprintf(stderr, "nub-run: snapshot saved to ");
	write_escaped(stderr, path, strlen(path));
	fputc('\n', stderr);
	return EXIT_OK;
}

/*
 * Loads the snapshot file (path) and makes a sandbox from it with (cfg) (sizes zero: the
 * snapshot's, except the heap when --heap was given, which must match). On success *(snap) holds
 * the loaded snapshot (the caller unrefs it) and *(sb) the ready sandbox. Returns the exit status.
 */
static int sandbox_from_file(const char *path, const struct nub_config *cfg,
			     struct nub_snapshot **snap, struct nub_sandbox **sb)
{
	struct nub_error err = { 0 };
	enum nub_status st = nub_snapshot_load(path, NULL, snap, &err);
	if (st != NUB_OK) { /* the engine's message names the path */
		*snap = NULL;
		report_failure("loading the snapshot", st, &err);
		return exit_code(st);
	}
	st = nub_sandbox_from_snapshot(*snap, NULL, 0, cfg, sb, &err);
	if (st != NUB_OK) {
		report_failure("making the sandbox from the snapshot", st, &err);
		return exit_code(st);
	}
	return EXIT_OK;
}

/* Entry point: see usage(). */
/*
 * Says on stderr how gdb's software breakpoints will be served, probing the host for auto (the
 * probe's own failure is not fatal here: the sandbox reports it when it starts the stub).
 */
static void print_breakpoint_mode(enum nub_gdb_breakpoints mode)
{
	bool int3 = mode == NUB_GDB_BREAKPOINTS_INT3;
	const char *why = int3 ? "--gdb-breakpoints int3" : "--gdb-breakpoints debugreg";
	struct nub_error err;
	if (mode == NUB_GDB_BREAKPOINTS_AUTO) {
		if (nub_gdb_int3_supported(&int3, &err) != NUB_OK)
			return;
		why = int3 ? "auto: this host serves int3"
			   : "auto: this host cannot serve int3 at CPL0";
	}
	fprintf(stderr, "nub-run: gdb software breakpoints: %s (%s)\n",
		int3 ? "int3" : "debug registers", why);
}

int main(int argc, char **argv)
{
	struct options o;
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;

	uint8_t *payload = NULL, *init = NULL;
	size_t plen = 0, ilen = 0;
	char *path = NULL;
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_snapshot *loaded = NULL; /* --from-snapshot */
	struct nub_snapshot *base = NULL;   /* --restore-each */
	struct nub_buf resp = { 0 };
	struct nub_error err = { 0 };
	enum nub_status st;

	rc = EXIT_ENGINE;
	if (!load_inputs(&o, &payload, &plen, &init, &ilen))
		goto out;
	if (!o.from_snapshot) {
		path = resolve_guest(o.guest, o.guest_dir);
		if (!path)
			goto out;
	}

	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.time_limit_ms = o.time_limit_ms;
	if (o.have_log_level)
		cfg.max_guest_log_level = o.log_level;
	if (o.heap_size)
		cfg.heap_size = o.heap_size;
	cfg.log = on_log;
	cfg.debug_print = on_print;
	cfg.gdb_port = o.gdb_port;
	cfg.gdb_breakpoints = o.gdb_breakpoints;
	cfg.core_dump = o.core_dir != NULL;
	cfg.core_dump_dir = o.core_dir;
	if (o.core_dir && mkdir(o.core_dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "nub-run: --core %s: %s\n", o.core_dir, strerror(errno));
		goto out;
	}
	if (o.gdb_port) {
		fprintf(stderr,
			"nub-run: waiting for gdb: gdb -ex 'target remote 127.0.0.1:%u' %s\n",
			o.gdb_port, path ? path : "GUEST.elf");
		print_breakpoint_mode(o.gdb_breakpoints);
	}

	if (o.from_snapshot) {
		/* Zero sizes take the snapshot's; a given --heap must equal it. */
		cfg.input_size = cfg.output_size = cfg.stack_size = 0;
		cfg.heap_size = o.heap_size;
		rc = sandbox_from_file(o.from_snapshot, &cfg, &loaded, &sb);
		if (rc != EXIT_OK)
			goto out;
		rc = EXIT_ENGINE;
		goto ready;
	}

	struct nub_guest_env env = {
		.path = path,
		.init_data = init,
		.init_data_len = ilen,
		.init_data_perms = o.init_perms,
	};
	st = nub_uninit_new(&env, &cfg, &u, &err);
	if (st != NUB_OK) {
		char what[64];
		snprintf(what, sizeof(what), "loading the guest");
		report_failure(what, st, &err);
		rc = exit_code(st);
		goto out;
	}
	st = nub_uninit_evolve(u, &sb, &err); /* consumes u */
	u = NULL;
	if (st != NUB_OK) {
		report_failure("evolve", st, &err);
		rc = exit_code(st);
		goto out;
	}
ready:
	if (!o.have_fn) {
		if (o.save_snapshot) {
			rc = save_snapshot(sb, o.save_snapshot);
			if (rc != EXIT_OK)
				goto out;
		}
		if (o.from_snapshot) {
			fprintf(stderr, "nub-run: sandbox made from snapshot ");
			write_escaped(stderr, o.from_snapshot, strlen(o.from_snapshot));
			fputc('\n', stderr);
		} else {
			fprintf(stderr, "nub-run: %s evolved\n", path);
		}
		rc = EXIT_OK;
		goto out;
	}
	if (o.restore_each) {
		/* The state right after init: the loaded snapshot, or a new one. */
		if (loaded) {
			base = nub_snapshot_ref(loaded);
		} else {
			st = nub_sandbox_snapshot(sb, &base, &err);
			if (st != NUB_OK) {
				report_failure("taking the snapshot for --restore-each", st, &err);
				rc = exit_code(st);
				goto out;
			}
		}
	}

	uint64_t t0 = timing_now_ns();
	for (uint64_t i = 0; i < o.repeat; i++) {
		nub_buf_free(&resp);
		if (base) {
			st = nub_sandbox_restore(sb, base, &err);
			if (st != NUB_OK) {
				char what[64];
				snprintf(what, sizeof(what), "restore before repetition %" PRIu64,
					 i + 1);
				report_failure(what, st, &err);
				rc = exit_code(st);
				goto out;
			}
		}
		st = nub_sandbox_call(sb, o.fn_id, payload, plen, &resp, &err);
		if (st != NUB_OK) {
			char what[64];
			if (o.repeat > 1)
				snprintf(what, sizeof(what),
					 "call %" PRIu32 " (repetition %" PRIu64 ")", o.fn_id,
					 i + 1);
			else
				snprintf(what, sizeof(what), "call %" PRIu32, o.fn_id);
			report_failure(what, st, &err);
			if (nub_sandbox_last_core(sb))
				fprintf(stderr, "nub-run: core written to %s\n",
					nub_sandbox_last_core(sb));
			rc = exit_code(st);
			goto out;
		}
	}
	double ms = timing_elapsed_ms(t0);
	if (!print_response(&resp)) {
		rc = EXIT_ENGINE;
		goto out;
	}
	if (o.repeat > 1) {
		fprintf(stderr, "nub-run: %" PRIu64 " calls in %.3f ms (%.2f us per call)\n",
			o.repeat, ms, ms * 1e3 / (double)o.repeat);
	}
	rc = EXIT_OK;
	if (o.save_snapshot)
		rc = save_snapshot(sb, o.save_snapshot);
out:
	nub_buf_free(&resp);
	nub_sandbox_free(sb);
	nub_snapshot_unref(base);
	nub_snapshot_unref(loaded);
	nub_uninit_free(u);
	free(path);
	free(payload);
	free(init);
	return rc;
}
