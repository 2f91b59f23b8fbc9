#!/bin/sh
# Installs the Debian 12 packages Liên Kết needs, when they are missing.
#   scripts/deps.sh --check-or-install [build|test|demo|browser|fuzz|valgrind|lint|deb|win]
#   scripts/deps.sh --list [WHAT]       prints the packages WHAT needs, one a line
# As root it runs apt-get; otherwise it prints the exact command to run and fails.
#
# Every program a script of this repository calls comes from a package listed here or
# from Debian's required set (what `debootstrap --variant=minbase` installs);
# tests/e2e/setup.sh checks that. What each addition is for:
#   time      /usr/bin/time -v, the agent's peak memory (bench/run.sh figure 5, run by
#             `make test` through bench_smoke)
#   openssl   throw-away certificates for the HTTPS cases (hub_http, dashboard)
#   chromium  the dashboard's browser cases
#   clang, libclang-rt-14-dev   libFuzzer targets (fuzz_smoke, `make fuzz`)
#   python3   small protocol clients and checks in tests/e2e
#   curl      HTTP from the tests and from the demo
#   libargon2-dev      argon2id hashes of viewer account passwords (hub/access/viewer.c)
#   libxlsxwriter-dev  the report as .xlsx (hub/views/xlsx.c)
#   python3-aiosmtpd   a real SMTP server on loopback for `digest --mail` (e2e/digestmail)
#   python3-openpyxl   reads the .xlsx back to compare with the JSON report (e2e/xlsx)
#   python3-selenium, chromium-driver   the browser tests click, measure and print
#             pages through them (tests/e2e/browser.py: dashboard_views; the demo's
#             phone screenshot; tests/e2e/app_browser.py: the office app)
#   libnss-myhostname  "localhost" resolves without /etc/hosts (a minimal debootstrap
#             tree has none): chromedriver reaches the browser's DevTools at localhost, and
#             fails with "unable to connect to renderer" when the name does not resolve
#   libutf8proc-dev  NFC for every stored text and the diacritic-free search key
#             (protocol/textnorm.c)
#   deb set (make deb, make test-deb): debhelper and dpkg-dev build the packages,
#             help2man writes the man pages from the programs' --help, lintian checks
#             the packages, fakeroot is what dpkg-buildpackage uses for root-owned files,
#             debootstrap makes the fresh Debian 12 the packages are installed in,
#             systemd gives systemd-analyze (the units are verified), curl asks /healthz,
#             git names the commit a package is built from (its version, the previous one)
#             openssl makes the certificate and keys the README's enrolment steps use
#   gcc-mingw-w64-x86-64, cmake, tcl, dpkg-dev   the Windows agent (`make win`): the
#             cross compiler; cmake builds jansson and cmocka, tclsh makes SQLite's
#             amalgamation, dpkg-source unpacks the Debian source packages
#             (scripts/build-win-deps.sh; the deb-src entry is added below)
#   wine64    runs the Windows agent and its unit tests (tests/e2e/windows.sh)
#   nsis      makensis, the Windows installer (installer/lienket.nsi)
#   libpq-dev the hub's PostgreSQL back end (hub/store/store_pg*.c links libpq): every
#             build of the hub, so in the build set (make demo builds the hub too)
#   postgresql-15  the throw-away server the tests start (scripts/pg-test-server.sh);
#             installed WITHOUT a system cluster: create_main_cluster = false is written
#             into /etc/postgresql-common/createcluster.conf first (below)
set -eu
mode=${1:---check-or-install}
what=${2:-build}
pkgs="build-essential make pkg-config libsqlite3-dev libcurl4-openssl-dev zlib1g-dev \
libjansson-dev libmicrohttpd-dev libssl-dev libpq-dev sqlite3 libqrencode-dev \
libutf8proc-dev libargon2-dev libxlsxwriter-dev"
win="gcc-mingw-w64-x86-64 cmake tcl dpkg-dev wine64 nsis"
case "$what" in
  build)    ;;
  test)     pkgs="$pkgs libcmocka-dev curl python3 time openssl chromium clang libclang-rt-14-dev \
python3-aiosmtpd python3-openpyxl postgresql-15 $win" ;;
  win)      pkgs="$pkgs $win" ;;
  demo)     pkgs="$pkgs curl" ;;
  browser)  pkgs="$pkgs chromium" ;;
  fuzz)     pkgs="$pkgs clang libclang-rt-14-dev" ;;
  valgrind) pkgs="$pkgs libcmocka-dev curl python3 valgrind" ;;
  lint)     pkgs="$pkgs cppcheck clang-tidy" ;;
  deb)      pkgs="$pkgs debhelper dpkg-dev help2man lintian fakeroot debootstrap systemd curl git openssl" ;;
  *) echo "deps.sh: unknown set '$what' (build, test, demo, browser, fuzz, valgrind, lint, deb, win)" >&2; exit 64 ;;
esac
case "$what" in
  test|browser) pkgs="$pkgs python3-selenium chromium-driver libnss-myhostname" ;;
  demo) pkgs="$pkgs python3" ;;
esac
case "$mode" in
  --list) printf '%s\n' $pkgs; exit 0 ;;
  --check-or-install) ;;
  *) echo "usage: deps.sh --check-or-install|--list [SET]" >&2; exit 64 ;;
esac
# The Windows libraries are built from Debian's source packages (`apt-get source`), which
# need a deb-src entry; a fresh Debian 12 has only deb entries. Added once, as a file of
# its own, mirroring the deb entries' archive.
src_list=/etc/apt/sources.list.d/lienket-src.sources
need_src=0
case " $pkgs " in *" gcc-mingw-w64-x86-64 "*)
  grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/ || need_src=1 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && [ "$need_src" = 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  if [ "$need_src" = 1 ]; then
    echo "adding Debian's source packages to apt ($src_list)" >&2
    cat >"$src_list" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  # PostgreSQL's packages make and start a system cluster ("main", port 5432) unless told
  # not to; the tests start servers of their own. The setting is written before the
  # packages are installed (postgresql-common's ucf keeps a local file: UCF_FORCE_CONFFOLD),
  # other settings of an existing file kept.
  case " $missing " in *" postgresql-"*)
    cc=/etc/postgresql-common/createcluster.conf
    mkdir -p "${cc%/*}"
    if grep -qs '^[#[:space:]]*create_main_cluster[[:space:]]*=' "$cc"; then
      sed -i 's/^[#[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' "$cc"
    else
      echo "create_main_cluster = false" >>"$cc"
    fi
    export UCF_FORCE_CONFFOLD=1 ;;
  esac
  echo "installing missing Debian packages:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  [ -z "$missing" ] || apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  [ "$need_src" = 0 ] || echo "missing: a deb-src entry for Debian 12 in $src_list" >&2
  echo "missing Debian packages:$missing" >&2
  echo "run as root:  apt-get install -y$missing" >&2
  exit 1
fi
