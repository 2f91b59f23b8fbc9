/*
 * viewcmd.h — the `lienket-hub` commands that print what the province reads:
 * `status`, `report`, `digest` and `dashboard` (the page of GET / written to a file;
 * main.c lists them in its command table).
 *
 * Each takes argc/argv from the command name on, parses its own options, opens the
 * database itself, writes its output to stdout (or files), its errors to stderr in
 * English, and returns a process exit code like every command of main.c (0 ok,
 * 64 usage, 65 bad input, 66 no database, 70 internal error; `digest --mail`: 75 when
 * a digest could not be sent yet — the next run tries again).
 */
#ifndef LK_HUB_VIEWCMD_H
#define LK_HUB_VIEWCMD_H

#define VIEWCMD_USAGE_STATUS "lienket-hub status --db FILE [--format text|json|csv|html]"
#define VIEWCMD_USAGE_REPORT \
	"lienket-hub report --db FILE [--unit UNIT_ID_OR_CODE] [--year YYYY] " \
	"[--format text|json|csv|html | --format xlsx --out FILE.xlsx] [--today YYYY-MM-DD]"
#define VIEWCMD_USAGE_DIGEST \
	"lienket-hub digest --db FILE [--out DIR] [--mail [--tries N] [--backoff-ms MS]] " \
	"[--date YYYY-MM-DD] [--cutoff HH:MM]   (Vietnam time; default today, cut-off 07:00; " \
	"--mail: to the recipients of `lienket-hub mail`, once per date)"

#define VIEWCMD_USAGE_DASHBOARD \
	"lienket-hub dashboard --db FILE --out PAGE.html [--unit UNIT_ID_OR_CODE] [--year YYYY]"

int viewcmd_status(int argc, char **argv);
int viewcmd_dashboard(int argc, char **argv);
int viewcmd_report(int argc, char **argv);
int viewcmd_digest(int argc, char **argv);

#endif
