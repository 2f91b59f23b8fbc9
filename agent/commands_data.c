/*
 * commands_data.c — the data commands: init, config, add, set, rm, show, list,
 * import, export, schema, backup (see commands.h; usage texts are in msg_data.def).
 *
 * Every table and column name that reaches SQL has first been found with
 * schema_table_find / schema_column_find and is then taken from the schema's static
 * strings, never from the user; every value is a bound parameter. Rows are written
 * through records.h, the one write path (NFC, dd/mm/yyyy, labels, links by name, then
 * validate_value), whose problems this file prints; the CHECK constraints and triggers
 * of store.c are the second line (and the only one for other programs writing the
 * file).
 *
 * Output: what the office reads goes through msg() (Vietnamese unless the locale says
 * English): results on stdout, refusals on stderr. Diagnostics for logs are English,
 * on stderr, prefixed "lienket-agent: ". Each command returns an exit code of
 * commands.h and owns nothing after it returns.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "csvtable.h"
#include "fieldarg.h"
#include "ids.h"
#include "joincode.h"
#include "msg.h"
#include "plat.h"
#include "records.h"
#include "schema.h"
#include "store.h"
#include "suggest.h"
#include "textsafe.h"
#include "validate.h"

/* The widest table has 9 columns; the schema is checked against this at run time. */
#define ROW_MAX_COLUMNS RECORDS_MAX_COLUMNS
#define ERR_TEXT 512 /* English diagnostics from the store */
/* Defaults and bounds for config values, with their reasons. */
#define BACKUP_KEEP_DAYS_DEFAULT 30     /* a month of daily copies on an old laptop's disk */
#define BACKUP_KEEP_DAYS_MAX 3650       /* ten years: anything larger is a typo */
#define BATCH_BYTES_MIN 4096            /* below this a change set carries almost nothing */
#define BATCH_BYTES_MAX (1 << 20)       /* the hub's compressed body limit (PROTOCOL.md §11) */
#define LIST_LIMIT_MAX 100000000LL      /* a limit, not a row cap: larger means "all" */
#define TOKEN_SHOWN_CHARS 4             /* config prints the token masked but for its tail */
#define BACKUP_INTERVAL_MS 86400000LL   /* data commands make at most one automatic copy a day */
#define BACKUP_PATH_MAX 4096            /* longest backup path we accept */

static void backup_if_due(struct store *s, const char *db);

/* ---- output ---- */

static void log_line(const char *what, const char *detail)
{
	fprintf(stderr, "lienket-agent: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
}

static int usage(enum msg_id usage_id)
{
	msg_say(stderr, MSG_USAGE, msg(usage_id));
	return EXIT_USAGE;
}

static int internal_error(struct store *s, const char *what)
{
	int code = s ? sqlite3_errcode(store_db(s)) & 0xff : SQLITE_OK;
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
		/* another program (a sync) held the database past the busy timeout */
		msg_say(stderr, MSG_ERR_BUSY);
		log_line(what, sqlite3_errmsg(store_db(s)));
		return EXIT_TEMPFAIL;
	}
	msg_say(stderr, MSG_ERR_INTERNAL);
	log_line(what, s ? sqlite3_errmsg(store_db(s)) : NULL);
	return EXIT_SOFTWARE;
}

/* ---- arguments ---- */

struct opt_spec {
	const char *name;   /* "--db" */
	const char **value; /* option with a value, or NULL */
	int *flag;          /* option without a value, or NULL */
};

/* Splits argv[1..] into options (--name V, --name=V, flags) and positionals; "--"
 * ends options. pos must hold argc entries. 0, or EXIT_USAGE after a message. */
static int parse_args(int argc, char **argv, const struct opt_spec *specs, enum msg_id usage_id,
		      const char **pos, size_t *npos)
{
	int only_pos = 0;
	*npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] != '-') {
			pos[(*npos)++] = a;
			continue;
		}
		if (a[2] == '\0') {
			only_pos = 1;
			continue;
		}
		const char *eq = strchr(a, '=');
		size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
		const struct opt_spec *sp = NULL;
		for (const struct opt_spec *p = specs; p->name; p++)
			if (strlen(p->name) == nlen && strncmp(p->name, a, nlen) == 0)
				sp = p;
		if (!sp) {
			msg_say(stderr, MSG_ERR_UNKNOWN_OPTION, a);
			return usage(usage_id);
		}
		if (sp->flag) {
			if (eq)
				return usage(usage_id);
			*sp->flag = 1;
		} else if (eq) {
			*sp->value = eq + 1;
		} else if (i + 1 < argc) {
			*sp->value = argv[++i];
		} else {
			msg_say(stderr, MSG_ERR_OPTION_VALUE, a);
			return usage(usage_id);
		}
	}
	return 0;
}

static const char **pos_new(int argc)
{
	return calloc((size_t)(argc > 0 ? argc : 1), sizeof(const char *));
}

/* Strict decimal integer within [lo, hi]. 0 or -1. */
static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end = NULL;
	if (!s || !*s)
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int open_store(const char *db, struct store **s)
{
	char err[ERR_TEXT];
	if (store_open(db, s, err, sizeof err) != 0) {
		msg_say(stderr, MSG_ERR_NO_DB, db);
		log_line(err, NULL);
		return EXIT_NOINPUT;
	}
	return EXIT_OK;
}

/* Data entry needs the owning unit: refused while the unit is known only by code. */
static int need_unit(struct store *s)
{
	if (store_unit_id(s)[0])
		return EXIT_OK;
	char *code = NULL;
	if (store_config_get(s, "unit_code", &code) < 0)
		return internal_error(s, "cannot read unit_code");
	msg_say(stderr, MSG_ERR_UNIT_PENDING, code ? code : "?");
	free(code);
	return EXIT_CONFIG;
}

