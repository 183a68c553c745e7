#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/gdb_session.sh NUB_RUN GUEST_DIR SCENARIO: the real gdb, in batch mode, drives
# `nub-run --gdb` on the simple guest and the lines that matter of its output are asserted exactly.
# Scenarios (one ctest each, gdb-<scenario>):
#   break:     break on fn_add by name, continue, bt, x the input buffer, print, set $rsi and see
#              the guest's answer change, next, step, finish;
#   watch:     print a static, a watchpoint on it fires with its old and new value;
#   interrupt: a spinning guest (SIMPLE_SPIN) stopped twice by gdb's Ctrl-C (SIGINT to gdb while
#              it waits in continue: gdb then sends 0x03); 4 s stopped in between do not count
#              against the 3 s time limit; bt names the guest frames; kill ends the call with
#              NUB_E_CANCELLED;
#   detach:    detach at a breakpoint lets the call finish with its normal result;
#   fault:     a guest page fault stops with SIGSEGV in the faulting function; continuing returns
#              the fault as the call's outcome;
#   hostile:   a client that sends bad checksums, broken escapes, an oversized packet, reads and
#              writes of unmapped or huge ranges, bad registers and breakpoints gets an answer to
#              each (an error, '-' or an empty reply), then vanishes mid-packet: init runs on,
#              the call waits for the next client at its entry, which detaches: normal result.
# Exit 77 (skipped) without /dev/kvm or gdb. Every process is bounded by timeout.
# shellcheck disable=SC2016 # gdb's $rsi, $1 and regex anchors are meant literally
set -euo pipefail

if [[ $# -ne 3 ]]; then
	echo "usage: harness/scripts/gdb_session.sh NUB_RUN GUEST_DIR SCENARIO" >&2
	exit 2
fi
nub_run="$1" guest_dir="$2" scenario="$3"
elf="$guest_dir/simple.elf"
[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "gdb-$scenario: skipped: no /dev/kvm"; exit 77; }
command -v gdb >/dev/null || { echo "gdb-$scenario: skipped: no gdb"; exit 77; }

tmp="$(mktemp -d)"
nub_pid=""
cleanup() {
	if [[ -n "$nub_pid" ]]; then
		kill "$nub_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "gdb-$scenario: FAIL: $*" >&2
	for f in gdb.out run.out run.err; do
		echo "---- $f" >&2
		cat "$tmp/$f" >&2 || true
	done
	exit 1
}

# expect FILE REGEX: some line of FILE matches REGEX (extended, anchored by the caller).
expect() {
	grep -Eq -- "$2" "$tmp/$1" || fail "no line of $1 matches: $2"
}

# A port of our own: scenarios may run in parallel, and other users may hold ports.
port=""
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 40000))
	if ! ss -Hltn "sport = :$p" | grep -q .; then
		port="$p"
		break
	fi
done
[[ -n "$port" ]] || fail "no free port"

# start_nub ARGS...: nub-run --gdb PORT ARGS... in the background, then wait until it listens.
start_nub() {
	timeout 60 "$nub_run" --gdb "$port" --guest-dir "$guest_dir" "$@" \
		>"$tmp/run.out" 2>"$tmp/run.err" &
	nub_pid=$!
	for _ in $(seq 200); do
		ss -Hltn "sport = :$port" | grep -q . && return 0
		kill -0 "$nub_pid" 2>/dev/null || fail "nub-run exited before listening"
		sleep 0.05
	done
	fail "nub-run never listened on $port"
}

# finish_nub WANT_RC: waits for nub-run and checks its exit status.
finish_nub() {
	local rc=0
	wait "$nub_pid" || rc=$?
	nub_pid=""
	[[ "$rc" == "$1" ]] || fail "nub-run exited $rc, want $1"
}

# gdb_batch ARGS...: gdb -batch attached to the stub, with ARGS (-ex ...), output in gdb.out.
gdb_batch() {
	timeout 60 gdb -batch -nx -ex "target remote 127.0.0.1:$port" "$@" "$elf" \
		>"$tmp/gdb.out" 2>&1 || true
}

