/*
 * commands_sync.c — `sync`, `daemon`, `status` and `recover` (commands.h).
 *
 * Each command parses its own options, opens the store, builds the transport from
 * lk_config (hub_url, token, ca_file) and calls the sync engine; what the office reads
 * comes from msg(), logs stay English on stderr. The daemon's waiting and signals live
 * behind daemon_posix.h.
 * Owns: per command, the store and the transport it opened.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "daemon_posix.h"
#include "journal.h"
#include "msg.h"
#include "plat.h"
#include "store.h"
#include "sync.h"
#include "textsafe.h"
#include "transport.h"

/* Daemon defaults and bounds. */
#define DAEMON_DEFAULT_INTERVAL_MIN 15
#define DAEMON_DEFAULT_PROBE_SEC 60
#define DAEMON_MAX_INTERVAL_MIN (24 * 60)  /* a day */
#define DAEMON_MIN_PROBE_SEC 5             /* no hammering the hub */
#define DAEMON_RECONNECT_DELAY_MS 3000     /* "soon after": let the link settle */
/* status lists at most this many skipped entries and quarantined changes */
#define STATUS_LIST_MAX 20

struct common_opts {
	const char *db;
	int quiet, json, force;
	int verbose; /* --verbose: the engine's English log lines (curl errors, HTTP lines) */
	long interval_min, probe_sec;
	long app_port; /* daemon --app-port N: serve the office app too; -1 not */
	int help;
};

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (!s[0] || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Parses the options a command allows ("dqjfip" letters). 0 or EXIT_USAGE. */
static int parse_opts(int argc, char **argv, const char *allowed, struct common_opts *o)
{
	memset(o, 0, sizeof *o);
	o->interval_min = DAEMON_DEFAULT_INTERVAL_MIN;
	o->probe_sec = DAEMON_DEFAULT_PROBE_SEC;
	o->app_port = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = 1;
		} else if (strchr(allowed, 'd') && strcmp(a, "--db") == 0 && i + 1 < argc) {
			o->db = argv[++i];
		} else if (strchr(allowed, 'd') && strncmp(a, "--db=", 5) == 0) {
			o->db = a + 5;
		} else if (strchr(allowed, 'q') && strcmp(a, "--quiet") == 0) {
			o->quiet = 1;
		} else if (strchr(allowed, 'v') && strcmp(a, "--verbose") == 0) {
			o->verbose = 1;
		} else if (strchr(allowed, 'j') && strcmp(a, "--json") == 0) {
			o->json = 1;
		} else if (strchr(allowed, 'f') && strcmp(a, "--force") == 0) {
			o->force = 1;
		} else if (strchr(allowed, 'i') && strcmp(a, "--interval-min") == 0 && i + 1 < argc) {
			if (parse_long(argv[++i], 1, DAEMON_MAX_INTERVAL_MIN, &o->interval_min) != 0)
				goto bad;
		} else if (strchr(allowed, 'a') && strcmp(a, "--app-port") == 0 && i + 1 < argc) {
			if (parse_long(argv[++i], 0, 65535, &o->app_port) != 0)
				goto bad;
		} else if (strchr(allowed, 'p') && strcmp(a, "--probe-sec") == 0 && i + 1 < argc) {
			if (parse_long(argv[++i], DAEMON_MIN_PROBE_SEC, 24L * 3600, &o->probe_sec) != 0)
				goto bad;
		} else {
			goto bad;
		}
		continue;
	bad:
		fprintf(stderr, "lienket-agent %s: bad option '%s'\n", argv[0], a);
		return EXIT_USAGE;
	}
	if (!o->db)
		o->db = store_default_path();
	return 0;
}

static int open_store(const char *path, struct store **s)
{
	char err[256] = "";
	if (store_open(path, s, err, sizeof err) != 0) {
		msg_say(stderr, MSG_SYNC_NO_DB, path, err);
		return EXIT_NOINPUT;
	}
	return 0;
}

/* Bytes of a CA file looked at for a certificate: a bundle of every CA fits. */
#define CA_FILE_PEEK_BYTES (1 << 20)

/* 1 when path can be read and holds a PEM certificate (what curl's CAINFO takes). */
static int ca_file_usable(const char *path)
{
	static const char marker[] = "-----BEGIN CERTIFICATE-----";
	FILE *f = plat_fopen(path, "rb");
	if (!f)
		return 0;
	char *buf = malloc(CA_FILE_PEEK_BYTES + 1);
	size_t n = buf ? fread(buf, 1, CA_FILE_PEEK_BYTES, f) : 0;
	fclose(f);
	if (!buf)
		return 1; /* cannot tell: let the TLS library decide */
	buf[n] = '\0';
	int ok = n >= sizeof marker - 1 && strstr(buf, marker) != NULL;
	free(buf);
	return ok;
}