/* The table nearest to a mistyped name, by name or label ("did you mean"), or NULL. */
static const struct schema_table *nearest_table(const char *typed)
{
	const char *cand[2 * 64];
	size_t n = 0;
	for (size_t i = 0; i < schema_ntables && n + 2 <= sizeof cand / sizeof cand[0]; i++) {
		int current = schema_tables[i].since <= SCHEMA_VERSION;
		cand[n++] = current ? schema_tables[i].name : NULL;
		cand[n++] = current ? schema_tables[i].label_vi : NULL;
	}
	long k = suggest_nearest(typed, cand, n);
	return k < 0 ? NULL : &schema_tables[k / 2];
}

/* Says that t has no field typed, with the nearest field and the list of fields. */
static void say_unknown_field(const struct schema_table *t, const char *typed)
{
	char list[1024];
	resolve_columns_text(t, list, sizeof list);
	const struct schema_column *near = resolve_column_nearest(t, typed);
	if (near)
		msg_say(stderr, MSG_ERR_UNKNOWN_FIELD_NEAR, t->name, typed, near->name, near->label_vi, list);
	else
		msg_say(stderr, MSG_ERR_UNKNOWN_FIELD, t->name, typed, list);
}

static const struct schema_table *find_table(const char *name, int for_write, int *rc)
{
	const struct schema_table *t = schema_table_find(name, SCHEMA_VERSION);
	if (!t) {
		const struct schema_table *near = nearest_table(name);
		if (near)
			msg_say(stderr, MSG_ERR_UNKNOWN_TABLE_NEAR, name, near->name, near->label_vi);
		else
			msg_say(stderr, MSG_ERR_UNKNOWN_TABLE, name);
		*rc = EXIT_USAGE;
		return NULL;
	}
	if (t->ncolumns > ROW_MAX_COLUMNS) {
		log_line("table wider than ROW_MAX_COLUMNS", t->name);
		*rc = EXIT_SOFTWARE;
		return NULL;
	}
	if (for_write && t->hub_only) {
		msg_say(stderr, MSG_ERR_HUB_ONLY_TABLE, t->name, t->label_vi);
		*rc = EXIT_DATAERR;
		return NULL;
	}
	return t;
}

/* An official code: 1 to 20 ASCII letters, digits or '-' (unit_name.code is at most 20). */
static int looks_like_code(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 20)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-'))
			return 0;
	}
	return 1;
}

/* https anywhere, plain http only to this machine (PROTOCOL: hub must be https unless
 * on loopback). The transport checks again; this only catches typos early. */
static int hub_url_ok(const char *u)
{
	static const char *const ok[] = { "https://", "http://127.", "http://localhost:", "http://localhost/",
					  "http://[::1]" };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strncmp(u, ok[i], strlen(ok[i])) == 0)
			return 1;
	return strcmp(u, "http://localhost") == 0;
}

/* ---- problems of a row, for the office ---- */

/* The records sink of the command line: one line on stderr per problem, prefixed with
 * the CSV line when there is one and with "Label (field): " when it is about a field. */
static void print_refusal(void *ctx, unsigned long line, const struct schema_column *col, const char *text)
{
	(void)ctx;
	if (line)
		fprintf(stderr, msg(MSG_LINE_PREFIX), line);
	if (col)
		msg_say(stderr, MSG_ERR_FIELD, col->label_vi, col->name, text);
	else
		fprintf(stderr, "%s\n", text);
}

/* A records writer for t printing its problems on stderr. 0, or an exit code. */
static int writer_open(struct store *s, const struct schema_table *t, struct records_writer **w)
{
	const struct records_sink sink = { print_refusal, NULL };
	*w = records_writer_new(s, t, &sink);
	if (!*w)
		return internal_error(NULL, "out of memory");
	records_writer_english(*w, msg_english());
	return EXIT_OK;
}

/* Fills text[] from "field=value" arguments (fieldarg.h), reporting every bad one.
 * 0, or an exit code after messages. */
static int fields_from_args(const struct schema_table *t, const char **args, size_t n, const char **text,
			    int allow_id)
{
	int rc = EXIT_OK;
	for (size_t k = 0; k < n; k++) {
		struct fieldarg_status st;
		switch (fieldarg_put(t, args[k], allow_id, text, &st)) {
		case FIELDARG_OK: continue;
		case FIELDARG_NOT_FIELD_VALUE: msg_say(stderr, MSG_ERR_BAD_ARG, args[k]); break;
		case FIELDARG_NAME_TOO_LONG: say_unknown_field(t, args[k]); break;
		case FIELDARG_UNKNOWN_FIELD: say_unknown_field(t, st.name); break;
		case FIELDARG_ID_NOT_FIELD: msg_say(stderr, MSG_ERR_ID_AUTO); break;
		case FIELDARG_DUPLICATE: msg_say(stderr, MSG_ERR_DUP_FIELD, st.name); break;
		}
		rc = EXIT_USAGE;
	}
	return rc;
}

/* ---- init, config ---- */

int commands_join_decode(const char *code, struct joincode *j, int *why)
{
	switch (joincode_decode(code, j)) {
	case JOINCODE_OK: break;
	case JOINCODE_MISTYPED: *why = MSG_ERR_JOIN_MISTYPED; return -1;
	case JOINCODE_NEWER: *why = MSG_ERR_JOIN_NEWER; return -1;
	case JOINCODE_BAD_FIELD: *why = MSG_ERR_JOIN_BAD; return -1;
	case JOINCODE_NOT_A_CODE:
	case JOINCODE_TOO_LONG: *why = MSG_ERR_JOIN_NOT_CODE; return -1;
	}
	if (!hub_url_ok(j->url)) { /* joincode_fields_valid checked it: never here */
		memset(j, 0, sizeof *j);
		*why = MSG_ERR_JOIN_BAD;
		return -1;
	}
	return 0;
}

/* Removes a database just made, with its WAL and shared-memory files. */
static void remove_db(const char *db)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char path[4096];
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++)
		if (snprintf(path, sizeof path, "%s%s", db, suffix[i]) < (int)sizeof path)
			plat_remove(path);
}

/* The database at db for unit (a UUID, or an official code when !is_uuid), with the
 * hub, token and pins given (each may be NULL or ""). 0 and *out, or an exit code with
 * the English reason in err. */