src='/guests/simple/main\.c'
case "$scenario" in
break)
	start_nub --hex 0200000003000000 simple 2
	gdb_batch -ex 'break fn_add' -ex continue -ex continue -ex bt -ex 'x/8xb in' \
		-ex 'print len' -ex 'set var $rsi = 7' -ex 'print len' -ex next -ex step \
		-ex finish -ex continue
	finish_nub 3  # nub-run: 3 guest error
	expect gdb.out '^Breakpoint 1 at 0x[0-9a-f]+: fn_add\. \(2 locations\)$'
	expect gdb.out "^Breakpoint 1\.1, fn_add \(in=0x[0-9a-f]+ \"\\\\002\", len=8, out=0x[0-9a-f]+\) at .*$src:90$"
	expect gdb.out "^#0  fn_add \(in=0x[0-9a-f]+ \"\\\\002\", len=8, out=0x[0-9a-f]+\) at .*$src:90$"
	expect gdb.out '^#1  0x[0-9a-f]+ in dispatch \(.*\) at .*/guests/runtime/runtime\.c:[0-9]+$'
	expect gdb.out '^#3  0x[0-9a-f]+ in nub_runtime_start \(boot=.*\) at .*/guests/runtime/runtime\.c:[0-9]+$'
	expect gdb.out '^0x[0-9a-f]+:	0x02	0x00	0x00	0x00	0x03	0x00	0x00	0x00$'
	expect gdb.out '^\$1 = 8$'
	expect gdb.out '^\$2 = 7$'
	expect gdb.out '^91[[:space:]]+return bad_length\(out, "add needs 8 bytes", len\);$'
	expect gdb.out "^bad_length \(len=7, need=0x[0-9a-f]+ \"add needs 8 bytes\", out=0x[0-9a-f]+\) at .*$src:31$"
	expect gdb.out "^fn_add \(in=.*, len=7, out=0x[0-9a-f]+\) at .*$src:35$"
	expect gdb.out '^\[Inferior 1 \(Remote target\) exited normally\]$'
	expect run.err '^nub-run: call 2 failed: NUB_E_GUEST_ERROR: guest error 5: add needs 8 bytes, got 7$'
	expect run.err "^nub-run: waiting for gdb: gdb -ex 'target remote 127\.0\.0\.1:$port' .*/simple\.elf$"
	;;
watch)
	# A software watchpoint: gdb single-steps (s) and compares. The stub also serves Z2..Z4 on
	# the debug registers, but this host (kvm_pvm) never reports a data breakpoint (measured).
	start_nub simple 27
	gdb_batch -ex 'print fn_static_counter::counter' -ex 'set can-use-hw-watchpoints 0' \
		-ex 'watch fn_static_counter::counter' -ex continue -ex bt -ex delete -ex continue
	finish_nub 0
	expect gdb.out '^\$1 = 0$'
	expect gdb.out '^Watchpoint 1: fn_static_counter::counter$'
	expect gdb.out '^Old value = 0$'
	expect gdb.out '^New value = 1$'
	expect gdb.out "^#0  0x[0-9a-f]+ in fn_static_counter \(.*\) at .*$src:[0-9]+$"
	expect gdb.out '^\[Inferior 1 \(Remote target\) exited normally\]$'
	expect run.out '^01000000$'
	;;
interrupt)
	start_nub --time-limit 3000 simple 20
	# timeout --foreground forwards a SIGINT to gdb once; without it timeout(1) also signals its
	# group, gdb gets two, and takes the second as "the target is not responding".
	timeout --foreground 60 gdb -batch -nx -ex "target remote 127.0.0.1:$port" -ex continue -ex continue \
		-ex 'shell sleep 4' -ex 'info registers rip' -ex bt -ex continue -ex kill \
		"$elf" >"$tmp/gdb.out" 2>&1 &
	gdb_pid=$!
	# wait_line N REGEX: until gdb.out has N lines matching REGEX (at most 30 s).
	wait_line() {
		for _ in $(seq 600); do
			(($(grep -Ec -- "$2" "$tmp/gdb.out" || true) >= $1)) && return 0
			sleep 0.05
		done
		fail "gdb never printed $2"
	}
	# Each Ctrl-C lands about 1 s into a continue of the spin loop: 2 s of guest time in all,
	# under the 3 s limit, while more than 5 s pass: the 4 s stopped in gdb do not count.
	wait_line 1 '^Program received signal SIGTRAP'
	sleep 1
	kill -INT "$gdb_pid"
	wait_line 1 "^#[01]  fn_spin "
	sleep 1
	kill -INT "$gdb_pid"
	wait "$gdb_pid" || true
	finish_nub 4  # nub-run: 4 guest outcome
	expect gdb.out '^Program received signal SIGINT, Interrupt\.$'
	[[ "$(grep -c '^Program received signal SIGINT, Interrupt\.$' "$tmp/gdb.out")" == 2 ]] ||
		fail "want two SIGINT stops"
	expect gdb.out '^rip            0x[0-9a-f]+ +0x[0-9a-f]+ <(fn_)?spin(\+[0-9]+)?>$'
	expect gdb.out "^#[01]  fn_spin \(in=0x[0-9a-f]+ .*\) at .*$src:[0-9]+$"
	expect gdb.out '^\[Inferior 1 \(Remote target\) killed\]$'
	expect run.err '^nub-run: call 20 failed: NUB_E_CANCELLED: call killed by gdb$'
	;;
