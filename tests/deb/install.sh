#!/bin/sh
# tests/deb/install.sh — the Debian packages in a fresh minimal Debian 12 (`make test-deb`).
#
# In a copy of a debootstrap --variant=minbase tree of bookworm (cached in
# ~/.cache/lienket/debootstrap, keyed by month and by the packages' dependencies, which
# it holds already so that no step needs the network): the packages built from the
# previous commit are installed, the hub started as the lienket user the package made
# (directly: systemd cannot run in a chroot) and asked /healthz, an office enrolled;
# then this tree's packages upgrade them (an edited /etc/lienket/hub.conf is kept, the
# database and its tokens too), the hub answers again, the README's operator steps and
# the digest's mail relay work as documented, the backup with retention runs,
# the installed units pass `systemd-analyze verify`; then remove (settings kept) and
# purge (settings gone, the province's data kept).
#
# "The previous commit": HEAD's parent for a clean tree, HEAD itself for a tree with
# changes. Its packages are cached in ~/.cache/lienket/debs/<commit>; this tree's are
# built into build/deb (scripts/deb.sh), or taken from the folder given as the first
# argument. Needs root (chroot) and scripts/deps.sh deb.
set -u
. tests/e2e/lib.sh

# The test tree has /proc mounted while packages are installed and the hub runs, as a
# real system has (systemd-sysusers and systemd-tmpfiles need it); it is unmounted
# before the tree is removed, and the tree is kept when that fails.
PROC=""
deb_cleanup() {
	for p in $E2E_PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	if [ -n "$PROC" ] && ! umount "$PROC" 2>/dev/null && ! umount -l "$PROC" 2>/dev/null; then
		echo "# could not unmount $PROC: the test tree $E2E_DIR is left in place"
		E2E_KEEP=1
	fi
	e2e_cleanup
}
trap deb_cleanup EXIT

CACHE=${LIENKET_CACHE:-$HOME/.cache/lienket}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
T0=$(date +%s)
if [ "$(id -u)" != 0 ]; then
	fail deb__runs_as_root "chroot and dpkg in the test tree need root"
	e2e_finish
fi
for tool in debootstrap dpkg-buildpackage lintian systemd-analyze curl openssl; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ fail deb__tools_installed "$tool missing (scripts/deps.sh --check-or-install deb)"; e2e_finish; }
done

# ---- the packages: this tree's, and the previous commit's (cached) ----------------
if [ -z "$(git status --porcelain)" ]; then OLD=$(git rev-parse HEAD~1); else OLD=$(git rev-parse HEAD); fi
OLD_DIR="$CACHE/debs/$OLD"
if [ ! -f "$OLD_DIR/version" ]; then
	mkdir -p "$CACHE/debs"
	if scripts/deb.sh --commit "$OLD" "$OLD_DIR.tmp" >"$E2E_DIR/old-build.log" 2>&1; then
		rm -rf "$OLD_DIR" && mv "$OLD_DIR.tmp" "$OLD_DIR"
	else
		rm -rf "$OLD_DIR.tmp"
		fail deb__previous_commit_builds "$(tail -5 "$E2E_DIR/old-build.log" | tr '\n' ' ')"
		e2e_finish
	fi
fi
# This tree's packages: built here, or given (`make test-deb` has just built them).
NEW_DIR=${1:-}
if [ -z "$NEW_DIR" ]; then
	NEW_DIR=build/deb
	if scripts/deb.sh "$NEW_DIR" >"$E2E_DIR/new-build.log" 2>&1; then
		ok deb__packages_build_and_lintian_is_clean
	else
		fail deb__packages_build_and_lintian_is_clean "$(tail -8 "$E2E_DIR/new-build.log" | tr '\n' ' ')"
		e2e_finish
	fi
elif [ ! -f "$NEW_DIR/version" ]; then
	fail deb__packages_given "no packages in '$NEW_DIR' (scripts/deb.sh $NEW_DIR)"
	e2e_finish
fi
OLD_V=$(cat "$OLD_DIR/version"); NEW_V=$(cat "$NEW_DIR/version")
T_BUILD=$(date +%s)