static int init_store(const char *db, const char *unit, int is_uuid, const char *hub, const char *token,
		      const char *pins, struct store **out, char *err, size_t errlen)
{
	struct store *s = NULL;
	*out = NULL;
	if (store_create(db, is_uuid ? unit : NULL, &s, err, errlen) != 0)
		return EXIT_CANTCREAT;
	if ((!is_uuid && store_config_set(s, "unit_code", unit)) || (hub && *hub && store_config_set(s, "hub_url", hub)) ||
	    (token && *token && store_config_set(s, "token", token)) ||
	    (pins && *pins && store_config_set(s, "pinned_keys", pins))) {
		snprintf(err, errlen, "cannot write the configuration: %s", sqlite3_errmsg(store_db(s)));
		store_close(s);
		remove_db(db);
		return EXIT_SOFTWARE;
	}
	*out = s;
	return 0;
}

int commands_init_joined(const char *db, const struct joincode *j, struct store **out, char *err, size_t errlen)
{
	return init_store(db, j->unit, 1, j->url, j->token, j->pins, out, err, errlen);
}

int cmd_init(int argc, char **argv)
{
	const char *db = store_default_path(), *unit = NULL, *hub = NULL, *token = NULL, *join = NULL;
	const struct opt_spec specs[] = { { "--db", &db, NULL },     { "--unit", &unit, NULL },
					  { "--hub", &hub, NULL },   { "--token", &token, NULL },
					  { "--join", &join, NULL }, { NULL, NULL, NULL } };
	const char **pos = pos_new(argc);
	struct store *s = NULL;
	struct joincode j;
	char err[ERR_TEXT];
	size_t npos, npins = 0;
	int rc, why = 0;
	memset(&j, 0, sizeof j);
	if (!pos)
		return internal_error(NULL, "out of memory");
	if ((rc = parse_args(argc, argv, specs, MSG_USAGE_INIT, pos, &npos)) != 0)
		goto done;
	if (join && (unit || hub || token)) {
		msg_say(stderr, MSG_ERR_JOIN_MIXED);
		rc = EXIT_USAGE;
		goto done;
	}
	if (join) {
		if (commands_join_decode(join, &j, &why) != 0) {
			msg_say(stderr, why);
			rc = EXIT_USAGE;
			goto done;
		}
		unit = j.unit;
		hub = j.url;
		token = j.token;
		if (j.pins[0])
			joincode_pins_valid(j.pins, &npins);
	}
	if (npos || !unit) {
		rc = usage(MSG_USAGE_INIT);
		goto done;
	}
	int is_uuid = ids_uuid_valid(unit);
	if (!is_uuid && !looks_like_code(unit)) {
		msg_say(stderr, MSG_ERR_BAD_UNIT, unit);
		rc = EXIT_USAGE;
		goto done;
	}
	if (hub && !hub_url_ok(hub)) {
		msg_say(stderr, MSG_ERR_BAD_HUB, hub);
		rc = EXIT_USAGE;
		goto done;
	}
	if (token && !ids_token_wellformed(token)) {
		msg_say(stderr, MSG_ERR_BAD_TOKEN);
		rc = EXIT_USAGE;
		goto done;
	}
	rc = join ? commands_init_joined(db, &j, &s, err, sizeof err)
		  : init_store(db, unit, is_uuid, hub, token, NULL, &s, err, sizeof err);
	if (rc == EXIT_CANTCREAT) {
		msg_say(stderr, MSG_ERR_CREATE_DB, db);
		log_line(err, NULL);
		goto done;
	}
	if (rc != 0) {
		rc = internal_error(NULL, err);
		goto done;
	}
	msg_say(stdout, MSG_INIT_DONE, db, store_agent_id(s));
	if (is_uuid)
		msg_say(stdout, MSG_INIT_UNIT, unit);
	else
		msg_say(stdout, MSG_INIT_UNIT_CODE, unit);
	if (join)
		msg_say(stdout, MSG_INIT_HUB, hub, npins);
	rc = EXIT_OK;
done:
	memset(j.token, 0, sizeof j.token);
	store_close(s);
	free(pos);
	return rc;
}

static void print_config_line(enum msg_id label, const char *value)
{
	printf("%s: %s\n", msg(label), value && *value ? value : msg(MSG_CFG_UNSET));
}

