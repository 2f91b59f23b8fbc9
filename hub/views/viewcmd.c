/*
 * viewcmd.c — `lienket-hub status`, `report` and `digest` (see viewcmd.h).
 *
 * Thin: option parsing and exit codes here; the work is status.c, report.c and
 * digest.c. The database is opened through the store's factory (hub_store_open: a
 * file or a PostgreSQL URL) and only read.
 * Owns: nothing beyond one command's run.
 */
#include "viewcmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dashpage.h"
#include "digest.h"
#include "digestmail.h"
#include "report.h"
#include "status.h"
#include "store.h"
#include "xlsx.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_NOINPUT 66
#define EXIT_SOFTWARE 70
#define EXIT_TEMPFAIL 75 /* sysexits: try again later (a digest not yet sent) */

enum { V_DB = 1, V_FORMAT, V_UNIT, V_YEAR, V_TODAY, V_DATE, V_OUT, V_CUTOFF, V_MAIL, V_TRIES,
       V_BACKOFF, V_HELP };

static const struct option view_opts[] = {
	{ "db", required_argument, NULL, V_DB },
	{ "format", required_argument, NULL, V_FORMAT },
	{ "unit", required_argument, NULL, V_UNIT },
	{ "year", required_argument, NULL, V_YEAR },
	{ "today", required_argument, NULL, V_TODAY },
	{ "date", required_argument, NULL, V_DATE },
	{ "out", required_argument, NULL, V_OUT },
	{ "cutoff", required_argument, NULL, V_CUTOFF },
	{ "mail", no_argument, NULL, V_MAIL },
	{ "tries", required_argument, NULL, V_TRIES },
	{ "backoff-ms", required_argument, NULL, V_BACKOFF },
	{ "help", no_argument, NULL, V_HELP },
	{ NULL, 0, NULL, 0 },
};

struct view_opts {
	const char *db, *format, *unit, *year, *today, *date, *out, *cutoff, *tries, *backoff;
	int help, mail;
};