/* The transport from lk_config. 0, or an exit code after telling the office. */
static int open_transport(struct store *s, int quiet, struct transport **t)
{
	char *url = NULL, *token = NULL, *ca = NULL, *pins = NULL, err[256] = "";
	int rc = EXIT_SOFTWARE;
	if (store_config_get(s, "hub_url", &url) < 0 || store_config_get(s, "token", &token) < 0 ||
	    store_config_get(s, "ca_file", &ca) < 0 || store_config_get(s, "pinned_keys", &pins) < 0) {
		msg_say(stderr, MSG_SYNC_INTERNAL, "cannot read configuration");
		goto out;
	}
	if (!url || !*url || !token || !*token) {
		if (!quiet)
			fprintf(stderr, "%s\n", msg(MSG_SYNC_NOT_CONFIGURED));
		rc = EXIT_CONFIG;
		goto out;
	}
	if (ca && *ca && !ca_file_usable(ca)) {
		/* a set-up error whatever the network does: say so before trying */
		fprintf(stderr, "%s\n", msg(MSG_SYNC_CA_FILE));
		if (store_config_set(s, "last_error", "ca_file") != 0 ||
		    store_config_set(s, "last_error_detail", "CA file missing, unreadable or not PEM") != 0)
			fprintf(stderr, "lienket-agent: cannot record the error: %s\n", sqlite3_errmsg(store_db(s)));
		rc = EXIT_CONFIG;
		goto out;
	}
	if (transport_curl_new_pinned(url, token, ca, pins, t, err, sizeof err) != 0) {
		msg_say(stderr, MSG_SYNC_BAD_URL, err);
		rc = EXIT_CONFIG;
		goto out;
	}
	rc = 0;
out:
	free(url);
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	free(ca);
	free(pins);
	return rc;
}

/* The office's words for a last_error code: the agent's own codes here, the hub's
 * codes (PROTOCOL.md §7) through msg_code(). */
/* Room for one value shown by `status`: ids, table and field names, codes, the hub's
 * address; longer ones are cut (they are never that long from an honest hub). */
#define TERM_TEXT_MAX 512

/* s (from the database, the configuration or the hub: NULL as "") with its control
 * characters escaped for the terminal (textsafe.h); returns buf. */
static const char *term(char buf[TERM_TEXT_MAX], const char *s)
{
	return textsafe_term(buf, TERM_TEXT_MAX, s ? s : "");
}

static const char *error_text_lang(const char *code, int english)
{
	static const struct {
		const char *code;
		enum msg_id id;
	} local[] = {
		{ "unreachable", MSG_SYNC_UNREACHABLE },
		{ "tls", MSG_SYNC_TLS },
		{ "bad_url", MSG_ERRTEXT_BAD_URL },
		{ "redirect", MSG_ERRTEXT_BAD_ANSWER },
		{ "answer_too_large", MSG_ERRTEXT_BAD_ANSWER },
		{ "bad_answer", MSG_ERRTEXT_BAD_ANSWER },
		{ "local_error", MSG_ERRTEXT_LOCAL },
		{ "cancelled", MSG_ERRTEXT_CANCELLED },
		{ "fork", MSG_SYNC_FORK },
		{ "hub_behind", MSG_ERRTEXT_HUB_BEHIND },
		{ "sync_running", MSG_ERRTEXT_SYNC_RUNNING },
		{ "schema_newer", MSG_SYNC_SCHEMA_NEWER },
		{ "not_configured", MSG_SYNC_NOT_CONFIGURED },
		{ "ca_file", MSG_SYNC_CA_FILE },
	};
	if (!code)
		return msg_code_lang("", english);
	for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
		if (strcmp(local[i].code, code) == 0)
			return msg_lang(local[i].id, english);
	if (strncmp(code, "http_", 5) == 0)
		return msg_lang(MSG_ERRTEXT_BAD_ANSWER, english);
	return msg_code_lang(code, english);
}

static const char *error_text(const char *code)
{
	return error_text_lang(code, msg_english());
}