# ---- the fresh Debian 12 --------------------------------------------------------------
# Its extra packages: every dependency of both packages, old and new (the first of
# alternatives, as apt would choose), so that dpkg -i finds them installed.
deps=$(for d in "$OLD_DIR"/*.deb "$NEW_DIR"/*.deb; do
		dpkg-deb -f "$d" Depends; dpkg-deb -f "$d" Pre-Depends; done |
	tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/ //g' | grep -v '^$' | grep -v '^lienket' | sort -u |
	tr '\n' ',' | sed 's/,$//')
key="bookworm-minbase-$(date +%Y%m)-$(printf '%s' "$deps" | sha256sum | cut -c1-12)"
BASE="$CACHE/debootstrap/$key"
mkdir -p "$CACHE/debootstrap"
if [ ! -f "$BASE/.complete" ]; then
	(
		flock 9
		if [ ! -f "$BASE/.complete" ]; then
			rm -rf "$BASE.tmp"
			debootstrap --variant=minbase --include="$deps" bookworm "$BASE.tmp" "$MIRROR" \
				>"$E2E_DIR/debootstrap.log" 2>&1 && touch "$BASE.tmp/.complete" && mv "$BASE.tmp" "$BASE"
		fi
	) 9>"$CACHE/debootstrap/.lock"
fi
if [ ! -f "$BASE/.complete" ]; then
	fail deb__debootstrap "$(tail -5 "$E2E_DIR/debootstrap.log" 2>/dev/null | tr '\n' ' ')"
	e2e_finish
fi
ROOT="$E2E_DIR/root"
cp -a "$BASE" "$ROOT"
mkdir -p "$ROOT/tmp/old" "$ROOT/tmp/new"
cp "$OLD_DIR"/*.deb "$ROOT/tmp/old/"
cp "$NEW_DIR"/*.deb "$ROOT/tmp/new/"
mount -t proc proc "$ROOT/proc" || { fail deb__mount_proc "cannot mount /proc in the test tree"; e2e_finish; }
PROC="$ROOT/proc"
T_ROOT=$(date +%s)

in_root() { chroot "$ROOT" "$@"; }
# hub_up NAME — starts the packaged hub as the lienket user, with hub.conf's database,
# on a free loopback port (the host's network: a chroot shares it); sets PORT, HUB_PID.
hub_up() {
	rm -f "$ROOT/var/lib/lienket/port"
	chroot --userspec=lienket:lienket "$ROOT" /bin/sh -c \
		'. /etc/lienket/hub.conf; test -e "$LIENKET_DB" || lienket-hub init --db "$LIENKET_DB" >/dev/null &&
		 exec lienket-hub serve --db "$LIENKET_DB" --listen 127.0.0.1:0 --port-file /var/lib/lienket/port' \
		>>"$E2E_DIR/$1.log" 2>&1 &
	HUB_PID=$!
	e2e_track $HUB_PID
	wait_file "$ROOT/var/lib/lienket/port" 100 || return 1
	PORT=$(cat "$ROOT/var/lib/lienket/port")
}
healthz() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/healthz"; }
# ls_mode PATH — mode, owner and group as the test tree names them.
ls_mode() { in_root stat -c '%a %U %G' "$1" 2>/dev/null; }

# ---- install the previous commit's packages --------------------------------------------
in_root /bin/sh -c 'dpkg -i /tmp/old/lienket-hub_*.deb /tmp/old/lienket-agent_*.deb' >"$E2E_DIR/install.log" 2>&1; rc=$?
if [ $rc = 0 ] && in_root getent passwd lienket >/dev/null && [ "$(ls_mode /etc/lienket/hub.conf)" = "640 root lienket" ] &&
	[ "$(ls_mode /var/lib/lienket)" = "750 lienket lienket" ] && [ -f "$ROOT/lib/systemd/system/lienket-hub.service" ] &&
	in_root lienket-agent --version >/dev/null; then
	ok deb__install_makes_the_user_the_folders_and_the_settings
else
	fail deb__install_makes_the_user_the_folders_and_the_settings "dpkg $rc, hub.conf '$(ls_mode /etc/lienket/hub.conf)', state '$(ls_mode /var/lib/lienket)': $(tail -5 "$E2E_DIR/install.log" | tr '\n' ' ')"
fi
if hub_up old && [ "$(healthz)" = 200 ] &&
	in_root runuser -u lienket -- lienket-hub enroll --db /var/lib/lienket/hub.db --viewer --name "Văn phòng Tỉnh" \
		>"$E2E_DIR/enroll.out" 2>&1; then
	ok deb__installed_hub_answers_healthz
else
	fail deb__installed_hub_answers_healthz "$(tail -3 "$E2E_DIR/old.log" "$E2E_DIR/enroll.out" 2>/dev/null | tr '\n' ' ')"
fi
stop "$HUB_PID"

# ---- upgrade to this tree's packages ----------------------------------------------------
echo "# edited by the operator" >>"$ROOT/etc/lienket/hub.conf"
in_root /bin/sh -c 'dpkg -i /tmp/new/lienket-hub_*.deb /tmp/new/lienket-agent_*.deb' >"$E2E_DIR/upgrade.log" 2>&1; rc=$?
got=$(in_root dpkg-query -W -f '${Version} ${Status}\n' lienket-hub 2>/dev/null)
if [ $rc = 0 ] && dpkg --compare-versions "$NEW_V" gt "$OLD_V" && [ "$got" = "$NEW_V install ok installed" ] && grep -q '^# edited by the operator' "$ROOT/etc/lienket/hub.conf" &&
	[ "$(ls_mode /etc/lienket/hub.conf)" = "640 root lienket" ]; then
	ok deb__upgrade_from_the_previous_commit_keeps_the_settings
else
	fail deb__upgrade_from_the_previous_commit_keeps_the_settings "$OLD_V -> $NEW_V: dpkg $rc, '$got': $(tail -5 "$E2E_DIR/upgrade.log" | tr '\n' ' ')"
fi
if hub_up new && [ "$(healthz)" = 200 ] &&
	in_root runuser -u lienket -- lienket-hub agents list --db /var/lib/lienket/hub.db | grep -q 'Văn phòng Tỉnh'; then
	ok deb__upgraded_hub_answers_with_its_data
else
	fail deb__upgraded_hub_answers_with_its_data "$(tail -3 "$E2E_DIR/new.log" | tr '\n' ' ')"
fi

# The digest's mail relay set up exactly as docs/operations.md says (its block after
# "1. The relay"), with a test password: the password file is one the lienket user can
# read (a file in /root is not: that is what the document said before), the relay is
# recorded with its login, and the file is gone afterwards.
awk '/^1\. The relay, once/ { on = 1 } on && /^   ```/ { if (n++) exit; next } on && n { sub(/^   /, ""); print }' \
	docs/operations.md | sed "s/'PASSWORD'/'mật khẩu thử 42'/" >"$E2E_DIR/relay.sh"
in_root /bin/sh -e <"$E2E_DIR/relay.sh" >"$E2E_DIR/relay.log" 2>&1; rc=$?
in_root runuser -u lienket -- lienket-hub mail list --db /var/lib/lienket/hub.db >"$E2E_DIR/mail-list.out" 2>&1
if [ $rc = 0 ] && grep -q 'lienket-hub mail relay' "$E2E_DIR/relay.sh" &&
	grep -q 'smtp://mail.example.vn:587' "$E2E_DIR/mail-list.out" && grep -q 'login' "$E2E_DIR/mail-list.out" &&
	[ ! -e "$ROOT/etc/lienket/relay-password" ]; then
	ok deb__digest_relay_set_up_as_documented_reads_its_password_file
else
	fail deb__digest_relay_set_up_as_documented_reads_its_password_file "rc $rc; $(tr '\n' ' ' <"$E2E_DIR/relay.log"); mail list: $(tr '\n' ' ' <"$E2E_DIR/mail-list.out"); the documented steps: $(tr '\n' ' ' <"$E2E_DIR/relay.sh")"
fi

# The units' test for a database (ExecCondition= of the digest and the backup, the
# hub's ExecStartPre): the SQLite file of hub.conf, also as sqlite:PATH, is there; another
# path is not (a run is skipped, not failed); a PostgreSQL URL counts as there.
dbx() { in_root env "LIENKET_DB=$1" /usr/libexec/lienket/lienket-db-exists; echo $?; }
got_dbx="$(dbx /var/lib/lienket/hub.db) $(dbx sqlite:/var/lib/lienket/hub.db) $(dbx /var/lib/lienket/none.db) $(dbx postgresql://lienket@127.0.0.1/lienket)"
if [ "$got_dbx" = "0 0 1 0" ] && grep -q '^ExecCondition=/usr/libexec/lienket/lienket-db-exists$' \
	"$ROOT/lib/systemd/system/lienket-digest.service" "$ROOT/lib/systemd/system/lienket-backup.service"; then
	ok deb__units_run_only_with_a_database
else
	fail deb__units_run_only_with_a_database "exits '$got_dbx' (want 0 0 1 0)"
fi

# The README's operator steps after the service's start (its first block, without apt,
# the editor and systemctl), run as written from root's home, where the operator's files
# are: the units imported and a sheet per office written by the lienket user, with the
# hub's certificate and the backup key where the documents put them.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$E2E_DIR/tls.key" -days 1 \
	-subj /CN=hub.example.vn -out "$E2E_DIR/fullchain.pem" >"$E2E_DIR/openssl.log" 2>&1
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$E2E_DIR/backup-key.pem" >>"$E2E_DIR/openssl.log" 2>&1
openssl pkey -in "$E2E_DIR/backup-key.pem" -pubout -out "$ROOT/root/backup-key.pub" >>"$E2E_DIR/openssl.log" 2>&1
mkdir -p "$ROOT/etc/lienket/tls"
cp "$E2E_DIR/fullchain.pem" "$ROOT/etc/lienket/tls/fullchain.pem"
in_root /bin/sh -c 'chgrp lienket /etc/lienket/tls/fullchain.pem && chmod 640 /etc/lienket/tls/fullchain.pem'
cp tests/fixtures/units-small.csv "$ROOT/root/units.csv"
printf 'unit,name\n22915,Văn phòng Đoàn phường Mũi Né\n' >"$ROOT/root/offices.csv"
awk '/^On Debian 12, from the packages/ { on = 1; next } on && /^```/ { if (n++) exit; next } on && n' README.md |
	grep -v -e '^apt ' -e '^editor ' -e '^systemctl ' >"$E2E_DIR/readme-steps.sh"
{ echo 'cd /root'; cat "$E2E_DIR/readme-steps.sh"; } | in_root /bin/sh -e >"$E2E_DIR/readme-steps.log" 2>&1; rc=$?
sheet=/var/lib/lienket/enroll/sheets/001-22915.html
if [ $rc = 0 ] && grep -q 'lienket-hub enroll' "$E2E_DIR/readme-steps.sh" && [ "$(ls_mode "$sheet")" = "600 lienket lienket" ] &&
	grep -q 'Văn phòng Đoàn phường Mũi Né' "$ROOT$sheet" &&
	in_root runuser -u lienket -- lienket-hub units list --db /var/lib/lienket/hub.db | grep -q 'Mũi Né'; then
	ok deb__readme_operator_steps_import_units_and_write_the_sheets
else
	fail deb__readme_operator_steps_import_units_and_write_the_sheets "rc $rc: $(tail -4 "$E2E_DIR/readme-steps.log" | tr '\n' ' '); sheet '$(ls_mode "$sheet")'; steps: $(tr '\n' ' ' <"$E2E_DIR/readme-steps.sh")"
fi

# The daily backup with retention, while the hub serves: an old backup goes, the new one stays.
: >"$ROOT/var/lib/lienket/backup/hub-20200101T000000Z.db"
touch -d '30 days ago' "$ROOT/var/lib/lienket/backup/hub-20200101T000000Z.db"
chown -R --reference="$ROOT/var/lib/lienket" "$ROOT/var/lib/lienket/backup"
chroot --userspec=lienket:lienket "$ROOT" /bin/sh -c 'set -a; . /etc/lienket/hub.conf; exec /usr/libexec/lienket/lienket-backup' \
	>"$E2E_DIR/backup.log" 2>&1; rc=$?
made=$(ls "$ROOT/var/lib/lienket/backup" | grep -c '^hub-2[0-9]*T[0-9]*Z\.db$')
if [ $rc = 0 ] && [ "$made" = 1 ] && [ ! -e "$ROOT/var/lib/lienket/backup/hub-20200101T000000Z.db" ] &&
	grep -q 'removed .*hub-20200101T000000Z.db' "$E2E_DIR/backup.log"; then
	ok deb__daily_backup_keeps_the_new_and_removes_the_old
else
	fail deb__daily_backup_keeps_the_new_and_removes_the_old "rc $rc, backups: $(ls "$ROOT/var/lib/lienket/backup" | tr '\n' ' '): $(tail -3 "$E2E_DIR/backup.log" | tr '\n' ' ')"
fi
stop "$HUB_PID"

# Every installed unit as systemd reads it, against the installed tree; the man pages
# their Documentation= names are looked for in the tree (systemd-analyze would ask the
# host's man).
units=$(cd "$ROOT/lib/systemd/system" && ls lienket-*)
nodoc=""
for page in $(sed -n 's/^Documentation=//p' "$ROOT"/lib/systemd/system/lienket-* | tr ' ' '\n' | sed -n 's/^man:\(.*\)(1)$/\1/p' | sort -u); do
	[ -f "$ROOT/usr/share/man/man1/$page.1.gz" ] || nodoc="$nodoc $page"
done
if (cd "$ROOT/lib/systemd/system" && SYSTEMD_LOG_LEVEL=notice systemd-analyze --root="$ROOT" --man=no verify $units) \
	>"$E2E_DIR/verify.log" 2>&1 && [ ! -s "$E2E_DIR/verify.log" ] && [ "$(echo $units | wc -w)" = 5 ] && [ -z "$nodoc" ]; then
	ok deb__systemd_analyze_verify_is_clean
else
	fail deb__systemd_analyze_verify_is_clean "units: $(echo $units); man pages missing:$nodoc; $(head -5 "$E2E_DIR/verify.log" | tr '\n' ' ')"
fi
# A man page for every command of both programs.
missing=""
for c in $(in_root lienket-hub --help | sed -n '/^commands:/,/^$/{s/^  \([a-z-][a-z-]*\) .*/\1/p}'); do
	[ -f "$ROOT/usr/share/man/man1/lienket-hub-$c.1.gz" ] || missing="$missing lienket-hub-$c"
