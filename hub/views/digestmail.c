/*
 * digestmail.c — mailing the morning digest (see digestmail.h): the hub's only libcurl
 * user.
 *
 * Invariant: a digest is recorded before its first try and its sending is recorded
 * after every try, each in its own committed transaction; a run sends only what is
 * recorded unsent, so two runs (or a run after a failure) never send a digest the
 * relay has accepted. (A crash between the relay's acceptance and its record would
 * send it once more at the next run: at least once, never lost.)
 * Owns: per run, its store, its read connection, the lock file descriptor.
 */
#include "digestmail.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "status.h"

#define DIGESTMAIL_MAX_SCOPES 256 /* a province has a few dozen districts */

/* ---- settings ---- */

static int meta_text(struct store *s, const char *key, char *buf, size_t len)
{
	int rc = s->meta_get(s, key, buf, len);
	if (rc == 1)
		buf[0] = '\0';
	return rc < 0 ? -1 : 0;
}

int digestmail_relay_get(struct store *s, struct digestmail_relay *out)
{
	struct digestmail_relay r;
	char plain[8];
	memset(&r, 0, sizeof r);
	if (meta_text(s, "mail_plain", plain, sizeof plain) != 0 ||
	    meta_text(s, "mail_url", r.url, sizeof r.url) != 0 ||
	    meta_text(s, "mail_from", r.from, sizeof r.from) != 0 ||
	    meta_text(s, "mail_user", r.user, sizeof r.user) != 0 ||
	    meta_text(s, "mail_password", r.password, sizeof r.password) != 0 ||
	    meta_text(s, "mail_ca_file", r.ca_file, sizeof r.ca_file) != 0)
		return -1;
	r.plain = strcmp(plain, "1") == 0;
	*out = r;
	return r.url[0] && r.from[0] ? 0 : 1;
}

/* The host of an smtp(s) URL is a loopback address. */
static int loopback_url(const char *url)
{
	const char *h = strstr(url, "://");
	if (!h)
		return 0;
	h += 3;
	const char *at = strchr(h, '@'), *slash = strchr(h, '/');
	if (at && (!slash || at < slash))
		h = at + 1;
	static const char *const names[] = { "127.0.0.1", "localhost", "[::1]" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t n = strlen(names[i]);
		if (strncasecmp(h, names[i], n) == 0 && (h[n] == '\0' || h[n] == ':' || h[n] == '/'))
			return 1;
	}
	return 0;
}

static int plain_smtp(const char *url) { return strncasecmp(url, "smtp://", 7) == 0; }

int digestmail_address_valid(const char *a)
{
	const char *at = a ? strchr(a, '@') : NULL;
	if (!at || at == a || !at[1] || strchr(at + 1, '@') || strlen(a) > 254)
		return 0;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p == 0x7f || strchr("<>,;\"()[]\\", *p))
			return 0;
	return 1;
}

int digestmail_relay_set(struct store *s, const struct digestmail_relay *r, char *err,
			 size_t errlen)
{
	if (!plain_smtp(r->url) && strncasecmp(r->url, "smtps://", 8) != 0) {
		snprintf(err, errlen, "the relay URL must start with smtp:// or smtps://");
		return 1;
	}
	if (r->plain && (!plain_smtp(r->url) || !loopback_url(r->url))) {
		snprintf(err, errlen, "SMTP without TLS only to a relay on this machine (smtp://127.0.0.1…)");
		return 1;
	}
	if (!digestmail_address_valid(r->from)) {
		snprintf(err, errlen, "'%s' is not a mail address", r->from);
		return 1;
	}
	if (s->meta_set(s, "mail_url", r->url) != 0 || s->meta_set(s, "mail_from", r->from) != 0 ||
	    s->meta_set(s, "mail_user", r->user) != 0 ||
	    s->meta_set(s, "mail_password", r->password) != 0 ||
	    s->meta_set(s, "mail_ca_file", r->ca_file) != 0 ||
	    s->meta_set(s, "mail_plain", r->plain ? "1" : "0") != 0)
		return -1;
	return 0;
}

/* ---- the message ---- */

