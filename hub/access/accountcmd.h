/*
 * accountcmd.h — the operator's commands for the people who read the province's
 * figures: `lienket-hub viewer` (named dashboard accounts, viewer.h) and
 * `lienket-hub mail` (the digest's relay and recipients, digestmail.h). main.c lists
 * them in its command table.
 *
 * Each takes argc/argv from the command name on, opens the database itself, prints
 * to stdout, errors to stderr in English, and returns a process exit code like every
 * command of main.c (0 ok, 64 usage, 65 bad input, 66 no database, 70 internal).
 * Each change is also appended to the operations log (ops.h): `viewer` and `mail`
 * lines, without secrets.
 */
#ifndef LK_HUB_ACCOUNTCMD_H
#define LK_HUB_ACCOUNTCMD_H

#define ACCOUNTCMD_USAGE_VIEWER \
	"lienket-hub viewer add|list|rm|passwd --db FILE ...\n" \
	"    viewer add NAME [--unit UNIT] [--url https://HUB]  an account (limited to UNIT's subtree);\n" \
	"                                     prints a one-time link where the person sets the password\n" \
	"    viewer passwd NAME [--url https://HUB]  ends its sessions, prints a new one-time link\n" \
	"    viewer rm NAME                   removes it; its sessions end\n" \
	"    viewer list                      name, scope, password set, link pending"

#define ACCOUNTCMD_USAGE_MAIL \
	"lienket-hub mail relay|add|rm|list --db FILE ...\n" \
	"    mail relay --url smtp://HOST:587|smtps://HOST:465 --from ADDRESS [--user USER\n" \
	"               --password-file FILE] [--ca-file CA.pem] [--plain]   the SMTP relay of\n" \
	"               `digest --mail`: smtp:// requires STARTTLS; --plain (no TLS) only to 127.0.0.1\n" \
	"    mail add ADDRESS [--unit UNIT]   a recipient of the province's digest (or UNIT's)\n" \
	"    mail rm ADDRESS [--unit UNIT]\n" \
	"    mail list                        the relay (no password) and the recipients per scope"

int accountcmd_viewer(int argc, char **argv);
int accountcmd_mail(int argc, char **argv);

#endif
