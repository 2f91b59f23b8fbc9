#!/bin/sh
# Self-test of tests/tools/faultproxy: a small Python HTTP upstream, the proxy in front
# of it on a free port, and one curl-driven case per fault, each proving the fault does
# what tests/tools/README.md says (where the cut falls, which side saw what, how long a
# throttled transfer takes). The fault spec is switched between cases through the
# control file. Prints one cmocka-style line per case; stops every process it started,
# by PID. Run from the repository root; $LK_BIN is the build directory (build/asan by
# default). VALGRIND=1 runs the proxy under valgrind and fails on any leak or error.
set -u
LK_BIN=${LK_BIN:-build/asan}
PROXY_BIN="$LK_BIN/tools/faultproxy"
work=$(mktemp -d "${TMPDIR:-/tmp}/faultproxy-test.XXXXXX")
upstream_pid=""
proxy_pid=""
proxy2_pid=""
failures=0

cleanup() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
	[ -n "$proxy2_pid" ] && kill "$proxy2_pid" 2>/dev/null && wait "$proxy2_pid" 2>/dev/null
	[ -n "$upstream_pid" ] && kill "$upstream_pid" 2>/dev/null && wait "$upstream_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() { echo "[       OK ] faultproxy__$1"; }
fail() {
	echo "[  FAILED  ] faultproxy__$1: $2"
	failures=$((failures + 1))
}

if [ ! -x "$PROXY_BIN" ]; then
	echo "[  FAILED  ] faultproxy__binary_is_built: '$PROXY_BIN' missing (make B=$LK_BIN tools)"
	exit 1
fi