/* "=?UTF-8?B?…?=" words of at most 45 bytes of text each (RFC 2047: an encoded word
 * at most 75 characters), folded with CRLF SP, into out. 0, or -1 when out is short. */
static int rfc2047(const char *text, char *out, size_t n)
{
	size_t len = strlen(text), o = 0, i = 0;
	while (i < len) {
		size_t k = len - i > 45 ? 45 : len - i;
		/* never cut a UTF-8 sequence: back up to the start of a character */
		while (i + k < len && k > 0 && ((unsigned char)text[i + k] & 0xC0) == 0x80)
			k--;
		unsigned char enc[64];
		int el = EVP_EncodeBlock(enc, (const unsigned char *)text + i, (int)k);
		int w = snprintf(out + o, n - o, "%s=?UTF-8?B?%.*s?=", o ? "\r\n " : "", el, enc);
		if (w < 0 || (size_t)w >= n - o)
			return -1;
		o += (size_t)w;
		i += k;
	}
	if (o == 0 && n)
		out[0] = '\0';
	return 0;
}

/* An RFC 5322 date of t, in English whatever the locale. */
static void mail_date(time_t t, char out[64])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 64, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Adds one part: text as type, base64, an attachment named filename when not NULL. */
static int add_part(curl_mime *mime, const char *text, const char *type, const char *filename)
{
	curl_mimepart *p = curl_mime_addpart(mime);
	if (!p || curl_mime_data(p, text, CURL_ZERO_TERMINATED) != CURLE_OK ||
	    curl_mime_type(p, type) != CURLE_OK || curl_mime_encoder(p, "base64") != CURLE_OK)
		return -1;
	if (filename && curl_mime_filename(p, filename) != CURLE_OK)
		return -1;
	return 0;
}

