#!/bin/sh
# Installs the Debian 12 packages Liên Kết needs, when they are missing.
#   scripts/deps.sh --check-or-install [build|test|demo|browser]
# As root it runs apt-get; otherwise it prints the exact command to run and fails.
set -eu
what=${2:-build}
pkgs="build-essential pkg-config libsqlite3-dev libcurl4-openssl-dev zlib1g-dev \
libjansson-dev libmicrohttpd-dev libssl-dev sqlite3"
case "$what" in
  test)    pkgs="$pkgs libcmocka-dev curl python3 chromium clang libclang-rt-14-dev faketime" ;;
  demo)    pkgs="$pkgs curl faketime" ;;
  browser) pkgs="$pkgs chromium" ;;
  fuzz)    pkgs="$pkgs clang libclang-rt-14-dev" ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "installing missing Debian packages:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "missing Debian packages:$missing" >&2
  echo "run as root:  apt-get install -y$missing" >&2
  exit 1
fi
