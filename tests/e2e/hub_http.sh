#!/bin/sh
# hub_http — HTTP-level behaviour of the real lienket-hub (hub/http/server.c): limits,
# time limits, JSON refusals, logging without tokens, HTTPS, clean stop on SIGTERM.
#
# Starts `lienket-hub serve` on 127.0.0.1 port 0 with --port-file, waits for the port,
# and drives it with curl and small python3 clients (a slow-header client sending one
# byte per second, a lying Content-Length) where curl cannot. Prints one cmocka-style
# line per case; every process it starts is recorded and stopped by PID on exit.
# Run from the repository root; $LK_BIN is the build directory holding lienket-hub.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
DB="$E2E_DIR/hub.db"
LOG="$E2E_DIR/hub.log"
PORT_FILE="$E2E_DIR/hub.port"
# The connection timeout asked for, so the slow-client cases take seconds, not
# minutes. When the hub does not take --timeout it runs with its default (read back
# from its start-up line) and the cases that would then take minutes fail (no case is
# ever skipped: scripts/run-tests.sh counts a skip as a failure).
WANT_TIMEOUT=2
HUB_PID=""
TIMEOUT=""
# The connection-limit case holds 512 connections: raise the soft limit on descriptors
# (the usual default is 1024) as far as the hard limit allows.
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -H -n)" 2>/dev/null || true


# start_hub [EXTRA ARGS...] — starts the hub, sets HUB_PID, URL, TIMEOUT.
start_hub() {
	rm -f "$PORT_FILE"
	: >"$LOG"
	"$HUB" serve --db "$DB" --listen 127.0.0.1:0 --port-file "$PORT_FILE" \
		--timeout "$WANT_TIMEOUT" "$@" >>"$LOG" 2>&1 &
	HUB_PID=$!
	e2e_track "$HUB_PID"
	i=0
	while [ ! -s "$PORT_FILE" ] && kill -0 "$HUB_PID" 2>/dev/null && [ $i -lt 150 ]; do
		sleep 0.1; i=$((i + 1))
	done
	if [ ! -s "$PORT_FILE" ]; then
		# No --timeout option: start again with the default.
		kill "$HUB_PID" 2>/dev/null; wait "$HUB_PID" 2>/dev/null
		: >"$LOG"
		"$HUB" serve --db "$DB" --listen 127.0.0.1:0 --port-file "$PORT_FILE" \
			"$@" >>"$LOG" 2>&1 &
		HUB_PID=$!
		e2e_track "$HUB_PID"
		wait_file "$PORT_FILE" 150 || return 1
	fi
	PORT=$(cat "$PORT_FILE")
	TIMEOUT=$(sed -n 's/.*timeout \([0-9][0-9]*\) s).*/\1/p' "$LOG" | head -n 1)
	[ -n "$TIMEOUT" ] || TIMEOUT=30
	return 0
}

# wait_log PATTERN — waits up to 3 s for a line of the hub's log to match (a line is
# written when libmicrohttpd reports the request complete, just after the client sees
# the close).
wait_log() {
	i=0
	while ! grep -q "$1" "$LOG" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	grep -q "$1" "$LOG"
}

# req NAME CURL-ARGS... — runs curl, body in $E2E_DIR/NAME.body, headers in
# NAME.head; prints the status code.
req() {
	name=$1; shift
	curl -s -o "$E2E_DIR/$name.body" -D "$E2E_DIR/$name.head" -w '%{http_code}' \
		--max-time 20 "$@" 2>/dev/null
}

# is_error_json FILE CODE — the body is a §7.1 error with that code.
is_error_json() {
	python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["v"] == 1 and isinstance(d.get("hub_time"), int), d
assert d["error"]["code"] == sys.argv[2], d
assert isinstance(d["error"]["message"], str), d
PY
}

cat >"$E2E_DIR/client.py" <<'PY'
# Raw clients curl cannot be: python3 client.py MODE PORT [TOKEN]
# A body is read only after its route's token is checked (api_admit), so the modes
# that send one take a valid token.
import socket, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
auth = ("Authorization: Bearer %s\r\n" % sys.argv[3]).encode() if len(sys.argv) > 3 else b""
s = socket.create_connection(("127.0.0.1", port))
t0 = time.time()

def drip(data):
    """Sends one byte per second until the server closes; returns what happened."""
    s.settimeout(1.0)
    for b in data:
        try:
            s.send(bytes([b]))
            r = s.recv(4096)
            return "closed" if r == b"" else "answered " + r.split(b"\r\n")[0].decode()
        except socket.timeout:
            continue
        except OSError:
            return "closed"
    return "never cut"