/* What the office reads after a sync (stdout for success, stderr for trouble). */
static void tell_office(int rc, const struct sync_result *r, int quiet)
{
	if (quiet && (rc == EXIT_OK || rc == EXIT_TEMPFAIL))
		return;
	switch (rc) {
	case EXIT_OK:
	case EXIT_DATAERR:
		msg_say(stdout, MSG_SYNC_SUMMARY, (unsigned long long)r->pushed, (unsigned long long)r->pulled);
		if (r->skipped) {
			msg_say(stdout, MSG_SYNC_SKIPPED, (unsigned long long)r->skipped);
		}
		if (rc == EXIT_DATAERR) {
			msg_say(stdout, MSG_SYNC_QUARANTINED, (unsigned long long)r->quarantined);
		}
		if (r->dropped)
			msg_say(stdout, MSG_SYNC_DROPPED, (unsigned long long)r->dropped);
		if (r->lost)
			msg_say(stdout, MSG_SYNC_LOST, (unsigned long long)r->lost);
		if (r->repaired > 0)
			printf("%s\n", msg(MSG_SYNC_CHECKSUM_REPAIRED));
		else if (r->repaired < 0)
			printf("%s\n", msg(MSG_SYNC_CHECKSUM_STILL_DIFFER));
		else if (r->checksums == 0)
			printf("%s\n", msg(MSG_SYNC_CHECKSUM_DIFFER));
		if (rc == EXIT_OK)
			printf("%s\n", msg(MSG_SYNC_OK));
		break;
	case EXIT_TEMPFAIL:
		if (strcmp(r->error, "held_full") == 0)
			fprintf(stderr, "%s\n", msg_code("held_full"));
		else if (strcmp(r->error, "sync_running") == 0)
			msg_say(stderr, MSG_SYNC_RUNNING, r->lock_holder);
		else
			fprintf(stderr, "%s\n",
				msg(strcmp(r->error, "tls") == 0 ? MSG_SYNC_TLS : MSG_SYNC_UNREACHABLE));
		break;
	case EXIT_NOPERM:
		fprintf(stderr, "%s\n", msg(MSG_SYNC_NOPERM));
		break;
	case EXIT_CONFIG:
		if (strcmp(r->error, "ca_file") == 0)
			fprintf(stderr, "%s\n", msg(MSG_SYNC_CA_FILE));
		else
			fprintf(stderr, "%s\n", msg(MSG_ERRTEXT_BAD_URL));
		break;
	case EXIT_PROTOCOL:
		if (strcmp(r->error, "fork") == 0)
			fprintf(stderr, "%s\n", msg(MSG_SYNC_FORK));
		else if (strcmp(r->error, "agent_retired") == 0)
			fprintf(stderr, "%s\n", msg(MSG_SYNC_RETIRED));
		else if (strcmp(r->error, "schema_newer") == 0)
			fprintf(stderr, "%s\n", msg(MSG_SYNC_SCHEMA_NEWER));
		else {
			/* the code itself helps the technician; the text helps the office */
			const char *text = error_text(r->error);
			msg_say(stderr, MSG_SYNC_PROTOCOL, r->error);
			if (text != msg_code(""))
				fprintf(stderr, "%s\n", text);
		}
		break;
	default:
		msg_say(stderr, MSG_SYNC_INTERNAL, r->detail);
		break;
	}
}

/* Progress on a terminal: one line rewritten in place. */
static void show_progress(const struct sync_progress *p, void *ctx)
{
	(void)ctx;
	if (p->pulling)
		fprintf(stderr, msg(MSG_SYNC_PROGRESS_PULL), (unsigned long long)p->pulled_rows);
	else
		fprintf(stderr, msg(MSG_SYNC_PROGRESS_PUSH), (unsigned long long)p->done_entries,
			(unsigned long long)p->total_entries,
			(unsigned long long)(p->done_bytes / 1024),
			(unsigned long long)(p->total_bytes / 1024), p->bytes_per_s / 1024.0);
	fputs("\033[K\r", stderr);
	fflush(stderr);
}

/* The engine's options for a command: its English log lines (curl's errors, HTTP
 * status lines) only with --verbose; the office reads tell_office's Vietnamese. */
static void sync_options_for(struct sync_options *so, int quiet, int verbose)
{
	memset(so, 0, sizeof *so);
	so->quiet = quiet || !verbose;
	if (!quiet && plat_isatty(stderr))
		so->progress = show_progress;
}

int cmd_sync(int argc, char **argv)
{
	struct common_opts o;
	struct store *s = NULL;
	struct transport *t = NULL;
	struct sync_result r;
	int rc = parse_opts(argc, argv, "dqv", &o);
	if (rc)
		return rc;
	if (o.help) {
		fputs(msg(MSG_USAGE_SYNC), stdout);
		return EXIT_OK;
	}
	rc = open_store(o.db, &s);
	if (rc)
		goto out;
	rc = open_transport(s, o.quiet, &t);
	if (rc)
		goto out;
	struct sync_options so;
	sync_options_for(&so, o.quiet, o.verbose);
	rc = sync_run(s, t, &so, &r);
	if (so.progress)
		fputc('\n', stderr);
	tell_office(rc, &r, o.quiet);
out:
	transport_free(t);
	store_close(s);
	return rc;
}

