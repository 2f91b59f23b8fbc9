/*
 * main.c — lienket-agent's entry point: the one dispatch table of commands.
 *
 * Each row names a command, its function (commands.h), its usage line and one-line
 * help (message ids, so both are Vietnamese or English with the rest). main() only
 * dispatches and answers --version, --help and `help CMD`; every command parses its own
 * options and returns the process exit code. This is the only file that calls exit
 * (by returning from main).
 *
 * Every file the agent makes (its database with the token in it, the WAL, backups,
 * exports) is readable by the office's user only, and the arguments are UTF-8 on every
 * system: main sets SQLite's process-wide settings (store_process_init), calls plat_init
 * (plat.h), then checks the digests and the random
 * source the protocol relies on (lkcrypto.h).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "lkcrypto.h"
#include "msg.h"
#include "plat.h"
#include "schema.h"
#include "store.h"
#include "wire.h"

#ifndef LK_VERSION
#define LK_VERSION "0.0.0"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	enum msg_id usage;   /* usage text */
	int usage_complete;  /* 1: the usage text is a whole help page (sync commands) */
	enum msg_id summary; /* one line */
	enum msg_id more;    /* further help, or MSG_COUNT for none */
};

static const struct command commands[] = {
	{ "app", cmd_app, MSG_USAGE_APP, 1, MSG_HELP_APP, MSG_COUNT },
	{ "init", cmd_init, MSG_USAGE_INIT, 0, MSG_HELP_INIT, MSG_HELP_INIT_MORE },
	{ "config", cmd_config, MSG_USAGE_CONFIG, 0, MSG_HELP_CONFIG, MSG_HELP_CONFIG_MORE },
	{ "add", cmd_add, MSG_USAGE_ADD, 0, MSG_HELP_ADD, MSG_HELP_ADD_MORE },
	{ "set", cmd_set, MSG_USAGE_SET, 0, MSG_HELP_SET, MSG_COUNT },
	{ "rm", cmd_rm, MSG_USAGE_RM, 0, MSG_HELP_RM, MSG_COUNT },
	{ "show", cmd_show, MSG_USAGE_SHOW, 0, MSG_HELP_SHOW, MSG_COUNT },
	{ "list", cmd_list, MSG_USAGE_LIST, 0, MSG_HELP_LIST, MSG_COUNT },
	{ "import", cmd_import, MSG_USAGE_IMPORT, 0, MSG_HELP_IMPORT, MSG_HELP_IMPORT_MORE },
	{ "export", cmd_export, MSG_USAGE_EXPORT, 0, MSG_HELP_EXPORT, MSG_HELP_EXPORT_MORE },
	{ "schema", cmd_schema, MSG_USAGE_SCHEMA, 0, MSG_HELP_SCHEMA, MSG_COUNT },
	{ "backup", cmd_backup, MSG_USAGE_BACKUP, 0, MSG_HELP_BACKUP, MSG_COUNT },
	{ "sync", cmd_sync, MSG_USAGE_SYNC, 1, MSG_HELP_SYNC, MSG_COUNT },
	{ "daemon", cmd_daemon, MSG_USAGE_DAEMON, 1, MSG_HELP_DAEMON, MSG_COUNT },
	{ "status", cmd_status, MSG_USAGE_STATUS, 1, MSG_HELP_STATUS, MSG_COUNT },
	{ "recover", cmd_recover, MSG_USAGE_RECOVER, 1, MSG_HELP_RECOVER, MSG_COUNT },
	{ "figures", cmd_figures, MSG_USAGE_FIGURES, 1, MSG_HELP_FIGURES, MSG_COUNT },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void print_help(FILE *f)
{
	fprintf(f, "%s\n", msg(MSG_HELP_HEADER));
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, msg(commands[i].summary));
	fprintf(f, "%s\n", msg(MSG_HELP_FOOTER));
}

static void print_command_help(const struct command *c)
{
	if (c->usage_complete) {
		fputs(msg(c->usage), stdout);
		return;
	}
	printf(msg(MSG_USAGE), msg(c->usage));
	printf("\n  %s\n", msg(c->summary));
	if (c->more != MSG_COUNT)
		printf("\n%s\n", msg(c->more));
}

static int is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

int main(int argc, char **argv)
{
	/* before anything touches SQLite; nothing else has yet, so it cannot fail */
	if (store_process_init() != 0)
		fputs("lienket-agent: cannot configure SQLite\n", stderr);
	if (plat_init(&argc, &argv) != 0) {
		fputs("lienket-agent: cannot read the command line\n", stderr);
		return EXIT_SOFTWARE;
	}
	if (lkcrypto_selftest() != 0) {
		fputs("lienket-agent: the system's hashes or random source do not work\n", stderr);
		return EXIT_SOFTWARE;
	}
	if (argc < 2) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("lienket-agent %s (protocol %d, schema %d)\n", LK_VERSION, WIRE_PROTOCOL_VERSION,
		       SCHEMA_VERSION);
		return EXIT_OK;
	}
	if (is_help(name) || (strcmp(name, "help") == 0 && argc == 2)) {
		print_help(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "help") == 0) {
		const struct command *c = find_command(argv[2]);
		if (!c) {
			fprintf(stderr, msg(MSG_ERR_UNKNOWN_CMD), argv[2]);
			fputc('\n', stderr);
			return EXIT_USAGE;
		}
		print_command_help(c);
		return EXIT_OK;
	}
	const struct command *c = find_command(name);
	if (!c) {
		fprintf(stderr, msg(MSG_ERR_UNKNOWN_CMD), name);
		fputc('\n', stderr);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (is_help(argv[i])) {
			print_command_help(c);
			return EXIT_OK;
		}
	}
	/* The command sees itself as argv[0]. */
	return c->fn(argc - 1, argv + 1);
}