def read_all(limit=10.0):
    s.settimeout(limit)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except OSError:
        pass
    return out

if mode == "slow-header":
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
    what = drip(b"X-Slow: " + b"a" * 600)
elif mode == "slow-body":
    s.sendall(b"POST /v1/changes HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
              b"Content-Encoding: deflate\r\nContent-Length: 600\r\n" + auth + b"\r\n")
    what = drip(b"z" * 600)
elif mode == "hold":
    # python3 client.py hold PORT N READY-FILE: holds N more idle connections open.
    n, ready = int(sys.argv[3]), sys.argv[4]
    held = [s] + [socket.create_connection(("127.0.0.1", port)) for _ in range(n - 1)]
    open(ready, "w").write("%d\n" % len(held))
    time.sleep(60)
    what = "held"
elif mode == "length-says-more":
    # Content-Length over the limit, no body sent: the answer must not wait for it.
    s.sendall(b"POST /v1/changes HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
              b"Content-Encoding: deflate\r\nContent-Length: 104857600\r\n\r\n")
    what = read_all(5.0).decode(errors="replace")
elif mode == "length-says-less":
    # Content-Length 10 followed by 200 KB: only 10 bytes may be taken as the body.
    try:
        s.sendall(b"POST /v1/changes HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                  b"Content-Encoding: deflate\r\nContent-Length: 10\r\n" + auth + b"\r\n" +
                  b"y" * 200000)
    except OSError:
        pass
    what = read_all(5.0).decode(errors="replace")
print("%.1f %s" % (time.time() - t0, what))
PY

# ---- set-up ----------------------------------------------------------------------
if [ ! -x "$HUB" ]; then
	fail hub_http__hub_is_built "'$HUB' missing (make B=$LK_BIN hub)"
	e2e_finish
fi
if ! "$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1; then
	fail hub_http__init "$(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"
	e2e_finish
fi
# An office token, so that refusals after authentication (415) can be reached.
TOKEN=$("$HUB" enroll --db "$DB" --unit 22915 2>"$E2E_DIR/enroll.log" |
	sed -n 's/^token: *\(lk_[A-Za-z0-9_-]*\).*/\1/p' | head -n 1)
if [ -n "$TOKEN" ]; then
	ok hub_http__enroll_gives_a_token
else
	fail hub_http__enroll_gives_a_token "$(tail -3 "$E2E_DIR/enroll.log" | tr '\n' ' ')"
	TOKEN=lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
fi
if start_hub; then
	ok hub_http__starts_on_a_free_port
else
	fail hub_http__starts_on_a_free_port "no port file; log: $(tail -5 "$LOG" | tr '\n' ' ')"
	e2e_finish
fi
URL="http://127.0.0.1:$PORT"

# ---- cases -----------------------------------------------------------------------
code=$(req healthz "$URL/healthz")
if [ "$code" = 200 ] && grep -q '"ok": *true' "$E2E_DIR/healthz.body" &&
	grep -qi '^cache-control: no-store' "$E2E_DIR/healthz.head"; then
	ok hub_http__healthz_is_open
else
	fail hub_http__healthz_is_open "status $code, body $(head -c 200 "$E2E_DIR/healthz.body")"
fi

code=$(req notoken "$URL/v1/pull?cursor=0&limit=10")
if [ "$code" = 401 ] && is_error_json "$E2E_DIR/notoken.body" unauthorized 2>/dev/null; then
	ok hub_http__missing_token_is_401_json
else
	fail hub_http__missing_token_is_401_json "status $code, body $(head -c 200 "$E2E_DIR/notoken.body")"
fi

head -c 2097152 /dev/zero >"$E2E_DIR/big.bin"
code=$(req big -H 'Content-Type: application/json' -H 'Content-Encoding: deflate' \
	-H 'Authorization: Bearer lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' \
	--data-binary @"$E2E_DIR/big.bin" "$URL/v1/changes")
if [ "$code" = 413 ] && is_error_json "$E2E_DIR/big.body" too_large 2>/dev/null; then
	ok hub_http__body_over_limit_is_413_json
else
	fail hub_http__body_over_limit_is_413_json "status $code, body $(head -c 200 "$E2E_DIR/big.body")"
fi