/* Sends m through relay r. 0 accepted; -1 with the reason in err. */
static int send_one(const struct digestmail_relay *r, const struct store_digest_mail *m,
		    char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	curl_mime *mime = NULL;
	struct curl_slist *rcpt = NULL, *hdr = NULL;
	char buf[2048], from[300], cerr[CURL_ERROR_SIZE] = "", subject[1200], date[64];
	/* the encoded subject of the longest subject: 4/3 of it and a fold every 45 bytes */
	_Static_assert(sizeof subject > sizeof m->subject * 4 / 3 + sizeof m->subject / 45 * 16,
		       "room for the encoded subject");
	int rc = -1;
	if (!c) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	/* recipients: "a@x, b@y" */
	char list[sizeof m->recipients];
	snprintf(list, sizeof list, "%s", m->recipients);
	char *save = NULL;
	for (char *a = strtok_r(list, ", ", &save); a; a = strtok_r(NULL, ", ", &save)) {
		snprintf(buf, sizeof buf, "<%s>", a);
		struct curl_slist *n = curl_slist_append(rcpt, buf);
		if (!n)
			goto oom;
		rcpt = n;
	}
	mail_date(time(NULL), date);
	if (rfc2047(m->subject, subject, sizeof subject) != 0) {
		snprintf(err, errlen, "subject too long");
		goto done;
	}
	const char *headers[5];
	char h_date[100], h_from[400], h_to[1100], h_subj[1300], h_id[400];
	snprintf(h_date, sizeof h_date, "Date: %s", date);
	snprintf(h_from, sizeof h_from, "From: %s", r->from);
	snprintf(h_to, sizeof h_to, "To: %s", m->recipients);
	snprintf(h_subj, sizeof h_subj, "Subject: %s", subject);
	/* the same id on every try of one digest: a relay or reader can tell a repeat */
	snprintf(h_id, sizeof h_id, "Message-ID: <lienket-digest-%s-%s@%s>", m->date,
		 m->unit_id[0] ? m->unit_id : "tinh", strchr(r->from, '@') + 1);
	headers[0] = h_date, headers[1] = h_from, headers[2] = h_to, headers[3] = h_subj,
	headers[4] = h_id;
	for (size_t i = 0; i < 5; i++) {
		struct curl_slist *n = curl_slist_append(hdr, headers[i]);
		if (!n)
			goto oom;
		hdr = n;
	}
	char name_status[64], name_arrivals[64], name_report[64];
	snprintf(name_status, sizeof name_status, "digest-%s-status.csv", m->date);
	snprintf(name_arrivals, sizeof name_arrivals, "digest-%s-arrivals.csv", m->date);
	snprintf(name_report, sizeof name_report, "digest-%s-report.csv", m->date);
	mime = curl_mime_init(c);
	if (!mime || add_part(mime, m->html, "text/html; charset=utf-8", NULL) != 0 ||
	    add_part(mime, m->status_csv, "text/csv; charset=utf-8", name_status) != 0 ||
	    add_part(mime, m->arrivals_csv, "text/csv; charset=utf-8", name_arrivals) != 0 ||
	    add_part(mime, m->report_csv, "text/csv; charset=utf-8", name_report) != 0)
		goto oom;
	snprintf(from, sizeof from, "<%s>", r->from);
	int ok = curl_easy_setopt(c, CURLOPT_URL, r->url) == CURLE_OK &&
		 curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps") == CURLE_OK &&
		 curl_easy_setopt(c, CURLOPT_MAIL_FROM, from) == CURLE_OK &&
		 curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt) == CURLE_OK &&
		 curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr) == CURLE_OK &&
		 curl_easy_setopt(c, CURLOPT_MIMEPOST, mime) == CURLE_OK &&
		 curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr) == CURLE_OK &&
		 curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)DIGESTMAIL_TIMEOUT_S) == CURLE_OK &&
		 curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	/* smtp:// means STARTTLS, required — unless the operator chose plain SMTP to a relay
	 * on this machine (digestmail_relay_set allows nothing else) */
	if (ok && plain_smtp(r->url) && !(r->plain && loopback_url(r->url)))
		ok = curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL) == CURLE_OK;
	if (ok && r->user[0])
		ok = curl_easy_setopt(c, CURLOPT_USERNAME, r->user) == CURLE_OK &&
		     curl_easy_setopt(c, CURLOPT_PASSWORD, r->password) == CURLE_OK;
	if (ok && r->ca_file[0])
		ok = curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file) == CURLE_OK;
	if (!ok) {
		snprintf(err, errlen, "cannot set up the SMTP transfer");
		goto done;
	}
	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		long code = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		snprintf(err, errlen, "relay %.120s: %.100s (SMTP %ld)", r->url,
			 cerr[0] ? cerr : curl_easy_strerror(cc), code);
		goto done;
	}
	rc = 0;
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	curl_mime_free(mime);
	curl_slist_free_all(rcpt);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return rc;
}

/* ---- the run ---- */

struct scope {
	char unit_id[37];
	char recipients[1024];
};

struct scopes {
	struct scope v[DIGESTMAIL_MAX_SCOPES];
	size_t n;
	int overflow;
};

static int scope_add(void *ctx, const char *address, const char *unit_id)
{
	struct scopes *S = ctx;
	struct scope *sc = S->n ? &S->v[S->n - 1] : NULL;
	if (!sc || strcmp(sc->unit_id, unit_id) != 0) {
		if (S->n == DIGESTMAIL_MAX_SCOPES) {
			S->overflow = 1;
			return 1;
		}
		sc = &S->v[S->n++];
		snprintf(sc->unit_id, sizeof sc->unit_id, "%s", unit_id);
		sc->recipients[0] = '\0';
	}
	size_t l = strlen(sc->recipients);
	snprintf(sc->recipients + l, sizeof sc->recipients - l, "%s%s", l ? ", " : "", address);
	return 0;
}

/* The recorded digests of dates other than `date` still unsent (a run that failed on an
 * earlier morning), at most DIGESTMAIL_MAX_SCOPES. */
struct unsent {
	const char *date;
	struct scope v[DIGESTMAIL_MAX_SCOPES];
	char dates[DIGESTMAIL_MAX_SCOPES][11];
	size_t n;
};

