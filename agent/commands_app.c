/*
 * commands_app.c — `lienket-agent app`, and the app inside `daemon --app-port N`
 * (commands.h, docs/app-api.md).
 *
 * Starting the app: open the store (the server's own connection) — or, for `app` on
 * a database that does not exist yet, serve the first screen that makes it from a
 * join code (app_setup.h) —, make the sync runner, start the server on 127.0.0.1, tell the start URL (stdout, --url-file
 * written 0600, and xdg-open when it exists and --no-open is not given), then wait
 * for the stop signal, starting an automatic sync (only when changes wait) at the
 * start and every APP_AUTOSYNC_MS. Stopping: the server first (no request uses the
 * store after it), then the sync (waited for), then the store.
 * Owns: per run, the store, the sync runner and the server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_server.h"
#include "app_setup.h"
#include "app_sync.h"
#include "commands.h"
#include "daemon_posix.h"
#include "msg.h"
#include "plat.h"
#include "store.h"

/* While the app runs, changes waiting are sent this often (and at the start). */
#define APP_AUTOSYNC_MS (5 * 60 * 1000LL)

struct app_run {
	struct store *s;
	struct app_sync *sync;
	struct app_server *srv;
	long opener; /* the browser's opener (plat_open_url), reaped at the end; 0 none */
};

/* Writes url and a newline to path, readable by its owner only. 0 or -1. */
static int write_url_file(const char *path, const char *url)
{
	size_t n = strlen(url);
	char *line = malloc(n + 2);
	if (!line)
		return -1;
	memcpy(line, url, n);
	line[n] = '\n';
	int rc = plat_write_private(path, line, n + 1);
	free(line);
	return rc;
}

static void app_run_end(struct app_run *r)
{
	app_server_stop(r->srv);
	app_sync_free(r->sync);
	store_close(r->s);
	plat_opener_reap(r->opener);
	memset(r, 0, sizeof *r);
}

/* Starts the app for database db. url_file may be NULL. first_screen: a database
 * that does not exist yet gets the first screen, which sets the laptop up from a join
 * code (app_setup.h). 0, or an exit code after a message (nothing left running). */
static int app_run_begin(const char *db, unsigned port, const char *url_file, int open, int first_screen,
			 struct app_run *r)
{
	char err[256] = "", url[APP_SERVER_URL_MAX];
	memset(r, 0, sizeof *r);
	if (first_screen && app_setup_needed(db)) {
		r->sync = app_sync_new(db, daemon_os_cancel);
		if (!r->sync || app_server_start_setup(db, r->sync, port, &r->srv, err, sizeof err) != 0) {
			msg_say(stderr, MSG_APP_CANNOT_START, r->sync ? err : "out of memory");
			app_run_end(r);
			return EXIT_SOFTWARE;
		}
		fprintf(stderr, "lienket-agent app: no database %s yet: the first screen asks for the join code\n", db);
		goto serving;
	}
	if (store_open(db, &r->s, err, sizeof err) != 0) {
		msg_say(stderr, MSG_SYNC_NO_DB, db, err);
		return EXIT_NOINPUT;
	}
	if (!store_unit_id(r->s)[0]) {
		char *code = NULL;
		(void)store_config_get(r->s, "unit_code", &code);
		msg_say(stderr, MSG_APP_NO_UNIT, code ? code : "?");
		free(code);
		app_run_end(r);
		return EXIT_CONFIG;
	}
	r->sync = app_sync_new(db, daemon_os_cancel);
	if (!r->sync || app_server_start(r->s, r->sync, port, &r->srv, err, sizeof err) != 0) {
		msg_say(stderr, MSG_APP_CANNOT_START, r->sync ? err : "out of memory");
		app_run_end(r);
		return EXIT_SOFTWARE;
	}
serving:
	app_server_url(r->srv, url);
	if (url_file && write_url_file(url_file, url) != 0) {
		msg_say(stderr, MSG_APP_CANNOT_START, strerror(errno));
		app_run_end(r);
		return EXIT_CANTCREAT;
	}
	fprintf(stderr, "lienket-agent app: serving on 127.0.0.1:%u\n", app_server_port(r->srv));
	if (open)
		r->opener = plat_open_url(url);
	return EXIT_OK;
}

int cmd_app(int argc, char **argv)
{
	const char *db = store_default_path(), *url_file = NULL;
	long port = 0;
	int no_open = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(msg(MSG_USAGE_APP), stdout);
			return EXIT_OK;
		} else if (strcmp(a, "--no-open") == 0) {
			no_open = 1;
		} else if ((strcmp(a, "--db") == 0 || strcmp(a, "--port") == 0 || strcmp(a, "--url-file") == 0) &&
			   i + 1 < argc) {
			const char *v = argv[++i];
			if (a[2] == 'd') {
				db = v;
			} else if (a[2] == 'u') {
				url_file = v;
			} else {
				char *end = NULL;
				port = strtol(v, &end, 10);
				if (!*v || *end || port < 0 || port > 65535)
					goto bad;
			}
		} else {
			goto bad;
		}
		continue;
	bad:
		fprintf(stderr, "lienket-agent app: bad option '%s'\n", a);
		fputs(msg(MSG_USAGE_APP), stderr);
		return EXIT_USAGE;
	}
	if (daemon_os_init() != 0) {
		fprintf(stderr, "lienket-agent app: cannot block stop signals\n");
		return EXIT_SOFTWARE;
	}
	struct app_run r;
	int rc = app_run_begin(db, (unsigned)port, url_file, !no_open, 1, &r);
	if (rc != EXIT_OK) {
		daemon_os_release();
		return rc;
	}
	char url[APP_SERVER_URL_MAX];
	app_server_url(r.srv, url);
	/* the address alone on the first line: scripts and tests read it there */
	fprintf(stdout, "%s\n%s\n%s\n", url, msg(MSG_APP_OPEN), msg(MSG_APP_STOP));
	fflush(stdout);
	/* automatic syncs once the laptop is set up (the first screen starts its own) */
	if (app_server_ready(r.srv))
		(void)app_sync_start(r.sync, 1);
	while (!daemon_os_wait_ms(APP_AUTOSYNC_MS))
		if (app_server_ready(r.srv))
			(void)app_sync_start(r.sync, 1);
	app_run_end(&r);
	daemon_os_release();
	return EXIT_OK;
}

/* For cmd_daemon: the app beside the daemon's syncs. */
int commands_app_begin(const char *db, unsigned port, struct app_run **out)
{
	struct app_run *r = calloc(1, sizeof *r);
	if (!r)
		return EXIT_SOFTWARE;
	char *url_file = malloc(strlen(db) + sizeof ".app-url");
	if (!url_file) {
		free(r);
		return EXIT_SOFTWARE;
	}
	strcpy(url_file, db);
	strcat(url_file, ".app-url");
	int rc = app_run_begin(db, port, url_file, 0, 0, r);
	if (rc == EXIT_OK) {
		char url[APP_SERVER_URL_MAX];
		app_server_url(r->srv, url);
		fprintf(stderr, "lienket-agent daemon: the office app: %s (also in %s)\n", url, url_file);
		*out = r;
	} else {
		free(r);
	}
	free(url_file);
	return rc;
}

void commands_app_end(struct app_run *r)
{
	if (!r)
		return;
	app_run_end(r);
	free(r);
}
