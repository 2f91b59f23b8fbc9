/*
 * accountcmd.c — `lienket-hub viewer` and `lienket-hub mail` (see accountcmd.h).
 *
 * Thin: options, the transaction, printing; the rules are viewer.c's and
 * digestmail.c's. A one-time link is printed once, to stdout, and never logged.
 * Owns: nothing beyond one command's run.
 */
#include "accountcmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digestmail.h"
#include "ids.h"
#include "ops.h"
#include "status.h"
#include "store.h"
#include "textout.h"
#include "units.h"
#include "viewer.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_NOINPUT 66
#define EXIT_SOFTWARE 70

enum { A_DB = 1, A_UNIT, A_URL, A_FROM, A_USER, A_PASSWORD_FILE, A_CA_FILE, A_PLAIN, A_HELP };

static const struct option acct_opts[] = {
	{ "db", required_argument, NULL, A_DB },
	{ "unit", required_argument, NULL, A_UNIT },
	{ "url", required_argument, NULL, A_URL },
	{ "from", required_argument, NULL, A_FROM },
	{ "user", required_argument, NULL, A_USER },
	{ "password-file", required_argument, NULL, A_PASSWORD_FILE },
	{ "ca-file", required_argument, NULL, A_CA_FILE },
	{ "plain", no_argument, NULL, A_PLAIN },
	{ "help", no_argument, NULL, A_HELP },
	{ NULL, 0, NULL, 0 },
};

struct acct_opts {
	const char *db, *unit, *url, *from, *user, *password_file, *ca_file;
	int plain;
	const char *sub;  /* the subcommand */
	const char *arg;  /* its one argument, or NULL */
};

