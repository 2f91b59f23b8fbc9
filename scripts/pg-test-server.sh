#!/bin/sh
# A throw-away PostgreSQL server for the tests, from Debian's postgresql-15 package
# (scripts/deps.sh test set; never the system's cluster).
#   scripts/pg-test-server.sh start DIR [OWNER]  initdb in DIR/data, start on a free port of
#                                                 127.0.0.1; prints the server's URL. With
#                                                 OWNER (a PID), a watcher stops the server
#                                                 once OWNER has gone (a suite killed -9
#                                                 leaves no server behind)
#   scripts/pg-test-server.sh createdb DIR NAME [TEMPLATE]
#                                                 a new database; prints its URL
#   scripts/pg-test-server.sh dropdb DIR NAME     drops it (its connections closed first)
#   scripts/pg-test-server.sh url DIR [NAME]      the URL of the running server (database
#                                                 NAME, default lienket)
#   scripts/pg-test-server.sh stop DIR            stops it by the PID in postmaster.pid, waits
#
# The URL is postgresql://lienket@127.0.0.1:PORT/lienket: superuser lienket, trust
# authentication on loopback (TCP on 127.0.0.1 only, the unix socket in DIR), a database
# lienket made at start. fsync is off: the data is thrown away with DIR.
# PostgreSQL refuses to run as root, and tests run as root in CI: as root the server runs
# as the unprivileged user $LK_PG_USER (default nobody) and DIR (made by this script if
# missing; it must be empty) is given to that user — so DIR must be reachable by it, e.g.
# a mktemp -d of its own under /tmp, not inside another root-only folder.
# The default collation is ICU's Vietnamese ($LK_PG_LOCALE, default vi-VN): an order
# compared without COLLATE "C" then differs from byte order and the tests see it.
set -eu
PGBIN=${LK_PG_BIN:-/usr/lib/postgresql/15/bin}
PGUSER_OS=${LK_PG_USER:-nobody}
LOCALE=${LK_PG_LOCALE:-vi-VN}
usage() { echo "usage: pg-test-server.sh start|stop|url|createdb|dropdb DIR [NAME [TEMPLATE]]" >&2; exit 64; }
[ $# -ge 2 ] || usage
cmd=$1 dir=$2
die() { echo "pg-test-server: $*" >&2; exit 1; }

# as_server COMMAND... — runs a server-side program as the unprivileged user when root.
as_server() {
	if [ "$(id -u)" = 0 ]; then runuser -u "$PGUSER_OS" -- "$@"; else "$@"; fi
}
port_of() {
	[ -s "$dir/port" ] || die "no server in $dir (no $dir/port)"
	cat "$dir/port"
}
url_of() { echo "postgresql://lienket@127.0.0.1:$(port_of)/${1:-lienket}"; }
# sql DB STATEMENT — one statement over the unix socket, quietly, stopping on an error.
sql() {
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$(port_of)" -U lienket -d "$1" -c "$2" >/dev/null
}
# ident NAME — NAME if it is a plain SQL identifier (database names come from callers).
ident() {
	case "$1" in ''|[0-9]*|*[!a-z0-9_]*) die "database name '$1': only a-z, 0-9 and _ (not first)" ;; esac
	[ ${#1} -le 63 ] || die "database name '$1' longer than 63 bytes"
	echo "$1"
}
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$cmd" in
start)
	[ -x "$PGBIN/initdb" ] || die "$PGBIN/initdb missing: scripts/deps.sh --check-or-install test"
	mkdir -p "$dir"
	[ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
	[ "$(id -u)" != 0 ] || chown "$PGUSER_OS" "$dir"
	chmod 700 "$dir"
	as_server "$PGBIN/initdb" -D "$dir/data" -U lienket --auth=trust --encoding=UTF8 \
		--locale-provider=icu --icu-locale="$LOCALE" --locale=C.UTF-8 --no-sync \
		--no-instructions >"$dir/initdb.log" 2>&1 ||
		{ tail -20 "$dir/initdb.log" >&2; die "initdb failed (log: $dir/initdb.log)"; }
	cat >>"$dir/data/postgresql.conf" <<EOF
# pg-test-server.sh: a throw-away test server
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 32MB
log_min_messages = warning
log_min_error_statement = panic
EOF
	# A free port can be taken between the look and the listen: try a few.
	tries=0
	while :; do
		port=$(free_port)
		if as_server "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 \
			start >"$dir/pg_ctl.log" 2>&1; then
			break
		fi
		tries=$((tries + 1))
		[ $tries -lt 5 ] || { tail -20 "$dir/server.log" >&2; die "the server did not start (log: $dir/server.log)"; }
	done
	echo "$port" >"$dir/port"
	if [ $# -ge 3 ]; then
		owner=$3
		case "$owner" in ''|*[!0-9]*) die "owner '$owner' is not a PID" ;; esac
		pm=$(head -n 1 "$dir/data/postmaster.pid")
		# In a session of its own, so that a signal to the suite's process group spares it.
		# shellcheck disable=SC2016 # expanded by the watcher's shell
		setsid sh -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
			kill -0 "$2" 2>/dev/null && exec sh "$3" stop "$4"' watcher "$owner" "$pm" "$0" "$dir" \
			</dev/null >/dev/null 2>&1 &
	fi
	sql postgres "CREATE DATABASE lienket"
	url_of
	;;
stop)
	pidfile="$dir/data/postmaster.pid"
	[ -f "$pidfile" ] || exit 0
	pid=$(head -n 1 "$pidfile")
	case "$pid" in ''|*[!0-9]*) die "no PID in $pidfile" ;; esac
	# SIGINT: PostgreSQL's fast shutdown (clients disconnected, then a clean stop).
	kill -INT "$pid" 2>/dev/null || exit 0
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$pid" 2>/dev/null; then
		# SIGQUIT: immediate shutdown, which still stops every child process.
		kill -QUIT "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -0 "$pid" 2>/dev/null && die "server $pid still running"
	fi
	exit 0
	;;
url)
	url_of "$(ident "${3:-lienket}")"
	;;
createdb)
	[ $# -ge 3 ] || usage
	name=$(ident "$3")
	if [ $# -ge 4 ]; then
		sql postgres "CREATE DATABASE $name TEMPLATE $(ident "$4")"
	else
		sql postgres "CREATE DATABASE $name"
	fi
	url_of "$name"
	;;
dropdb)
	[ $# -ge 3 ] || usage
	sql postgres "DROP DATABASE IF EXISTS $(ident "$3") WITH (FORCE)"
	;;
*) usage ;;
esac
