/*
 * main.c — `lienket-hub`: the subcommand table and each command's options.
 *
 * Every command opens the database itself and returns a process exit code (0 ok,
 * 64 usage, 65 bad input, 66 no database, 70 internal error, 73 an output file (or the
 * database of init) that must not exist does). Logs and errors go to stderr in English;
 * only `enroll` prints a token, once, to stdout.
 *
 * Every file the hub makes (the database, its WAL and shared-memory files, backups,
 * digests, pages) is readable by its owner only: main sets the umask first (MAIN_UMASK).
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accountcmd.h"
#include "api.h"
#include "auth.h"
#include "changes.h"
#include "correct.h"
#include "hlc.h"
#include "enrollcsv.h"
#include "ids.h"
#include "joincode.h"
#include "migrate.h"
#include "ops.h"
#include "pins.h"
#include "reform.h"
#include "schema.h"
#include "server.h"
#include "store.h"
#include "textout.h"
#include "unitlabels.h"
#include "units.h"
#include "viewcmd.h"
#include "wire.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_NOINPUT 66
#define EXIT_SOFTWARE 70
#define EXIT_CANTCREAT 73
#define MAIN_MAX_FILE (64u << 20) /* merge-file reads at most this much */
/* Files made 0600 and folders 0700: the database holds every office's records and the
 * token hashes, a digest or a backup the same data. */
#define MAIN_UMASK 077

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Long options shared by the commands; each command accepts only those it lists. */
enum { OPT_DB = 1, OPT_UNITS, OPT_UNIT, OPT_VIEWER, OPT_NAME, OPT_LISTEN, OPT_CERT, OPT_KEY,
       OPT_PORT_FILE, OPT_AGENT, OPT_HELP, OPT_TRUST_PROXY, OPT_ON, OPT_INTO, OPT_TO, OPT_CODE,
       OPT_KIND, OPT_PARENT, OPT_REFORM, OPT_ALL, OPT_FORCE, OPT_NOTE, OPT_TIMEOUT, OPT_MAXCONN,
       OPT_THREADS, OPT_CSV, OPT_HUB, OPT_PIN, OPT_OUT };

static const struct option long_opts[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "units", required_argument, NULL, OPT_UNITS },
	{ "unit", required_argument, NULL, OPT_UNIT },
	{ "viewer", no_argument, NULL, OPT_VIEWER },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "agent", required_argument, NULL, OPT_AGENT },
	{ "trust-proxy", no_argument, NULL, OPT_TRUST_PROXY },
	{ "on", required_argument, NULL, OPT_ON },
	{ "into", required_argument, NULL, OPT_INTO },
	{ "to", required_argument, NULL, OPT_TO },
	{ "code", required_argument, NULL, OPT_CODE },
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "parent", required_argument, NULL, OPT_PARENT },
	{ "reform", required_argument, NULL, OPT_REFORM },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "note", required_argument, NULL, OPT_NOTE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "max-connections", required_argument, NULL, OPT_MAXCONN },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "hub", required_argument, NULL, OPT_HUB },
	{ "pin", required_argument, NULL, OPT_PIN },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *db, *units, *unit, *name, *listen, *cert, *key, *port_file, *agent;
	const char *on, *into, *to, *code, *kind, *parent, *reform, *note;
	const char *timeout, *max_connections, *threads, *csv, *hub, *out;
	const char *pins[JOINCODE_MAX_PINS + 1]; /* --pin, repeated; one too many is an error */
	int npins;
	int viewer, help, trust_proxy, all, force;
	int nargs;
	char **args;
};

/* Parses options; returns 0, or EXIT_USAGE after printing usage. */
static int parse(int argc, char **argv, const char *usage, struct opts *o)
{
	memset(o, 0, sizeof *o);
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_DB: o->db = optarg; break;
		case OPT_UNITS: o->units = optarg; break;
		case OPT_UNIT: o->unit = optarg; break;
		case OPT_VIEWER: o->viewer = 1; break;
		case OPT_NAME: o->name = optarg; break;
		case OPT_LISTEN: o->listen = optarg; break;
		case OPT_CERT: o->cert = optarg; break;
		case OPT_KEY: o->key = optarg; break;
		case OPT_PORT_FILE: o->port_file = optarg; break;
		case OPT_AGENT: o->agent = optarg; break;
		case OPT_TRUST_PROXY: o->trust_proxy = 1; break;
		case OPT_ON: o->on = optarg; break;
		case OPT_INTO: o->into = optarg; break;
		case OPT_TO: o->to = optarg; break;
		case OPT_CODE: o->code = optarg; break;
		case OPT_KIND: o->kind = optarg; break;
		case OPT_PARENT: o->parent = optarg; break;
		case OPT_REFORM: o->reform = optarg; break;
		case OPT_ALL: o->all = 1; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_NOTE: o->note = optarg; break;
		case OPT_TIMEOUT: o->timeout = optarg; break;
		case OPT_MAXCONN: o->max_connections = optarg; break;
		case OPT_THREADS: o->threads = optarg; break;
		case OPT_CSV: o->csv = optarg; break;
		case OPT_HUB: o->hub = optarg; break;
		case OPT_OUT: o->out = optarg; break;
		case OPT_PIN:
			if (o->npins <= JOINCODE_MAX_PINS)
				o->pins[o->npins] = optarg;
			o->npins++;
			break;
		case OPT_HELP: o->help = 1; break;
		default:
			fprintf(stderr, "lienket-hub: unknown option '%s'\nusage: %s\n", argv[optind - 1], usage);
			return EXIT_USAGE;
		}
	}
	o->nargs = argc - optind;
	o->args = argv + optind;
	if (o->help) {
		printf("usage: %s\n", usage);
		return -1;
	}
	return 0;
}