out=$(python3 "$E2E_DIR/client.py" length-says-more "$PORT" 2>&1)
secs=${out%% *}
case "$out" in
*"HTTP/1.1 413"*'"too_large"'*)
	if [ "${secs%.*}" -lt 3 ]; then ok hub_http__content_length_is_checked_before_reading
	else fail hub_http__content_length_is_checked_before_reading "answer after $secs s"; fi ;;
*) fail hub_http__content_length_is_checked_before_reading "got: $(echo "$out" | head -c 200)" ;;
esac

out=$(python3 "$E2E_DIR/client.py" length-says-less "$PORT" "$TOKEN" 2>&1)
# The first answer is for a 10-byte body; the hub must have read exactly 10 bytes.
if wait_log 'POST /v1/changes [0-9]* in=10 ' &&
	[ "$(req after_lie "$URL/healthz")" = 200 ]; then
	ok hub_http__lying_content_length_lets_no_more_through
else
	fail hub_http__lying_content_length_lets_no_more_through \
		"log: $(grep 'POST /v1/changes' "$LOG" | tail -2 | tr '\n' ' ') client: $(echo "$out" | head -c 120)"
fi

code=$(req chunked -X POST -H 'Content-Type: application/json' -H 'Content-Encoding: deflate' \
	-H 'Transfer-Encoding: chunked' --data-binary 'abc' "$URL/v1/changes")
code2=$(req nolength -X POST -H 'Content-Type: application/json' "$URL/v1/hello")
if [ "$code" = 411 ] && is_error_json "$E2E_DIR/chunked.body" length_required 2>/dev/null &&
	[ "$code2" = 411 ] && is_error_json "$E2E_DIR/nolength.body" length_required 2>/dev/null; then
	ok hub_http__body_without_content_length_is_411_json
else
	fail hub_http__body_without_content_length_is_411_json "chunked: $code, none: $code2"
fi