static int unsent_add(void *ctx, const struct store_digest_mail *m)
{
	struct unsent *U = ctx;
	if (m->sent_ms || strcmp(m->date, U->date) == 0 || U->n == DIGESTMAIL_MAX_SCOPES)
		return 0;
	snprintf(U->v[U->n].unit_id, sizeof U->v[U->n].unit_id, "%s", m->unit_id);
	snprintf(U->v[U->n].recipients, sizeof U->v[U->n].recipients, "%s", m->recipients);
	snprintf(U->dates[U->n], sizeof U->dates[U->n], "%s", m->date);
	U->n++;
	return 0;
}

static int record(struct store *s, const struct store_digest_mail *m)
{
	if (s->begin(s) != 0)
		return -1;
	if (s->digest_mail_put(s, m) != 0) {
		s->rollback(s);
		return -1;
	}
	return s->commit(s);
}

/* "dd/mm/yyyy" of "yyyy-mm-dd". */
static void vn_date(const char *iso, char out[11])
{
	snprintf(out, 11, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
}

/* The recorded digest of (date, scope), built and recorded now when there is none.
 * 0 and *m; 1 when the scope is bad; -1. */
static int digest_of(struct store *s, const char *date, int hh, int mm,
		     const struct scope *sc, int64_t now_ms, struct store_digest_mail *m,
		     char *err, size_t errlen)
{
	int rc = s->digest_mail_get(s, date, sc->unit_id, m);
	if (rc <= 0) {
		if (rc < 0)
			snprintf(err, errlen, "cannot read the recorded digests");
		return rc;
	}
	struct digest_texts t;
	rc = digest_build(s, date, hh, mm, sc->unit_id, &t, err, errlen);
	if (rc != 0)
		return rc;
	char d[11];
	memset(m, 0, sizeof *m);
	snprintf(m->date, sizeof m->date, "%s", date);
	snprintf(m->unit_id, sizeof m->unit_id, "%s", sc->unit_id);
	vn_date(date, d);
	if (sc->unit_id[0])
		snprintf(m->subject, sizeof m->subject, "Liên Kết — Báo cáo buổi sáng ngày %s — %s", d,
			 t.scope_name);
	else
		snprintf(m->subject, sizeof m->subject, "Liên Kết — Báo cáo buổi sáng ngày %s", d);
	m->html = t.html, m->status_csv = t.status_csv, m->arrivals_csv = t.arrivals_csv,
	m->report_csv = t.report_csv;
	t.html = t.status_csv = t.arrivals_csv = t.report_csv = NULL;
	m->built_ms = now_ms;
	snprintf(m->recipients, sizeof m->recipients, "%s", sc->recipients);
	if (record(s, m) != 0) {
		store_digest_mail_release(m);
		snprintf(err, errlen, "cannot record the digest");
		return -1;
	}
	return 0;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Sends one recorded digest, up to tries times. 0 sent, 1 still failing, -1. */
static int send_tries(struct store *s, const struct digestmail_relay *relay,
		      struct store_digest_mail *m, const char *recipients, int tries,
		      int64_t backoff_ms, FILE *log)
{
	/* a recipient added since the digest was recorded gets it too */
	snprintf(m->recipients, sizeof m->recipients, "%s", recipients);
	for (int i = 1; i <= tries; i++) {
		char why[sizeof m->error];
		int rc = send_one(relay, m, why, sizeof why);
		m->attempts++;
		m->last_try_ms = wall_ms();
		if (rc == 0) {
			m->sent_ms = m->last_try_ms;
			m->error[0] = '\0';
		} else {
			snprintf(m->error, sizeof m->error, "%s", why);
		}
		if (record(s, m) != 0)
			return -1;
		if (rc == 0) {
			fprintf(log, "digest %s scope '%s': sent to %s\n", m->date,
				m->unit_id[0] ? m->unit_id : "province", m->recipients);
			return 0;
		}
		fprintf(log, "digest %s scope '%s': try %d of %d failed: %s\n", m->date,
			m->unit_id[0] ? m->unit_id : "province", i, tries, why);
		if (i < tries)
			sleep_ms(backoff_ms << (i - 1));
	}
	return 1;
}

/* send_tries, counted in res: 0 (sent or still failing), or -1 with err. */
static int send_counted(struct store *s, const struct digestmail_relay *relay,
			struct store_digest_mail *m, const char *recipients, int tries,
			int64_t backoff_ms, FILE *log, struct digestmail_result *res, char *err,
			size_t errlen)
{
	int t = send_tries(s, relay, m, recipients, tries < 1 ? 1 : tries, backoff_ms, log);
	if (t < 0) {
		snprintf(err, errlen, "cannot record a try of the digest");
		return -1;
	}
	if (t == 0)
		res->sent++;
	else
		res->failed++;
	return 0;
}

int digestmail_run(const char *db_path, const char *date, int cutoff_hh, int cutoff_mm,
		   int tries, int64_t backoff_ms, FILE *log, struct digestmail_result *res,
		   char *err, size_t errlen)
{
	struct store *s = NULL;
	struct digestmail_relay relay;
	struct scopes *S = calloc(1, sizeof *S);
	char lock_path[STORE_PATH_MAX];
	int lock = -1, rc = -1;
	memset(res, 0, sizeof *res);
	if (!S) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (store_side_path(db_path, "digest-lock", lock_path, sizeof lock_path) != 0) {
		snprintf(err, errlen, "database name too long");
		free(S);
		return -1;
	}
	lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) != 0) {
		snprintf(err, errlen, "cannot lock '%s': %s", lock_path, strerror(errno));
		goto done;
	}
	if (hub_store_open(db_path, 0, &s, err, errlen) != 0)
		goto done;
	int r = digestmail_relay_get(s, &relay);
	if (r != 0) {
		if (r > 0) {
			snprintf(err, errlen, "no mail relay is configured (lienket-hub mail relay)");
			rc = 2;
		} else {
			snprintf(err, errlen, "cannot read the relay's settings");
		}
		goto done;
	}
	if (s->mail_to_list(s, NULL, scope_add, S) < 0 || S->overflow) {
		snprintf(err, errlen, S->overflow ? "more than %d scopes have recipients"
						  : "cannot read the recipients%.0d",
			 DIGESTMAIL_MAX_SCOPES);
		goto done;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "cannot start libcurl");
		goto done;
	}
	rc = 0;
	res->scopes = (int)S->n;
	for (size_t i = 0; i < S->n; i++) {
		struct store_digest_mail m;
		int d = digest_of(s, date, cutoff_hh, cutoff_mm, &S->v[i], wall_ms(), &m,
				  err, errlen);
		if (d != 0) {
			rc = d > 0 ? 2 : -1;
			break;
		}
		if (m.sent_ms) {
			res->already++;
			fprintf(log, "digest %s scope '%s': already sent\n", date,
				m.unit_id[0] ? m.unit_id : "province");
		} else {
			rc = send_counted(s, &relay, &m, S->v[i].recipients, tries, backoff_ms, log, res,
					  err, errlen);
		}
		store_digest_mail_release(&m);
		if (rc < 0)
			break;
	}
	/* digests of earlier mornings that no run could send yet: the same, once */
	struct unsent *U = rc == 0 ? calloc(1, sizeof *U) : NULL;
	if (rc == 0 && !U) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (U) {
		U->date = date;
		if (s->digest_mails_list(s, unsent_add, U) != 0) {
			snprintf(err, errlen, "cannot read the recorded digests");
			rc = -1;
		}
		for (size_t i = 0; rc == 0 && i < U->n; i++) {
			struct store_digest_mail m;
			if (s->digest_mail_get(s, U->dates[i], U->v[i].unit_id, &m) != 0) {
				snprintf(err, errlen, "cannot read the recorded digests");
				rc = -1;
				break;
			}
			res->scopes++;
			rc = send_counted(s, &relay, &m, U->v[i].recipients, tries, backoff_ms, log, res,
					  err, errlen);
			store_digest_mail_release(&m);
		}
		free(U);
	}
	curl_global_cleanup();
	if (rc == 0 && res->failed) {
		snprintf(err, errlen, "%d digest(s) not sent; the next run tries again", res->failed);
		rc = 1;
	}
done:
	if (s)
		s->close(s);
	if (lock >= 0)
		close(lock);
	free(S);
	memset(&relay, 0, sizeof relay);
	return rc;
}
