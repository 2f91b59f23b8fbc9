/*
 * main.c — `lienket-hub`: the subcommand table and each command's options.
 *
 * Every command opens the database itself and returns a process exit code (0 ok,
 * 64 usage, 65 bad input, 66 no database, 70 internal error). Logs and errors go to
 * stderr in English; only `enroll` prints a token, once, to stdout.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "auth.h"
#include "changes.h"
#include "hlc.h"
#include "ids.h"
#include "schema.h"
#include "server.h"
#include "store.h"
#include "units.h"
#include "viewcmd.h"
#include "wire.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_NOINPUT 66
#define EXIT_SOFTWARE 70
#define MAIN_MAX_FILE (64u << 20) /* merge-file reads at most this much */

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Long options shared by the commands; each command accepts only those it lists. */
enum { OPT_DB = 1, OPT_UNITS, OPT_UNIT, OPT_VIEWER, OPT_NAME, OPT_LISTEN, OPT_CERT, OPT_KEY,
       OPT_PORT_FILE, OPT_AGENT, OPT_HELP, OPT_TRUST_PROXY };

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
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *db, *units, *unit, *name, *listen, *cert, *key, *port_file, *agent;
	int viewer, help, trust_proxy;
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
	if (store_sqlite_open(db, create, s, err, sizeof err) != 0) {
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
	if ((rc = open_store(o.db, 1, &s)) != 0)
		return rc;
	char hub_id[40];
	if (s->meta_get(s, "hub_id", hub_id, sizeof hub_id) != 0) {
		fprintf(stderr, "lienket-hub: cannot read the hub id of '%s'\n", o.db);
		rc = EXIT_SOFTWARE;
		goto done;
	}
	if (o.units) {
		char err[512];
		size_t created = 0;
		if (s->begin(s) != 0) {
			fprintf(stderr, "lienket-hub: cannot start a transaction on '%s'\n", o.db);
			rc = EXIT_SOFTWARE;
			goto done;
		}
		if (units_load_csv(s, o.units, wall_ms(), &created, err, sizeof err) != 0) {
			s->rollback(s);
			fprintf(stderr, "lienket-hub: %s\n", err);
			rc = EXIT_DATAERR;
			goto done;
		}
		if (s->commit(s) != 0) {
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

/* ---- units list ---- */

static int print_unit(void *ctx, const struct store_unit_info *u)
{
	(void)ctx;
	printf("%s\t%s\t%s\t%s\t%s\n", u->id, u->code ? u->code : "-", u->name ? u->name : "-",
	       u->kind ? u->kind : "-", u->parent_id ? u->parent_id : "-");
	return 0;
}

static const char USAGE_UNITS[] = "lienket-hub units list --db FILE   (id, code, name, kind, parent; tab-separated)";

static int cmd_units(int argc, char **argv)
{
	struct opts o;
	struct store *s = NULL;
	int rc = parse(argc, argv, USAGE_UNITS, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs != 1 || strcmp(o.args[0], "list") != 0) {
		fprintf(stderr, "usage: %s\n", USAGE_UNITS);
		return EXIT_USAGE;
	}
	if ((rc = open_store(o.db, 0, &s)) != 0)
		return rc;
	char today[11];
	units_today(wall_ms(), today);
	if (s->units_list(s, today, print_unit, NULL) != 0) {
		fprintf(stderr, "lienket-hub: cannot list units\n");
		rc = EXIT_SOFTWARE;
	}
	s->close(s);
	return rc;
}

/* ---- enroll ---- */

static const char USAGE_ENROLL[] =
	"lienket-hub enroll --db FILE (--unit UNIT_ID_OR_CODE | --viewer) [--name NAME]";

static int cmd_enroll(int argc, char **argv)
{
	struct opts o;
	struct store *s = NULL;
	char unit[37] = "", token[IDS_TOKEN_TEXT];
	int rc = parse(argc, argv, USAGE_ENROLL, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!!o.unit == !!o.viewer) {
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
	if (s->begin(s) != 0 || auth_enroll(s, o.viewer ? NULL : unit, o.name, wall_ms(), token) != 0 ||
	    s->commit(s) != 0) {
		fprintf(stderr, "lienket-hub: cannot store the token in '%s'\n", o.db);
		rc = EXIT_SOFTWARE;
		goto done;
	}
	printf("token: %s\n", token);
	if (!o.viewer)
		printf("unit: %s\n", unit);
	else
		printf("kind: viewer\n");
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
	if (s->begin(s) == 0) {
		n = auth_revoke(s, o.args[0], wall_ms());
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
		printf("revoked: %d\n", n);
	}
	s->close(s);
	return rc;
}

/* ---- agents list ---- */

static int print_token(void *ctx, const struct store_token *t)
{
	struct store *s = ctx;
	struct store_agent a;
	int has = t->agent_id[0] && s->agent_get(s, t->agent_id, &a) == 0;
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%" PRIu64 "\t%" PRId64 "\n", t->prefix,
	       t->kind == STORE_TOKEN_VIEWER ? "viewer" : "agent", t->unit_id[0] ? t->unit_id : "-",
	       t->agent_id[0] ? t->agent_id : "-", t->name[0] ? t->name : "-",
	       t->revoked_ms ? "revoked" : (has && a.retired_to[0]) ? "retired" : "active",
	       has ? a.acked : 0, has ? (a.last_hello_ms > a.last_changes_ms ? a.last_hello_ms : a.last_changes_ms) : 0);
	return 0;
}

static const char USAGE_AGENTS[] =
	"lienket-hub agents list --db FILE   (token prefix, kind, unit, agent, name, state, acked, last contact ms)";

static int cmd_agents(int argc, char **argv)
{
	struct opts o;
	struct store *s = NULL;
	int rc = parse(argc, argv, USAGE_AGENTS, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs != 1 || strcmp(o.args[0], "list") != 0) {
		fprintf(stderr, "usage: %s\n", USAGE_AGENTS);
		return EXIT_USAGE;
	}
	if ((rc = open_store(o.db, 0, &s)) != 0)
		return rc;
	if (s->tokens_list(s, print_token, s) != 0) {
		fprintf(stderr, "lienket-hub: cannot list tokens\n");
		rc = EXIT_SOFTWARE;
	}
	s->close(s);
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
	if (changes_precheck(cs, now, HLC_MAX_AHEAD_MS, &res) == 0) {
		if (s->begin(s) != 0 || changes_apply(s, cs, unit, NULL, now, &res) != 0) {
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
	"lienket-hub serve --db FILE --listen ADDR:PORT [--cert CERT.pem --key KEY.pem] [--port-file F] [--trust-proxy]";

static int cmd_serve(int argc, char **argv)
{
	struct opts o;
	struct api *a = NULL;
	char err[512];
	int rc = parse(argc, argv, USAGE_SERVE, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!o.db || !o.listen || (!o.cert != !o.key)) {
		fprintf(stderr, "usage: %s\n", USAGE_SERVE);
		return EXIT_USAGE;
	}
	struct api_options ao = { .db_path = o.db, .trust_proxy = o.trust_proxy,
				   .tls = o.cert != NULL };
	if (api_new(&ao, &a, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		return EXIT_NOINPUT;
	}
	struct server_options so = { .listen = o.listen, .cert_file = o.cert, .key_file = o.key,
				     .port_file = o.port_file };
	signal(SIGPIPE, SIG_IGN);
	if (server_run(&so, a, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		rc = EXIT_SOFTWARE;
	}
	api_free(a);
	return rc;
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

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
	{ "init", cmd_init, USAGE_INIT },
	{ "units", cmd_units, USAGE_UNITS },
	{ "enroll", cmd_enroll, USAGE_ENROLL },
	{ "revoke", cmd_revoke, USAGE_REVOKE },
	{ "agents", cmd_agents, USAGE_AGENTS },
	{ "serve", cmd_serve, USAGE_SERVE },
	{ "merge-file", cmd_merge_file, USAGE_MERGE },
	{ "schema", cmd_schema, "lienket-hub schema" },
	{ "status", viewcmd_status, VIEWCMD_USAGE_STATUS },
	{ "report", viewcmd_report, VIEWCMD_USAGE_REPORT },
	{ "digest", viewcmd_digest, VIEWCMD_USAGE_DIGEST },
};

static void usage_all(FILE *f)
{
	fprintf(f, "lienket-hub %s — the province hub of Liên Kết\n\ncommands:\n", LK_VERSION);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "  lienket-hub --version\n\n`lienket-hub COMMAND --help` describes one command.\n");
}

int main(int argc, char **argv)
{
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
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "lienket-hub: unknown command '%s'\n", argv[1]);
	usage_all(stderr);
	return EXIT_USAGE;
}
