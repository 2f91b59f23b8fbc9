/*
 * commands_figures.c — `lienket-agent figures`: what the province will see about this
 * office's unit (office_figures.h), printed in Vietnamese (report_write_text) or as
 * the hub's JSON document (report_write_json), before any sync.
 *
 * Exit codes (commands.h): 0; 64 bad option, year or date; 66 no database; 78 the
 * laptop has no unit tree yet (never synced); 70 the database could not be read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "journal.h"
#include "msg.h"
#include "office_figures.h"
#include "report_text.h"
#include "store.h"

struct figures_opts {
	const char *db, *year, *format, *today;
};

/* --name VALUE or --name=VALUE: 1 and *out set when argv[*i] is that option. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **out)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strcmp(a, name) == 0 && *i + 1 < argc) {
		*out = argv[++*i];
		return 1;
	}
	if (strncmp(a, name, n) == 0 && a[n] == '=') {
		*out = a + n + 1;
		return 1;
	}
	return 0;
}

static int parse(int argc, char **argv, struct figures_opts *o)
{
	memset(o, 0, sizeof *o);
	o->db = store_default_path();
	o->format = "text";
	for (int i = 1; i < argc; i++) {
		if (opt_value(argc, argv, &i, "--db", &o->db) ||
		    opt_value(argc, argv, &i, "--year", &o->year) ||
		    opt_value(argc, argv, &i, "--format", &o->format) ||
		    opt_value(argc, argv, &i, "--today", &o->today))
			continue;
		fprintf(stderr, "lienket-agent %s: bad option '%s'\n", argv[0], argv[i]);
		fputs(msg(MSG_USAGE_FIGURES), stderr);
		return EXIT_USAGE;
	}
	if (strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0) {
		msg_say(stderr, MSG_FIGURES_BAD_FORMAT, o->format);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* A year in digits: 0 and *out, or -1. The range is figures_build's to check. */
static int parse_year(const char *s, int *out)
{
	char *end = NULL;
	long v;
	if (!s || !*s || strlen(s) > 4)
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v < 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* YYYY-MM-DD with digits where digits go (the calendar is figures_build's to check). */
static int is_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

int cmd_figures(int argc, char **argv)
{
	struct figures_opts o;
	struct store *s = NULL;
	struct report *r = NULL;
	struct report_error re = { 0 };
	char today[11], err[256] = "";
	int year, rc = parse(argc, argv, &o);
	if (rc != EXIT_OK)
		return rc;
	if (o.today && !is_date(o.today)) {
		msg_say(stderr, MSG_FIGURES_BAD_TODAY, o.today);
		return EXIT_USAGE;
	}
	if (o.today)
		snprintf(today, sizeof today, "%s", o.today);
	else
		figures_vn_date(store_wall_ms(), today);
	year = atoi(today);
	if (o.year && parse_year(o.year, &year) != 0) {
		msg_say(stderr, MSG_FIGURES_BAD_YEAR, o.year);
		return EXIT_USAGE;
	}
	if (store_open(o.db, &s, err, sizeof err) != 0) {
		msg_say(stderr, MSG_SYNC_NO_DB, o.db, err);
		return EXIT_NOINPUT;
	}
	switch (office_figures_build(s, year, today, &r, &re)) {
	case REPORT_OK: break;
	case REPORT_UNKNOWN_UNIT:
		fprintf(stderr, "%s\n", msg(MSG_FIGURES_NO_TREE));
		rc = EXIT_CONFIG;
		goto out;
	case REPORT_BAD_ARGUMENT:
		msg_say(stderr, MSG_FIGURES_BAD_YEAR, o.year ? o.year : today);
		rc = EXIT_USAGE;
		goto out;
	default:
		msg_say(stderr, MSG_FIGURES_FAILED, re.message);
		rc = EXIT_SOFTWARE;
		goto out;
	}
	if (strcmp(o.format, "json") == 0) {
		rc = report_write_json(r, stdout) == REPORT_OK ? EXIT_OK : EXIT_SOFTWARE;
	} else {
		uint64_t pending = 0, bytes = 0;
		if (journal_pending(s, &pending, &bytes) != 0) {
			msg_say(stderr, MSG_FIGURES_FAILED, "cannot count the changes not yet sent");
			rc = EXIT_SOFTWARE;
			goto out;
		}
		if (pending)
			msg_say(stdout, MSG_FIGURES_PENDING, (unsigned long long)pending);
		else
			msg_say(stdout, MSG_FIGURES_ALL_SENT);
		rc = report_write_text(r, stdout) == REPORT_OK ? EXIT_OK : EXIT_SOFTWARE;
	}
	if (fflush(stdout) != 0)
		rc = EXIT_SOFTWARE;
out:
	report_free(r);
	store_close(s);
	return rc;
}