int cmd_recover(int argc, char **argv)
{
	struct common_opts o;
	struct store *s = NULL;
	struct transport *t = NULL;
	struct sync_result r;
	char *last_error = NULL;
	uint64_t pending = 0;
	int rc = parse_opts(argc, argv, "dqfv", &o);
	if (rc)
		return rc;
	if (o.help) {
		fputs(msg(MSG_USAGE_RECOVER), stdout);
		return EXIT_OK;
	}
	rc = open_store(o.db, &s);
	if (rc)
		goto out;
	if (store_config_get(s, "last_error", &last_error) < 0) {
		rc = EXIT_SOFTWARE;
		goto out;
	}
	if (!o.force && !(last_error && (strcmp(last_error, "fork") == 0 ||
					 strcmp(last_error, "hub_behind") == 0 ||
					 strcmp(last_error, "agent_retired") == 0))) {
		fprintf(stderr, "%s\n", msg(MSG_RECOVER_NOT_NEEDED));
		rc = EXIT_USAGE;
		goto out;
	}
	rc = open_transport(s, o.quiet, &t);
	if (rc)
		goto out;
	struct sync_options so;
	sync_options_for(&so, o.quiet, o.verbose);
	rc = sync_recover(s, t, &so, &r);
	if (so.progress)
		fputc('\n', stderr);
	if (r.recovered && (strcmp(r.error, "local_error") != 0 || rc == EXIT_OK)) {
		/* the entries under the new id, numbered from 1: those journaled again */
		if (journal_last_seq(s, &pending) != 0)
			pending = 0;
		msg_say(stdout, MSG_RECOVER_DONE, store_agent_id(s), (unsigned long long)pending);
	} else if (!r.recovered && (rc == EXIT_OK || rc == EXIT_DATAERR)) {
		msg_say(stdout, MSG_RECOVER_NO_FORK);
	}
	tell_office(rc, &r, o.quiet);
out:
	free(last_error);
	transport_free(t);
	store_close(s);
	return rc;
}

/* ---- daemon ---- */

/* delay ± 25 % */
static int64_t jitter(int64_t delay_ms)
{
	int64_t span = delay_ms / 2;
	if (span <= 0)
		return delay_ms;
	return delay_ms - span / 2 + (int64_t)daemon_os_random((uint64_t)span);
}

/* One attempt: returns the sync's exit code, or EXIT_TEMPFAIL when the hub does not
 * answer the probe (probe_only). */
static int daemon_attempt(const char *db, int probe_only)
{
	struct store *s = NULL;
	struct transport *t = NULL;
	struct sync_result r;
	int rc = open_store(db, &s);
	if (rc)
		goto out;
	rc = open_transport(s, 0, &t);
	if (rc)
		goto out;
	t->cancel = daemon_os_cancel;
	if (probe_only) {
		rc = sync_probe(t) == 0 ? EXIT_OK : EXIT_TEMPFAIL;
		goto out;
	}
	struct sync_options so;
	sync_options_for(&so, 1, 1); /* a daemon has no terminal to draw on; its log keeps the lines */
	so.quiet = 0;
	rc = sync_run(s, t, &so, &r);
	if (rc == EXIT_TEMPFAIL && strcmp(r.error, "sync_running") == 0) {
		/* a manual sync or recover of this database is at work (sync_run said so on
		 * stderr): it does this round; the next regular one comes at the interval */
		rc = EXIT_OK;
	} else if (rc != EXIT_OK && rc != EXIT_TEMPFAIL) {
		tell_office(rc, &r, 0);
	}
out:
	transport_free(t);
	store_close(s);
	return rc;
}

