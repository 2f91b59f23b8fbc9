# bench/profile_split.awk — the hub's CPU split (issue 17) from
#   perf report --no-children --stdio --sort comm,dso,sym -g none
# lines "PCT% COMM DSO [.|k] SYMBOL". Prints one line per part: share of all hub samples.
# Parts: the writer thread (lk-writer) split into the SQL engine (b-tree inserts and
# seeks, record encoding: libsqlite3 outside the log), commit/log (SQLite's log and pager
# functions and the kernel's work in the writer: pwrite of log frames, fdatasync), the
# hub's own code and libc (merge, flags, malloc, strings); the checkpointer thread; in the
# request threads: change-set decoding (jansson, or the shape-2 decoder's own lexer),
# inflate (zlib), and the rest (HTTP, auth, chains, validation, kernel networking).
function add(k, v) { part[k] += v }
$1 ~ /%$/ && NF >= 5 {
	pct = $1; sub(/%/, "", pct); pct += 0
	comm = $2; dso = $3; sym = $5
	total += pct
	if (comm == "lk-writer") {
		if (dso ~ /kallsyms/ || sym ~ /^(sqlite3Wal|wal|sqlite3Pager|pager|sqlite3OsSync|unixSync|full_fsync|unixWrite|seekAndWrite|__libc_pwrite|fdatasync)/)
			add("writer: commit and log (log frames written, fdatasync)", pct)
		else if (dso ~ /libsqlite3/)
			add("writer: SQL engine (b-tree inserts and seeks, records)", pct)
		else
			add("writer: hub code and libc (merge, flags, malloc, strings)", pct)
	} else if (comm == "lk-checkpoint") {
		add("checkpointer thread (copying the log into the database)", pct)
	} else if (dso ~ /libjansson/ || sym ~ /^(json_|lex_|parse_|skip_value|js_string|str_decode|validate_utf8|wire_v2_|too_deep|uuid_expand)/) {
		add("request threads: change-set decoding (JSON)", pct)
	} else if (dso ~ /libz/) {
		add("request threads: inflate (zlib)", pct)
	} else {
		add("request threads: the rest (HTTP, auth, chains, checks, kernel)", pct)
	}
}
END {
	if (!total) { print "no samples"; exit 1 }
	for (k in part) printf "%5.1f %%  %s\n", part[k] * 100 / total, k | "sort -k3"
}
