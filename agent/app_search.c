/*
 * app_search.c — the office app's folded search in SQL (see app_search.h).
 */
#include "app_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetext.h"
#include "textnorm.h"

#define QUERY_MAX APP_SEARCH_QUERY_MAX

/* The search key of s (NULL when s is NULL or not UTF-8); free with free(). */
static char *fold(const char *s, size_t len)
{
	char *out = NULL;
	if (!s || textnorm_fold(s, len, &out, NULL) != TEXTNORM_OK)
		return NULL;
	return out;
}

/*
 * The fold of a whole column runs once per row of a list (50,000 rows in well under
 * 100 ms), where textnorm_fold costs microseconds a call. fast_fold gives the same key
 * without allocating for the characters offices write — ASCII and the precomposed
 * Vietnamese letters — and says "slow" for anything else, which then goes through
 * textnorm_fold. Its table is derived from textnorm_fold itself (fold_table_init), each
 * character tested between two letters so white space and ignorables keep their
 * meaning: the two always agree (test_agent_app checks every character of the table).
 */
enum { FOLD_SLOW = 0, FOLD_DROP = 1, FOLD_SPACE = 2 }; /* else: the ASCII byte it becomes */
#define FOLD_LOW_MAX 0x370   /* ASCII, Latin-1, Latin Extended-A/B, combining marks */
#define FOLD_VIET_BASE 0x1E00 /* Latin Extended Additional: ạ ả ấ … ỹ */
static unsigned char fold_low[FOLD_LOW_MAX];
static unsigned char fold_viet[0x100];
static int fold_ready;

static size_t utf8_put(int32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	out[0] = (char)(0xE0 | (cp >> 12));
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[2] = (char)(0x80 | (cp & 0x3F));
	return 3;
}

/* What textnorm_fold makes of cp between "a" and "b". */
static unsigned char fold_class(int32_t cp)
{
	char in[8], *out = NULL;
	size_t n = 0, olen = 0;
	in[n++] = 'a';
	n += utf8_put(cp, in + n);
	in[n++] = 'b';
	unsigned char r = FOLD_SLOW;
	if ((cp >= 0xD800 && cp < 0xE000) || textnorm_fold(in, n, &out, &olen) != TEXTNORM_OK)
		return FOLD_SLOW;
	if (olen == 2 && memcmp(out, "ab", 2) == 0)
		r = FOLD_DROP;
	else if (olen == 3 && memcmp(out, "a b", 3) == 0)
		r = FOLD_SPACE;
	else if (olen == 3 && out[0] == 'a' && out[2] == 'b' && out[1] > ' ' && (unsigned char)out[1] < 0x7F)
		r = (unsigned char)out[1];
	free(out);
	return r;
}

static void fold_table_init(void)
{
	if (fold_ready)
		return;
	for (int32_t cp = 1; cp < FOLD_LOW_MAX; cp++)
		fold_low[cp] = fold_class(cp);
	for (int32_t i = 0; i < 0x100; i++)
		fold_viet[i] = fold_class(FOLD_VIET_BASE + i);
	fold_ready = 1;
}

/* The fold of s[0..len) into out (len + 1 bytes: a fold here is never longer), or -1
 * when a character needs textnorm_fold. */