/* 0, -1 after --help (printed), or EXIT_USAGE after printing the usage. */
static int parse(int argc, char **argv, const char *usage, const char *allowed,
		 struct view_opts *o)
{
	memset(o, 0, sizeof *o);
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", view_opts, NULL)) != -1) {
		const char *name = c > 0 && c <= V_HELP ? view_opts[c - 1].name : NULL;
		if (!name || (c != V_HELP && !strstr(allowed, name))) {
			fprintf(stderr, "lienket-hub: unknown option '%s'\nusage: %s\n", argv[optind - 1],
				usage);
			return EXIT_USAGE;
		}
		switch (c) {
		case V_DB: o->db = optarg; break;
		case V_FORMAT: o->format = optarg; break;
		case V_UNIT: o->unit = optarg; break;
		case V_YEAR: o->year = optarg; break;
		case V_TODAY: o->today = optarg; break;
		case V_DATE: o->date = optarg; break;
		case V_OUT: o->out = optarg; break;
		case V_CUTOFF: o->cutoff = optarg; break;
		case V_MAIL: o->mail = 1; break;
		case V_TRIES: o->tries = optarg; break;
		case V_BACKOFF: o->backoff = optarg; break;
		default: o->help = 1;
		}
	}
	if (o->help) {
		printf("usage: %s\n", usage);
		return -1;
	}
	if (optind != argc || !o->db) {
		fprintf(stderr, "usage: %s\n", usage);
		return EXIT_USAGE;
	}
	return 0;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_db(const char *path, struct store **db)
{
	char err[512];
	if (hub_store_open(path, 0, db, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		return EXIT_NOINPUT;
	}
	return 0;
}

int viewcmd_status(int argc, char **argv)
{
	struct view_opts o;
	struct store *db = NULL;
	struct status *st = NULL;
	char err[512];
	int rc = parse(argc, argv, VIEWCMD_USAGE_STATUS, "db format", &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	const char *fmt = o.format ? o.format : "text";
	int (*write)(const struct status *, FILE *) =
		strcmp(fmt, "text") == 0 ? status_write_text : strcmp(fmt, "json") == 0 ? status_write_json
		: strcmp(fmt, "csv") == 0 ? status_write_csv : strcmp(fmt, "html") == 0 ? status_write_html
		: NULL;
	if (!write) {
		fprintf(stderr, "lienket-hub: unknown format '%s'\nusage: %s\n", fmt, VIEWCMD_USAGE_STATUS);
		return EXIT_USAGE;
	}
	if ((rc = open_db(o.db, &db)) != 0)
		return rc;
	if (status_build(db, wall_ms(), &st, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		rc = EXIT_SOFTWARE;
		goto done;
	}
	if (write(st, stdout) != 0 || (strcmp(fmt, "json") == 0 && putchar('\n') == EOF) ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "lienket-hub: cannot write the status\n");
		rc = EXIT_SOFTWARE;
	}
done:
	status_free(st);
	if (db)
		db->close(db);
	return rc;
}

int viewcmd_report(int argc, char **argv)
{
	struct view_opts o;
	struct store *db = NULL;
	struct report *r = NULL;
	struct report_error re = { 0 };
	char today[11];
	int rc = parse(argc, argv, VIEWCMD_USAGE_REPORT, "db format unit year today out", &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	const char *fmt = o.format ? o.format : "text";
	int xlsx = strcmp(fmt, "xlsx") == 0;
	if (xlsx != !!o.out) {
		fprintf(stderr, "lienket-hub: --format xlsx writes the file --out (and only it)\nusage: %s\n",
			VIEWCMD_USAGE_REPORT);
		return EXIT_USAGE;
	}
	int (*write)(const struct report *, FILE *) =
		strcmp(fmt, "text") == 0 ? report_write_text : strcmp(fmt, "json") == 0 ? report_write_json
		: strcmp(fmt, "csv") == 0 ? report_write_csv : strcmp(fmt, "html") == 0 ? report_write_html_page
		: NULL;
	if (!write && !xlsx) {
		fprintf(stderr, "lienket-hub: unknown format '%s'\nusage: %s\n", fmt, VIEWCMD_USAGE_REPORT);
		return EXIT_USAGE;
	}
	int64_t t;
	if (o.today && status_vn_ms(o.today, 0, 0, &t) != 0) {
		fprintf(stderr, "lienket-hub: --today '%s' is not a date YYYY-MM-DD\n", o.today);
		return EXIT_USAGE;
	}
	if (o.today)
		snprintf(today, sizeof today, "%s", o.today);
	else
		status_vn_date(wall_ms(), today);
	int year = atoi(today);
	if (o.year) {
		char *end;
		long y = strtol(o.year, &end, 10);
		if (*end || end == o.year || y < 2000 || y > 2100) {
			fprintf(stderr, "lienket-hub: --year '%s' is not a year 2000..2100\n", o.year);
			return EXIT_USAGE;
		}
		year = (int)y;
	}
	if ((rc = open_db(o.db, &db)) != 0)
		return rc;
	if (xlsx) {
		char err[512];
		int x = xlsx_write_report(db, o.unit, year, today, o.out, err, sizeof err);
		if (x != 0)
			fprintf(stderr, "lienket-hub: %s\n", err);
		else
			printf("%s\n", o.out);
		if (db)
		db->close(db);
		return x == 0 ? 0 : x > 0 ? EXIT_DATAERR : EXIT_SOFTWARE;
	}
	switch (report_build(db, o.unit, year, today, &r, &re)) {
	case REPORT_OK:
		break;
	case REPORT_BAD_ARGUMENT:
	case REPORT_UNKNOWN_UNIT:
		fprintf(stderr, "lienket-hub: %s%s\n", re.message,
			re.code == REPORT_UNKNOWN_UNIT ? " (see `lienket-hub units list`)" : "");
		rc = EXIT_DATAERR;
		goto done;
	default:
		fprintf(stderr, "lienket-hub: cannot build the report: %s\n", re.message);
		rc = EXIT_SOFTWARE;
		goto done;
	}
	if (write(r, stdout) != REPORT_OK || (strcmp(fmt, "json") == 0 && putchar('\n') == EOF) ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "lienket-hub: cannot write the report\n");
		rc = EXIT_SOFTWARE;
	}
done:
	report_free(r);
	if (db)
		db->close(db);
	return rc;
}

/* A whole number in [lo, hi] from text, or -1. */
static long long whole(const char *text, long long lo, long long hi)
{
	char *end;
	long long v = strtoll(text, &end, 10);
	return *text && !*end && v >= lo && v <= hi ? v : -1;
}

/* `digest --mail`: digestmail.h. Exit 0 all sent, 75 (EX_TEMPFAIL) some not yet. */
static int digest_mail(const struct view_opts *o, int hh, int mm)
{
	char err[512];
	struct digestmail_result res;
	long long tries = o->tries ? whole(o->tries, 1, 100) : DIGESTMAIL_TRIES;
	long long backoff = o->backoff ? whole(o->backoff, 0, 3600000) : DIGESTMAIL_BACKOFF_MS;
	if (tries < 0 || backoff < 0) {
		fprintf(stderr, "lienket-hub: --tries is 1..100, --backoff-ms 0..3600000\n");
		return EXIT_USAGE;
	}
	struct stat sb;
	if (!store_is_pg(o->db) && stat(o->db, &sb) != 0) {
		fprintf(stderr, "lienket-hub: no database '%s'\n", o->db);
		return EXIT_NOINPUT;
	}
	int rc = digestmail_run(o->db, o->date, hh, mm, (int)tries, backoff, stderr, &res, err,
				sizeof err);
	if (rc != 0)
		fprintf(stderr, "lienket-hub: %s\n", err);
	printf("digest %s: %d scope(s), %d sent now, %d sent before, %d not sent\n", o->date,
	       res.scopes, res.sent, res.already, res.failed);
	return rc == 0 ? 0 : rc == 1 ? EXIT_TEMPFAIL : rc == 2 ? EXIT_DATAERR : EXIT_SOFTWARE;
}

int viewcmd_digest(int argc, char **argv)
{
	struct view_opts o;
	struct store *db = NULL;
	char err[512];
	int hh = 7, mm = 0;
	int rc = parse(argc, argv, VIEWCMD_USAGE_DIGEST, "db date out cutoff mail tries backoff-ms", &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	char today[11];
	if (!o.date) {
		status_vn_date(wall_ms(), today);
		o.date = today;
	}
	if (!o.out && !o.mail) {
		fprintf(stderr, "usage: %s\n", VIEWCMD_USAGE_DIGEST);
		return EXIT_USAGE;
	}
	if (o.cutoff) {
		char extra;
		size_t cl = strlen(o.cutoff);
		if (cl < 4 || cl > 5 || o.cutoff[cl - 3] != ':' ||
		    sscanf(o.cutoff, "%2d:%2d%c", &hh, &mm, &extra) != 2 ||
		    hh < 0 || hh > 23 || mm < 0 || mm > 59) {
			fprintf(stderr, "lienket-hub: --cutoff '%s' is not a time HH:MM\n", o.cutoff);
			return EXIT_USAGE;
		}
	}
	int64_t t;
	if (status_vn_ms(o.date, 0, 0, &t) != 0) {
		fprintf(stderr, "lienket-hub: --date '%s' is not a date YYYY-MM-DD\n", o.date);
		return EXIT_USAGE;
	}
	struct stat sb;
	if (o.out && (stat(o.out, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
		fprintf(stderr, "lienket-hub: --out '%s' is not a directory\n", o.out);
		return EXIT_USAGE;
	}
	if (o.mail)
		return digest_mail(&o, hh, mm);
	if ((rc = open_db(o.db, &db)) != 0)
		return rc;
	int w = digest_write(db, o.date, hh, mm, o.out, err, sizeof err);
	if (w != 0) {
		fprintf(stderr, "lienket-hub: %s\n", err);
		rc = w > 0 ? EXIT_USAGE : EXIT_SOFTWARE;
	} else {
		printf("%s/digest-%s.html\n%s/digest-%s-status.csv\n%s/digest-%s-arrivals.csv\n"
		       "%s/digest-%s-report.csv\n",
		       o.out, o.date, o.out, o.date, o.out, o.date, o.out, o.date);
	}
	if (db)
		db->close(db);
	return rc;
}

int viewcmd_dashboard(int argc, char **argv)
{
	struct view_opts o;
	char tmp[4096];
	int rc = parse(argc, argv, VIEWCMD_USAGE_DASHBOARD, "db out unit year", &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!o.out) {
		fprintf(stderr, "usage: %s\n", VIEWCMD_USAGE_DASHBOARD);
		return EXIT_USAGE;
	}
	int k = snprintf(tmp, sizeof tmp, "%s.tmp", o.out);
	if (k < 0 || (size_t)k >= sizeof tmp) {
		fprintf(stderr, "lienket-hub: --out path too long\n");
		return EXIT_USAGE;
	}
	struct store *db = NULL;
	if ((rc = open_db(o.db, &db)) != 0)
		return rc;
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		fprintf(stderr, "lienket-hub: cannot write '%s'\n", tmp);
		db->close(db);
		return EXIT_SOFTWARE;
	}
	int st = dashpage_write(db, o.unit, o.year, wall_ms(), f);
	db->close(db);
	if (fclose(f) != 0 || st == 500) {
		fprintf(stderr, "lienket-hub: cannot write the dashboard page to '%s'\n", tmp);
		remove(tmp);
		return EXIT_SOFTWARE;
	}
	if (rename(tmp, o.out) != 0) {
		fprintf(stderr, "lienket-hub: cannot rename '%s' to '%s'\n", tmp, o.out);
		remove(tmp);
		return EXIT_SOFTWARE;
	}
	if (st != 200)
		fprintf(stderr, "lienket-hub: %s (the page shows %s)\n",
			st == 404 ? "unknown unit" : "bad year", st == 404 ? "the province" : "this year");
	printf("%s\n", o.out);
	return st == 200 ? 0 : EXIT_DATAERR;
}