int cmd_config(int argc, char **argv)
{
	const char *db = store_default_path(), *hub = NULL, *token = NULL, *ca = NULL, *batch = NULL,
		   *bdir = NULL, *keep = NULL, *unit = NULL;
	const struct opt_spec specs[] = { { "--db", &db, NULL },	    { "--hub", &hub, NULL },
					  { "--token", &token, NULL },	    { "--ca-file", &ca, NULL },
					  { "--batch-bytes", &batch, NULL }, { "--backup-dir", &bdir, NULL },
					  { "--backup-keep-days", &keep, NULL }, { "--unit", &unit, NULL },
					  { NULL, NULL, NULL } };
	const char **pos = pos_new(argc);
	struct store *s = NULL;
	size_t npos;
	long long n;
	int rc;
	if (!pos)
		return internal_error(NULL, "out of memory");
	if ((rc = parse_args(argc, argv, specs, MSG_USAGE_CONFIG, pos, &npos)) != 0)
		goto done;
	/* Also "config KEY VALUE ...", with the lk_config key names (hub_url, token, …). */
	if (npos % 2) {
		rc = usage(MSG_USAGE_CONFIG);
		goto done;
	}
	for (size_t k = 0; k < npos; k += 2) {
		const struct {
			const char *key;
			const char **value;
		} keys[] = { { "hub_url", &hub },	 { "hub", &hub },	      { "token", &token },
			     { "ca_file", &ca },	 { "batch_bytes", &batch }, { "backup_dir", &bdir },
			     { "backup_keep_days", &keep }, { "unit", &unit },	      { "unit_id", &unit } };
		const char **slot = NULL;
		for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++)
			if (strcmp(pos[k], keys[j].key) == 0)
				slot = keys[j].value;
		if (!slot) {
			msg_say(stderr, MSG_ERR_UNKNOWN_OPTION, pos[k]);
			rc = usage(MSG_USAGE_CONFIG);
			goto done;
		}
		*slot = pos[k + 1];
	}
	rc = EXIT_USAGE;
	if (hub && *hub && !hub_url_ok(hub)) {
		msg_say(stderr, MSG_ERR_BAD_HUB, hub);
		goto done;
	}
	if (token && *token && !ids_token_wellformed(token)) {
		msg_say(stderr, MSG_ERR_BAD_TOKEN);
		goto done;
	}
	if (batch && parse_int(batch, BATCH_BYTES_MIN, BATCH_BYTES_MAX, &n)) {
		msg_say(stderr, MSG_ERR_BAD_NUMBER, batch, "--batch-bytes", (long long)BATCH_BYTES_MIN,
		    (long long)BATCH_BYTES_MAX);
		goto done;
	}
	if (keep && parse_int(keep, 0, BACKUP_KEEP_DAYS_MAX, &n)) {
		msg_say(stderr, MSG_ERR_BAD_NUMBER, keep, "--backup-keep-days", 0LL, (long long)BACKUP_KEEP_DAYS_MAX);
		goto done;
	}
	if (unit && !ids_uuid_valid(unit)) {
		msg_say(stderr, MSG_ERR_BAD_UNIT, unit);
		goto done;
	}
	if (ca && *ca) { /* a CA file that cannot be read would only fail at the next sync */
		FILE *probe = plat_fopen(ca, "rb");
		if (!probe) {
			msg_say(stderr, MSG_ERR_OPEN_FILE, ca);
			goto done;
		}
		fclose(probe);
	}
	if ((rc = open_store(db, &s)) != EXIT_OK)
		goto done;
	if (unit && store_unit_id(s)[0] && strcmp(unit, store_unit_id(s)) != 0) {
		msg_say(stderr, MSG_ERR_UNIT_SET, store_unit_id(s));
		rc = EXIT_DATAERR;
		goto done;
	}
	if (unit && !store_unit_id(s)[0] && store_set_unit_id(s, unit)) {
		rc = internal_error(s, "cannot set the unit");
		goto done;
	}
	/* An empty value deletes the setting. */
	struct {
		const char *key, *value;
	} sets[] = { { "hub_url", hub },   { "token", token },	      { "ca_file", ca },
		     { "batch_bytes", batch }, { "backup_dir", bdir }, { "backup_keep_days", keep } };
	int changed = unit != NULL;
	for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
		if (!sets[i].value)
			continue;
		changed = 1;
		if (store_config_set(s, sets[i].key, *sets[i].value ? sets[i].value : NULL)) {
			rc = internal_error(s, "cannot write config");
			goto done;
		}
	}
	if (changed) {
		msg_say(stdout, MSG_OK);
		rc = EXIT_OK;
		goto done;
	}
	/* No option: print the settings, the token masked. */
	static const struct {
		const char *key;
		enum msg_id label;
	} show[] = { { "unit_code", MSG_CFG_UNIT_CODE },  { "hub_url", MSG_CFG_HUB },
		     { "token", MSG_CFG_TOKEN },	  { "ca_file", MSG_CFG_CA },
		     { "pinned_keys", MSG_CFG_PINS },
		     { "batch_bytes", MSG_CFG_BATCH },	  { "backup_dir", MSG_CFG_BACKUP_DIR },
		     { "backup_keep_days", MSG_CFG_KEEP } };
	print_config_line(MSG_CFG_DB, db);
	print_config_line(MSG_CFG_AGENT, store_agent_id(s));
	print_config_line(MSG_CFG_UNIT, store_unit_id(s));
	for (size_t i = 0; i < sizeof show / sizeof show[0]; i++) {
		char *v = NULL;
		if (store_config_get(s, show[i].key, &v) < 0) {
			rc = internal_error(s, "cannot read config");
			goto done;
		}
		if (v && strcmp(show[i].key, "token") == 0) {
			size_t len = strlen(v);
			char masked[64];
			snprintf(masked, sizeof masked, "lk_…%s", len > TOKEN_SHOWN_CHARS ? v + len - TOKEN_SHOWN_CHARS : "");
			print_config_line(show[i].label, masked);
		} else {
			print_config_line(show[i].label, v);
		}
		free(v);
	}
	rc = EXIT_OK;
done:
	store_close(s);
	free(pos);
	return rc;
}

/* ---- add, set, rm ---- */

/* The exit code of a records result (RECORDS_FAILED: busy or internal). */
static int finish_write(struct store *s, const struct records_writer *w, enum records_result r)
{
	if (r == RECORDS_FAILED) {
		int code = records_errcode(w);
		if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
			msg_say(stderr, MSG_ERR_BUSY);
			return EXIT_TEMPFAIL;
		}
		return internal_error(s, "write failed");
	}
	return r == RECORDS_REJECTED ? EXIT_DATAERR : EXIT_OK;
}

/* add TABLE field=value … and set TABLE ID field=value …: the same command but for the
 * id argument and what is printed. */
static int write_command(int argc, char **argv, int is_set)
{
	const enum msg_id usage_id = is_set ? MSG_USAGE_SET : MSG_USAGE_ADD;
	const size_t nfixed = is_set ? 2 : 1; /* TABLE [ID] before the fields */
	struct records_writer *w = NULL;
	const char *db = store_default_path();
	const struct opt_spec specs[] = { { "--db", &db, NULL }, { NULL, NULL, NULL } };
	const char **pos = pos_new(argc);
	const char *text[ROW_MAX_COLUMNS] = { 0 };
	struct store *s = NULL;
	size_t npos;
	int rc;
	if (!pos)
		return internal_error(NULL, "out of memory");
	if ((rc = parse_args(argc, argv, specs, usage_id, pos, &npos)) != 0)
		goto done;
	if (npos < nfixed + 1) {
		rc = usage(usage_id);
		goto done;
	}
	const struct schema_table *t = find_table(pos[0], 1, &rc);
	if (!t)
		goto done;
	if ((rc = fields_from_args(t, pos + nfixed, npos - nfixed, text, 0)) != EXIT_OK)
		goto done;
	if ((rc = open_store(db, &s)) != EXIT_OK || (rc = need_unit(s)) != EXIT_OK ||
	    (rc = writer_open(s, t, &w)) != EXIT_OK)
		goto done;
	char id[IDS_UUID_TEXT];
	enum records_result r = records_write(w, text, is_set ? pos[1] : NULL, id);
	if ((rc = finish_write(s, w, r)) == EXIT_OK) {
		if (is_set)
			msg_say(stdout, r == RECORDS_UPDATED ? MSG_UPDATED : MSG_UNCHANGED);
		else
			printf("%s\n", id);
		backup_if_due(s, db);
	}
done:
	records_writer_free(w);
	store_close(s);
	free(pos);
	return rc;
}

