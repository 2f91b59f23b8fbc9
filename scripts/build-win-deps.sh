#!/bin/sh
# Builds the Windows (x86_64, mingw-w64) static libraries lienket-agent.exe and its unit
# tests link: SQLite, zlib, jansson, libcurl (Schannel: Windows' own TLS and certificate
# store, no OpenSSL), libmicrohttpd (the office app's loopback server) and cmocka.
#
#   scripts/build-win-deps.sh          builds what is missing, prints the prefix
#   scripts/build-win-deps.sh --prefix prints the prefix only (no build)
#
# Every library comes from Debian's own source package at the version pinned below
# (`apt-get source`, Debian's patches applied; scripts/deps.sh adds the deb-src entry a
# fresh machine lacks). Nothing is downloaded from anywhere else.
#
# The result is cached outside the work tree, so a clean clone, a second worktree and CI
# (which keeps ~/.cache/lienket) rebuild only the project:
#   ${LIENKET_CACHE:-~/.cache/lienket}/mingw-lib/<package>_<version>-<RECIPE>/
#       one library, keyed by its pinned version (a new library or a new version
#       builds only that one)
#   ${LIENKET_CACHE:-~/.cache/lienket}/mingw-<RECIPE>-<versions>/{include,lib}
#       the prefix the build uses: every library of this set of versions, copied
#       together from the folders above
# Each is built in a temporary folder renamed into place when complete, so an
# interrupted build leaves nothing half-filled; a lock makes a second concurrent build
# wait for the first instead of repeating it.
#
# Cost (2 cores shared with other jobs, measured): about 10 minutes cold, most of it
# curl; nothing when cached (docs/windows.md).
set -eu

# Debian 12 source versions. Change a version or the recipe: the prefix changes with it.
RECIPE=r1
SQLITE=3.40.1-2+deb12u2
ZLIB=1:1.2.13.dfsg-1
JANSSON=2.14-2
CURL=7.88.1-10+deb12u15
MHD=0.9.75-6
CMOCKA=1.1.5-2.1
UTF8PROC=2.8.0-1

HOST=x86_64-w64-mingw32
CACHE=${LIENKET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lienket}
KEY="$RECIPE-sqlite3_$SQLITE-zlib_${ZLIB#*:}-jansson_$JANSSON-curl_$CURL-mhd_$MHD-cmocka_$CMOCKA-utf8proc_$UTF8PROC"
PREFIX="$CACHE/mingw-$KEY"

if [ "${1:-}" = "--prefix" ]; then
	echo "$PREFIX"
	exit 0
fi
[ -f "$PREFIX/.complete" ] && { echo "$PREFIX"; exit 0; }

for tool in $HOST-gcc $HOST-ar dpkg-source cmake tclsh make; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "build-win-deps: '$tool' missing: run scripts/deps.sh --check-or-install win" >&2
		exit 1
	}
done

mkdir -p "$CACHE/mingw-lib"
exec 9>"$CACHE/.mingw.lock"
flock 9
if [ -f "$PREFIX/.complete" ]; then # built by another process while we waited
	echo "$PREFIX"
	exit 0
fi

JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
t0=$(date +%s)
work=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
log="$work/build.log"
say() { echo "build-win-deps: $*" >&2; }
# run CMD... — runs a step with its output in the log; on failure shows the log's end.
run() {
	if ! "$@" >>"$log" 2>&1; then
		say "failed: $*"
		tail -40 "$log" >&2
		exit 1
	fi
}