static int open_store(const char *db, int create, struct store **s)
{
	char err[512];
	if (!db) {
		fprintf(stderr, "lienket-hub: --db FILE is required\n");
		return EXIT_USAGE;
	}
	if (hub_store_open(db, create, s, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		return create ? EXIT_SOFTWARE : EXIT_NOINPUT;
	}
	return 0;
}

/* ---- init ---- */

static const char USAGE_INIT[] = "lienket-hub init --db FILE [--units units.csv]";

static int cmd_init(int argc, char **argv)
{
	struct opts o;
	struct store *s = NULL;
	int rc = parse(argc, argv, USAGE_INIT, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	/* Like backup: an existing file is the operator's mistake (73), never replaced. (A
	 * PostgreSQL database is the back end's to check: store_pg_open.) */
	struct stat sb;
	const char *file = o.db && strncmp(o.db, "sqlite:", 7) == 0 ? o.db + 7 : o.db;
	if (file && !store_is_pg(file) && lstat(file, &sb) == 0) {
		fprintf(stderr, "lienket-hub: '%s' exists; init never replaces a database: give a new"
				" name\nusage: %s\n", o.db, USAGE_INIT);
		return EXIT_CANTCREAT;
	}
	if ((rc = open_store(o.db, 1, &s)) != 0)
		return rc;
	char hub_id[40];
	if (s->meta_get(s, "hub_id", hub_id, sizeof hub_id) != 0) {
		fprintf(stderr, "lienket-hub: cannot read the hub id of '%s'\n", o.db);
		rc = EXIT_SOFTWARE;
		goto done;
	}
	if (o.units) {
		char err[512] = "cannot read the hub's journal";
		size_t created = 0;
		if (s->begin(s) != 0) {
			fprintf(stderr, "lienket-hub: cannot start a transaction on '%s'\n", o.db);
			rc = EXIT_SOFTWARE;
			goto done;
		}
		struct changes_hub_mark mark;
		int64_t now = wall_ms();
		if (changes_hub_mark(s, &mark) != 0 ||
		    units_load_csv(s, o.units, now, &created, err, sizeof err) != 0) {
			s->rollback(s);
			fprintf(stderr, "lienket-hub: %s\n", err);
			rc = EXIT_DATAERR;
			goto done;
		}
		if (changes_hub_receipt(s, &mark, now) != 0 || s->commit(s) != 0) {
			fprintf(stderr, "lienket-hub: cannot commit the units to '%s'\n", o.db);
			rc = EXIT_SOFTWARE;
			goto done;
		}
		printf("units: %zu created\n", created);
	}
	printf("hub_id: %s\n", hub_id);
done:
	s->close(s);
	if (rc == EXIT_DATAERR)
		remove(o.db);
	return rc;
}

/* ---- units ---- */

struct list_ctx {
	struct store *s;
	const char *on;
	int all;
	int failed;
};

static int print_unit(void *ctx, const struct store_unit_info *u)
{
	struct list_ctx *L = ctx;
	char succ[37] = "";
	int closed = L->s->unit_closed(L->s, u->id, L->on, succ);
	if (closed < 0)
		return -1;
	if ((closed || !u->name) && !L->all)
		return 0; /* closed, or not yet opened on that date */
	/* names and codes are written by offices: control characters escaped (a tab too,
	 * so the columns stay columns) */
	printf("%s\t", u->id);
	textout_term(stdout, u->code ? u->code : "-");
	putchar('\t');
	textout_term(stdout, u->name ? u->name : "-");
	printf("\t%s\t%s\t%s\n", u->kind ? u->kind : "-", u->parent_id ? u->parent_id : "-",
	       closed ? (succ[0] ? succ : "closed") : "open");
	return 0;
}

static const char USAGE_UNITS[] =
	"lienket-hub units list|import|open|rename|merge|split|move|close --db FILE [--on YYYY-MM-DD] ...\n"
	"    units list [--on DATE] [--all]     id, code, name, kind, parent, state (open, or the successor)\n"
	"    units import UNITS.csv             load more units (the `init --units` format)\n"
	"    units import --reform FILE.csv --on DATE   apply an official conversion (e.g. 2025-07-01)\n"
	"    units open --name NAME --kind KIND [--code CODE] [--parent UNIT] --on DATE\n"
	"    units rename --unit UNIT --name NAME [--code CODE] [--kind KIND] [--note TEXT] --on DATE\n"
	"    units merge --unit UNIT --into UNIT --on DATE\n"
	"    units split --unit UNIT --into UNIT,UNIT[,...] --on DATE   (naming UNIT itself: it lives on)\n"
	"    units move --unit UNIT --to PARENT --on DATE\n"
	"    units close --unit UNIT [--into SUCCESSOR] [--note TEXT] --on DATE\n"
	"    UNIT is a unit id or an official code valid on DATE; DATE defaults to today (Vietnam).";

/* Runs one reform subcommand inside a transaction. */
static int units_reform(struct opts *o, const char *sub, struct store *s, char *what, size_t wlen)
{
	struct reform r;
	struct changes_hub_mark mark;
	char today[11], unit[37] = "", other[37] = "", id[37] = "";
	int64_t now = wall_ms();
	units_today(now, today);
	const char *on = o->on ? o->on : today;
	if (s->begin(s) != 0) {
		fprintf(stderr, "lienket-hub: cannot start a transaction on '%s'\n", o->db);
		return EXIT_SOFTWARE;
	}
	if (changes_hub_mark(s, &mark) != 0) {
		s->rollback(s);
		fprintf(stderr, "lienket-hub: cannot read the hub's journal\n");
		return EXIT_SOFTWARE;
	}
	int rc = reform_init(&r, s, on, now);
	if (rc == 0 && o->unit)
		rc = reform_resolve(&r, o->unit, r.on, unit);
	if (strcmp(sub, "open") == 0) {
		if (rc == 0 && o->parent)
			rc = reform_resolve(&r, o->parent, r.on, other);
		if (rc == 0)
			rc = reform_open(&r, o->name, o->code, o->kind, o->parent ? other : NULL, id);
		snprintf(what, wlen, "open %s %s on %s", id, o->name ? o->name : "", r.on);
	} else if (strcmp(sub, "rename") == 0) {
		if (rc == 0)
			rc = reform_rename(&r, unit, o->name, o->code, o->kind, o->note);
		snprintf(what, wlen, "rename %s to %s on %s", unit, o->name ? o->name : "", r.on);
	} else if (strcmp(sub, "merge") == 0) {
		if (rc == 0)
			rc = reform_resolve(&r, o->into, r.on, other);
		if (rc == 0)
			rc = reform_merge(&r, unit, other);
		snprintf(what, wlen, "merge %s into %s on %s", unit, other, r.on);
	} else if (strcmp(sub, "move") == 0) {
		if (rc == 0)
			rc = reform_resolve(&r, o->to, r.on, other);
		if (rc == 0)
			rc = reform_move(&r, unit, other);
		snprintf(what, wlen, "move %s under %s on %s", unit, other, r.on);
	} else if (strcmp(sub, "close") == 0) {
		if (rc == 0 && o->into)
			rc = reform_resolve(&r, o->into, r.on, other);
		if (rc == 0)
			rc = reform_close(&r, unit, o->into ? other : NULL, o->note);
		snprintf(what, wlen, "close %s on %s", unit, r.on);
	} else if (strcmp(sub, "split") == 0) {
		char ids[16][37], list[512];
		const char *parts[16];
		size_t n = 0;
		snprintf(list, sizeof list, "%s", o->into);
		char *save = NULL;
		for (char *tok = strtok_r(list, ",", &save); rc == 0 && tok; tok = strtok_r(NULL, ",", &save)) {
			if (n == 16) {
				snprintf(r.err, sizeof r.err, "too many parts");
				r.code = REFORM_BAD;
				rc = -1;
				break;
			}
			rc = reform_resolve(&r, tok, r.on, ids[n]);
			parts[n] = ids[n];
			n++;
		}
		if (rc == 0)
			rc = reform_split(&r, unit, parts, n);
		snprintf(what, wlen, "split %s into %s on %s", unit, o->into, r.on);
	} else { /* import --reform */
		struct reform_summary sum;
		if (rc == 0)
			rc = reform_import(&r, o->reform, &sum);
		if (rc == 0)
			printf("new units: %zu (reused %zu); merged: %zu; split: %zu; districts closed: %zu;"
			       " province renamed: %s\n", sum.new_units, sum.reused_units, sum.merged,
			       sum.split, sum.districts_closed, sum.province_renamed ? "yes" : "no");
		snprintf(what, wlen, "import --reform %s on %s", o->reform, r.on);
	}
	if (rc == 0 && changes_hub_receipt(s, &mark, now) != 0) {
		snprintf(r.err, sizeof r.err, "cannot write the receipt");
		r.code = REFORM_FAIL;
		rc = -1;
	}
	if (rc != 0) {
		s->rollback(s);
		fprintf(stderr, "lienket-hub: %s\n", r.err);
		return r.code == REFORM_BAD ? EXIT_DATAERR : EXIT_SOFTWARE;
	}
	if (s->commit(s) != 0) {
		fprintf(stderr, "lienket-hub: cannot commit to '%s'\n", o->db);
		return EXIT_SOFTWARE;
	}
	if (id[0])
		printf("%s\n", id);
	printf("events: %zu, units opened: %zu, effective %s\n", r.events, r.units_opened, r.on);
	return 0;
}

static int cmd_units(int argc, char **argv)
{
	struct opts o;
	struct store *s = NULL;
	char what[1024] = "";
	int rc = parse(argc, argv, USAGE_UNITS, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	const char *sub = o.nargs >= 1 ? o.args[0] : "";
	static const char *const subs[] = { "list", "import", "open", "rename", "merge", "split", "move",
					    "close" };
	int known = 0;
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		known |= strcmp(sub, subs[i]) == 0;
	int import_csv = strcmp(sub, "import") == 0 && !o.reform;
	int need_unit = strcmp(sub, "list") != 0 && strcmp(sub, "import") != 0 &&
			strcmp(sub, "open") != 0;
	if (!known || (o.nargs != 1 + import_csv) || (need_unit && !o.unit) ||
	    ((!strcmp(sub, "merge") || !strcmp(sub, "split")) && !o.into) || (!strcmp(sub, "move") && !o.to) ||
	    ((!strcmp(sub, "rename") || !strcmp(sub, "open")) && !o.name) ||
	    (!strcmp(sub, "open") && !o.kind)) {
		fprintf(stderr, "usage: %s\n", USAGE_UNITS);
		return EXIT_USAGE;
	}
	if ((rc = open_store(o.db, 0, &s)) != 0)
		return rc;
	if (strcmp(sub, "list") == 0) {
		char today[11];
		units_today(wall_ms(), today);
		struct list_ctx L = { s, o.on ? o.on : today, o.all, 0 };
		if (s->units_list(s, L.on, print_unit, &L) != 0) {
			fprintf(stderr, "lienket-hub: cannot list units\n");
			rc = EXIT_SOFTWARE;
		}
	} else if (import_csv) {
		char err[512];
		size_t created = 0;
		struct changes_hub_mark mark;
		int64_t now = wall_ms();
		if (s->begin(s) != 0) {
			fprintf(stderr, "lienket-hub: cannot start a transaction on '%s'\n", o.db);
			rc = EXIT_SOFTWARE;
		} else if (changes_hub_mark(s, &mark) != 0) {
			s->rollback(s);
			fprintf(stderr, "lienket-hub: cannot read the hub's journal in '%s'\n", o.db);
			rc = EXIT_SOFTWARE;
		} else if (units_load_csv(s, o.args[1], now, &created, err, sizeof err) != 0) {
			s->rollback(s);
			fprintf(stderr, "lienket-hub: %s\n", err);
			rc = EXIT_DATAERR;
		} else if (changes_hub_receipt(s, &mark, now) != 0 || s->commit(s) != 0) {
			fprintf(stderr, "lienket-hub: cannot commit the units to '%s'\n", o.db);
			rc = EXIT_SOFTWARE;
		} else {
			printf("units: %zu created\n", created);
			snprintf(what, sizeof what, "import %s (%zu units)", o.args[1], created);
		}
	} else {
		rc = units_reform(&o, sub, s, what, sizeof what);
	}
	s->close(s);
	if (rc == 0 && what[0] && ops_log(o.db, wall_ms(), "reform", what, (char *)NULL) != 0)
		fprintf(stderr, "lienket-hub: warning: cannot append to the operations log of '%s'\n", o.db);
	return rc;
}

/* ---- enroll ---- */

static const char USAGE_ENROLL[] =
	"lienket-hub enroll --db FILE (--unit UNIT_ID_OR_CODE [--agent AGENT_ID] | --viewer) [--name NAME]\n"
	"    lienket-hub enroll --db FILE --csv OFFICES.csv --hub URL --pin CERT.pem --pin BACKUP-KEY.pem --out DIR\n"
	"    --csv: one token per office of OFFICES.csv (header unit,name) and a printable A4 sheet per\n"
	"    office in DIR with its join code (hub URL, unit, token, pinned keys) as text and QR code.\n"
	"    --pin: a PEM certificate, public key or private key; two at least for https (the hub's key\n"
	"    and a backup key kept off the server, for the next certificate), none for http.";

/* enroll --csv: the pins first (a usage error when missing or unreadable), then
 * enrollcsv does the rest. */
static int enroll_csv(const struct opts *o)
{
	char err[1024], pins[JOINCODE_PINS_MAX] = "";
	struct store *s = NULL;
	if (!o->hub || !o->out || o->nargs || o->unit || o->viewer || o->agent || o->name || o->npins > JOINCODE_MAX_PINS) {
		fprintf(stderr, "usage: %s\n", USAGE_ENROLL);
		return EXIT_USAGE;
	}
	for (int i = 0; i < o->npins; i++) {
		char pin[JOINCODE_PIN_LEN + 1];
		if (pins_from_pem(o->pins[i], pin, err, sizeof err) != 0) {
			fprintf(stderr, "lienket-hub: --pin: %s\n", err);
			return EXIT_USAGE;
		}
		size_t len = strlen(pins);
		snprintf(pins + len, sizeof pins - len, "%s%s", i ? ";" : "", pin);
	}
	/* the fields a join code carries, checked once with a stand-in unit and token */
	struct joincode probe = { 0 };
	snprintf(probe.url, sizeof probe.url, "%s", o->hub);
	snprintf(probe.unit, sizeof probe.unit, "00000000-0000-7000-8000-000000000000");
	snprintf(probe.token, sizeof probe.token, "lk_%043d", 0);
	snprintf(probe.pins, sizeof probe.pins, "%s", pins);
	if (strlen(o->hub) > JOINCODE_URL_MAX || !joincode_fields_valid(&probe)) {
		fprintf(stderr, "lienket-hub: --hub must be https://HOST[:PORT] (or http:// to a loopback"
				" address) and --pin must name two different keys for https, none for"
				" http (PROTOCOL.md §12)\nusage: %s\n", USAGE_ENROLL);
		return EXIT_USAGE;
	}
	int rc = open_store(o->db, 0, &s);
	if (rc != 0)
		return rc;
	struct enrollcsv_options eo = { .db = o->db, .csv = o->csv, .hub_url = o->hub, .pins = pins,
					.out_dir = o->out, .now_ms = wall_ms() };
	enum enrollcsv_result r = enrollcsv_run(s, &eo, stdout, err, sizeof err);
	s->close(s);
	if (r != ENROLLCSV_OK) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		return r == ENROLLCSV_BAD ? EXIT_DATAERR : r == ENROLLCSV_EXISTS ? EXIT_CANTCREAT : EXIT_SOFTWARE;
	}
	fprintf(stderr, "lienket-hub: each sheet holds its office's token: print them, hand them over,"
			" and delete the files; the hub keeps only the tokens' hashes\n");
	return 0;
}

/* --agent: the token is bound from the start to a laptop's existing agent id
 * (PROTOCOL.md §9), so a laptop reinstalled with its database keeps its sequence. */
static int enroll_agent(struct store *s, const struct opts *o, const char *unit, char *token)
{
	int revoked = 0;
	int64_t now = wall_ms();
	if (!ids_uuid_valid(o->agent)) {
		fprintf(stderr, "lienket-hub: '%s' is not an agent id (a lowercase UUID, as "
				"`lienket-agent status` shows it)\n", o->agent);
		return EXIT_USAGE;
	}
	if (s->begin(s) != 0)
		goto failed;
	int r = auth_enroll_agent(s, unit, o->name, o->agent, now, token, &revoked);
	if (r != AUTH_ENROLL_OK) {
		s->rollback(s);
		if (r < 0)
			goto failed;
		if (r == AUTH_ENROLL_UNKNOWN_AGENT)
			fprintf(stderr, "lienket-hub: the hub has never seen agent '%s' (see "
					"`lienket-hub agents list`)\n", o->agent);
		else if (r == AUTH_ENROLL_RETIRED)
			fprintf(stderr, "lienket-hub: agent '%s' was retired by a recover; enroll "
					"without --agent\n", o->agent);
		else
			fprintf(stderr, "lienket-hub: agent '%s' belongs to another unit, neither %s "
					"nor one merged into it\n", o->agent, unit);
		return EXIT_DATAERR;
	}
	if (s->commit(s) != 0)
		goto failed;
	if (revoked) {
		fprintf(stderr, "lienket-hub: %d earlier token(s) of agent %s revoked\n", revoked,
			o->agent);
		if (ops_log_revoked(o->db, s, now) != 0)
			fprintf(stderr, "lienket-hub: warning: cannot append to the operations log of '%s'\n", o->db);
	}
	return 0;
failed:
	fprintf(stderr, "lienket-hub: cannot store the token in '%s'\n", o->db);
	return EXIT_SOFTWARE;
}

static int cmd_enroll(int argc, char **argv)
{
	struct opts o;
	struct store *s = NULL;
	char unit[37] = "", token[IDS_TOKEN_TEXT];
	int rc = parse(argc, argv, USAGE_ENROLL, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.csv)
		return enroll_csv(&o);
	if (!!o.unit == !!o.viewer || (o.agent && o.viewer) || o.npins || o.hub || o.out) {
		fprintf(stderr, "usage: %s\n", USAGE_ENROLL);
		return EXIT_USAGE;
	}
	if ((rc = open_store(o.db, 0, &s)) != 0)
		return rc;
	if (o.unit) {
		char today[11];
		units_today(wall_ms(), today);
		int k = ids_uuid_valid(o.unit) ? s->unit_known(s, o.unit) : 0;
		if (k == 1)
			snprintf(unit, sizeof unit, "%s", o.unit);
		else if (k < 0 || s->unit_by_code(s, o.unit, today, unit) != 0) {
			fprintf(stderr, "lienket-hub: unknown unit '%s' (give a unit id or an official code;"
					" see `lienket-hub units list`)\n", o.unit);
			rc = EXIT_DATAERR;
			goto done;
		}
	}
	if (o.agent) {
		if ((rc = enroll_agent(s, &o, unit, token)) != 0)
			goto done;
	} else if (s->begin(s) != 0 ||
		   auth_enroll(s, o.viewer ? NULL : unit, o.name, wall_ms(), token) != 0 ||
		   s->commit(s) != 0) {
		fprintf(stderr, "lienket-hub: cannot store the token in '%s'\n", o.db);
		rc = EXIT_SOFTWARE;
		goto done;
	}
	printf("token: %s\n", token);
	{
		char prefix[STORE_TOKEN_PREFIX + 1];
		memcpy(prefix, token, STORE_TOKEN_PREFIX);
		prefix[STORE_TOKEN_PREFIX] = '\0';
		if (ops_log(o.db, wall_ms(), "enroll", prefix, o.viewer ? "viewer" : unit,
			    o.name ? o.name : "", o.agent ? o.agent : (char *)NULL, (char *)NULL) != 0)
			fprintf(stderr, "lienket-hub: warning: cannot append to the operations log of '%s'\n", o.db);
	}
	if (!o.viewer)
		printf("unit: %s\n", unit);
	else
		printf("kind: viewer\n");
	if (o.agent)
		printf("agent: %s\n", o.agent);
	fprintf(stderr, "lienket-hub: the token is shown only once; the hub keeps only its hash\n");
done:
	s->close(s);
	return rc;
}

/* ---- revoke ---- */

static const char USAGE_REVOKE[] = "lienket-hub revoke --db FILE TOKEN_PREFIX|AGENT_ID";

static int cmd_revoke(int argc, char **argv)
{
	struct opts o;
	struct store *s = NULL;
	int rc = parse(argc, argv, USAGE_REVOKE, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs != 1) {
		fprintf(stderr, "usage: %s\n", USAGE_REVOKE);
		return EXIT_USAGE;
	}
	if ((rc = open_store(o.db, 0, &s)) != 0)
		return rc;
	int n = -1;
	int64_t now = wall_ms();
	if (s->begin(s) == 0) {
		n = auth_revoke(s, o.args[0], now);
		if (n < 0 || s->commit(s) != 0) {
			if (n >= 0)
				n = -1;
			else
				s->rollback(s);
		}
	}
	if (n < 0) {
		fprintf(stderr, "lienket-hub: cannot revoke in '%s'\n", o.db);
		rc = EXIT_SOFTWARE;
	} else if (n == 0) {
		fprintf(stderr, "lienket-hub: no active token matches '%s'\n", o.args[0]);
		rc = EXIT_DATAERR;
	} else {
		if (ops_log_revoked(o.db, s, now) != 0)
			fprintf(stderr, "lienket-hub: warning: cannot append to the operations log of '%s': a restore"
					" would not re-apply this revocation\n", o.db);
		printf("revoked: %d\n", n);
	}
	s->close(s);
	return rc;
}

/* ---- agents list ---- */

struct agents_ctx {
	struct store *s;
	struct unitlabels units;
};

/* Unix ms as Vietnam's local time (UTC+7, no daylight saving), "never" for 0. */
static void vn_time(int64_t ms, char out[24])
{
	if (ms <= 0) {
		snprintf(out, 24, "never");
		return;
	}
	time_t t = (time_t)(ms / 1000) + 7 * 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 24, "%Y-%m-%d %H:%M +07", &tm);
}

static int print_token(void *ctx, const struct store_token *t)
{
	struct agents_ctx *C = ctx;
	struct store_agent a;
	int has = t->agent_id[0] && C->s->agent_get(C->s, t->agent_id, &a) == 0;
	printf("%s\t%s\t%s\t%s\t", t->prefix, t->kind == STORE_TOKEN_VIEWER ? "viewer" : "agent",
	       t->unit_id[0] ? t->unit_id : "-", t->agent_id[0] ? t->agent_id : "-");
	/* the name is free text typed at enrolment: escaped, so a tab or an escape
	 * sequence neither splits the columns nor reaches the terminal raw */
	textout_term(stdout, t->name[0] ? t->name : "-");
	char when[24];
	vn_time(has ? (a.last_hello_ms > a.last_changes_ms ? a.last_hello_ms : a.last_changes_ms) : 0, when);
	printf("\t%s\t%" PRIu64 "\t%s\t",
	       t->revoked_ms ? "revoked" : (has && a.retired_to[0]) ? "retired" : "active",
	       has ? a.acked : 0, when);
	const char *label = unitlabels_find(&C->units, t->unit_id);
	/* unit names come from offices' and the province's records: escaped as well */
	textout_term(stdout, label ? label : "-");
	putchar('\n');
	return 0;
}

static const char USAGE_AGENTS[] =
	"lienket-hub agents list --db FILE   (a header line, then one token a line, tab-separated:"
	" token prefix, kind, unit id, agent, name, state, acked, last contact (Vietnam time),"
	" unit (code and name today))";

static int cmd_agents(int argc, char **argv)
{
	struct opts o;
	struct agents_ctx C = { 0 };
	int rc = parse(argc, argv, USAGE_AGENTS, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs != 1 || strcmp(o.args[0], "list") != 0) {
		fprintf(stderr, "usage: %s\n", USAGE_AGENTS);
		return EXIT_USAGE;
	}
	if ((rc = open_store(o.db, 0, &C.s)) != 0)
		return rc;
	char today[11];
	units_today(wall_ms(), today);
	if (unitlabels_load(C.s, today, &C.units) != 0) {
		fprintf(stderr, "lienket-hub: cannot read the units\n");
		rc = EXIT_SOFTWARE;
		goto done;
	}
	printf("token\tkind\tunit id\tagent\tname\tstate\tacked\tlast contact\tunit\n");
	if (C.s->tokens_list(C.s, print_token, &C) != 0) {
		fprintf(stderr, "lienket-hub: cannot list tokens\n");
		rc = EXIT_SOFTWARE;
	}
done:
	unitlabels_release(&C.units);
	C.s->close(C.s);
	return rc;
}

/* ---- merge-file ---- */

static const char USAGE_MERGE[] =
	"lienket-hub merge-file --db FILE --agent ID [--unit UNIT] CHANGESET.json   (inflated JSON; prints the answer)";

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(MAIN_MAX_FILE + 1);
	size_t n = buf ? fread(buf, 1, MAIN_MAX_FILE + 1, f) : 0;
	fclose(f);
	if (!buf || n > MAIN_MAX_FILE) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int cmd_merge_file(int argc, char **argv)
{
	struct opts o;
	struct store *s = NULL;
	struct wire_changeset *cs = NULL;
	struct wire_status ws = { 0 };
	struct changes_result res = { 0 };
	char *json = NULL, *text = NULL;
	size_t len = 0;
	int rc = parse(argc, argv, USAGE_MERGE, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs != 1 || !o.agent) {
		fprintf(stderr, "usage: %s\n", USAGE_MERGE);
		return EXIT_USAGE;
	}
	if (!(json = read_file(o.args[0], &len))) {
		fprintf(stderr, "lienket-hub: cannot read '%s'\n", o.args[0]);
		return EXIT_NOINPUT;
	}
	if ((rc = open_store(o.db, 0, &s)) != 0)
		goto done;
	if (wire_changeset_decode(json, len, &cs, &ws) != 0) {
		fprintf(stderr, "lienket-hub: '%s': %s: %s (%s)\n", o.args[0], wire_error_code(ws.code),
			ws.message, ws.field);
		rc = EXIT_DATAERR;
		goto done;
	}
	if (strcmp(cs->agent, o.agent) != 0) {
		fprintf(stderr, "lienket-hub: the change set is from agent %s, not %s\n", cs->agent, o.agent);
		rc = EXIT_DATAERR;
		goto done;
	}
	char unit[37] = "";
	struct store_agent ag;
	if (o.unit)
		snprintf(unit, sizeof unit, "%s", o.unit);
	else if (s->agent_get(s, o.agent, &ag) == 0)
		snprintf(unit, sizeof unit, "%s", ag.unit_id);
	if (!unit[0]) {
		fprintf(stderr, "lienket-hub: agent %s is unknown: give --unit\n", o.agent);
		rc = EXIT_DATAERR;
		goto done;
	}
	int64_t now = wall_ms();
	if (changes_precheck(cs, now, &res) == 0) {
		if (s->begin(s) != 0 || changes_apply(s, cs, NULL, NULL, unit, NULL, now, HLC_MAX_AHEAD_MS, &res) != 0) {
			s->rollback(s);
			fprintf(stderr, "lienket-hub: storage failure while merging\n");
			rc = EXIT_SOFTWARE;
			goto done;
		}
		if (s->commit(s) != 0) {
			fprintf(stderr, "lienket-hub: cannot commit\n");
			rc = EXIT_SOFTWARE;
			goto done;
		}
	}
	text = res.status == 200 ? wire_changes_answer_encode(&res.answer)
				 : wire_error_answer_encode(&res.error);
	printf("%d %s\n", res.status, text ? text : "");
	rc = res.status == 200 ? 0 : EXIT_DATAERR;
done:
	free(text);
	changes_result_release(&res);
	wire_changeset_free(cs);
	if (s)
		s->close(s);
	free(json);
	return rc;
}

/* ---- serve ---- */

static const char USAGE_SERVE[] =
	"lienket-hub serve --db FILE --listen ADDR:PORT [--cert CERT.pem --key KEY.pem] [--port-file F]"
	" [--trust-proxy] [--timeout SECONDS] [--max-connections N] [--threads N]";

/* A positive count option ("" or NULL: 0, the server's default). 0 or -1. */
static int count_opt(const char *name, const char *text, unsigned max, unsigned *out)
{
	char *end = NULL;
	*out = 0;
	if (!text)
		return 0;
	unsigned long v = strtoul(text, &end, 10);
	if (!*text || *end || text[0] == '-' || v == 0 || v > max) {
		fprintf(stderr, "lienket-hub: --%s must be a number from 1 to %u\n", name, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	struct opts o;
	struct api *a = NULL;
	char err[512];
	int rc = parse(argc, argv, USAGE_SERVE, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	struct server_options so = { .listen = o.listen, .cert_file = o.cert, .key_file = o.key,
				     .port_file = o.port_file };
	if (!o.db || !o.listen || (!o.cert != !o.key) ||
	    count_opt("timeout", o.timeout, 3600, &so.timeout_s) != 0 ||
	    count_opt("max-connections", o.max_connections, 100000, &so.max_connections) != 0 ||
	    count_opt("threads", o.threads, 256, &so.threads) != 0) {
		fprintf(stderr, "usage: %s\n", USAGE_SERVE);
		return EXIT_USAGE;
	}
	int lock = ops_serving_lock(o.db, err, sizeof err);
	if (lock < 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		return EXIT_SOFTWARE;
	}
	struct api_options ao = { .db_path = o.db, .trust_proxy = o.trust_proxy,
				   .tls = o.cert != NULL };
	if (api_new(&ao, &a, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		close(lock);
		return EXIT_NOINPUT;
	}
	signal(SIGPIPE, SIG_IGN);
	if (server_run(&so, a, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		rc = EXIT_SOFTWARE;
	}
	api_free(a);
	close(lock);
	return rc;
}

/* ---- corrections: add, set, rm ---- */

static const char USAGE_ADD[] =
	"lienket-hub add --db FILE TABLE field=value ...   (unit_id=UNIT, default the province; prints the id)";
static const char USAGE_SET[] = "lienket-hub set --db FILE TABLE ID field=value ...";
static const char USAGE_RM[] = "lienket-hub rm --db FILE TABLE ID";

static int correction(int argc, char **argv, enum correct_op op, const char *usage)
{
	struct opts o;
	struct store *s = NULL;
	char err[512], id[37] = "";
	int changed = 0;
	int rc = parse(argc, argv, usage, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	size_t fixed = op == CORRECT_ADD ? 1 : 2;
	if ((size_t)o.nargs < fixed || (op == CORRECT_RM && o.nargs != 2) ||
	    (op == CORRECT_SET && o.nargs < 3)) {
		fprintf(stderr, "usage: %s\n", usage);
		return EXIT_USAGE;
	}
	if ((rc = open_store(o.db, 0, &s)) != 0)
		return rc;
	int64_t now = wall_ms();
	if (s->begin(s) != 0) {
		fprintf(stderr, "lienket-hub: cannot start a transaction on '%s'\n", o.db);
		rc = EXIT_SOFTWARE;
		goto done;
	}
	int r = correct_apply(s, op, o.args[0], op == CORRECT_ADD ? NULL : o.args[1],
			      (const char *const *)o.args + fixed, (size_t)o.nargs - fixed, now, id,
			      &changed, err, sizeof err);
	if (r != CORRECT_OK) {
		s->rollback(s);
		fprintf(stderr, "lienket-hub: %s\n", err);
		rc = r == CORRECT_REFUSED ? EXIT_DATAERR : EXIT_SOFTWARE;
		goto done;
	}
	if (s->commit(s) != 0) {
		fprintf(stderr, "lienket-hub: cannot commit to '%s'\n", o.db);
		rc = EXIT_SOFTWARE;
		goto done;
	}
	static const char *const names[] = { "add", "set", "rm" };
	if (op == CORRECT_ADD)
		printf("%s\n", id);
	else
		printf("%s\n", !changed ? "unchanged" : op == CORRECT_SET ? "updated" : "removed");
	if (changed && ops_log(o.db, now, "correction", names[op], o.args[0], id, (char *)NULL) != 0)
		fprintf(stderr, "lienket-hub: warning: cannot append to the operations log of '%s'\n", o.db);
done:
	s->close(s);
	return rc;
}

static int cmd_add(int argc, char **argv) { return correction(argc, argv, CORRECT_ADD, USAGE_ADD); }
static int cmd_set(int argc, char **argv) { return correction(argc, argv, CORRECT_SET, USAGE_SET); }
static int cmd_rm(int argc, char **argv) { return correction(argc, argv, CORRECT_RM, USAGE_RM); }

/* ---- receipts ---- */

static const char USAGE_RECEIPTS[] =
	"lienket-hub receipts --db FILE [--agent ID] [--all]   (newest first, 50 unless --all; tab-separated:"
	" received UTC, writer (province|office), agent, from, to, applied, quarantined, held, skipped,"
	" duplicate)";

/* The hub's own receipts carry its id (this one, or the one before a restore): an id
 * that is no agent's. */
static int print_receipt(void *ctx, const struct store_receipt *r)
{
	struct store *s = ctx;
	struct store_agent ag;
	int office = s->agent_get(s, r->agent_id, &ag);
	if (office < 0)
		return -1;
	char when[32];
	time_t t = (time_t)(r->received_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64
	       "\t%s\n", when, office == 1 ? "province" : "office", r->agent_id,
	       r->seq_from, r->seq_to, r->applied, r->quarantined, r->held, r->skipped,
	       r->duplicate ? "duplicate" : "-");
	return 0;
}

static int cmd_receipts(int argc, char **argv)
{
	struct opts o;
	struct store *s = NULL;
	int rc = parse(argc, argv, USAGE_RECEIPTS, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs != 0) {
		fprintf(stderr, "usage: %s\n", USAGE_RECEIPTS);
		return EXIT_USAGE;
	}
	if ((rc = open_store(o.db, 0, &s)) != 0)
		return rc;
	if (s->receipts_list(s, o.agent, o.all ? (size_t)INT64_MAX : 50, print_receipt, s) != 0) {
		fprintf(stderr, "lienket-hub: cannot list receipts\n");
		rc = EXIT_SOFTWARE;
	}
	s->close(s);
	return rc;
}

/* ---- backup, restore ---- */

static const char USAGE_BACKUP[] = "lienket-hub backup --db FILE OUT   (while serving; OUT must not exist)";
static const char USAGE_RESTORE[] =
	"lienket-hub restore --db FILE [--force] BACKUP   (the hub stopped; --force: an older backup)";

static int cmd_backup(int argc, char **argv)
{
	struct opts o;
	struct ops_backup_result res;
	char err[1024];
	int rc = parse(argc, argv, USAGE_BACKUP, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!o.db || o.nargs != 1) {
		fprintf(stderr, "usage: %s\n", USAGE_BACKUP);
		return EXIT_USAGE;
	}
	struct stat sb;
	if (lstat(o.args[0], &sb) == 0) {
		fprintf(stderr, "lienket-hub: '%s' exists; a backup never replaces a file: give a new"
				" name\nusage: %s\n", o.args[0], USAGE_BACKUP);
		return EXIT_CANTCREAT;
	}
	if (ops_backup(o.db, o.args[0], wall_ms(), &res, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		return EXIT_SOFTWARE;
	}
	printf("backup: %s\nhub_id: %s\nhub sequence: %" PRIu64 "\nagents covered: %zu\n", o.args[0],
	       res.hub_id, res.hs, res.agents);
	return 0;
}

static int cmd_restore(int argc, char **argv)
{
	struct opts o;
	char err[2048];
	int rc = parse(argc, argv, USAGE_RESTORE, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!o.db || o.nargs != 1) {
		fprintf(stderr, "usage: %s\n", USAGE_RESTORE);
		return EXIT_USAGE;
	}
	int r = ops_restore(o.db, o.args[0], o.force, wall_ms(), stdout, err, sizeof err);
	if (r != 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		return r > 0 ? EXIT_DATAERR : EXIT_SOFTWARE;
	}
	return 0;
}

/* ---- schema ---- */

static const char *type_name(enum schema_type t)
{
	static const char *const names[] = { "text", "int", "bool", "date", "enum", "ref" };
	return (size_t)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static int cmd_schema(int argc, char **argv)
{
	struct opts o;
	int rc = parse(argc, argv, "lienket-hub schema", &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	printf("schema version %d\n", SCHEMA_VERSION);
	for (size_t i = 0; i < schema_ntables; i++) {
		const struct schema_table *t = &schema_tables[i];
		printf("\n%s — %s%s\n", t->name, t->label_vi, t->hub_only ? " (hub only)" : "");
		for (size_t c = 0; c < t->ncolumns; c++) {
			const struct schema_column *col = &t->columns[c];
			printf("  %-28s %-5s", col->name, type_name(col->type));
			if (col->flags & SCHEMA_REQUIRED)
				printf(" required");
			if (col->flags & SCHEMA_KEY)
				printf(" key");
			if (col->type == SCHEMA_TEXT)
				printf(" max %d", col->max_len);
			if (col->type == SCHEMA_INT)
				printf(" %" PRId64 "..%" PRId64, col->min, col->max);
			if (col->type == SCHEMA_REF && col->ref_table)
				printf(" -> %s", col->ref_table);
			if (col->type == SCHEMA_ENUM) {
				printf(" {");
				for (const struct schema_enum_value *v = col->enum_values; v->code; v++)
					printf("%s%s", v == col->enum_values ? "" : ",", v->code);
				printf("}");
			}
			printf("  %s\n", col->label_vi);
		}
	}
	return 0;
}

/* ---- the command table ---- */

/* One row per command: its name, function, usage text and a one-line summary. The
 * usage and summary are the one source of `--help` and of the man pages
 * (scripts/manpages.sh runs `lienket-hub COMMAND --help` through help2man). */
struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

static const struct command commands[] = {
	{ "init", cmd_init, USAGE_INIT, "create the hub's database, or load the official unit list into it" },
	{ "units", cmd_units, USAGE_UNITS, "list the units, and record reforms: open, rename, merge, split, move, close" },
	{ "enroll", cmd_enroll, USAGE_ENROLL, "issue an office's or a viewer's token; --csv: many offices and their join-code sheets" },
	{ "revoke", cmd_revoke, USAGE_REVOKE, "revoke a token (by its prefix) or every token of an agent" },
	{ "agents", cmd_agents, USAGE_AGENTS, "list the tokens, their offices and their last contact" },
	{ "serve", cmd_serve, USAGE_SERVE, "serve the offices and the province over HTTP(S)" },
	{ "add", cmd_add, USAGE_ADD, "add a record as the province (a correction)" },
	{ "set", cmd_set, USAGE_SET, "change a record's fields as the province (a correction)" },
	{ "rm", cmd_rm, USAGE_RM, "delete a record as the province (a correction)" },
	{ "receipts", cmd_receipts, USAGE_RECEIPTS, "list what arrived from each office" },
	{ "backup", cmd_backup, USAGE_BACKUP, "copy the database while serving, and tell the offices how far it holds them" },
	{ "restore", cmd_restore, USAGE_RESTORE, "put a backup back (the hub stopped)" },
	{ "migrate", migrate_cmd, MIGRATE_USAGE, "copy the whole hub into another database (SQLite to PostgreSQL), then check it" },
	{ "merge-file", cmd_merge_file, USAGE_MERGE, "merge a change set from a file (offices without a network)" },
	{ "schema", cmd_schema, "lienket-hub schema", "print the tables and fields offices keep" },
	{ "status", viewcmd_status, VIEWCMD_USAGE_STATUS, "which offices synced, and which to call first" },
	{ "report", viewcmd_report, VIEWCMD_USAGE_REPORT, "the year's figures of a unit" },
	{ "digest", viewcmd_digest, VIEWCMD_USAGE_DIGEST, "write the morning digest files, and mail them (--mail)" },
	{ "dashboard", viewcmd_dashboard, VIEWCMD_USAGE_DASHBOARD, "write the dashboard page as a file" },
	{ "viewer", accountcmd_viewer, ACCOUNTCMD_USAGE_VIEWER, "the dashboard's viewer accounts: add, list, remove, new password link" },
	{ "mail", accountcmd_mail, ACCOUNTCMD_USAGE_MAIL, "the digest's SMTP relay and recipients" },
};

static void usage_all(FILE *f)
{
	fprintf(f, "lienket-hub %s — the province hub of Liên Kết\n\ncommands:\n", LK_VERSION);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary ? commands[i].summary : "");
	fprintf(f, "\n`lienket-hub COMMAND --help` describes one command; `lienket-hub --version`.\n"
		   "Exit codes: 0 ok, 64 usage, 65 bad input, 66 no database, 70 internal error,\n"
		   "73 an output file or the database of init exists.\n");
}

int main(int argc, char **argv)
{
	umask(MAIN_UMASK);
	if (argc < 2) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("lienket-hub %s (protocol %d, schema %d)\n", LK_VERSION, WIRE_PROTOCOL_VERSION,
		       SCHEMA_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage_all(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		for (int a = 2; a < argc && strcmp(argv[a], "--") != 0; a++)
			if (strcmp(argv[a], "--help") == 0) {
				printf("usage: %s\n\n%s.\n", commands[i].usage, commands[i].summary);
				return 0;
			}
		return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "lienket-hub: unknown command '%s'\n", argv[1]);
	usage_all(stderr);
	return EXIT_USAGE;
}