# ---- the upstream: GET /bytes/N answers N bytes, GET /sleep/MS waits, POST /upload
# reads its body and records "complete N" or "incomplete N" in events.
cat >"$work/upstream.py" <<'PY'
import http.server, os, sys, threading, time
events_path, port_path = sys.argv[1], sys.argv[2]
lock = threading.Lock()
def event(line):
    with lock, open(events_path, "a") as f:
        f.write(line + "\n")
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        event("GET " + self.path)
        parts = self.path.split("/")
        if len(parts) == 3 and parts[1] == "bytes":
            n = int(parts[2])
            self.answer((b"0123456789abcdef" * (n // 16 + 1))[:n])
        elif len(parts) == 3 and parts[1] == "sleep":
            time.sleep(int(parts[2]) / 1000.0)
            self.answer(b"slept\n")
        else:
            self.send_error(404)
    def do_POST(self):
        want = int(self.headers.get("Content-Length", "0"))
        got = 0
        try:
            while got < want:
                chunk = self.rfile.read(min(65536, want - got))
                if not chunk:
                    break
                got += len(chunk)
        except OSError:
            pass
        if got < want:
            event("incomplete %d" % got)
            self.close_connection = True
            return
        event("complete %d" % got)
        try:
            self.answer(b"got %d\n" % got)
        except OSError:
            pass
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 512
    daemon_threads = True
server = Server(("127.0.0.1", 0), Handler)
with open(port_path + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_path + ".tmp", port_path)
server.serve_forever()
PY

wait_for_file() { # path -> waits up to 10 s
	i=0
	while [ ! -s "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$1" ]
}

: >"$work/events"
python3 "$work/upstream.py" "$work/events" "$work/upstream.port" 2>"$work/upstream.stderr" &
upstream_pid=$!
wait_for_file "$work/upstream.port" || { echo "[  FAILED  ] faultproxy__upstream_starts: no port"; exit 1; }
UPORT=$(cat "$work/upstream.port")

ctl="$work/control"
printf 'fault=none\n' >"$ctl"
set -- "$PROXY_BIN"
if [ "${VALGRIND:-0}" = 1 ]; then
	set -- valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
		--error-exitcode=99 "$@"
fi
"$@" --listen 127.0.0.1:0 --port-file "$work/proxy.port" --target "127.0.0.1:$UPORT" \
	--control-file "$ctl" --seed 7 --log "$work/proxy.log" 2>"$work/proxy.stderr" &
proxy_pid=$!
wait_for_file "$work/proxy.port" || { echo "[  FAILED  ] faultproxy__proxy_starts: no port"; cat "$work/proxy.stderr"; exit 1; }
PPORT=$(cat "$work/proxy.port")
URL="http://127.0.0.1:$PPORT"

reloads() { grep -c 'control (' "$work/proxy.log"; }

# set_link SPEC [RATE_BPS [LATENCY_MS]]: rewrites the control file (new inode) and
# waits until the proxy has logged the reload.
set_link() {
	before=$(reloads)
	printf 'fault=%s\nrate-bps=%s\nlatency-ms=%s\n' "$1" "${2:-0}" "${3:-0}" >"$ctl.tmp"
	mv "$ctl.tmp" "$ctl"
	i=0
	while [ "$(reloads)" -le "$before" ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
	grep 'control (' "$work/proxy.log" | tail -1 | grep -q "fault spec now '$1'"
}

# fetch PATH [curl args...]: sets rc and out ("code header_bytes body_bytes seconds").
fetch() {
	p=$1
	shift
	out=$(curl -s --max-time 15 -o "$work/body" \
		-w '%{http_code} %{size_header} %{size_download} %{time_total}' "$@" "$URL$p")
	rc=$?
}
field() { echo "$out" | cut -d' ' -f"$1"; }
# within X LOW HIGH: LOW <= X <= HIGH for decimal X
within() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }
wait_for_event() { # regex -> waits up to 3 s for the upstream to record it
	i=0
	while ! grep -q "$1" "$work/events" && [ $i -lt 150 ]; do sleep 0.02; i=$((i + 1)); done
	grep -q "$1" "$work/events"
}

head -c 10000 /dev/urandom >"$work/upload"

# ---- cases

name=no_fault_relays_request_and_answer_unchanged
set_link none
fetch /bytes/100000
ref=$(curl -s "http://127.0.0.1:$UPORT/bytes/100000" | cksum)
got=$(cksum <"$work/body")
fetch2_out=$(curl -s --max-time 15 --data-binary @"$work/upload" "$URL/upload")
if [ $rc -eq 0 ] && [ "$got" = "$ref" ] && [ "$fetch2_out" = "got 10000" ]; then ok $name
else fail $name "rc=$rc body '$got' vs '$ref', upload '$fetch2_out'"; fi

name=drop_before_request_closes_without_answer
set_link drop-before-request
n_before=$(wc -l <"$work/events")
fetch /bytes/100
n_after=$(wc -l <"$work/events")
if { [ $rc -eq 52 ] || [ $rc -eq 56 ]; } && [ "$(field 3)" = 0 ] && [ "$n_before" = "$n_after" ]; then ok $name
else fail $name "curl rc=$rc out='$out', upstream saw $((n_after - n_before)) requests"; fi

name=drop_during_request_relays_exactly_bytes_then_resets
set_link drop-during-request:1000
: >"$work/events"
fetch /upload --data-binary @"$work/upload"
if { [ $rc -eq 52 ] || [ $rc -eq 55 ] || [ $rc -eq 56 ]; } && wait_for_event '^incomplete' &&
	! grep -q '^complete' "$work/events" &&
	grep -q 'injecting drop-during-request:1000 (up 1000 down 0)' "$work/proxy.log"; then ok $name
else fail $name "curl rc=$rc, upstream: $(tr '\n' ' ' <"$work/events")"; fi

name=drop_after_request_server_has_it_client_gets_nothing
set_link drop-after-request
: >"$work/events"
fetch /upload --data-binary @"$work/upload"
if { [ $rc -eq 52 ] || [ $rc -eq 56 ]; } && [ "$(field 3)" = 0 ] && wait_for_event '^complete 10000'; then ok $name
else fail $name "curl rc=$rc out='$out', upstream: $(tr '\n' ' ' <"$work/events")"; fi

name=drop_during_answer_relays_exactly_bytes_then_resets
set_link drop-during-answer:3000
fetch /bytes/100000
total=$(($(field 2) + $(field 3)))
if { [ $rc -eq 56 ] || [ $rc -eq 18 ]; } && [ $total -eq 3000 ]; then ok $name
else fail $name "curl rc=$rc, head+body $total bytes, want 3000"; fi

name=drop_after_answer_delivers_the_answer_then_resets
set_link drop-after-answer
fetch /bytes/5000
sleep 0.1
if [ $rc -eq 0 ] && [ "$(field 3)" = 5000 ] &&
	grep -q 'injecting drop-after-answer' "$work/proxy.log"; then ok $name
else fail $name "curl rc=$rc out='$out'"; fi

name=truncate_answer_sends_bytes_then_a_clean_fin
set_link truncate-answer:2000
fetch /bytes/100000
total=$(($(field 2) + $(field 3)))
# curl 18 = "transfer closed with outstanding read data": a FIN, not a reset (56)
if [ $rc -eq 18 ] && [ $total -eq 2000 ]; then ok $name
else fail $name "curl rc=$rc, head+body $total bytes, want 2000 and rc 18"; fi

name=delay_holds_the_connection_before_the_first_byte
set_link delay:1500
fetch /bytes/100
if [ $rc -eq 0 ] && [ "$(field 3)" = 100 ] && within "$(field 4)" 1.4 6; then ok $name
else fail $name "curl rc=$rc out='$out', want 100 bytes after >= 1.4 s"; fi

name=delay_answer_holds_the_first_answer_byte
set_link delay-answer:1000
: >"$work/events"
fetch /bytes/100
if [ $rc -eq 0 ] && within "$(field 4)" 0.9 6 && grep -q '^GET /bytes/100' "$work/events"; then ok $name
else fail $name "curl rc=$rc out='$out', want >= 0.9 s"; fi

name=every_n_faults_only_every_nth_connection
set_link every:2:drop-before-request
pattern=""
for i in 1 2 3 4; do
	fetch /bytes/10
	pattern="$pattern$rc,"
done
case "$pattern" in
0,5[26],0,5[26],) ok $name ;;
*) fail $name "curl exit codes $pattern, want 0,52,0,52 (or 56)" ;;
esac

name=random_zero_never_faults_random_one_always_does
set_link random:0
pattern=""
for i in 1 2 3 4 5; do fetch /bytes/10; pattern="$pattern$rc,"; done
sleep 0.3 # the proxy logs a close just after curl has gone
first=$(grep -c 'closed, fault' "$work/proxy.log")
set_link random:1:200
for i in 1 2 3 4 5 6; do fetch /bytes/1000 --max-time 5; done
sleep 0.3
unfaulted=$(grep 'closed, fault' "$work/proxy.log" | tail -n +$((first + 1)) | grep -c 'fault none')
if [ "$pattern" = "0,0,0,0,0," ] && [ "$unfaulted" -eq 0 ]; then ok $name
else fail $name "random:0 exit codes $pattern; random:1 left $unfaulted connections unfaulted"; fi

name=throttle_32kbit_moves_8kb_in_about_2s
set_link none 32000 0
fetch /bytes/8000
echo "# 8000 B at 32 kbit/s: $(field 4) s (ideal 2.05 s with the head)"
if [ $rc -eq 0 ] && [ "$(field 3)" = 8000 ] && within "$(field 4)" 1.7 4.5; then ok $name
else fail $name "curl rc=$rc out='$out', want ~2.05 s (8000 B + head at 4000 B/s)"; fi

name=throttle_32kbit_with_500ms_latency_adds_both
set_link none 32000 500
fetch /bytes/4000
# ~0.5 s for the request to arrive, 0.5 s for the answer, ~1.05 s to serialise it
echo "# 4000 B at 32 kbit/s + 500 ms each way: $(field 4) s (ideal 2.07 s)"
if [ $rc -eq 0 ] && [ "$(field 3)" = 4000 ] && within "$(field 4)" 1.8 5; then ok $name
else fail $name "curl rc=$rc out='$out', want ~2.05 s"; fi

name=relays_250_concurrent_connections
set_link none
i=0
urls=""
while [ $i -lt 250 ]; do urls="$urls -o /dev/null $URL/sleep/1500"; i=$((i + 1)); done
# shellcheck disable=SC2086
codes=$(curl -s --no-progress-meter -Z --parallel-max 250 --max-time 20 -w '%{http_code}\n' $urls 2>/dev/null |
	sort | uniq -c | tr -s ' ')
kill -USR1 "$proxy_pid"
sleep 0.3
peak=$(grep 'stats connections' "$work/proxy.log" | tail -1 | sed 's/.*peak_open=\([0-9]*\).*/\1/')
if [ "$codes" = " 250 200" ] && [ "${peak:-0}" -ge 200 ]; then ok $name
else fail $name "answers: '$codes', peak open $peak"; fi

name=control_file_rejects_a_bad_spec_and_keeps_the_old_one
set_link drop-before-request
printf 'fault=drop-sometimes\n' >"$ctl.tmp"
mv "$ctl.tmp" "$ctl"
i=0
while ! grep -q "unknown fault 'drop-sometimes'" "$work/proxy.log" && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
fetch /bytes/10
if grep -q "unknown fault 'drop-sometimes'" "$work/proxy.log" && { [ $rc -eq 52 ] || [ $rc -eq 56 ]; }; then ok $name
else fail $name "curl rc=$rc after a bad spec"; fi

name=sighup_rereads_the_control_file
# A second proxy that never looks at the control file's mtime: only SIGHUP reloads it.
ctl2="$work/control2"
"$@" --listen 127.0.0.1:0 --port-file "$work/proxy2.port" --target "127.0.0.1:$UPORT" \
	--control-file "$ctl2" --control-check-ms 0 --fault none --log "$work/proxy2.log" \
	2>"$work/proxy2.stderr" &
proxy2_pid=$!
wait_for_file "$work/proxy2.port"
URL2="http://127.0.0.1:$(cat "$work/proxy2.port")"
printf 'fault=drop-before-request\n' >"$ctl2"
sleep 0.2
curl -s --max-time 5 -o /dev/null "$URL2/bytes/10"
rc_before_hup=$?
kill -HUP "$proxy2_pid"
i=0
while ! grep -q 'control (SIGHUP)' "$work/proxy2.log" && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
curl -s --max-time 5 -o /dev/null "$URL2/bytes/10"
rc=$?
kill -TERM "$proxy2_pid"
wait "$proxy2_pid"
proxy2_rc=$?
proxy2_pid=""
if [ "$rc_before_hup" -eq 0 ] && { [ $rc -eq 52 ] || [ $rc -eq 56 ]; } && [ $proxy2_rc -eq 0 ]; then ok $name
else fail $name "before SIGHUP rc=$rc_before_hup (want 0), after rc=$rc (want 52/56), exit $proxy2_rc"; fi

name=sigterm_prints_counters_and_exits_cleanly
kill -TERM "$proxy_pid"
wait "$proxy_pid"
proxy_rc=$?
proxy_pid=""
stats=$(grep 'stats connections' "$work/proxy.log" | tail -1)
if [ $proxy_rc -eq 0 ] && echo "$stats" | grep -q 'drop-before-request=[1-9]' &&
	echo "$stats" | grep -q 'truncate-answer=[1-9]' && grep -q 'stats connections' "$work/proxy.stderr" &&
	! grep -q -E 'Sanitizer|ERROR|definitely lost' "$work/proxy.stderr"; then ok $name
else fail $name "exit $proxy_rc; $(tail -20 "$work/proxy.stderr")"; fi
echo "$stats" | sed 's/^faultproxy *[0-9.]* /# /'

[ $failures -eq 0 ]