# fetch PACKAGE VERSION — unpacks Debian's source package (patches applied) into
# $work/src and prints the directory.
fetch() {
	mkdir -p "$work/src"
	(cd "$work/src" && run apt-get source -qq "$1=$2") || {
		say "cannot fetch source '$1=$2' (deb-src entry missing? scripts/deps.sh adds it)"
		exit 1
	}
	v=${2#*:}
	echo "$work/src/$1-${v%-*}"
}

# libdir PACKAGE VERSION — the cache folder of one library.
libdir() { v=${2#*:}; echo "$CACHE/mingw-lib/$1_$v-$RECIPE"; }

# build PACKAGE VERSION — builds one library with build_PACKAGE (below) into its cache
# folder, unless it is there. build_PACKAGE gets the unpacked source as $1 and installs
# into $stage/{include,lib}.
build() {
	dir=$(libdir "$1" "$2")
	[ -f "$dir/.complete" ] && return 0
	say "$1 $2"
	stage="$work/stage-$1"
	mkdir -p "$stage/include" "$stage/lib"
	src=$(fetch "$1" "$2")
	"build_$(echo "$1" | tr - _)" "$src"
	rm -rf "$stage/bin" "$stage/share" "$stage/lib/pkgconfig" "$stage/lib/cmake" "$stage/lib"/*.la
	touch "$stage/.complete"
	rm -rf "$dir"
	mv "$stage" "$dir"
}

CROSS_CFLAGS="-O2 -g0"
export CFLAGS="$CROSS_CFLAGS"
CMAKE_WIN="-DCMAKE_SYSTEM_NAME=Windows -DCMAKE_C_COMPILER=$HOST-gcc -DCMAKE_RC_COMPILER=$HOST-windres -DCMAKE_BUILD_TYPE=Release"

build_zlib() {
	(cd "$1" && CHOST=$HOST CC=$HOST-gcc AR=$HOST-ar RANLIB=$HOST-ranlib \
		run ./configure --static --prefix="$stage" && run make -j"$JOBS" libz.a &&
		cp libz.a "$stage/lib/" && cp zlib.h zconf.h "$stage/include/")
}

# The source tree makes its amalgamation with host tools (lemon, tclsh); the
# amalgamation is then compiled for Windows with the options Debian builds with
# (debian/rules) that matter to a static library.
build_sqlite3() {
	(cd "$1" && mkdir -p bld && cd bld && CFLAGS= run ../configure --disable-tcl --disable-readline &&
		run make sqlite3.c &&
		run $HOST-gcc $CROSS_CFLAGS -DSQLITE_THREADSAFE=1 -DSQLITE_SECURE_DELETE \
			-DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_ENABLE_JSON1 -DSQLITE_ENABLE_FTS3 \
			-DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_RTREE=1 -DSQLITE_SOUNDEX=1 \
			-DSQLITE_ENABLE_UNLOCK_NOTIFY -DSQLITE_ENABLE_DBSTAT_VTAB \
			-DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_USE_URI=1 -DSQLITE_MAX_SCHEMA_RETRY=25 \
			-DSQLITE_OMIT_LOAD_EXTENSION -c sqlite3.c -o sqlite3.o &&
		run $HOST-ar rcs "$stage/lib/libsqlite3.a" sqlite3.o && cp sqlite3.h "$stage/include/")
}

build_jansson() {
	(cd "$1" && mkdir -p bld && cd bld &&
		run cmake .. $CMAKE_WIN -DCMAKE_INSTALL_PREFIX="$stage" -DJANSSON_BUILD_SHARED_LIBS=OFF \
			-DJANSSON_EXAMPLES=OFF -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_BUILD_DOCS=OFF &&
		run make -j"$JOBS" install)
}

build_cmocka() {
	(cd "$1" && mkdir -p bld && cd bld &&
		run cmake .. $CMAKE_WIN -DCMAKE_INSTALL_PREFIX="$stage" -DWITH_STATIC_LIB=ON \
			-DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF &&
		run make -j"$JOBS" install &&
		mv "$stage/lib/libcmocka-static.a" "$stage/lib/libcmocka.a" &&
		rm -f "$stage/lib/libcmocka.dll.a") # static only: -lcmocka must not find the DLL's
}

# No HTTPS: the office app's server listens on loopback only (docs/app-api.md).
build_libmicrohttpd() {
	(cd "$1" && run ./configure --host=$HOST --prefix="$stage" --disable-shared --enable-static \
			--disable-https --without-gnutls --disable-doc --disable-examples --disable-curl \
			--disable-nls --disable-tools &&
		run make -C src/microhttpd -j"$JOBS" install && run make -C src/include install)
}

# Schannel: TLS and certificate checks by Windows itself (its certificate store, and
# its updates), no OpenSSL to ship and patch. HTTP(S) only: the agent speaks nothing else.
build_curl() {
	z=$(libdir zlib "$ZLIB")
	(cd "$1" && run ./configure --host=$HOST --prefix="$stage" --disable-shared --enable-static \
			--with-schannel --with-zlib="$z" --without-brotli --without-zstd \
			--without-libpsl --without-libidn2 --without-nghttp2 --without-ngtcp2 \
			--without-nghttp3 --without-libssh2 --without-librtmp --disable-ldap \
			--disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp \
			--disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher \
			--disable-mqtt --disable-ftp --disable-file --disable-manual --disable-docs \
			--enable-ipv6 &&
		run make -C lib -j"$JOBS" install && run make -C include install)
}

# One C file (its tables included); consumers define UTF8PROC_STATIC (win.mk).
build_utf8proc() {
	(cd "$1" && run $HOST-gcc $CROSS_CFLAGS -std=c99 -DUTF8PROC_STATIC -c utf8proc.c -o utf8proc.o &&
		run $HOST-ar rcs "$stage/lib/libutf8proc.a" utf8proc.o && cp utf8proc.h "$stage/include/")
}

build zlib "$ZLIB"
build sqlite3 "$SQLITE"
build jansson "$JANSSON"
build cmocka "$CMOCKA"
build libmicrohttpd "$MHD"
build curl "$CURL"
build utf8proc "$UTF8PROC"

# The prefix of this set: every library's files together.
stage="$work/prefix"
mkdir -p "$stage/include" "$stage/lib"
for pv in "zlib $ZLIB" "sqlite3 $SQLITE" "jansson $JANSSON" "cmocka $CMOCKA" \
	"libmicrohttpd $MHD" "curl $CURL" "utf8proc $UTF8PROC"; do
	# shellcheck disable=SC2086
	d=$(libdir $pv)
	cp -R "$d/include/." "$stage/include/"
	cp -R "$d/lib/." "$stage/lib/"
done
secs=$(( $(date +%s) - t0 ))
{
	echo "assembled $(date -u +%FT%TZ) by scripts/build-win-deps.sh (${secs}s)"
	echo "sqlite3 $SQLITE"; echo "zlib $ZLIB"; echo "jansson $JANSSON"
	echo "curl $CURL (schannel)"; echo "libmicrohttpd $MHD"; echo "cmocka $CMOCKA"
	echo "utf8proc $UTF8PROC"
} >"$stage/VERSIONS"
touch "$stage/.complete"
rm -rf "$PREFIX"
mv "$stage" "$PREFIX"
say "done in ${secs}s: $PREFIX"
echo "$PREFIX"
