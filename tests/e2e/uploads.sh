#!/bin/sh
# uploads — the hub's request-body budget against clients that hold uploads open
# (issue 12, security 2; hub/http/server.c, api_admit in hub/http/api.c).
#
# Slow clients announce large bodies and then send them a byte at a time. Without a
# token they must hold nothing (the route's token is checked before any memory is
# reserved for a body), so a real office laptop still syncs while 200 of them wait;
# with a token, one token holds at most two full uploads at once; a body to an open
# route (the dashboard's login form) is small. The raw clients are a python3 script.
# Prints one cmocka-style line per case; every process is tracked and stopped by PID.
# Run from the repository root; $LK_BIN is the build directory.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
COMMUNE_CODE=22915
HDB="$E2E_DIR/hub.db"
ADB="$E2E_DIR/laptop.db"
AGENT_LANG=en_US.UTF-8
SLOW=200

cat >"$E2E_DIR/slow.py" <<'PY'
# python3 slow.py PORT N PATH TOKEN READY-FILE OUT-FILE
# Opens N connections, each announcing a 1 MiB body to PATH (with TOKEN unless it is
# "-") and then sending it one byte a second. Writes READY-FILE once every header is
# sent, and to OUT-FILE, one line per connection, what the hub did: "answered <status
# line>" or "open" (still waiting for the body) after 20 s or when killed.
import signal, socket, sys, time
port, n, path, token, ready, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
head = ("POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        "Content-Encoding: deflate\r\nContent-Length: 1048576\r\n" % path)
if token != "-":
    head += "Authorization: Bearer %s\r\n" % token
head = (head + "\r\n").encode()
conns = []
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(head)
    c.settimeout(0.01)
    conns.append([c, "open"])
open(ready, "w").write("%d\n" % len(conns))

def report(*_):
    with open(out, "w") as f:
        for _, what in conns:
            f.write(what + "\n")
    sys.exit(0)

signal.signal(signal.SIGTERM, report)
end = time.time() + 20
while time.time() < end:
    for cw in conns:
        if cw[1] != "open":
            continue
        try:
            r = cw[0].recv(4096)
            cw[1] = "closed" if r == b"" else "answered " + r.split(b"\r\n")[0].decode()
            continue
        except socket.timeout:
            pass
        except OSError:
            cw[1] = "closed"
            continue
        try:
            cw[0].send(b"x")
        except OSError:
            cw[1] = "closed"
    time.sleep(1)
report()
PY

# slow NAME N PATH TOKEN — starts slow.py in the background (SLOW_PID) and waits until
# every header is sent.
slow() {
	rm -f "$E2E_DIR/$1.ready" "$E2E_DIR/$1.out"
	python3 "$E2E_DIR/slow.py" "$HUB_PORT" "$2" "$3" "$4" "$E2E_DIR/$1.ready" "$E2E_DIR/$1.out" \
		2>"$E2E_DIR/$1.err" &
	SLOW_PID=$!
	e2e_track "$SLOW_PID"
	wait_file "$E2E_DIR/$1.ready" 300
}

# slow_done NAME — stops slow.py and waits for its report.
slow_done() {
	kill "$SLOW_PID" 2>/dev/null
	wait "$SLOW_PID" 2>/dev/null
	wait_file "$E2E_DIR/$1.out" 50
}


# ---- set-up ----------------------------------------------------------------------
if ! "$HUB" init --db "$HDB" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1; then
	fail uploads__hub_init "$(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"
	e2e_finish
fi
"$HUB" enroll --db "$HDB" --unit "$COMMUNE_CODE" --name laptop >"$E2E_DIR/enroll.out" 2>&1
TOKEN=$(sed -n 's/^token: *\(lk_[A-Za-z0-9_-]*\).*/\1/p' "$E2E_DIR/enroll.out" | head -n 1)
UNIT=$(sed -n 's/^unit: *//p' "$E2E_DIR/enroll.out" | head -n 1)
hub_start "$HDB" hub || { fail uploads__hub_starts "no port"; e2e_finish; }
ag init "$ADB" init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN"
[ "$RC" = 0 ] || { fail uploads__laptop_init "exit $RC: $(say init)"; e2e_finish; }
ag add "$ADB" add meeting kind=joint held_on=2021-03-14 commune_secretary_attended=1 attendees=23 \
	concerns=- follow_up=-
[ "$RC" = 0 ] || { fail uploads__laptop_add "exit $RC: $(say add)"; e2e_finish; }

# ---- cases -------------------------------------------------------------------------

# 200 connections without a token announce 1 MiB each (more than the whole budget of
# 128 MiB) and trickle: the office's sync still goes through, and they hold nothing.
slow anon "$SLOW" /v1/changes - || fail uploads__slow_clients_start "$(tail -2 "$E2E_DIR/anon.err")"
sleep 1
ag sync "$ADB" sync
sync_rc=$RC
slow_done anon
open=$(grep -c '^open' "$E2E_DIR/anon.out")
refused=$(grep -c '^answered HTTP/1.1 401' "$E2E_DIR/anon.out")
acked=$(sqlite3 "$HDB" "SELECT acked FROM hub_agent" 2>/dev/null)
if [ "$sync_rc" = 0 ] && [ "${acked:-0}" -ge 1 ]; then
	ok uploads__office_syncs_while_200_slow_unauthenticated_uploads_wait
else
	fail uploads__office_syncs_while_200_slow_unauthenticated_uploads_wait \
		"sync exit $sync_rc, hub acked '${acked:-}'; $(say sync)"
fi
if [ "$refused" = "$SLOW" ] && [ "$open" = 0 ]; then
	ok uploads__a_body_without_a_token_is_refused_401_before_it_is_read
else
	fail uploads__a_body_without_a_token_is_refused_401_before_it_is_read \
		"$refused of $SLOW answered 401, $open still open"
fi

# One token may hold two full uploads at once; a third is told 429 busy at once.
slow tok 3 /v1/changes "$TOKEN" || fail uploads__token_clients_start "$(tail -2 "$E2E_DIR/tok.err")"
sleep 1
slow_done tok
busy=$(grep -c '^answered HTTP/1.1 429' "$E2E_DIR/tok.out")
open=$(grep -c '^open' "$E2E_DIR/tok.out")
if [ "$busy" = 1 ] && [ "$open" = 2 ]; then
	ok uploads__one_token_holds_at_most_two_full_uploads
else
	fail uploads__one_token_holds_at_most_two_full_uploads \
		"$busy answered 429, $open open: $(tr '\n' ' ' <"$E2E_DIR/tok.out")"
fi

# The dashboard's login form (an open route) may not announce more than 4 KiB.
slow form 1 / - || fail uploads__form_client_starts "$(tail -2 "$E2E_DIR/form.err")"
sleep 1
slow_done form
if grep -q '^answered HTTP/1.1 413' "$E2E_DIR/form.out"; then
	ok uploads__an_open_route_takes_only_a_small_body
else
	fail uploads__an_open_route_takes_only_a_small_body "$(tr '\n' ' ' <"$E2E_DIR/form.out")"
fi

e2e_finish