/* 0, -1 after --help, or EXIT_USAGE (printed). */
static int parse(int argc, char **argv, const char *usage, struct acct_opts *o)
{
	memset(o, 0, sizeof *o);
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", acct_opts, NULL)) != -1) {
		switch (c) {
		case A_DB: o->db = optarg; break;
		case A_UNIT: o->unit = optarg; break;
		case A_URL: o->url = optarg; break;
		case A_FROM: o->from = optarg; break;
		case A_USER: o->user = optarg; break;
		case A_PASSWORD_FILE: o->password_file = optarg; break;
		case A_CA_FILE: o->ca_file = optarg; break;
		case A_PLAIN: o->plain = 1; break;
		case A_HELP: printf("usage: %s\n", usage); return -1;
		default:
			fprintf(stderr, "lienket-hub: unknown option '%s'\nusage: %s\n", argv[optind - 1], usage);
			return EXIT_USAGE;
		}
	}
	int n = argc - optind;
	if (n < 1 || n > 2 || !o->db) {
		fprintf(stderr, "usage: %s\n", usage);
		return EXIT_USAGE;
	}
	o->sub = argv[optind];
	o->arg = n == 2 ? argv[optind + 1] : NULL;
	return 0;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_store(const char *db, struct store **s)
{
	char err[512];
	if (hub_store_open(db, 0, s, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		return EXIT_NOINPUT;
	}
	return 0;
}

/* The unit id of a unit id or an official code valid today. 0, or EXIT_DATAERR. */
static int resolve_unit(struct store *s, const char *unit, char id[37])
{
	char today[11];
	units_today(wall_ms(), today);
	int k = ids_uuid_valid(unit) ? s->unit_known(s, unit) : 0;
	if (k == 1) {
		snprintf(id, 37, "%s", unit);
		return 0;
	}
	if (k < 0 || s->unit_by_code(s, unit, today, id) != 0) {
		fprintf(stderr, "lienket-hub: no unit '%s' (see `lienket-hub units list`)\n", unit);
		return EXIT_DATAERR;
	}
	return 0;
}

/* Commits, or rolls back and says so. 0 or EXIT_SOFTWARE. */
static int finish(struct store *s, int ok, const char *db)
{
	if (ok && s->commit(s) == 0)
		return 0;
	if (!ok)
		s->rollback(s);
	fprintf(stderr, "lienket-hub: cannot write to '%s'\n", db);
	return EXIT_SOFTWARE;
}

static void print_link(const struct acct_opts *o, struct store *s, const char *name,
		       const char *invite)
{
	char base[512] = "";
	if (o->url)
		snprintf(base, sizeof base, "%s", o->url);
	else if (s->meta_get(s, "public_url", base, sizeof base) != 0)
		base[0] = '\0';
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		base[--bl] = '\0';
	printf("account: %s\none-time link (valid %lld hours, works once; give it to the person):\n"
	       "%s/?invite=%s\n", name, VIEWER_INVITE_MS / 3600000, bl ? base : "https://<hub>", invite);
}

struct list_ctx {
	struct store *s;
	int64_t now_ms;
};

static int print_viewer(void *ctx, const struct store_viewer *v)
{
	struct list_ctx *L = ctx;
	char created[17];
	status_vn_time(v->created_ms, created);
	printf("%s\t%s\t%s\t%s\t%s\n", v->name, v->unit_id[0] ? v->unit_id : "province",
	       v->password[0] ? "password set" : "no password",
	       v->invite_hash[0] ? (L->now_ms < v->invite_expires_ms ? "link pending" : "link expired")
				 : "-",
	       created);
	return 0;
}

int accountcmd_viewer(int argc, char **argv)
{
	struct acct_opts o;
	struct store *s = NULL;
	char invite[IDS_TOKEN_TEXT], unit[37] = "";
	int rc = parse(argc, argv, ACCOUNTCMD_USAGE_VIEWER, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	int list = strcmp(o.sub, "list") == 0;
	if (!list && strcmp(o.sub, "add") != 0 && strcmp(o.sub, "rm") != 0 &&
	    strcmp(o.sub, "passwd") != 0) {
		fprintf(stderr, "usage: %s\n", ACCOUNTCMD_USAGE_VIEWER);
		return EXIT_USAGE;
	}
	if (list != !o.arg) {
		fprintf(stderr, "usage: %s\n", ACCOUNTCMD_USAGE_VIEWER);
		return EXIT_USAGE;
	}
	if (!list && !viewer_name_valid(o.arg)) {
		fprintf(stderr, "lienket-hub: '%s' is not a login name (1..32 of a-z 0-9 . _ -, "
				"starting with a letter or digit)\n", o.arg);
		return EXIT_DATAERR;
	}
	if ((rc = open_store(o.db, &s)) != 0)
		return rc;
	int64_t now = wall_ms();
	if (list) {
		struct list_ctx L = { s, now };
		printf("name\tscope\tpassword\tlink\tcreated (Vietnam time)\n");
		if (s->viewers_list(s, print_viewer, &L) != 0) {
			fprintf(stderr, "lienket-hub: cannot read the accounts of '%s'\n", o.db);
			rc = EXIT_SOFTWARE;
		}
		goto done;
	}
	if (strcmp(o.sub, "add") == 0 && o.unit && (rc = resolve_unit(s, o.unit, unit)) != 0)
		goto done;
	if (s->begin(s) != 0) {
		fprintf(stderr, "lienket-hub: cannot start a transaction on '%s'\n", o.db);
		rc = EXIT_SOFTWARE;
		goto done;
	}
	int r;
	if (strcmp(o.sub, "add") == 0)
		r = viewer_add(s, o.arg, unit, now, invite);
	else if (strcmp(o.sub, "passwd") == 0)
		r = viewer_reset(s, o.arg, now, invite);
	else
		r = viewer_remove(s, o.arg);
	if (r != 0) {
		s->rollback(s);
		if (r < 0) {
			fprintf(stderr, "lienket-hub: cannot write to '%s'\n", o.db);
			rc = EXIT_SOFTWARE;
		} else {
			fprintf(stderr, "lienket-hub: %s '%s'\n",
				strcmp(o.sub, "add") == 0 ? "there is already an account" : "no account", o.arg);
			rc = EXIT_DATAERR;
		}
		goto done;
	}
	if ((rc = finish(s, 1, o.db)) != 0)
		goto done;
	if (ops_log(o.db, now, "viewer", o.sub, o.arg, unit, (char *)NULL) != 0)
		fprintf(stderr, "lienket-hub: warning: cannot append to the operations log of '%s'\n", o.db);
	if (strcmp(o.sub, "rm") == 0)
		printf("removed: %s (its sessions have ended)\n", o.arg);
	else
		print_link(&o, s, o.arg, invite);
	memset(invite, 0, sizeof invite);
done:
	s->close(s);
	return rc;
}

/* ---- mail ---- */

static int print_recipient(void *ctx, const char *address, const char *unit_id)
{
	(void)ctx;
	printf("%s\t", unit_id[0] ? unit_id : "province");
	textout_term(stdout, address);
	putchar('\n');
	return 0;
}

/* The first line of path into out (a password), without its line end. 0, or -1 with
 * errno set (0: the file is empty). */
static int read_secret(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	errno = 0;
	int ok = fgets(out, (int)n, f) != NULL;
	int e = errno;
	fclose(f);
	if (!ok) {
		errno = e;
		return -1;
	}
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static int mail_relay(const struct acct_opts *o, struct store *s)
{
	struct digestmail_relay r;
	char err[256];
	memset(&r, 0, sizeof r);
	if (!o->url || !o->from || (!o->user != !o->password_file)) {
		fprintf(stderr, "usage: %s\n", ACCOUNTCMD_USAGE_MAIL);
		return EXIT_USAGE;
	}
	snprintf(r.url, sizeof r.url, "%s", o->url);
	snprintf(r.from, sizeof r.from, "%s", o->from);
	snprintf(r.user, sizeof r.user, "%s", o->user ? o->user : "");
	snprintf(r.ca_file, sizeof r.ca_file, "%s", o->ca_file ? o->ca_file : "");
	r.plain = o->plain;
	if (o->password_file && read_secret(o->password_file, r.password, sizeof r.password) != 0) {
		/* errno: EACCES is the usual case, a file only root reads (docs/operations.md) */
		fprintf(stderr, "lienket-hub: cannot read a password from '%s': %s\n", o->password_file,
			errno ? strerror(errno) : "the file is empty");
		return EXIT_DATAERR;
	}
	if (s->begin(s) != 0)
		return finish(s, 0, o->db);
	int rc = digestmail_relay_set(s, &r, err, sizeof err);
	memset(&r.password, 0, sizeof r.password);
	if (rc > 0) {
		s->rollback(s);
		fprintf(stderr, "lienket-hub: %s\n", err);
		return EXIT_DATAERR;
	}
	if ((rc = finish(s, rc == 0, o->db)) != 0)
		return rc;
	ops_log(o->db, wall_ms(), "mail", "relay", o->url, o->from, (char *)NULL);
	printf("relay: %s, from %s%s%s\n", o->url, o->from, o->user ? ", with a login" : "",
	       o->plain ? ", without TLS" : "");
	return 0;
}

int accountcmd_mail(int argc, char **argv)
{
	struct acct_opts o;
	struct store *s = NULL;
	char unit[37] = "";
	int rc = parse(argc, argv, ACCOUNTCMD_USAGE_MAIL, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	int add = strcmp(o.sub, "add") == 0, rm = strcmp(o.sub, "rm") == 0;
	int relay = strcmp(o.sub, "relay") == 0, list = strcmp(o.sub, "list") == 0;
	if ((!add && !rm && !relay && !list) || ((add || rm) != !!o.arg)) {
		fprintf(stderr, "usage: %s\n", ACCOUNTCMD_USAGE_MAIL);
		return EXIT_USAGE;
	}
	if ((add || rm) && !digestmail_address_valid(o.arg)) {
		fprintf(stderr, "lienket-hub: '%s' is not a mail address\n", o.arg);
		return EXIT_DATAERR;
	}
	if ((rc = open_store(o.db, &s)) != 0)
		return rc;
	if (relay) {
		rc = mail_relay(&o, s);
		goto done;
	}
	if (list) {
		struct digestmail_relay r;
		int g = digestmail_relay_get(s, &r);
		if (g < 0) {
			rc = EXIT_SOFTWARE;
			goto done;
		}
		if (g == 0)
			printf("relay: %s, from %s%s%s%s\n", r.url, r.from, r.user[0] ? ", login " : "", r.user,
			       r.plain ? ", without TLS" : "");
		else
			printf("relay: none (lienket-hub mail relay)\n");
		memset(&r, 0, sizeof r);
		if (s->mail_to_list(s, NULL, print_recipient, NULL) != 0)
			rc = EXIT_SOFTWARE;
		goto done;
	}
	if (o.unit && (rc = resolve_unit(s, o.unit, unit)) != 0)
		goto done;
	if (s->begin(s) != 0) {
		rc = finish(s, 0, o.db);
		goto done;
	}
	int r = add ? s->mail_to_add(s, o.arg, unit) : s->mail_to_remove(s, o.arg, unit);
	if (r == 1) {
		s->rollback(s);
		fprintf(stderr, "lienket-hub: '%s' is not a recipient of that scope\n", o.arg);
		rc = EXIT_DATAERR;
		goto done;
	}
	if ((rc = finish(s, r == 0, o.db)) != 0)
		goto done;
	ops_log(o.db, wall_ms(), "mail", o.sub, o.arg, unit, (char *)NULL);
	printf("%s: %s (%s)\n", add ? "added" : "removed", o.arg, unit[0] ? unit : "province");
done:
	s->close(s);
	return rc;
}
