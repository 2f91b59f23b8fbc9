#!/bin/sh
# Writes the man pages of both programs from their own help texts, with help2man, so
# that `--help` and the man page have one source (the programs' usage tables):
#   lienket-hub(1), lienket-hub-COMMAND(1) for every command `lienket-hub --help` lists;
#   lienket-agent(1), lienket-agent-COMMAND(1) for every command `lienket-agent --help`
#   lists, in English (man1) and Vietnamese (vi/man1), as the agent speaks both.
#   scripts/manpages.sh BUILD_DIR OUT_DIR
# Used by debian/rules (`make deb`); needs help2man (scripts/deps.sh deb).
set -eu
bin=$1 out=$2
mkdir -p "$out" "$out/vi"
ver=$("$bin/lienket-hub" --version | awk '{ print $2 }')
# help2man's date: the source's, so that a rebuild gives the same page.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
# help2man (perl) reads the programs' UTF-8 in a UTF-8 locale that every Debian has;
# the agent's language is chosen by a wrapper named like it (the name help2man shows).
h2m() { LC_ALL=C.UTF-8 help2man --locale=C.UTF-8 --no-info --no-discard-stderr --version-string="$ver" "$@"; }
# set_name FILE PAGE SUMMARY — the page's title and NAME line (help2man would re-encode
# a non-ASCII --name; the programs' own text is kept as it is).
set_name() {
	upper=$(printf '%s' "$2" | tr a-z A-Z)
	awk -v page="$2" -v up="$upper" -v sum="$3" '
		/^\.TH / { sub(/^\.TH [^ ]+ /, ".TH " up " ") }
		named == 1 { gsub(/\\/, "\\e", sum); gsub(/-/, "\\-", sum); print page " \\- " sum; named = 2; next }
		/^\.SH NAME/ { named = 1 }
		{ print }' "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT
mkdir "$wrap/en" "$wrap/vi"
for lang in en vi; do
	case $lang in en) loc=en_US.UTF-8 ;; vi) loc=vi_VN.UTF-8 ;; esac
	printf '#!/bin/sh\nLC_ALL=%s exec "%s" "$@"\n' "$loc" "$bin/lienket-agent" >"$wrap/$lang/lienket-agent"
	chmod +x "$wrap/$lang/lienket-agent"
done

# The hub: its --help lists "  NAME  summary" under "commands:".
cmds=$("$bin/lienket-hub" --help | sed -n '/^commands:/,/^$/{s/^  \([a-z-][a-z-]*\) .*/\1/p}')
[ -n "$cmds" ] || { echo "manpages.sh: lienket-hub --help lists no command" >&2; exit 1; }
h2m --help-option=--help -o "$out/lienket-hub.1" "$bin/lienket-hub"
set_name "$out/lienket-hub.1" lienket-hub "the province hub of Liên Kết"
for c in $cmds; do
	summary=$("$bin/lienket-hub" --help | sed -n "s/^  $c  *//p")
	h2m --help-option="$c --help" -o "$out/lienket-hub-$c.1" "$bin/lienket-hub"
	set_name "$out/lienket-hub-$c.1" "lienket-hub-$c" "$summary"
done

# The agent: "  NAME  summary" lines between its header and footer; English and Vietnamese.
for lang in en vi; do
	case $lang in en) dir=$out ;; vi) dir=$out/vi ;; esac
	agent=$wrap/$lang/lienket-agent
	acmds=$("$agent" --help | sed -n 's/^  \([a-z][a-z-]*\)  *.*/\1/p')
	[ -n "$acmds" ] || { echo "manpages.sh: lienket-agent --help lists no command" >&2; exit 1; }
	h2m --help-option=--help -o "$dir/lienket-agent.1" "$agent"
	set_name "$dir/lienket-agent.1" lienket-agent "$("$agent" --help | head -n 1 | sed "s/^lienket-agent — //")"
	for c in $acmds; do
		summary=$("$agent" --help | sed -n "s/^  $c  *//p")
		h2m --help-option="help $c" -o "$dir/lienket-agent-$c.1" "$agent"
		set_name "$dir/lienket-agent-$c.1" "lienket-agent-$c" "$summary"
	done
done