detach)
	start_nub --hex 0200000003000000 simple 2
	gdb_batch -ex 'break fn_add' -ex continue -ex continue -ex detach
	finish_nub 0
	expect gdb.out '^Breakpoint 1\.1, fn_add \(.*\)'
	expect gdb.out '^\[Inferior 1 \(Remote target\) detached\]$'
	expect run.out '^05000000$'
	;;
fault)
	start_nub simple 15
	gdb_batch -ex continue -ex continue -ex bt -ex 'print $pc' -ex continue
	finish_nub 4  # nub-run: 4 guest outcome
	expect gdb.out '^Program received signal SIGSEGV, Segmentation fault\.$'
	expect gdb.out "^#0  (0x[0-9a-f]+ in )?(load_from|fn_null_deref) \(.*\) at .*$src:[0-9]+$"
	expect gdb.out "^#[01]  (0x[0-9a-f]+ in )?fn_null_deref \(.*\) at .*$src:[0-9]+$"
	expect run.err '^nub-run: call 15 failed: NUB_E_GUEST_FAULT: .*'
	;;
hostile)
	start_nub --hex 0200000003000000 simple 2
	timeout 60 python3 - "$port" >"$tmp/gdb.out" 2>&1 <<'PY' || fail "hostile client: python exited $?"
import socket, sys

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)  # a reply that never comes fails the test instead of hanging it


def frame(p):
    return b"$" + p + b"#%02x" % (sum(p) % 256)


def reply():
    # The next packet after the stub's ack(s): returns its payload.
    buf = b""
    while True:
        buf += s.recv(65536)
        i = buf.find(b"$")
        j = buf.find(b"#", i + 1)
        if i >= 0 and j >= 0 and len(buf) >= j + 3:
            return buf[i + 1 : j]


def ask(p, want):
    s.sendall(frame(p))
    got = reply()
    ok = got.startswith(want) if want else got == b""
    print("%-40r -> %-24r %s" % (p[:40], got[:24], "ok" if ok else "WRONG"))
    if not ok:
        sys.exit(1)


s.sendall(b"$qSupported#00")  # bad checksum: '-'
got = s.recv(1)
print("bad checksum ->", got)
assert got == b"-"
ask(b"?", b"S05")
ask(b"m0,10", b"E14")                      # not mapped
ask(b"mffffffffffffff00,100", b"E")        # wraps past 2^64 / unmapped
ask(b"m5300,99999", b"E")                  # longer than a packet
ask(b"M0,4:00000000", b"E14")
ask(b"M5300,4:zz", b"E")                   # not hex
ask(b"Xffff800000000000,1:\x00", b"E14")   # non-canonical
ask(b"G00", b"E")                          # short register file
ask(b"P10=0000000000008000", b"E")         # non-canonical rip
ask(b"P12=0800", b"E")                     # a selector is read-only
ask(b"p99", b"E")
ask(b"Z2,5301,4", b"E22")                  # misaligned watchpoint
ask(b"Z1,1000,1", b"OK")
ask(b"Z1,2000,1", b"OK")
ask(b"Z1,3000,1", b"OK")
ask(b"Z1,4000,1", b"OK")
ask(b"Z1,5000,1", b"E28")                  # four debug registers only
for a in (b"1000", b"2000", b"3000", b"4000"):
    ask(b"z1," + a + b",1", b"OK")
ask(b"Z9,0,1", b"E")
ask(b"qXfer:features:read:target.xml:ffffffff,10", b"E00")
ask(b"vMustReplyEmpty", b"")
ask(b"x" * 64, b"")
ask(b"}", b"E")                            # an escape with nothing after it: BAD_PACKET
s.sendall(b"$" + b"A" * 0x5000 + b"#00")   # past PacketSize: '-'
s.sendall(b"\x00\xff+-+garbage")           # between packets: ignored, and '-' resends
got = reply()
print("nack -> resent", got)
assert got == b"E01"
ask(b"g", b"0")
s.sendall(b"$m5300,")                      # and vanish mid-packet
s.close()
print("closed")
# That detached init; the call stops at its entry and waits for the next client, which detaches.
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
ask(b"?", b"S05")
ask(b"D", b"OK")
PY
	finish_nub 0
	expect gdb.out '^closed$'
	expect run.out '^05000000$'
	;;
*)
	echo "gdb_session.sh: unknown scenario '$scenario'" >&2
	exit 2
	;;
esac
echo "gdb-$scenario: ok"