int cmd_daemon(int argc, char **argv)
{
	struct common_opts o;
	int rc = parse_opts(argc, argv, "dipa", &o);
	if (rc)
		return rc;
	if (o.help) {
		fputs(msg(MSG_USAGE_DAEMON), stdout);
		return EXIT_OK;
	}
	const int64_t interval_ms = (int64_t)o.interval_min * 60 * 1000;
	const int64_t probe_ms = (int64_t)o.probe_sec * 1000;
	int64_t backoff_ms = probe_ms;
	int reachable = 1; /* try a sync at start */
	if (daemon_os_init() != 0) {
		fprintf(stderr, "lienket-agent daemon: cannot block stop signals\n");
		return EXIT_SOFTWARE;
	}
	struct app_run *app = NULL;
	if (o.app_port >= 0 && (rc = commands_app_begin(o.db, (unsigned)o.app_port, &app)) != EXIT_OK) {
		daemon_os_release();
		return rc;
	}
	msg_say(stderr, MSG_DAEMON_STARTED, (int)o.interval_min, (int)o.probe_sec);
	rc = EXIT_OK;
	while (!daemon_os_stop_requested()) {
		int64_t wait_ms;
		if (reachable) {
			int r = daemon_attempt(o.db, 0);
			if (daemon_os_stop_requested())
				break;
			if (r == EXIT_TEMPFAIL) {
				reachable = 0;
				backoff_ms = probe_ms;
				wait_ms = jitter(backoff_ms);
			} else if (r == EXIT_NOINPUT) {
				rc = r; /* the database is gone: nothing to do */
				break;
			} else {
				/* synced, or a problem only a person can fix (token, fork, config):
				 * next regular sync; status tells the office */
				wait_ms = jitter(interval_ms);
			}
		} else {
			int r = daemon_attempt(o.db, 1);
			if (r == EXIT_OK) {
				fprintf(stderr, "lienket-agent daemon: hub reachable again\n");
				reachable = 1;
				wait_ms = DAEMON_RECONNECT_DELAY_MS;
			} else {
				/* exponential backoff, capped at the sync interval */
				backoff_ms = backoff_ms * 2 > interval_ms ? interval_ms : backoff_ms * 2;
				wait_ms = jitter(backoff_ms);
			}
		}
		if (daemon_os_wait_ms(wait_ms))
			break;
	}
	commands_app_end(app);
	daemon_os_release();
	fprintf(stderr, "%s\n", msg(MSG_DAEMON_STOPPED));
	return rc;
}

/* ---- status ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void format_time(int64_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (ms <= 0 || !localtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, n, "%s", msg(MSG_STATUS_NEVER));
}

static const char *skip_reason_text(const char *reason)
{
	if (reason && strcmp(reason, "too_large") == 0)
		return msg(MSG_SKIP_TOO_LARGE);
	return msg(MSG_SKIP_UNENCODABLE);
}

struct status_info {
	const char *unit, *agent;
	char *hub_url, *last_error, *last_error_detail, *checksum_ok, *hub_schema, *hub_id;
	/* checksum_units: units that differ now; repair_units: those that still differed
	 * after a repair (set until the checksums agree); repaired_units: those a repair
	 * was made for, at repaired_ms, pulling repaired_rows rows (PROTOCOL.md §8) */
	char *checksum_units, *repair_units, *repaired_units;
	uint64_t pending, pending_bytes, acked, nskipped, nquarantined, repaired_rows;
	int64_t last_sync_ms, offset_ms, clock_ahead_at_ms, repaired_ms;
};

static int64_t cfg_i64(struct store *s, const char *key)
{
	return store_config_int(s, key, 0);
}