int cmd_add(int argc, char **argv)
{
	return write_command(argc, argv, 0);
}

int cmd_set(int argc, char **argv)
{
	return write_command(argc, argv, 1);
}

int cmd_rm(int argc, char **argv)
{
	struct records_writer *w = NULL;
	const char *db = store_default_path();
	const struct opt_spec specs[] = { { "--db", &db, NULL }, { NULL, NULL, NULL } };
	const char **pos = pos_new(argc);
	struct store *s = NULL;
	size_t npos;
	int rc, in_tx = 0;
	if (!pos)
		return internal_error(NULL, "out of memory");
	if ((rc = parse_args(argc, argv, specs, MSG_USAGE_RM, pos, &npos)) != 0)
		goto done;
	if (npos != 2) {
		rc = usage(MSG_USAGE_RM);
		goto done;
	}
	const struct schema_table *t = find_table(pos[0], 1, &rc);
	if (!t)
		goto done;
	if ((rc = open_store(db, &s)) != EXIT_OK || (rc = need_unit(s)) != EXIT_OK ||
	    (rc = writer_open(s, t, &w)) != EXIT_OK)
		goto done;
	if (sqlite3_exec(store_db(s), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = internal_error(s, "cannot start the delete");
		goto done;
	}
	in_tx = 1;
	if ((rc = finish_write(s, w, records_delete(w, pos[1]))) != EXIT_OK)
		goto done;
	if (sqlite3_exec(store_db(s), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = internal_error(s, "cannot commit the delete");
		goto done;
	}
	in_tx = 0;
	msg_say(stdout, MSG_REMOVED);
	backup_if_due(s, db);
	rc = EXIT_OK;
done:
	if (in_tx)
		sqlite3_exec(store_db(s), "ROLLBACK", NULL, NULL, NULL);
	records_writer_free(w);
	store_close(s);
	free(pos);
	return rc;
}

/* ---- show, list ---- */

/* SELECT of every column of t, with an optional tail. Caller frees with sqlite3_free. */
static char *select_all_sql(const struct schema_table *t, const char *tail)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendall(q, "SELECT ");
	for (size_t i = 0; i < t->ncolumns; i++)
		sqlite3_str_appendf(q, "%s\"%w\"", i ? ", " : "", t->columns[i].name);
	sqlite3_str_appendf(q, " FROM \"%w\"%s", t->name, tail ? tail : "");
	return sqlite3_str_finish(q);
}

static void put_bytes(void *f, const char *p, size_t n)
{
	fwrite(p, 1, n, f);
}

/* The value as the office reads it: enumeration labels, có/không; what was typed with
 * its control characters escaped (textsafe.h), so a value stays on its line and cannot
 * drive the terminal. */
static void print_display_value(FILE *f, const struct schema_column *c, sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	if (!v)
		return;
	if (c->type == SCHEMA_ENUM) {
		const struct schema_enum_value *ev = schema_enum_find(c, v);
		if (ev) {
			fprintf(f, "%s (%s)", ev->label_vi, ev->code);
			return;
		}
	} else if (c->type == SCHEMA_BOOL) {
		fputs(msg(sqlite3_column_int(st, i) ? MSG_BOOL_YES : MSG_BOOL_NO), f);
		return;
	}
	textsafe_term_each(v, put_bytes, f);
}

int cmd_show(int argc, char **argv)
{
	const char *db = store_default_path();
	const struct opt_spec specs[] = { { "--db", &db, NULL }, { NULL, NULL, NULL } };
	const char **pos = pos_new(argc);
	struct store *s = NULL;
	sqlite3_stmt *st = NULL;
	char *sql = NULL;
	size_t npos;
	int rc;
	if (!pos)
		return internal_error(NULL, "out of memory");
	if ((rc = parse_args(argc, argv, specs, MSG_USAGE_SHOW, pos, &npos)) != 0)
		goto done;
	if (npos != 2) {
		rc = usage(MSG_USAGE_SHOW);
		goto done;
	}
	const struct schema_table *t = find_table(pos[0], 0, &rc);
	if (!t)
		goto done;
	if ((rc = open_store(db, &s)) != EXIT_OK)
		goto done;
	sql = select_all_sql(t, " WHERE id = ?1");
	if (!sql || sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK) {
		rc = internal_error(s, "cannot prepare select");
		goto done;
	}
	sqlite3_bind_text(st, 1, pos[1], -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		msg_say(stderr, MSG_ERR_NOT_FOUND, pos[1], t->name);
		rc = EXIT_DATAERR;
		goto done;
	}
	if (r != SQLITE_ROW) {
		rc = internal_error(s, "cannot read the row");
		goto done;
	}
	printf("%s (%s)\n", t->label_vi, t->name);
	for (size_t i = 0; i < t->ncolumns; i++) {
		printf("%s (%s): ", t->columns[i].label_vi, t->columns[i].name);
		print_display_value(stdout, &t->columns[i], st, (int)i);
		putchar('\n');
	}
	rc = EXIT_OK;
done:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	store_close(s);
	free(pos);
	return rc;
}

int cmd_list(int argc, char **argv)
{
	const char *db = store_default_path(), *limit_text = NULL;
	const struct opt_spec specs[] = { { "--db", &db, NULL }, { "--limit", &limit_text, NULL }, { NULL, NULL, NULL } };
	const char **pos = pos_new(argc);
	const char *text[ROW_MAX_COLUMNS] = { 0 };
	struct value v[ROW_MAX_COLUMNS] = { 0 };
	char *canon[ROW_MAX_COLUMNS] = { 0 }; /* filters as stored (ISO dates, codes, ids) */
	struct records_writer *w = NULL;
	struct store *s = NULL;
	sqlite3_stmt *st = NULL;
	char *sql = NULL;
	size_t npos;
	long long limit = 0;
	int rc;
	if (!pos)
		return internal_error(NULL, "out of memory");
	if ((rc = parse_args(argc, argv, specs, MSG_USAGE_LIST, pos, &npos)) != 0)
		goto done;
	if (npos < 1) {
		rc = usage(MSG_USAGE_LIST);
		goto done;
	}
	if (limit_text && parse_int(limit_text, 1, LIST_LIMIT_MAX, &limit)) {
		msg_say(stderr, MSG_ERR_BAD_NUMBER, limit_text, "--limit", 1LL, LIST_LIMIT_MAX);
		rc = EXIT_USAGE;
		goto done;
	}
	const struct schema_table *t = find_table(pos[0], 0, &rc);
	if (!t)
		goto done;
	if ((rc = fields_from_args(t, pos + 1, npos - 1, text, 1)) != EXIT_OK)
		goto done;
	if ((rc = open_store(db, &s)) != EXIT_OK || (rc = writer_open(s, t, &w)) != EXIT_OK)
		goto done;
	/* Filters compare typed values; "" matches null. A filter is written as a value is
	 * (records.h: 14/3/2021, a choice's label, a person's name) and compared as stored. */
	sqlite3_str *q = sqlite3_str_new(NULL);
	int nf = 0;
	for (size_t i = 0; i < t->ncolumns; i++) {
		if (!text[i])
			continue;
		const struct schema_column *c = &t->columns[i];
		if (c->type == SCHEMA_INT || c->type == SCHEMA_BOOL) {
			enum validate_code vc = fieldarg_value(c, text[i], &v[i]);
			if (vc == VALIDATE_BAD_TYPE) {
				msg_say(stderr, MSG_ERR_FIELD, c->label_vi, c->name, msg_code("bad_type"));
				rc = EXIT_USAGE;
			}
		} else {
			int vr = records_value(w, c, text[i], &canon[i]);
			if (vr < 0) {
				rc = internal_error(s, "cannot read a filter");
			} else if (vr > 0) {
				rc = EXIT_USAGE;
			} else if (canon[i]) {
				v[i] = (struct value){ .kind = VALUE_TEXT, .s = canon[i], .len = strlen(canon[i]) };
			} else {
				v[i] = (struct value){ .kind = VALUE_NULL };
			}
		}
		sqlite3_str_appendf(q, "%s\"%w\" IS ?%d", nf++ ? " AND " : " WHERE ", c->name, (int)i + 1);
	}
	sqlite3_str_appendall(q, " ORDER BY rowid");
	if (limit)
		sqlite3_str_appendf(q, " LIMIT %lld", limit + 1);
	char *tail = sqlite3_str_finish(q);
	if (rc != EXIT_OK || !tail) {
		sqlite3_free(tail);
		if (rc == EXIT_OK)
			rc = internal_error(NULL, "out of memory");
		goto done;
	}
	sql = select_all_sql(t, tail);
	sqlite3_free(tail);
	if (!sql || sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK) {
		rc = internal_error(s, "cannot prepare select");
		goto done;
	}
	for (size_t i = 0; i < t->ncolumns; i++)
		if (text[i])
			store_bind_value(st, (int)i + 1, &v[i]);
	for (size_t i = 0; i < t->ncolumns; i++)
		printf("%s%s", i ? "\t" : "", t->columns[i].name);
	putchar('\n');
	long long shown = 0;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (limit && shown == limit) {
			msg_say(stdout, MSG_LIST_MORE);
			break;
		}
		for (size_t i = 0; i < t->ncolumns; i++) {
			if (i)
				putchar('\t');
			textsafe_term_each((const char *)sqlite3_column_text(st, (int)i), put_bytes, stdout);
		}
		putchar('\n');
		shown++;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		rc = internal_error(s, "cannot read rows");
		goto done;
	}
	msg_say(stdout, MSG_LIST_COUNT, shown);
	rc = EXIT_OK;
done:
	for (size_t i = 0; i < ROW_MAX_COLUMNS; i++)
		free(canon[i]);
	records_writer_free(w);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	store_close(s);
	free(pos);
	return rc;
}