static long fast_fold(const unsigned char *s, size_t len, char *out)
{
	size_t w = 0;
	int pending_space = 0;
	for (size_t i = 0; i < len;) {
		int32_t cp;
		unsigned char c = s[i];
		size_t n;
		if (c < 0x80) {
			cp = c;
			n = 1;
		} else if ((c & 0xE0) == 0xC0 && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
			cp = ((c & 0x1F) << 6) | (s[i + 1] & 0x3F);
			n = 2;
		} else if ((c & 0xF0) == 0xE0 && i + 2 < len && (s[i + 1] & 0xC0) == 0x80 && (s[i + 2] & 0xC0) == 0x80) {
			cp = ((c & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
			n = 3;
		} else {
			return -1;
		}
		unsigned char k = cp < FOLD_LOW_MAX			    ? fold_low[cp]
				  : cp >= FOLD_VIET_BASE && cp < FOLD_VIET_BASE + 0x100 ? fold_viet[cp - FOLD_VIET_BASE]
											: FOLD_SLOW;
		if (k == FOLD_SLOW)
			return -1;
		if (k == FOLD_SPACE) {
			pending_space = w > 0;
		} else if (k != FOLD_DROP) {
			if (pending_space)
				out[w++] = ' ';
			pending_space = 0;
			out[w++] = (char)k;
		}
		i += n;
	}
	out[w] = '\0';
	return (long)w;
}

/* lk_fold(text): the search key, NULL for NULL. */
static void sql_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	const char *s = (const char *)sqlite3_value_text(argv[0]);
	size_t len = (size_t)sqlite3_value_bytes(argv[0]);
	char buf[512];
	if (s && len < sizeof buf) {
		long n = fast_fold((const unsigned char *)s, len, buf);
		if (n >= 0) {
			sqlite3_result_text(ctx, buf, (int)n, SQLITE_TRANSIENT);
			return;
		}
	}
	char *out = NULL;
	enum textnorm_code c = textnorm_fold(s ? s : "", len, &out, NULL);
	if (c == TEXTNORM_NOMEM) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (c != TEXTNORM_OK) {
		sqlite3_result_text(ctx, s ? s : "", -1, SQLITE_TRANSIENT);
		return;
	}
	sqlite3_result_text(ctx, out, -1, free);
}

/* The search key of a query text (its first QUERY_MAX bytes), or NULL when it is empty
 * (no filter). */
char *app_search_key(const char *q)
{
	if (!q)
		return NULL;
	size_t n = strnlen(q, QUERY_MAX + 1);
	if (n > QUERY_MAX)
		n = QUERY_MAX;
	char *key = fold(q, n);
	if (key && !*key) {
		free(key);
		key = NULL;
	}
	return key;
}

#define MATCH_WORDS_MAX 16 /* words of a query looked for; more are ignored */

#define MATCH_MEMO_ARGS 16   /* values of a row remembered, by position */
#define MATCH_MEMO_BYTES 48  /* longest value remembered (a choice's label, a year, a date) */

/* The words a value held last time at this position of lk_match's arguments: a
 * choice's label or a year repeats from row to row, and is then not folded again. */
struct match_memo {
	int len;             /* -1: nothing remembered */
	unsigned found;      /* the words inside it */
	char v[MATCH_MEMO_BYTES];
};

/* A search key split into words, kept by SQLite for the statement (auxdata): split once,
 * not once per row. */
struct match_words {
	size_t n;
	int has_slash;                 /* a word holds '/': dates are compared as dd/mm/yyyy too */
	const char *w[MATCH_WORDS_MAX];
	size_t len[MATCH_WORDS_MAX];
	char text[QUERY_MAX + 1];
	struct match_memo memo[MATCH_MEMO_ARGS];
};

static struct match_words *match_words_of(sqlite3_context *ctx, sqlite3_value *v)
{
	struct match_words *mw = sqlite3_get_auxdata(ctx, 0);
	if (mw)
		return mw;
	const char *key = (const char *)sqlite3_value_text(v);
	mw = sqlite3_malloc(sizeof *mw);
	if (!mw)
		return NULL;
	memset(mw, 0, sizeof *mw);
	for (size_t i = 0; i < MATCH_MEMO_ARGS; i++)
		mw->memo[i].len = -1;
	snprintf(mw->text, sizeof mw->text, "%s", key ? key : "");
	for (char *p = mw->text; *p && mw->n < MATCH_WORDS_MAX;) {
		size_t n = strcspn(p, " ");
		if (n) {
			mw->w[mw->n] = p;
			mw->len[mw->n++] = n;
			if (memchr(p, '/', n))
				mw->has_slash = 1;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	sqlite3_set_auxdata(ctx, 0, mw, sqlite3_free);
	return sqlite3_get_auxdata(ctx, 0); /* NULL if SQLite could not keep it (freed) */
}

/* 1 when needle[0..nlen) occurs in hay[0..hlen) (memmem is not in C11 nor on Windows). */
static int contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0)
		return 1;
	for (const char *p = hay; hlen >= nlen;) {
		const char *c = memchr(p, needle[0], hlen - nlen + 1);
		if (!c)
			return 0;
		if (memcmp(c, needle, nlen) == 0)
			return 1;
		hlen -= (size_t)(c - p) + 1;
		p = c + 1;
	}
	return 0;
}

/* Marks in *found the words of mw inside the fold of s[0..len). */
static void match_value(const struct match_words *mw, const char *s, size_t len, unsigned *found)
{
	char buf[1024], *slow = NULL;
	const char *hay = buf;
	size_t hlen;
	long n = len < sizeof buf ? fast_fold((const unsigned char *)s, len, buf) : -1;
	if (n >= 0) {
		hlen = (size_t)n;
	} else if (textnorm_fold(s, len, &slow, &hlen) == TEXTNORM_OK) {
		hay = slow;
	} else {
		hay = s; /* not UTF-8: as it is */
		hlen = len;
	}
	for (size_t k = 0; k < mw->n; k++)
		if (!(*found & (1u << k)) && contains(hay, hlen, mw->w[k], mw->len[k]))
			*found |= 1u << k;
	free(slow);
}

/* lk_match(key, v1, v2, …): 1 when every word of the search key (already folded) is
 * inside the fold of some value, else 0. NULL values are skipped, integers compared as
 * decimal text, ISO dates also as dd/mm/yyyy when a word holds '/' (as the office
 * types them). No concatenation and no LIKE: each value is folded into a buffer on the
 * stack and looked into. */
static void sql_match(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct match_words *mw = match_words_of(ctx, argv[0]);
	if (!mw) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	unsigned all = (1u << mw->n) - 1, found = 0;
	for (int i = 1; i < argc && found != all; i++) {
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
			continue;
		const char *v = (const char *)sqlite3_value_text(argv[i]);
		size_t len = (size_t)sqlite3_value_bytes(argv[i]);
		if (!v)
			continue;
		struct match_memo *m = i - 1 < MATCH_MEMO_ARGS ? &mw->memo[i - 1] : NULL;
		if (m && m->len == (int)len && memcmp(m->v, v, len) == 0) {
			found |= m->found;
			continue;
		}
		unsigned here = 0;
		match_value(mw, v, len, &here);
		char dmy[DATETEXT_SIZE];
		if (mw->has_slash && len == 10 && v[4] == '-' && v[7] == '-' && datetext_format(v, dmy) == 0)
			match_value(mw, dmy, strlen(dmy), &here);
		if (m && len <= MATCH_MEMO_BYTES) {
			m->len = (int)len;
			m->found = here;
			memcpy(m->v, v, len);
		}
		found |= here;
	}
	sqlite3_result_int(ctx, found == all);
}

int app_search_register(sqlite3 *db)
{
	fold_table_init();
	if (sqlite3_create_function(db, "lk_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				    sql_fold, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "lk_match", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				    sql_match, NULL, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

int app_search_fold_agrees(int32_t cp)
{
	char in[8], out[16], *slow = NULL;
	size_t n = 0, slen = 0;
	fold_table_init();
	in[n++] = 'X';
	n += utf8_put(cp, in + n);
	in[n++] = ' ';
	in[n++] = 'y';
	long f = fast_fold((const unsigned char *)in, n, out);
	if (f < 0)
		return 1; /* not in the table: textnorm_fold decides */
	if (textnorm_fold(in, n, &slow, &slen) != TEXTNORM_OK)
		return 0;
	int same = (size_t)f == slen && memcmp(out, slow, slen) == 0;
	free(slow);
	return same;
}
