/*
 * digestmail.h — the morning digest mailed to the province's leaders
 * (`lienket-hub digest --mail`, run by contrib/systemd/lienket-digest.timer; never by
 * `serve`, which may run several times).
 *
 * Recipients are kept per scope in the hub's database (`lienket-hub mail add`): the
 * province ("" scope) or a unit (a district), whose digest covers its subtree
 * (digest_build). For each scope with recipients, the digest of DATE is built once
 * and recorded (store_digest_mail: the HTML body and the three CSV attachments, as
 * mailed); it is then sent, as one message to the scope's recipients, through the
 * relay until the relay accepts it, and the acceptance is recorded. So a digest is
 * sent once per date and scope: a second run finds it sent; a run after a failure
 * sends the recorded digest again (what /digest/DATE shows), not a new one. Within a
 * run a failed send is tried again DIGESTMAIL_TRIES times in all, waiting
 * backoff_ms, then twice that, between tries; a run also sends the recorded digests of
 * earlier dates still unsent (a morning whose run failed), to their recorded recipients. Every try is recorded (attempts, time,
 * the relay's answer): the status page and /metrics show failures.
 * One run at a time per database: a lock file "DB.digest-lock" beside it (flock).
 *
 * The relay (libcurl's SMTP; this file is the hub's only libcurl user) is configured
 * in the hub's database (`lienket-hub mail relay`, meta keys mail_*): its URL
 * (`smtp://host:587` with STARTTLS required, `smtps://host:465` TLS from the start;
 * `--plain`, SMTP without TLS, only to a loopback address: a relay on the same
 * machine), the sender address, and optionally a user and a password (kept in the
 * database, which is the lienket user's alone: 0600) and a CA file.
 *
 * The message: From, To, Date, Message-ID, a Subject in Vietnamese encoded as RFC 2047
 * (UTF-8, base64), multipart/mixed of the HTML body (text/html; charset=utf-8) and the
 * three CSV files (text/csv, attachments), each part base64.
 * Owns: nothing between calls.
 */
#ifndef LK_HUB_DIGESTMAIL_H
#define LK_HUB_DIGESTMAIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

#define DIGESTMAIL_TRIES 3          /* sends within one run before leaving it to the next */
#define DIGESTMAIL_BACKOFF_MS 30000 /* the first wait; then doubled */
#define DIGESTMAIL_TIMEOUT_S 120    /* one whole SMTP conversation */

/* The relay's settings (meta keys mail_url, mail_from, mail_user, mail_password,
 * mail_ca_file; "" when not set). */
struct digestmail_relay {
	char url[512];
	char from[256];
	char user[256];
	char password[256];
	char ca_file[1024];
	int plain;            /* 1: smtp:// without STARTTLS (loopback only) */
};

/* Reads the relay's settings on s. 0, 1 when no URL or sender is set, -1. */
int digestmail_relay_get(struct store *s, struct digestmail_relay *out);

/* Checks and stores the relay's settings (inside a write transaction): the URL must be
 * smtp:// or smtps://, plain (no TLS) only smtp:// to a loopback host; from an address.
 * 0, 1 with an English reason in err when a setting is refused, -1. */
int digestmail_relay_set(struct store *s, const struct digestmail_relay *r, char *err,
			 size_t errlen);

/* 1 when address looks like a mail address (one @, no spaces, controls, <>,;"). */
int digestmail_address_valid(const char *address);

struct digestmail_result {
	int scopes;   /* scopes with recipients */
	int sent;     /* sent by this run */
	int already;  /* sent before this run */
	int failed;   /* still not sent after this run's tries */
};

/* `digest --mail`: builds (once), records and sends the digest of date (cut-off
 * hh:mm Vietnam time) to every scope's recipients, trying each unsent one up to tries
 * times with backoff_ms doubling between tries. Progress lines go to log (English).
 * 0 when every scope's digest is sent (now or before); 1 when some failed (recorded,
 * for the next run); 2 when the date or a scope is bad or no relay is configured;
 * -1 for storage failures. err says why. */
int digestmail_run(const char *db_path, const char *date, int cutoff_hh, int cutoff_mm,
		   int tries, int64_t backoff_ms, FILE *log, struct digestmail_result *res,
		   char *err, size_t errlen);

#endif