/* ---- import, export ---- */

/* Reads the whole file at path into *out (free with free()). 0, or an exit code after
 * a message (missing, unreadable, larger than CSVTABLE_MAX_BYTES). */
static int read_whole(const char *path, char **out, size_t *len)
{
	FILE *f = plat_fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	*out = NULL;
	if (!f) {
		msg_say(stderr, MSG_ERR_OPEN_FILE, path);
		return EXIT_NOINPUT;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= CSVTABLE_MAX_BYTES) {
				msg_say(stderr, MSG_ERR_CSV_TOO_LARGE, path, (unsigned long)(CSVTABLE_MAX_BYTES >> 20));
				free(buf);
				fclose(f);
				return EXIT_DATAERR;
			}
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				free(buf);
				fclose(f);
				return internal_error(NULL, "out of memory");
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		msg_say(stderr, MSG_ERR_OPEN_FILE, path);
		return EXIT_NOINPUT;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return EXIT_OK;
}

int cmd_import(int argc, char **argv)
{
	const char *db = store_default_path();
	const struct opt_spec specs[] = { { "--db", &db, NULL }, { NULL, NULL, NULL } };
	const char **pos = pos_new(argc);
	struct store *s = NULL;
	char *data = NULL;
	size_t len = 0, npos;
	int rc;
	if (!pos)
		return internal_error(NULL, "out of memory");
	if ((rc = parse_args(argc, argv, specs, MSG_USAGE_IMPORT, pos, &npos)) != 0)
		goto done;
	if (npos != 2) {
		rc = usage(MSG_USAGE_IMPORT);
		goto done;
	}
	const struct schema_table *t = find_table(pos[0], 1, &rc);
	if (!t)
		goto done;
	if ((rc = open_store(db, &s)) != EXIT_OK || (rc = need_unit(s)) != EXIT_OK ||
	    (rc = read_whole(pos[1], &data, &len)) != EXIT_OK)
		goto done;
	const struct records_sink sink = { print_refusal, NULL };
	const struct csvtable_options opt = { msg_english(), NULL };
	struct csvtable_counts n;
	switch (csvtable_import(s, t, data, len, &sink, &opt, &n)) {
	case CSVTABLE_OK:
		if (n.cp1258)
			msg_say(stderr, MSG_IMPORT_CP1258, pos[1]);
		msg_say(stdout, MSG_IMPORT_DONE, n.inserted + n.updated + n.unchanged, n.inserted, n.updated,
			n.unchanged);
		backup_if_due(s, db);
		rc = EXIT_OK;
		break;
	case CSVTABLE_REJECTED:
		msg_say(stderr, MSG_IMPORT_FAILED, n.bad_lines);
		rc = EXIT_DATAERR;
		break;
	case CSVTABLE_EMPTY:
		msg_say(stderr, MSG_ERR_CSV_EMPTY, pos[1]);
		rc = EXIT_DATAERR;
		break;
	case CSVTABLE_TCVN3:
		msg_say(stderr, MSG_ERR_CSV_TCVN3, pos[1]);
		rc = EXIT_DATAERR;
		break;
	case CSVTABLE_ENCODING:
		msg_say(stderr, MSG_ERR_CSV_ENCODING, pos[1]);
		rc = EXIT_DATAERR;
		break;
	case CSVTABLE_BUSY:
		msg_say(stderr, MSG_ERR_BUSY);
		rc = EXIT_TEMPFAIL;
		break;
	case CSVTABLE_FAILED:
	case CSVTABLE_IO:
		rc = internal_error(s, "import failed");
		break;
	}
done:
	free(data);
	store_close(s);
	free(pos);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	const char *db = store_default_path(), *out = NULL, *sep = NULL;
	const struct opt_spec specs[] = { { "--db", &db, NULL }, { "--out", &out, NULL }, { "--sep", &sep, NULL },
					  { NULL, NULL, NULL } };
	const char **pos = pos_new(argc);
	struct store *s = NULL;
	FILE *f = NULL;
	size_t npos;
	long long nrows = 0;
	int rc;
	if (!pos)
		return internal_error(NULL, "out of memory");
	if ((rc = parse_args(argc, argv, specs, MSG_USAGE_EXPORT, pos, &npos)) != 0)
		goto done;
	if (npos != 1 || (sep && strcmp(sep, ",") != 0 && strcmp(sep, ";") != 0)) {
		rc = usage(MSG_USAGE_EXPORT);
		goto done;
	}
	const struct schema_table *t = find_table(pos[0], 0, &rc);
	if (!t)
		goto done;
	if ((rc = open_store(db, &s)) != EXIT_OK)
		goto done;
	f = out ? plat_fopen(out, "wb") : stdout;
	if (!f) {
		msg_say(stderr, MSG_ERR_WRITE_FILE, out);
		rc = EXIT_CANTCREAT;
		goto done;
	}
	switch (csvtable_export(s, t, f, sep ? sep[0] : ',', &nrows)) {
	case CSVTABLE_OK: break;
	case CSVTABLE_IO:
		msg_say(stderr, MSG_ERR_WRITE_FILE, out ? out : "-");
		rc = EXIT_CANTCREAT;
		goto done;
	default:
		rc = internal_error(s, "export failed");
		goto done;
	}
	if (out) {
		/* On disk before "done" is said: the office may unplug the USB stick next. */
		int cerr = plat_sync_file(f) != 0;
		cerr |= fclose(f) != 0;
		f = NULL;
		if (cerr) {
			msg_say(stderr, MSG_ERR_WRITE_FILE, out);
			rc = EXIT_CANTCREAT;
			goto done;
		}
		msg_say(stderr, MSG_EXPORT_DONE, nrows, out);
	}
	rc = EXIT_OK;
done:
	if (f && f != stdout) {
		fclose(f);
		plat_remove(out); /* no half-written export is left behind */
	}
	store_close(s);
	free(pos);
	return rc;
}