static int count_rows(struct store *s, const char *sql, uint64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static void status_release(struct status_info *si)
{
	free(si->hub_url);
	free(si->last_error);
	free(si->last_error_detail);
	free(si->checksum_ok);
	free(si->hub_schema);
	free(si->hub_id);
	free(si->checksum_units);
	free(si->repair_units);
	free(si->repaired_units);
}

static int status_load(struct store *s, struct status_info *si)
{
	memset(si, 0, sizeof *si);
	si->unit = store_unit_id(s);
	si->agent = store_agent_id(s);
	if (store_config_get(s, "hub_url", &si->hub_url) < 0 ||
	    store_config_get(s, "last_error", &si->last_error) < 0 ||
	    store_config_get(s, "last_error_detail", &si->last_error_detail) < 0 ||
	    store_config_get(s, "checksum_ok", &si->checksum_ok) < 0 ||
	    store_config_get(s, "hub_schema", &si->hub_schema) < 0 ||
	    store_config_get(s, "hub_id", &si->hub_id) < 0 ||
	    store_config_get(s, "checksum_units", &si->checksum_units) < 0 ||
	    store_config_get(s, "checksum_repair_units", &si->repair_units) < 0 ||
	    store_config_get(s, "checksum_repaired_units", &si->repaired_units) < 0 ||
	    store_config_u64(s, "checksum_repaired_rows", 0, &si->repaired_rows) != 0)
		return -1;
	si->repaired_ms = cfg_i64(s, "checksum_repaired_ms");
	if (journal_pending(s, &si->pending, &si->pending_bytes) != 0 ||
	    journal_acked(s, &si->acked) != 0 ||
	    count_rows(s, "SELECT count(*) FROM lk_skipped",
		       &si->nskipped) != 0 ||
	    count_rows(s, "SELECT count(*) FROM lk_quarantine", &si->nquarantined) != 0)
		return -1;
	si->last_sync_ms = cfg_i64(s, "last_sync_ms");
	si->clock_ahead_at_ms = cfg_i64(s, "clock_ahead_at_ms");
	(void)store_state_i64(s, STORE_STATE_OFFSET_MS, &si->offset_ms); /* 0 when unreadable */
	return 0;
}

/* The clock deserves advice when it is off by more than the hub's drift limit, or a
 * clock_ahead happened since the last successful sync. */
#define STATUS_CLOCK_ADVICE_MS 300000
/* Closer than this the clocks are told as agreeing (a sync's round trip blurs more). */
#define STATUS_CLOCK_SAME_MS 60000

static int clock_advice(const struct status_info *si)
{
	return si->offset_ms > STATUS_CLOCK_ADVICE_MS || si->offset_ms < -STATUS_CLOCK_ADVICE_MS ||
	       (si->clock_ahead_at_ms && si->clock_ahead_at_ms + 24LL * 3600 * 1000 > si->last_sync_ms);
}

static int status_lists(struct store *s, const struct status_info *si, int json)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, first = 1;
	/* skipped entries */
	if (sqlite3_prepare_v2(store_db(s),
			       "SELECT k.seq, j.tbl, j.row_id, k.reason FROM lk_skipped AS k"
			       " LEFT JOIN lk_journal AS j ON j.seq = k.seq"
			       " ORDER BY k.seq DESC LIMIT 20", /* STATUS_LIST_MAX */
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (json)
		fputs(",\"skipped_entries\":[", stdout);
	while (sqlite3_step(st) == SQLITE_ROW) {
		unsigned long long seq = (unsigned long long)sqlite3_column_int64(st, 0);
		const char *tbl = (const char *)sqlite3_column_text(st, 1);
		const char *id = (const char *)sqlite3_column_text(st, 2);
		const char *why = (const char *)sqlite3_column_text(st, 3);
		if (json) {
			printf("%s{\"seq\":%llu,\"table\":", first ? "" : ",", seq);
			json_str(stdout, tbl);
			fputs(",\"id\":", stdout);
			json_str(stdout, id);
			fputs(",\"reason\":", stdout);
			json_str(stdout, why);
			fputs(",\"text\":", stdout);
			json_str(stdout, skip_reason_text(why));
			fputc('}', stdout);
		} else {
			char t1[TERM_TEXT_MAX], t2[TERM_TEXT_MAX];
			msg_say(stdout, MSG_STATUS_SKIPPED_ITEM, seq, term(t1, tbl), term(t2, id),
				skip_reason_text(why));
		}
		first = 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (json)
		fputc(']', stdout);
	first = 1;
	if (sqlite3_prepare_v2(store_db(s),
			       "SELECT seq, code, tbl, row_id, field, message FROM lk_quarantine"
			       " ORDER BY at_ms DESC, seq DESC LIMIT 20", /* STATUS_LIST_MAX */
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (json) {
		fputs(",\"quarantined\":[", stdout);
	} else {
		if (si->nskipped > STATUS_LIST_MAX) {
			msg_say(stdout, MSG_STATUS_MORE, (unsigned long long)(si->nskipped - STATUS_LIST_MAX));
		}
		msg_say(stdout, MSG_STATUS_QUARANTINED, (unsigned long long)si->nquarantined);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		unsigned long long seq = (unsigned long long)sqlite3_column_int64(st, 0);
		const char *code = (const char *)sqlite3_column_text(st, 1);
		const char *tbl = (const char *)sqlite3_column_text(st, 2);
		const char *id = (const char *)sqlite3_column_text(st, 3);
		const char *field = (const char *)sqlite3_column_text(st, 4);
		const char *message = (const char *)sqlite3_column_text(st, 5);
		if (json) {
			printf("%s{\"seq\":%llu,\"code\":", first ? "" : ",", seq);
			json_str(stdout, code);
			fputs(",\"table\":", stdout);
			json_str(stdout, tbl);
			fputs(",\"id\":", stdout);
			json_str(stdout, id);
			fputs(",\"field\":", stdout);
			json_str(stdout, field);
			fputs(",\"message\":", stdout);
			json_str(stdout, message);
			fputs(",\"text\":", stdout);
			json_str(stdout, msg_code(code ? code : ""));
			fputc('}', stdout);
		} else {
			char t1[TERM_TEXT_MAX], t2[TERM_TEXT_MAX], t3[TERM_TEXT_MAX];
			msg_say(stdout, MSG_STATUS_QUARANTINE_ITEM, seq, term(t1, tbl), term(t2, id),
				term(t3, field), msg_code(code ? code : ""));
		}
		first = 0;
	}
	if (json) {
		fputc(']', stdout);
	} else if (si->nquarantined > STATUS_LIST_MAX) {
		msg_say(stdout, MSG_STATUS_MORE, (unsigned long long)(si->nquarantined - STATUS_LIST_MAX));
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static void json_str_or_null(FILE *f, const char *s)
{
	if (s)
		json_str(f, s);
	else
		fputs("null", f);
}

/* Whether the data matches the hub, and what a repair did (PROTOCOL.md §8): never a
 * disagreement in silence. */
static void status_checksums(const struct status_info *si, int checks)
{
	char when[64];
	format_time(si->repaired_ms, when, sizeof when);
	if (checks < 0) {
		printf("%s\n", msg(MSG_STATUS_CHECKSUM_UNKNOWN));
	} else if (checks && si->pending) {
		/* the rows agreed at the last sync, but this laptop holds more now: never
		 * "matches the hub" while changes wait */
		msg_say(stdout, MSG_STATUS_CHECKSUM_OK_PENDING, (unsigned long long)si->pending);
	} else if (checks) {
		printf("%s\n", msg(MSG_STATUS_CHECKSUM_OK));
	} else if (si->repair_units) {
		msg_say(stdout, MSG_STATUS_CHECKSUM_STILL_DIFFER, when, si->repair_units);
	} else {
		printf("%s\n", msg(MSG_SYNC_CHECKSUM_DIFFER));
		if (si->checksum_units)
			msg_say(stdout, MSG_STATUS_CHECKSUM_UNITS, si->checksum_units);
	}
	if (si->repaired_ms && (checks != 0 || !si->repair_units))
		msg_say(stdout, MSG_STATUS_CHECKSUM_REPAIRED, when, (unsigned long long)si->repaired_rows,
			si->repaired_units ? si->repaired_units : "");
}

/* A duration the office reads: days and hours, hours and minutes, minutes, or seconds
 * (never "187200 giây"). */
static void format_duration(int64_t ms, char *buf, size_t cap)
{
	long long sec = (long long)(ms / 1000);
	long long d = sec / 86400, h = sec % 86400 / 3600, m = sec % 3600 / 60;
	if (d)
		snprintf(buf, cap, msg(h ? MSG_DURATION_DAYS_HOURS : MSG_DURATION_DAYS), d, h);
	else if (h)
		snprintf(buf, cap, msg(m ? MSG_DURATION_HOURS_MINUTES : MSG_DURATION_HOURS), h, m);
	else if (m)
		snprintf(buf, cap, msg(MSG_DURATION_MINUTES), m);
	else
		snprintf(buf, cap, msg(MSG_DURATION_SECONDS), sec);
}

/* How far this laptop's clock is from the hub's, in the office's units. */
static void say_clock(int64_t offset_ms)
{
	char d[96];
	/* offset_ms is what is added to the laptop's time to get the hub's */
	if (offset_ms > -STATUS_CLOCK_SAME_MS && offset_ms < STATUS_CLOCK_SAME_MS) {
		printf("%s\n", msg(MSG_STATUS_CLOCK_SAME));
		return;
	}
	format_duration(offset_ms < 0 ? -offset_ms : offset_ms, d, sizeof d);
	msg_say(stdout, offset_ms < 0 ? MSG_STATUS_CLOCK_AHEAD : MSG_STATUS_CLOCK_BEHIND, d);
}

int cmd_status(int argc, char **argv)
{
	struct common_opts o;
	struct store *s = NULL;
	struct status_info si;
	char when[64];
	int rc = parse_opts(argc, argv, "dj", &o);
	if (rc)
		return rc;
	if (o.help) {
		fputs(msg(MSG_USAGE_STATUS), stdout);
		return EXIT_OK;
	}
	memset(&si, 0, sizeof si);
	rc = open_store(o.db, &s);
	if (rc)
		goto out;
	if (status_load(s, &si) != 0) {
		msg_say(stderr, MSG_SYNC_INTERNAL, sqlite3_errmsg(store_db(s)));
		rc = EXIT_SOFTWARE;
		goto out;
	}
	int checks = si.checksum_ok ? (strcmp(si.checksum_ok, "1") == 0) : -1;
	if (o.json) {
		fputs("{\"unit\":", stdout);
		json_str(stdout, si.unit);
		fputs(",\"agent\":", stdout);
		json_str(stdout, si.agent);
		fputs(",\"hub\":", stdout);
		if (si.hub_url)
			json_str(stdout, si.hub_url);
		else
			fputs("null", stdout);
		printf(",\"pending\":%llu,\"acked\":%llu,\"last_sync_ms\":%lld,\"offset_ms\":%lld",
		       (unsigned long long)si.pending, (unsigned long long)si.acked,
		       (long long)si.last_sync_ms, (long long)si.offset_ms);
		fputs(",\"last_error\":", stdout);
		if (si.last_error) {
			json_str(stdout, si.last_error);
			fputs(",\"last_error_text\":", stdout);
			json_str(stdout, error_text(si.last_error));
			fputs(",\"last_error_detail\":", stdout);
			json_str(stdout, si.last_error_detail);
		} else {
			fputs("null", stdout);
		}
		printf(",\"clock_advice\":%s", clock_advice(&si) ? "true" : "false");
		printf(",\"checksums_agree\":%s",
		       checks < 0 ? "null" : checks ? "true" : "false");
		/* what the office may read as "the hub holds what this laptop holds" */
		printf(",\"matches_hub\":%s", checks > 0 && si.pending == 0 ? "true" : "false");
		fputs(",\"checksum_units\":", stdout);
		json_str_or_null(stdout, checks == 0 ? si.checksum_units : NULL);
		printf(",\"checksum_repaired_ms\":%lld,\"checksum_repaired_rows\":%llu",
		       (long long)si.repaired_ms, (unsigned long long)si.repaired_rows);
		fputs(",\"checksum_repaired_units\":", stdout);
		json_str_or_null(stdout, si.repaired_ms ? si.repaired_units : NULL);
		printf(",\"checksum_still_differs\":%s",
		       checks == 0 && si.repair_units ? "true" : "false");
		printf(",\"hub_schema\":%s", si.hub_schema ? si.hub_schema : "null");
		printf(",\"skipped\":%llu,\"quarantined_count\":%llu,\"lost\":%lld",
		       (unsigned long long)si.nskipped, (unsigned long long)si.nquarantined,
		       (long long)cfg_i64(s, "lost_entries"));
		if (status_lists(s, &si, 1) != 0) {
			rc = EXIT_SOFTWARE;
			goto out;
		}
		fputs("}\n", stdout);
		rc = EXIT_OK;
		goto out;
	}
	char tt[TERM_TEXT_MAX];
	msg_say(stdout, MSG_STATUS_UNIT, term(tt, si.unit));
	msg_say(stdout, MSG_STATUS_AGENT, term(tt, si.agent));
	if (si.hub_url) {
		msg_say(stdout, MSG_STATUS_HUB, term(tt, si.hub_url));
	} else {
		printf("%s\n", msg(MSG_STATUS_HUB_NONE));
	}
	msg_say(stdout, MSG_STATUS_PENDING, (unsigned long long)si.pending);
	format_time(si.last_sync_ms, when, sizeof when);
	msg_say(stdout, MSG_STATUS_LAST_SYNC, when);
	if (si.last_error) {
		msg_say(stdout, MSG_STATUS_LAST_ERROR, term(tt, si.last_error), error_text(si.last_error));
	} else {
		printf("%s\n", msg(MSG_STATUS_NO_ERROR));
	}
	if (si.hub_schema) {
		msg_say(stdout, MSG_STATUS_SCHEMA_NEWER, atoi(si.hub_schema));
	}
	if (si.offset_ms == 0 && si.last_sync_ms == 0)
		printf("%s\n", msg(MSG_STATUS_CLOCK_UNKNOWN)); /* never heard from the hub */
	else if (!(clock_advice(&si) && si.offset_ms > -STATUS_CLOCK_SAME_MS && si.offset_ms < STATUS_CLOCK_SAME_MS))
		say_clock(si.offset_ms); /* "agrees" is not said beside the advice of a recent clock_ahead */
	if (clock_advice(&si))
		printf("%s\n", msg(MSG_STATUS_CLOCK_ADVICE));
	msg_say(stdout, MSG_STATUS_SKIPPED, (unsigned long long)si.nskipped);
	if (cfg_i64(s, "lost_entries") > 0)
		msg_say(stdout, MSG_STATUS_LOST, (long long)cfg_i64(s, "lost_entries"));
	if (status_lists(s, &si, 0) != 0) {
		rc = EXIT_SOFTWARE;
		goto out;
	}
	status_checksums(&si, checks);
	rc = EXIT_OK;
out:
	status_release(&si);
	store_close(s);
	return rc;
}

/* ---- for the office app (commands.h) ---- */

int commands_open_transport(struct store *s, struct transport **t)
{
	return open_transport(s, 1, t);
}

const char *commands_sync_error_vi(const char *code)
{
	return error_text_lang(code, 0);
}
