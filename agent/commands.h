/*
 * commands.h — the agent's subcommands. main.c holds the one dispatch table; each
 * command parses its own options (argv[0] is the command name) and returns the
 * process exit code (see README: 0 ok, 64 usage, 65 records rejected, 66 no database,
 * 75 hub unreachable, 77 credentials refused, 70 internal error).
 */
#ifndef LK_AGENT_COMMANDS_H
#define LK_AGENT_COMMANDS_H

#include <stddef.h>

#define EXIT_OK 0
#define EXIT_USAGE 64      /* EX_USAGE */
#define EXIT_DATAERR 65    /* EX_DATAERR: some records rejected / bad input */
#define EXIT_NOINPUT 66    /* EX_NOINPUT: no database */
#define EXIT_SOFTWARE 70   /* EX_SOFTWARE: internal error */
#define EXIT_CANTCREAT 73  /* EX_CANTCREAT */
#define EXIT_TEMPFAIL 75   /* EX_TEMPFAIL: hub unreachable, try later */
#define EXIT_PROTOCOL 76   /* EX_PROTOCOL: the hub answered something we cannot use */
#define EXIT_NOPERM 77     /* EX_NOPERM: credentials refused */
#define EXIT_CONFIG 78     /* EX_CONFIG: not configured (no hub or token) */

/* Data commands (commands_data.c). */
int cmd_init(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_backup(int argc, char **argv);

/* Sync commands (commands_sync.c). */
int cmd_sync(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_recover(int argc, char **argv);

/* What the province will see (commands_figures.c). */
int cmd_figures(int argc, char **argv);

/* Office app command (commands_app.c): `app`, and the daemon's --app-port: the app
 * for database db on 127.0.0.1:port (0: free), its start URL written to DB.app-url
 * (0600) and logged. begin: 0 and *out, or an exit code after a message. end: stops
 * it (accepts NULL). */
int cmd_app(int argc, char **argv);
struct app_run;
int commands_app_begin(const char *db, unsigned port, struct app_run **out);
void commands_app_end(struct app_run *r);

/* The join path of `init` (commands_data.c), shared with the office app's first screen
 * (app_setup.h): one implementation of PROTOCOL.md §12 on the laptop. */
struct store;
struct joincode;
/* Decodes a join code into *j: 0, or the message (msg.h id, a Vietnamese/English
 * sentence without arguments) saying why the code is refused. */
int commands_join_decode(const char *code, struct joincode *j, int *why);
/* Creates the database at db for a decoded code: its unit, and in its configuration the
 * hub, the token and the pinned keys. 0 and *out (open; close with store_close), or
 * EXIT_CANTCREAT (the file exists, or cannot be made: err says why in English) /
 * EXIT_SOFTWARE. Nothing is left behind on failure. */
int commands_init_joined(const char *db, const struct joincode *j, struct store **out, char *err, size_t errlen);

/* What the office app's sync shares with `sync` (commands_sync.c). */
struct transport;
/* The transport from lk_config (hub_url, token, ca_file), quietly: 0, or EXIT_CONFIG
 * (not configured, bad URL) / EXIT_SOFTWARE. */
int commands_open_transport(struct store *s, struct transport **t);
/* The office's Vietnamese sentence for a sync error code (lk_config last_error). */
const char *commands_sync_error_vi(const char *code);

#endif