done
for c in $(LC_ALL=en_US.UTF-8 in_root lienket-agent --help | sed -n 's/^  \([a-z][a-z-]*\)  *.*/\1/p'); do
	[ -f "$ROOT/usr/share/man/man1/lienket-agent-$c.1.gz" ] || missing="$missing lienket-agent-$c"
	[ -f "$ROOT/usr/share/man/vi/man1/lienket-agent-$c.1.gz" ] || missing="$missing vi/lienket-agent-$c"
done
if [ -z "$missing" ] && [ -f "$ROOT/usr/share/man/man1/lienket-hub.1.gz" ]; then
	ok deb__every_command_has_its_man_page
else
	fail deb__every_command_has_its_man_page "missing:$missing"
fi

# ---- remove, then purge ----------------------------------------------------------------
in_root dpkg -r lienket-hub lienket-agent >"$E2E_DIR/remove.log" 2>&1; rc=$?
if [ $rc = 0 ] && [ ! -e "$ROOT/usr/bin/lienket-hub" ] && [ ! -e "$ROOT/usr/bin/lienket-agent" ] &&
	[ -f "$ROOT/etc/lienket/hub.conf" ] && [ -f "$ROOT/var/lib/lienket/hub.db" ]; then
	ok deb__remove_keeps_settings_and_data
else
	fail deb__remove_keeps_settings_and_data "dpkg $rc: $(tail -3 "$E2E_DIR/remove.log" | tr '\n' ' ')"
fi
in_root dpkg -P lienket-hub lienket-agent >"$E2E_DIR/purge.log" 2>&1; rc=$?
if [ $rc = 0 ] && [ ! -e "$ROOT/etc/lienket/hub.conf" ] && [ -f "$ROOT/var/lib/lienket/hub.db" ] &&
	! in_root dpkg-query -W -f '${Status}\n' lienket-hub 2>/dev/null | grep -q installed &&
	[ ! -e "$ROOT/lib/systemd/system/lienket-hub.service" ]; then
	ok deb__purge_removes_the_settings_and_keeps_the_province_data
else
	fail deb__purge_removes_the_settings_and_keeps_the_province_data "dpkg $rc: $(tail -3 "$E2E_DIR/purge.log" | tr '\n' ' ')"
fi
umount "$PROC" && PROC=""
T1=$(date +%s)
echo "# $OLD_V -> $NEW_V; build $((T_BUILD - T0)) s, tree $((T_ROOT - T_BUILD)) s, install/upgrade/purge $((T1 - T_ROOT)) s"
e2e_finish