printf 'not deflate' >"$E2E_DIR/plain.txt"
code=$(req gzip -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' \
	-H "Authorization: Bearer $TOKEN" \
	--data-binary @"$E2E_DIR/plain.txt" "$URL/v1/hello")
if [ "$code" = 415 ] && is_error_json "$E2E_DIR/gzip.body" bad_encoding 2>/dev/null; then
	ok hub_http__wrong_content_encoding_is_415_json
else
	fail hub_http__wrong_content_encoding_is_415_json "status $code, body $(head -c 200 "$E2E_DIR/gzip.body")"
fi

code=$(req nope "$URL/no/such/route")
if [ "$code" = 404 ] && is_error_json "$E2E_DIR/nope.body" not_found 2>/dev/null; then
	ok hub_http__unknown_route_is_404_json
else
	fail hub_http__unknown_route_is_404_json "status $code, body $(head -c 200 "$E2E_DIR/nope.body")"
fi

# A token in the Authorization header and in a query string never reaches the log.
SECRET=lk_SeCrEtSeCrEtSeCrEtSeCrEtSeCrEtSeCrEtSeCrEtS
req secret -H "Authorization: Bearer $SECRET" "$URL/v1/pull?cursor=0&token=$SECRET" >/dev/null
req secret2 "$URL/v1/$SECRET/x?token=$SECRET" >/dev/null
if wait_log 'GET /v1/[^ ]* 404' && ! grep -q 'SeCrEt' "$LOG"; then
	ok hub_http__tokens_never_reach_the_log
else
	fail hub_http__tokens_never_reach_the_log "$(grep -n 'SeCrEt' "$LOG" | head -3 | tr '\n' ' ')"
fi

# One line per request with status, bytes and milliseconds.
if grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z 127\.0\.0\.1 GET /healthz 200 in=0 out=[0-9]+ ms=[0-9]+' "$LOG"; then
	ok hub_http__logs_one_line_per_request
else
	fail hub_http__logs_one_line_per_request "$(grep healthz "$LOG" | head -2 | tr '\n' ' ')"
fi

# Past the connection limit (512) a client is told 429 busy in JSON, not dropped.
if [ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 1200 ]; then
	python3 "$E2E_DIR/client.py" hold "$PORT" 512 "$E2E_DIR/held" >/dev/null 2>&1 &
	hold_pid=$!
	e2e_track $hold_pid
	wait_file "$E2E_DIR/held" 100
	sleep 0.5
	code=$(req busy "$URL/healthz")
	kill $hold_pid 2>/dev/null; wait $hold_pid 2>/dev/null
	if [ "$code" = 429 ] && is_error_json "$E2E_DIR/busy.body" busy 2>/dev/null; then
		ok hub_http__over_connection_limit_is_429_json
	else
		fail hub_http__over_connection_limit_is_429_json "status $code, body $(head -c 200 "$E2E_DIR/busy.body")"
	fi
	sleep 0.5
else
	fail hub_http__over_connection_limit_is_429_json "ulimit -n is $(ulimit -n) (hard limit $(ulimit -H -n)): 1200 descriptors are needed"
fi

# A client sending its headers one byte per second is cut off after the timeout,
# while another client is served meanwhile.
python3 "$E2E_DIR/client.py" slow-header "$PORT" >"$E2E_DIR/slow.out" 2>&1 &
slow_pid=$!
e2e_track $slow_pid
sleep 1
t0=$(date +%s)
code=$(req during "$URL/healthz")
t1=$(date +%s)
wait $slow_pid
out=$(cat "$E2E_DIR/slow.out")
secs=${out%% *}; secs=${secs%.*}
if [ "$code" = 200 ] && [ $((t1 - t0)) -le 2 ] && [ "${out#* }" = closed ] &&
	[ "$secs" -ge $((TIMEOUT - 1)) ] && [ "$secs" -le $((TIMEOUT + 3)) ] &&
	wait_log ' 408 .*closed=headers_timeout'; then
	ok hub_http__slow_header_client_is_cut_off_while_others_are_served
else
	fail hub_http__slow_header_client_is_cut_off_while_others_are_served \
		"other client: $code in $((t1 - t0)) s; slow client: $out (timeout $TIMEOUT s)"
fi

# A body sent one byte per second is cut off after 4 × the timeout (only when the
# hub took a short --timeout: otherwise this would take two minutes).
if [ "$TIMEOUT" -le 5 ]; then
	out=$(python3 "$E2E_DIR/client.py" slow-body "$PORT" "$TOKEN" 2>&1)
	secs=${out%% *}; secs=${secs%.*}
	if [ "${out#* }" = closed ] && [ "$secs" -ge $((4 * TIMEOUT - 1)) ] &&
		[ "$secs" -le $((4 * TIMEOUT + 3)) ] && wait_log ' 408 .*closed=body_timeout'; then
		ok hub_http__slow_body_is_cut_off
	else
		fail hub_http__slow_body_is_cut_off "slow client: $out (timeout $TIMEOUT s)"
	fi
else
	fail hub_http__slow_body_is_cut_off "the hub did not take --timeout $WANT_TIMEOUT (timeout $TIMEOUT s)"
fi

# SIGTERM: the hub stops by itself, exits 0 (ASan finds no leak), removes its port file.
kill "$HUB_PID"
i=0
while kill -0 "$HUB_PID" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$HUB_PID" 2>/dev/null; then
	fail hub_http__stops_on_sigterm "still running 15 s after SIGTERM"
	kill -9 "$HUB_PID" 2>/dev/null
	wait "$HUB_PID" 2>/dev/null
else
	wait "$HUB_PID"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -e "$PORT_FILE" ] && grep -q 'stopped' "$LOG"; then
		ok hub_http__stops_on_sigterm
	else
		fail hub_http__stops_on_sigterm "exit $rc; log: $(tail -5 "$LOG" | tr '\n' ' ')"
	fi
fi

# HTTPS with --cert/--key (the openssl tool makes a throw-away certificate; scripts/deps.sh
# test installs it).
if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$E2E_DIR/key.pem" \
		-out "$E2E_DIR/cert.pem" >"$E2E_DIR/openssl.log" 2>&1; then
	LOG="$E2E_DIR/hub-tls.log"
	if start_hub --cert "$E2E_DIR/cert.pem" --key "$E2E_DIR/key.pem"; then
		code=$(req tls --cacert "$E2E_DIR/cert.pem" "https://127.0.0.1:$PORT/healthz")
		plain=$(req tlsplain "http://127.0.0.1:$PORT/healthz")
		if [ "$code" = 200 ] && [ "$plain" != 200 ]; then
			ok hub_http__serves_https_with_cert_and_key
		else
			fail hub_http__serves_https_with_cert_and_key "https: $code, plain http: $plain"
		fi
		stop "$HUB_PID"
	else
		fail hub_http__serves_https_with_cert_and_key "did not start: $(tail -3 "$LOG" | tr '\n' ' ')"
	fi
else
	fail hub_http__serves_https_with_cert_and_key "openssl cannot make a test certificate: $(tail -1 "$E2E_DIR/openssl.log" 2>/dev/null)"
fi

e2e_finish