/* ---- schema, backup ---- */

static void print_column(const struct schema_column *c)
{
	printf("  %-28s %s", c->name, c->label_vi);
	if (c->flags & SCHEMA_REQUIRED)
		printf(" [%s]", msg(MSG_SCHEMA_REQUIRED));
	if (c->flags & SCHEMA_KEY)
		printf(" [%s]", msg(MSG_SCHEMA_KEY));
	fputs(" — ", stdout);
	switch (c->type) {
	case SCHEMA_TEXT: printf(msg(MSG_TYPE_TEXT), c->max_len); break;
	case SCHEMA_INT: printf(msg(MSG_TYPE_INT), (long long)c->min, (long long)c->max); break;
	case SCHEMA_BOOL: fputs(msg(MSG_TYPE_BOOL), stdout); break;
	case SCHEMA_DATE: fputs(msg(MSG_TYPE_DATE), stdout); break;
	case SCHEMA_REF:
		if (c->flags & SCHEMA_ID)
			fputs(msg(MSG_TYPE_ID), stdout);
		else
			printf(msg(resolve_by_name(c->ref_table) ? MSG_TYPE_REF_NAME : MSG_TYPE_REF),
			       c->ref_table ? c->ref_table : "-");
		break;
	case SCHEMA_ENUM:
		fputs(msg(MSG_TYPE_ENUM), stdout);
		for (const struct schema_enum_value *v = c->enum_values; v->code; v++)
			printf("\n      %-20s %s", v->code, v->label_vi);
		break;
	}
	putchar('\n');
}

int cmd_schema(int argc, char **argv)
{
	int want_sql = 0;
	const struct opt_spec specs[] = { { "--sql", NULL, &want_sql }, { NULL, NULL, NULL } };
	const char **pos = pos_new(argc);
	size_t npos;
	int rc;
	if (!pos)
		return internal_error(NULL, "out of memory");
	if ((rc = parse_args(argc, argv, specs, MSG_USAGE_SCHEMA, pos, &npos)) != 0)
		goto done;
	if (npos > 1) {
		rc = usage(MSG_USAGE_SCHEMA);
		goto done;
	}
	if (want_sql) {
		char *sql = NULL;
		if (store_schema_sql(&sql)) {
			rc = internal_error(NULL, "out of memory");
			goto done;
		}
		fputs(sql, stdout);
		free(sql);
		rc = EXIT_OK;
		goto done;
	}
	const struct schema_table *only = NULL;
	if (npos == 1 && !(only = find_table(pos[0], 0, &rc)))
		goto done;
	msg_say(stdout, MSG_SCHEMA_VERSION, SCHEMA_VERSION);
	for (size_t i = 0; i < schema_ntables; i++) {
		const struct schema_table *t = &schema_tables[i];
		if ((only && t != only) || t->since > SCHEMA_VERSION)
			continue;
		printf("\n%s — %s%s%s\n", t->name, t->label_vi, t->hub_only ? " " : "",
		       t->hub_only ? msg(MSG_SCHEMA_HUB_ONLY) : "");
		for (size_t k = 0; k < t->ncolumns; k++)
			print_column(&t->columns[k]);
	}
	rc = EXIT_OK;
done:
	free(pos);
	return rc;
}

/* Where backups go: --dir, else config backup_dir, else beside the database. A new
 * string (free with free()), or NULL when out of memory or the config cannot be read. */
static char *backup_dir_new(struct store *s, const char *db, const char *dir)
{
	char *cfg = NULL;
	if (dir) {
		char *copy = malloc(strlen(dir) + 1);
		if (copy)
			memcpy(copy, dir, strlen(dir) + 1);
		return copy;
	}
	int rc = store_config_get(s, "backup_dir", &cfg);
	if (rc < 0)
		return NULL;
	if (rc == 0 && cfg[0])
		return cfg;
	free(cfg);
	const char *slash = strrchr(db, '/');
	const char *bslash = strrchr(db, '\\');
	if (bslash && (!slash || bslash > slash))
		slash = bslash;
	size_t n = slash ? (size_t)(slash - db) + 1 : 0;
	char *out = malloc(n + 2);
	if (!out)
		return NULL;
	if (n)
		memcpy(out, db, n);
	else
		out[n++] = '.';
	out[n] = '\0';
	return out;
}

/* The rolling backup without a scheduler: after a successful write, if this database
 * made no copy for BACKUP_INTERVAL_MS, make one now. A failure only warns: the data the
 * office just entered is safely committed either way. */
static void backup_if_due(struct store *s, const char *db)
{
	sqlite3_stmt *st = NULL;
	int64_t last = 0;
	char err[ERR_TEXT], path[BACKUP_PATH_MAX];
	if (sqlite3_prepare_v2(store_db(s), "SELECT coalesce(max(made_ms), 0) FROM lk_backup", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		last = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (store_wall_ms() - last < BACKUP_INTERVAL_MS)
		return;
	char *dir = backup_dir_new(s, db, NULL);
	int keep = (int)store_config_int(s, "backup_keep_days", BACKUP_KEEP_DAYS_DEFAULT);
	if (!dir || store_backup_to(s, dir, keep, path, sizeof path, err, sizeof err) != 0) {
		msg_say(stderr, MSG_WARN_BACKUP, dir ? dir : "?");
		log_line("automatic backup failed", dir ? err : "out of memory");
	}
	free(dir);
}

int cmd_backup(int argc, char **argv)
{
	const char *db = store_default_path(), *dir_opt = NULL, *keep_text = NULL;
	const struct opt_spec specs[] = { { "--db", &db, NULL }, { "--dir", &dir_opt, NULL },
					  { "--keep-days", &keep_text, NULL }, { NULL, NULL, NULL } };
	const char **pos = pos_new(argc);
	struct store *s = NULL;
	char *dir = NULL;
	char err[ERR_TEXT], path[BACKUP_PATH_MAX];
	size_t npos;
	long long keep = 0;
	int rc;
	if (!pos)
		return internal_error(NULL, "out of memory");
	if ((rc = parse_args(argc, argv, specs, MSG_USAGE_BACKUP, pos, &npos)) != 0)
		goto done;
	if (npos) {
		rc = usage(MSG_USAGE_BACKUP);
		goto done;
	}
	if (keep_text && parse_int(keep_text, 0, BACKUP_KEEP_DAYS_MAX, &keep)) {
		msg_say(stderr, MSG_ERR_BAD_NUMBER, keep_text, "--keep-days", 0LL, (long long)BACKUP_KEEP_DAYS_MAX);
		rc = EXIT_USAGE;
		goto done;
	}
	if ((rc = open_store(db, &s)) != EXIT_OK)
		goto done;
	if (!keep_text)
		keep = store_config_int(s, "backup_keep_days", BACKUP_KEEP_DAYS_DEFAULT);
	if (!(dir = backup_dir_new(s, db, dir_opt))) {
		rc = internal_error(s, "cannot choose the backup directory");
		goto done;
	}
	if (store_backup_to(s, dir, (int)keep, path, sizeof path, err, sizeof err) != 0) {
		msg_say(stderr, MSG_ERR_BACKUP, dir);
		log_line(err, NULL);
		rc = EXIT_CANTCREAT;
		goto done;
	}
	msg_say(stdout, MSG_BACKUP_DONE, path);
	rc = EXIT_OK;
done:
	free(dir);
	store_close(s);
	free(pos);
	return rc;
}
