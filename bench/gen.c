/*
 * gen.c — lienket-gen: a deterministic generator of a province's youth-union records.
 *
 * From the real unit tree (../shared/domain/units/, columns province, province_code,
 * district, district_code, commune, commune_code, commune_kind) it makes what every
 * office of the province records in one year, as CSV files an agent imports: for each
 * commune office its village branches (units, names, parent links), their secretaries,
 * insurance cards, support, Party steps, branch meetings, joint meetings, volunteer
 * activities and year-end records; for each district office its standing committee,
 * pilot choices, giao ban and task-assignment meetings and tasks.
 *
 * Invariants: the same seed and inputs give byte-identical output; every row is
 * validated against schema.c before it is written (a row that would not validate stops
 * the run); ids of natural-key tables are the UUIDv5 of their key (PROTOCOL.md §2), other
 * ids are UUIDv7 whose time is the record's date and whose random bits come from a seeded
 * generator; and the figures of MODEL.md computed over the output for the chosen year
 * equal the article's headline figures. The totals are fixed first, by one global plan
 * (which branch's secretary has a card, is introduced, is admitted, what each activity
 * counts, how each branch is rated); details are drawn after, per office, from a stream
 * seeded by the seed and the office's code, so one office's rows do not depend on
 * another's. While writing it counts the figures from the rows it writes and refuses to
 * finish if they differ from the plan. Everything it allocates is freed before exit.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "schema.h"

#define GEN_VERSION "0.1.0"
#define UUID_TEXT 37             /* 36 chars + NUL */
#define DATE_TEXT 11             /* YYYY-MM-DD + NUL */
#define GEN_MAX_COLS 16          /* the widest table of schema 1 has 9 columns */
#define GEN_VALUE_MAX 512        /* our longest value is a text of at most 120 chars */
#define GEN_LINE_MAX (GEN_MAX_COLS * (2 * GEN_VALUE_MAX + 3) + 4) /* every char quoted */
#define GEN_PATH_MAX 4096
#define GEN_NAME_MAX 160         /* the longest official name is ~40 bytes */
#define GEN_CODE_MAX 16          /* official codes are 2-5 digits */
#define GEN_CSV_MAX_BYTES (16L * 1024 * 1024) /* a unit list is ~15 KB: refuse anything absurd */
#define GEN_MAX_TABLES 16
#define GEN_MAX_BRANCHES 16      /* per commune: a village count of real communes is 3-15 */
#define GEN_TEXT_MIN_CHARS 40    /* free text: 40-120 characters (issue 8) */
#define GEN_TEXT_MAX_CHARS 120
#define GEN_TEXT_TRIES 200       /* draws before a composed text is declared impossible */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------------------ */
/* Errors: one message, set where the failure is found, printed once by main.           */

struct gen_error {
	char msg[1024];
};

static int gen_fail(struct gen_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int gen_fail(struct gen_error *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------------------------------ */
/* A seeded generator: splitmix64 to seed, xoshiro256** to draw.                        */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* A stream for (seed, name): different names give unrelated streams. */
static void rng_init(struct rng *r, uint64_t seed, const char *name)
{
	uint64_t x = seed;
	x = splitmix64(&x) ^ fnv1a64(name);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	const uint64_t result = rotl64(s[1] * 5, 7) * 9;
	const uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

/* Uniform in [0, n) (n > 0). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static int rng_range(struct rng *r, int lo, int hi)
{
	return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

static int rng_percent(struct rng *r, int pct)
{
	return (int)rng_below(r, 100) < pct;
}

static void rng_shuffle(struct rng *r, int *a, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)rng_below(r, (uint32_t)(i + 1));
		int t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

#define PICK(r, pool) ((pool)[rng_below((r), (uint32_t)ARRAY_LEN(pool))])

/* ------------------------------------------------------------------------------------ */
/* Dates as days since 1970-01-01 (H. Hinnant's civil-calendar algorithms).             */

static int64_t day_of(int y, int m, int d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153u * (unsigned)(m > 2 ? m - 3 : m + 9) + 2u) / 5u + (unsigned)d - 1u;
	const unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_of(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
	const unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
	const unsigned mp = (5u * doy + 2u) / 153u;
	*d = (int)(doy - (153u * mp + 2u) / 5u + 1u);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static void date_text(int64_t day, char out[DATE_TEXT])
{
	int y, m, d;
	civil_of(day, &y, &m, &d);
	snprintf(out, DATE_TEXT, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)d % 100u);
}

/* 0 and the day when s is a real YYYY-MM-DD date, else -1. */
static int date_parse(const char *s, int64_t *day)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	int64_t z = day_of(y, m, d);
	int y2, m2, d2;
	civil_of(z, &y2, &m2, &d2);
	if (y2 != y || m2 != m || d2 != d)
		return -1;
	*day = z;
	return 0;
}

static int64_t day_between(struct rng *r, int64_t lo, int64_t hi)
{
	return hi <= lo ? lo : lo + (int64_t)rng_below(r, (uint32_t)(hi - lo + 1));
}

/* ------------------------------------------------------------------------------------ */
/* UUIDs: v5 in the Liên Kết namespace (PROTOCOL.md §2), v7 from a seeded stream.       */

static const unsigned char gen_namespace[16] = { 0x6c, 0x69, 0x65, 0x6e, 0x6b, 0x65, 0x74, 0x20,
						  0x80, 0x00, 0x6e, 0x61, 0x6d, 0x65, 0x73, 0x70 };

static void uuid_text(const unsigned char b[16], char out[UUID_TEXT])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

/* UUIDv5 (SHA-1) of `name`. 0, or -1 when libcrypto fails. */
static int uuid5(const char *name, size_t len, char out[UUID_TEXT])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -1;
	int ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, gen_namespace, sizeof gen_namespace) == 1 &&
		 EVP_DigestUpdate(ctx, name, len) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok || mdlen < 16)
		return -1;
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	uuid_text(md, out);
	return 0;
}

/* UUIDv7 for Unix time `ms`, its 74 random bits drawn from r. */
static void uuid7(struct rng *r, int64_t ms, char out[UUID_TEXT])
{
	unsigned char b[16];
	uint64_t a = rng_next(r), c = rng_next(r);
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)((uint64_t)ms >> (40 - 8 * i));
	for (int i = 6; i < 16; i++)
		b[i] = (unsigned char)((i < 11 ? a >> (8 * (i - 6)) : c >> (8 * (i - 11))) & 0xff);
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	uuid_text(b, out);
}

/* A UUIDv7 as entered during office hours (08:00-18:00 in Vietnam, UTC+7) on `day`. */
static void uuid7_on(struct rng *r, int64_t day, char out[UUID_TEXT])
{
	int64_t ms = day * 86400000LL + 3600000LL + (int64_t)rng_below(r, 36000000u);
	uuid7(r, ms, out);
}

static int uuid_valid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

/* ------------------------------------------------------------------------------------ */
/* UTF-8.                                                                               */

/* Number of characters of s, or -1 when s is not valid UTF-8 (overlongs, surrogates and
 * values above U+10FFFF refused). */
static long utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;
	while (*p) {
		unsigned c = *p;
		int len;
		unsigned cp;
		if (c < 0x80) {
			len = 1;
			cp = c;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return -1;
		}
		for (int i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0x20)
			return -1;
		p += len;
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------------------------ */
/* Reading CSV (RFC 4180; UTF-8 with or without a byte-order mark).                     */

struct csv_row {
	size_t first, n; /* fields [first, first + n) */
	long line;
};

struct csv {
	char *text;      /* unquoted fields, NUL-terminated, back to back */
	char **field;
	size_t nfield, capfield;
	struct csv_row *row;
	size_t nrow, caprow;
};

static void csv_release(struct csv *c)
{
	free(c->text);
	free(c->field);
	free(c->row);
	memset(c, 0, sizeof *c);
}

static int csv_push_field(struct csv *c, char *f)
{
	if (c->nfield == c->capfield) {
		size_t cap = c->capfield ? 2 * c->capfield : 256;
		char **p = realloc(c->field, cap * sizeof *p);
		if (!p)
			return -1;
		c->field = p;
		c->capfield = cap;
	}
	c->field[c->nfield++] = f;
	return 0;
}

static int csv_push_row(struct csv *c, struct csv_row row)
{
	if (c->nrow == c->caprow) {
		size_t cap = c->caprow ? 2 * c->caprow : 64;
		struct csv_row *p = realloc(c->row, cap * sizeof *p);
		if (!p)
			return -1;
		c->row = p;
		c->caprow = cap;
	}
	c->row[c->nrow++] = row;
	return 0;
}

/* Reads the whole file `path` into c (which must be zeroed), fields separated by `sep`
 * (',' for CSV; '\t' for the hub's tab-separated listings). Blank lines are skipped. On
 * failure c is released and e says why. */
static int csv_load(struct gen_error *e, const char *path, char sep, struct csv *c)
{
	char *raw = NULL;
	size_t n = 0;
	int rc = -1;
	FILE *f = fopen(path, "rb");
	if (!f)
		return gen_fail(e, "cannot open '%s': %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0) {
		gen_fail(e, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	long size = ftell(f);
	if (size < 0 || size > GEN_CSV_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0) {
		gen_fail(e, "cannot read '%s': %s", path, size < 0 ? strerror(errno) : "too large");
		goto out;
	}
	n = (size_t)size;
	raw = malloc(n + 1);
	c->text = malloc(n + 1);
	if (!raw || !c->text) {
		gen_fail(e, "cannot read '%s': out of memory", path);
		goto out;
	}
	if (fread(raw, 1, n, f) != n) {
		gen_fail(e, "cannot read '%s': %s", path, ferror(f) ? strerror(errno) : "short read");
		goto out;
	}
	size_t i = 0, o = 0;
	long line = 1;
	if (n >= 3 && memcmp(raw, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n) {
		struct csv_row row = { c->nfield, 0, line };
		for (;;) {
			if (csv_push_field(c, c->text + o) != 0) {
				gen_fail(e, "cannot read '%s': out of memory", path);
				goto out;
			}
			if (i < n && raw[i] == '"') {
				i++;
				for (;;) {
					if (i >= n) {
						gen_fail(e, "'%s' line %ld: unterminated quoted field", path, row.line);
						goto out;
					}
					if (raw[i] == '"') {
						if (i + 1 < n && raw[i + 1] == '"') {
							c->text[o++] = '"';
							i += 2;
							continue;
						}
						i++;
						break;
					}
					if (raw[i] == '\n')
						line++;
					c->text[o++] = raw[i++];
				}
				if (i < n && raw[i] != sep && raw[i] != '\r' && raw[i] != '\n') {
					gen_fail(e, "'%s' line %ld: text after a closing quote", path, line);
					goto out;
				}
			} else {
				while (i < n && raw[i] != sep && raw[i] != '\r' && raw[i] != '\n') {
					if (raw[i] == '"') {
						gen_fail(e, "'%s' line %ld: quote inside an unquoted field", path, line);
						goto out;
					}
					c->text[o++] = raw[i++];
				}
			}
			c->text[o++] = '\0';
			if (i < n && raw[i] == sep) {
				i++;
				continue;
			}
			if (i < n && raw[i] == '\r')
				i++;
			if (i < n && raw[i] == '\n')
				i++;
			line++;
			break;
		}
		row.n = c->nfield - row.first;
		if (row.n == 1 && c->field[row.first][0] == '\0') {
			c->nfield--; /* a blank line */
			continue;
		}
		if (csv_push_row(c, row) != 0) {
			gen_fail(e, "cannot read '%s': out of memory", path);
			goto out;
		}
	}
	rc = 0;
out:
	free(raw);
	fclose(f); /* read-only: nothing to lose */
	if (rc != 0)
		csv_release(c);
	return rc;
}

static const char *csv_get(const struct csv *c, size_t row, size_t col)
{
	return col < c->row[row].n ? c->field[c->row[row].first + col] : "";
}

/* Index of the column named `name` in the header row, or -1. */
static int csv_column(const struct csv *c, const char *name)
{
	if (c->nrow == 0)
		return -1;
	for (size_t i = 0; i < c->row[0].n; i++)
		if (strcmp(c->field[c->row[0].first + i], name) == 0)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------------------------------ */
/* The model.                                                                           */

enum { INS_VALID, INS_NONE, INS_EXPIRED };
enum { PARTY_NONE, PARTY_INTRODUCED, PARTY_ADMITTED, PARTY_INTRODUCED_PREV };
enum { PILOT_NONE, PILOT_CURRENT, PILOT_PAST };
enum { R_NONE, R_KHONG, R_HOAN_THANH, R_TOT, R_XUAT_SAC };
static const char *const rating_code[] = { NULL, "khong_hoan_thanh", "hoan_thanh", "tot", "xuat_sac" };

enum { VK_VACCINATION, VK_TESTING, VK_QUARANTINE, VK_GREEN_SHIPPER, VK_COVID_TEAM, VK_OTHER, VK_N };
static const char *const vk_code[VK_N] = { "vaccination", "testing",    "quarantine",
					   "green_shipper", "covid_team", "other" };
enum { SK_LOAN, SK_TRAINING, SK_SEMINAR, SK_N };
static const char *const sk_code[SK_N] = { "loan", "training", "seminar" };

struct district {
	char code[GEN_CODE_MAX];
	char name[GEN_NAME_MAX];
	char uid[UUID_TEXT];
};

struct commune {
	char code[GEN_CODE_MAX];
	char name[GEN_NAME_MAX];
	int district;
	char uid[UUID_TEXT];
	int first_branch, nbranches;
	int first_act, nact;
	int silent;       /* --silent: its office never syncs; its records are outside the figures */
};

struct branch {
	int commune;
	char uid[UUID_TEXT];
	char name[GEN_NAME_MAX];
	int64_t opened;
	int changed_in;   /* 0, or the year the secretary changed (year or year - 1) */
	int64_t term_from; /* the current secretary's first day */
	int insurance;    /* INS_* */
	int party;        /* PARTY_* */
	int pilot;        /* PILOT_* */
	int rating[2];    /* [0] previous year, [1] the year */
	int inactive_prev; /* held and joined nothing the year before ("trắng chi đoàn") */
};

struct activity {
	int commune;
	int branch;       /* -1: commune-wide */
	int kind;         /* VK_* */
	int year;
	int64_t start, end;
	int teams;
	int weight;
	int participations;
};

/* Figures counted from the rows as they are written (MODEL.md "The figures, precisely"),
 * for the chosen year unless marked _prev. */
struct stats {
	long communes, branches;
	long pilots;
	long giao_ban, giao_nhiem_vu, tasks;
	long branch_meetings, branch_meetings_attended;
	long joint_meetings, joint_hosts;
	long inactive, inactive_prev, branch_meetings_prev;
	long youth_gathered, youth_in_area, youth_gathered_prev, youth_in_area_prev;
	long vol_activities[VK_N], vol_teams[VK_N], vol_part[VK_N];
	long introduced, admitted, introduced_prev;
	long secretaries, insured;
	long supported, support_kind[SK_N], loan_amount;
	long rating[5], rating_prev[5];
};

struct out_file {
	FILE *f; /* NULL in a dry run */
	char path[GEN_PATH_MAX];
	const struct schema_table *t;
	long rows;
};

struct folder {
	struct out_file file[GEN_MAX_TABLES];
	int n;
};

struct gen_row {
	const struct schema_table *t;
	char val[GEN_MAX_COLS][GEN_VALUE_MAX];
	unsigned char set[GEN_MAX_COLS];
};

struct gen {
	struct gen_error err;
	uint64_t seed;
	int year;
	const char *units_path, *ids_path, *out_dir;
	int print_expected;
	int ids_mapped;
	int target_branches, target_insured, target_introduced, target_admitted;
	int target_participations;
	char province_code[GEN_CODE_MAX], province_name[GEN_NAME_MAX];
	struct district *d;
	int nd;
	struct commune *c;
	int nc;
	struct branch *b;
	int nb;
	struct activity *a;
	int na;
	struct stats *ds; /* per district */
	struct stats silent_st; /* what the --silent communes record (never reaches the hub) */
	int nsilent;
	long rows_written;
	struct gen_row row;
	char line[GEN_LINE_MAX];
};

/* ------------------------------------------------------------------------------------ */
/* Writing rows: validated against the schema, quoted per RFC 4180, CRLF line ends.     */

static int out_write(struct gen *g, struct out_file *o, const char *s, size_t n)
{
	if (o->f && fwrite(s, 1, n, o->f) != n)
		return gen_fail(&g->err, "cannot write '%s': %s", o->path, strerror(errno));
	return 0;
}

static void row_begin(struct gen *g, const char *table)
{
	g->row.t = schema_table_find(table, SCHEMA_VERSION);
	memset(g->row.set, 0, sizeof g->row.set);
}

static int row_set(struct gen *g, const char *col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int row_set(struct gen *g, const char *col, const char *fmt, ...)
{
	struct gen_row *r = &g->row;
	const struct schema_column *c = schema_column_find(r->t, col, SCHEMA_VERSION);
	if (!c)
		return gen_fail(&g->err, "bug: no column '%s' in table '%s'", col, r->t->name);
	size_t i = schema_column_index(r->t, c);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->val[i], GEN_VALUE_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= GEN_VALUE_MAX)
		return gen_fail(&g->err, "bug: value of '%s.%s' too long", r->t->name, col);
	r->set[i] = 1;
	return 0;
}

/* Checks one value against its column; 0 or -1 with the reason in g->err. */
static int row_check(struct gen *g, const struct schema_column *c, const char *v)
{
	const char *t = g->row.t->name;
	int64_t day;
	char *end;
	switch (c->type) {
	case SCHEMA_TEXT: {
		long chars = utf8_chars(v);
		if (chars <= 0 || (int)strlen(v) > c->max_len)
			return gen_fail(&g->err, "bug: %s.%s: bad text '%s'", t, c->name, v);
		return 0;
	}
	case SCHEMA_INT:
	case SCHEMA_BOOL: {
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (errno || *end || end == v || x < c->min || x > c->max)
			return gen_fail(&g->err, "bug: %s.%s: bad integer '%s'", t, c->name, v);
		return 0;
	}
	case SCHEMA_DATE:
		if (date_parse(v, &day) != 0)
			return gen_fail(&g->err, "bug: %s.%s: bad date '%s'", t, c->name, v);
		return 0;
	case SCHEMA_ENUM:
		if (!schema_enum_find(c, v))
			return gen_fail(&g->err, "bug: %s.%s: bad code '%s'", t, c->name, v);
		return 0;
	case SCHEMA_REF:
		if (!uuid_valid(v))
			return gen_fail(&g->err, "bug: %s.%s: bad id '%s'", t, c->name, v);
		return 0;
	}
	return gen_fail(&g->err, "bug: %s.%s: unknown type", t, c->name);
}

/* Derives the id of a natural-key row: UUIDv5 of "table 0x1f key1 0x1f key2 ...". */
static int row_key_id(struct gen *g)
{
	struct gen_row *r = &g->row;
	char name[GEN_LINE_MAX];
	size_t n = strlen(r->t->name);
	memcpy(name, r->t->name, n);
	for (size_t i = 0; i < r->t->ncolumns; i++) {
		if (!(r->t->columns[i].flags & SCHEMA_KEY))
			continue;
		if (!r->set[i])
			return gen_fail(&g->err, "bug: %s: key column '%s' not set", r->t->name,
				    r->t->columns[i].name);
		size_t len = strlen(r->val[i]);
		name[n++] = '\x1f';
		memcpy(name + n, r->val[i], len);
		n += len;
	}
	if (uuid5(name, n, r->val[0]) != 0)
		return gen_fail(&g->err, "cannot hash a key: libcrypto failed");
	r->set[0] = 1;
	return 0;
}

static size_t csv_put(char *out, const char *v)
{
	size_t o = 0;
	if (strpbrk(v, ",\"\r\n") == NULL) {
		size_t n = strlen(v);
		memcpy(out, v, n);
		return n;
	}
	out[o++] = '"';
	for (; *v; v++) {
		if (*v == '"')
			out[o++] = '"';
		out[o++] = *v;
	}
	out[o++] = '"';
	return o;
}

static int row_write(struct gen *g, struct out_file *o)
{
	struct gen_row *r = &g->row;
	if (r->t != o->t)
		return gen_fail(&g->err, "bug: a '%s' row written to '%s'", r->t->name, o->path);
	if (schema_table_has_key(r->t) && row_key_id(g) != 0)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < r->t->ncolumns; i++) {
		const struct schema_column *c = &r->t->columns[i];
		if (!r->set[i]) {
			if (c->flags & SCHEMA_REQUIRED)
				return gen_fail(&g->err, "bug: %s.%s: required", r->t->name, c->name);
		} else if (row_check(g, c, r->val[i]) != 0) {
			return -1;
		}
		if (i > 0)
			g->line[n++] = ',';
		if (r->set[i])
			n += csv_put(g->line + n, r->val[i]);
	}
	g->line[n++] = '\r';
	g->line[n++] = '\n';
	o->rows++;
	g->rows_written++;
	return out_write(g, o, g->line, n);
}

static int mkdir_p1(struct gen *g, const char *path)
{
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		return gen_fail(&g->err, "cannot create '%s': %s", path, strerror(errno));
	return 0;
}

/* Opens (or, in a dry run, only prepares) DIR/<code>/NN-<table>.csv for each table in
 * order, numbered from 01, with the header row. */
static int folder_open(struct gen *g, struct folder *fo, const char *code, const char *const *tables,
		       int ntables)
{
	char dir[GEN_PATH_MAX];
	memset(fo, 0, sizeof *fo);
	if (g->out_dir) {
		if (snprintf(dir, sizeof dir, "%s/%s", g->out_dir, code) >= (int)sizeof dir)
			return gen_fail(&g->err, "output path too long");
		if (mkdir_p1(g, dir) != 0)
			return -1;
	}
	for (int i = 0; i < ntables; i++) {
		struct out_file *o = &fo->file[fo->n++];
		o->t = schema_table_find(tables[i], SCHEMA_VERSION);
		if (!o->t)
			return gen_fail(&g->err, "bug: no table '%s'", tables[i]);
		if (!g->out_dir)
			continue;
		if (snprintf(o->path, sizeof o->path, "%s/%02d-%s.csv", dir, i + 1, tables[i]) >=
		    (int)sizeof o->path)
			return gen_fail(&g->err, "output path too long");
		o->f = fopen(o->path, "wb");
		if (!o->f)
			return gen_fail(&g->err, "cannot create '%s': %s", o->path, strerror(errno));
		size_t n = 0;
		for (size_t c = 0; c < o->t->ncolumns; c++) {
			size_t len = strlen(o->t->columns[c].name);
			if (c > 0)
				g->line[n++] = ',';
			memcpy(g->line + n, o->t->columns[c].name, len);
			n += len;
		}
		g->line[n++] = '\r';
		g->line[n++] = '\n';
		if (out_write(g, o, g->line, n) != 0)
			return -1;
	}
	return 0;
}

static struct out_file *folder_file(struct folder *fo, const char *table)
{
	for (int i = 0; i < fo->n; i++)
		if (strcmp(fo->file[i].t->name, table) == 0)
			return &fo->file[i];
	return NULL;
}

/* Closes every file; returns the first error (and keeps closing the rest). */
static int folder_close(struct gen *g, struct folder *fo)
{
	int rc = 0;
	for (int i = 0; i < fo->n; i++) {
		struct out_file *o = &fo->file[i];
		if (o->f && fclose(o->f) != 0 && rc == 0)
			rc = gen_fail(&g->err, "cannot write '%s': %s", o->path, strerror(errno));
		o->f = NULL;
	}
	return rc;
}

/* Writes the current row to the folder's file for its table. */
static int emit(struct gen *g, struct folder *fo)
{
	struct out_file *o = folder_file(fo, g->row.t->name);
	if (!o)
		return gen_fail(&g->err, "bug: no file for table '%s'", g->row.t->name);
	return row_write(g, o);
}

/* ------------------------------------------------------------------------------------ */
/* Vietnamese free text, names and numbers.                                            */

struct text_ctx {
	const char *village; /* "thôn Bình Hưng", "khu phố 3" */
	const char *commune; /* "xã Hàm Tiến" */
	int month, n;
};

/* Copies s with its first letter lowered when it is ASCII ("Thôn" -> "thôn"). */
static void lower_first(char *out, size_t cap, const char *s)
{
	snprintf(out, cap, "%s", s);
	if (out[0] >= 'A' && out[0] <= 'Z')
		out[0] = (char)(out[0] - 'A' + 'a');
}

/* Appends template t to out (at *o), replacing {v} {c} {m} {n}. -1 when out is full. */
static int text_expand(char *out, size_t cap, size_t *o, const char *t, const struct text_ctx *x)
{
	char num[16];
	for (; *t; t++) {
		const char *s = NULL;
		if (t[0] == '{' && t[1] && t[2] == '}') {
			switch (t[1]) {
			case 'v':
				s = x->village;
				break;
			case 'c':
				s = x->commune;
				break;
			case 'm':
				snprintf(num, sizeof num, "%d", x->month);
				s = num;
				break;
			case 'n':
				snprintf(num, sizeof num, "%d", x->n);
				s = num;
				break;
			default:
				break;
			}
		}
		if (s) {
			size_t len = strlen(s);
			if (*o + len + 1 >= cap)
				return -1;
			memcpy(out + *o, s, len);
			*o += len;
			t += 2;
		} else {
			if (*o + 2 >= cap)
				return -1;
			out[(*o)++] = *t;
		}
	}
	out[*o] = '\0';
	return 0;
}

struct pool {
	const char *const *s;
	size_t n;
};
#define POOL(a) { (a), ARRAY_LEN(a) }

/* Composes one part from each pool (and a full stop when asked) until the text has 40-120
 * characters and at most max_bytes bytes. */
static int text_compose(struct gen *g, struct rng *r, char *out, size_t cap, const struct pool *p,
			size_t np, const struct text_ctx *x, int max_bytes, int full_stop)
{
	for (int tries = 0; tries < GEN_TEXT_TRIES; tries++) {
		size_t o = 0;
		int ok = 1;
		for (size_t i = 0; i < np && ok; i++)
			ok = text_expand(out, cap, &o, p[i].s[rng_below(r, (uint32_t)p[i].n)], x) == 0;
		if (!ok || o + 2 >= cap)
			continue;
		if (full_stop)
			out[o++] = '.';
		out[o] = '\0';
		long chars = utf8_chars(out);
		if (chars >= GEN_TEXT_MIN_CHARS && chars <= GEN_TEXT_MAX_CHARS && (int)o <= max_bytes)
			return 0;
	}
	return gen_fail(&g->err, "bug: no text of 40-120 characters from these parts (last: '%s')", out);
}

/* What a branch meeting or a joint meeting hears. */
static const char *const concern_who[] = {
	"Đoàn viên {v} phản ánh ",
	"Bí thư chi đoàn {v} nêu ",
	"Thanh niên {v} kiến nghị ",
	"Nhiều đoàn viên cho biết ",
	"Đại diện thanh niên ngư dân phản ánh ",
	"Chi đoàn {v} đề xuất ",
	"Một số đoàn viên lo lắng ",
};
static const char *const concern_what[] = {
	"thanh niên thiếu việc làm sau vụ thanh long, cần hỗ trợ vay vốn khởi nghiệp",
	"chưa có điểm sinh hoạt cố định, phải mượn nhà văn hóa thôn",
	"phụ cấp bí thư chi đoàn còn thấp, chưa được hỗ trợ thẻ bảo hiểm y tế",
	"nhiều đoàn viên đi biển dài ngày nên khó tập trung sinh hoạt",
	"thiếu kinh phí tổ chức hoạt động hè cho thiếu nhi",
	"cần tập huấn kỹ thuật chăm sóc thanh long trái vụ",
	"sân bóng chuyền của thôn xuống cấp, cần sửa chữa",
	"thanh niên đi làm ăn xa đông, khó nắm số lượng đoàn viên",
	"chưa rõ thủ tục vay vốn Ngân hàng Chính sách xã hội",
	"đoàn viên ưu tú chưa được giới thiệu cho chi bộ xem xét kết nạp Đảng",
	"đường vào khu sản xuất lầy lội mùa mưa, cần làm đường thanh niên",
	"tệ nạn ma túy có dấu hiệu len lỏi, cần phối hợp công an xã",
	"thiếu tài liệu sinh hoạt chủ điểm hằng tháng",
	"mô hình \"2 giao, 1 liên kết\" cần thêm hướng dẫn cụ thể",
	"giá mủ cao su giảm, đời sống thanh niên khó khăn",
	"cần lắp đèn đường ở đoạn giáp ranh với thôn bên cạnh",
};
static const char *const followup_what[] = {
	"Đã đề xuất Ngân hàng Chính sách xã hội giải ngân cho {n} hộ thanh niên",
	"Đoàn xã đã làm việc với UBND {c}, bố trí kinh phí trong quý tới",
	"Đoàn xã phối hợp Trạm khuyến nông mở lớp tập huấn",
	"Đã chuyển kiến nghị đến Đảng ủy {c}, đang chờ trả lời",
	"Đã hướng dẫn hồ sơ vay vốn, {n} đoàn viên được giải ngân",
	"Chi bộ thôn đồng ý cho sinh hoạt tại nhà văn hóa vào tối thứ bảy",
	"Đã vận động nhà hảo tâm hỗ trợ dụng cụ thể thao",
	"Huyện đoàn ghi nhận, sẽ trả lời tại buổi giao ban sau",
	"Đoàn xã đã cung cấp tài liệu sinh hoạt chủ điểm",
	"Đã phối hợp công an {c} tuyên truyền phòng chống ma túy",
};
static const char *const followup_when[] = {
	"",
	", dự kiến xong trong tháng {m}",
	", đã báo cáo kết quả với huyện đoàn",
	" và sẽ rà soát lại vào cuối quý",
	", chi đoàn theo dõi và báo cáo lại",
};
static const char *const giaoban_who[] = {
	"Bí thư chi đoàn {v}, {c} đề nghị ",
	"Các bí thư chi đoàn {c} kiến nghị ",
	"Bí thư chi đoàn {v} nêu khó khăn: ",
	"Nhiều bí thư chi đoàn thôn, khu phố đề nghị ",
};
static const char *const giaoban_what[] = {
	"nâng phụ cấp và hỗ trợ mua thẻ bảo hiểm y tế",
	"được ưu tiên vay vốn để phát triển kinh tế gia đình",
	"mở lớp bồi dưỡng kỹ năng tổ chức sinh hoạt chi đoàn",
	"được tham gia tập huấn khuyến nông, khuyến ngư",
	"hỗ trợ kinh phí tổ chức sinh hoạt liên chi đoàn",
	"giới thiệu bí thư chi đoàn cho Đảng xem xét kết nạp",
	"có chế độ động viên bí thư chi đoàn tham gia chống dịch",
};
static const char *const task_what[] = {
	"Dự sinh hoạt chi đoàn {v}, {c}, hướng dẫn nội dung sinh hoạt chủ điểm",
	"Theo dõi cụm thi đua số {n}, nắm tình hình hoạt động của các chi đoàn thôn, khu phố",
	"Đôn đốc {c} tổ chức sinh hoạt liên chi đoàn tháng {m}, luân phiên tại các thôn",
	"Tổng hợp danh sách bí thư chi đoàn chưa có thẻ bảo hiểm y tế để đề xuất hỗ trợ",
	"Rà soát đoàn viên ưu tú, bí thư chi đoàn để giới thiệu cho Đảng xem xét kết nạp",
	"Phối hợp Ngân hàng Chính sách xã hội hướng dẫn bí thư chi đoàn lập hồ sơ vay vốn",
	"Kiểm tra sổ sách đoàn vụ của các chi đoàn {c}",
	"Nắm tâm tư của bí thư chi đoàn {v} và báo cáo thường trực huyện đoàn",
};
static const char *const task_tail[] = { "", " trước ngày 25", " trong tháng {m}" };

static const char *const vol_title[VK_N][4] = {
	{ "Hỗ trợ điểm tiêm vắc xin phòng Covid-19", "Đội thanh niên xung kích hỗ trợ tiêm vắc xin",
	  "Hướng dẫn người dân khai báo y tế tại điểm tiêm", "Đưa đón người cao tuổi đi tiêm vắc xin" },
	{ "Hỗ trợ xét nghiệm sàng lọc cộng đồng", "Đội xung kích lấy mẫu xét nghiệm nhanh",
	  "Nhập liệu kết quả xét nghiệm sàng lọc", "Giữ trật tự điểm xét nghiệm cộng đồng" },
	{ "Phục vụ khu cách ly tập trung", "Vận chuyển nhu yếu phẩm cho người cách ly",
	  "Dựng lều trại và phun khử khuẩn khu cách ly", "Trực cổng khu cách ly tập trung" },
	{ "Shipper xanh đi chợ giúp dân", "Đội shipper xanh giao hàng thiết yếu",
	  "Đi chợ hộ người dân trong thời gian giãn cách", "Chuyến xe nghĩa tình đưa rau củ đến dân" },
	{ "Tổ Covid cộng đồng tuyên truyền 5K", "Tổ Covid cộng đồng rà soát người về địa phương",
	  "Tổ Covid cộng đồng phát khẩu trang miễn phí", "Tổ Covid cộng đồng trực chốt kiểm soát" },
	{ "Ra quân làm sạch bãi biển, thu gom rác thải", "Trồng cây xanh trên đường thanh niên",
	  "Tặng quà cho thiếu nhi có hoàn cảnh khó khăn", "Sửa chữa nhà cho hộ nghèo" },
};
static const char *const vol_where[] = {
	" tại {v}", " ở {c}", " tại Trạm y tế {c}", " đợt {n} tại {c}", " cho bà con {v}",
};

static const char *const support_note[SK_N][4] = {
	{ "Vay vốn Ngân hàng Chính sách xã hội để trồng thanh long", "Vay vốn mua ngư lưới cụ khai thác hải sản gần bờ",
	  "Vay vốn chăn nuôi bò sinh sản theo chương trình thanh niên lập nghiệp", "Vay vốn mở cửa hàng sửa chữa xe máy" },
	{ "Tập huấn kỹ thuật chăm sóc thanh long trái vụ", "Tập huấn khuyến ngư về bảo quản hải sản sau khai thác",
	  "Tập huấn kỹ thuật nuôi tôm thẻ chân trắng", "Tập huấn sử dụng phân bón hữu cơ cho cây điều" },
	{ "Hội thảo giới thiệu mô hình kinh tế hiệu quả của thanh niên", "Hội thảo khởi nghiệp cho thanh niên nông thôn",
	  "Hội thảo chuyển đổi số trong tiêu thụ nông sản", "Hội thảo liên kết sản xuất thanh long sạch" },
};
static const char *const support_tail[SK_N][3] = {
	{ ", thời hạn {n} tháng", " qua tổ tiết kiệm và vay vốn của Đoàn", ", đã giải ngân đủ" },
	{ " do huyện đoàn tổ chức", " cùng đoàn viên {v}", " tại hội trường {c}" },
	{ " do huyện đoàn tổ chức", " năm nay", " tại hội trường {c}" },
};

static const char *const family[] = {
	"Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Huỳnh", "Hoàng", "Phan",
	"Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Mai", "Thái",
};
static const char *const middle_m[] = { "Văn", "Văn", "Minh", "Quốc", "Đức", "Thanh", "Hoàng", "Ngọc", "Hữu", "Công" };
static const char *const middle_f[] = { "Thị", "Thị", "Thu", "Ngọc", "Thanh", "Kim", "Mỹ", "Hồng", "Bích" };
static const char *const given_m[] = {
	"An", "Bình", "Cường", "Dũng", "Hải", "Hiếu", "Hùng", "Khoa", "Long", "Nam", "Phong",
	"Phúc", "Quân", "Quang", "Tâm", "Thắng", "Trung", "Tuấn", "Vinh", "Sơn", "Lợi", "Tài",
};
static const char *const given_f[] = {
	"Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Phương", "Thảo", "Trang",
	"Vy", "Yến", "Nhung", "Diễm", "Oanh", "Tuyết", "Hằng",
};
static const char *const village_names[] = {
	"Bình Hưng", "Bình An", "Bình Thạnh", "Phú Long", "Phú Hội", "Phú Điền", "Tân Lập", "Tân Hòa",
	"Tân Thuận", "Tân Phú", "Hòa Thuận", "Hòa Phú", "Thuận Quý", "Thuận Nghĩa", "Lạc Trị", "Lạc Hóa",
	"Hiệp Nghĩa", "Hiệp Hòa", "An Phú", "An Hòa", "An Lạc", "Xuân Hòa", "Xuân An", "Đông Hà",
	"Tây Sơn", "Nam Chính", "Bắc Sơn", "Hồng Lâm", "Hồng Thắng", "Minh Tiến", "Thanh Lương",
	"Trung Lương", "Long Điền", "Long Sơn", "Phước Lộc", "Phước Thể", "Vĩnh Hảo", "Vĩnh Tân",
	"Kim Ngọc", "Mỹ Thạnh", "Gia Huynh", "Đại Thiện", "Hà Thủy", "Đồng Me", "Suối Nhum",
	"Cây Táo", "Tà Mon", "Hòa Bình", "Liêm Thuận", "Thiện Nghiệp", "Hồng Sơn", "Lương Bình",
	"Ninh Thuận", "Quý Thạnh", "Phú Sơn", "Phú Mỹ", "Đông Tiến", "Tân Điền", "Bàu Sen",
};

/* A person: name, gender, birth year and phone drawn together. */
struct person {
	char id[UUID_TEXT];
	char name[GEN_NAME_MAX];
	const char *gender;
	int birth_year;
	char phone[16];
};

static void person_draw(struct rng *r, int year, int age_lo, int age_hi, struct person *p)
{
	memset(p, 0, sizeof *p); /* the id is set by the caller */
	int female = rng_percent(r, 42);
	snprintf(p->name, sizeof p->name, "%s %s %s", PICK(r, family),
		 female ? PICK(r, middle_f) : PICK(r, middle_m), female ? PICK(r, given_f) : PICK(r, given_m));
	p->gender = female ? "nu" : "nam";
	p->birth_year = year - rng_range(r, age_lo, age_hi);
	static const char *const prefix[] = { "090", "091", "093", "094", "096", "097", "098", "035",
					      "036", "037", "038", "039", "077", "079", "085" };
	snprintf(p->phone, sizeof p->phone, "%s%07u", PICK(r, prefix), rng_below(r, 10000000u));
}

/* ------------------------------------------------------------------------------------ */
/* Loading the unit tree and the id mapping.                                            */

static int copy_field(struct gen *g, char *out, size_t cap, const char *v, const char *what, long line)
{
	size_t n = strlen(v);
	if (n == 0 || n >= cap || utf8_chars(v) < 0)
		return gen_fail(&g->err, "'%s' line %ld: bad %s '%s'", g->units_path, line, what, v);
	memcpy(out, v, n + 1);
	return 0;
}

static int load_units(struct gen *g)
{
	struct csv c = { 0 };
	int rc = -1;
	if (csv_load(&g->err, g->units_path, ',', &c) != 0)
		return -1;
	static const char *const cols[] = { "province", "province_code", "district", "district_code",
					    "commune", "commune_code" };
	int ci[ARRAY_LEN(cols)];
	for (size_t i = 0; i < ARRAY_LEN(cols); i++) {
		ci[i] = csv_column(&c, cols[i]);
		if (ci[i] < 0) {
			gen_fail(&g->err, "'%s': no column '%s' in the header", g->units_path, cols[i]);
			goto out;
		}
	}
	size_t rows = c.nrow > 0 ? c.nrow - 1 : 0;
	if (rows == 0) {
		gen_fail(&g->err, "'%s': no communes", g->units_path);
		goto out;
	}
	g->d = calloc(rows, sizeof *g->d);
	g->c = calloc(rows, sizeof *g->c);
	if (!g->d || !g->c) {
		gen_fail(&g->err, "out of memory");
		goto out;
	}
	for (size_t r = 1; r < c.nrow; r++) {
		long line = c.row[r].line;
		const char *pc = csv_get(&c, r, (size_t)ci[1]), *dc = csv_get(&c, r, (size_t)ci[3]);
		const char *cc = csv_get(&c, r, (size_t)ci[5]);
		if (r == 1) {
			if (copy_field(g, g->province_code, sizeof g->province_code, pc, "province code", line) ||
			    copy_field(g, g->province_name, sizeof g->province_name,
				       csv_get(&c, r, (size_t)ci[0]), "province", line))
				goto out;
		} else if (strcmp(pc, g->province_code) != 0) {
			gen_fail(&g->err, "'%s' line %ld: a second province '%s'", g->units_path, line, pc);
			goto out;
		}
		int d = 0;
		while (d < g->nd && strcmp(g->d[d].code, dc) != 0)
			d++;
		if (d == g->nd) {
			if (copy_field(g, g->d[d].code, sizeof g->d[d].code, dc, "district code", line) ||
			    copy_field(g, g->d[d].name, sizeof g->d[d].name, csv_get(&c, r, (size_t)ci[2]),
				       "district", line))
				goto out;
			g->nd++;
		}
		for (int k = 0; k < g->nc; k++) {
			if (strcmp(g->c[k].code, cc) == 0) {
				gen_fail(&g->err, "'%s' line %ld: commune code '%s' listed twice", g->units_path, line, cc);
				goto out;
			}
		}
		struct commune *cm = &g->c[g->nc];
		if (copy_field(g, cm->code, sizeof cm->code, cc, "commune code", line) ||
		    copy_field(g, cm->name, sizeof cm->name, csv_get(&c, r, (size_t)ci[4]), "commune", line))
			goto out;
		cm->district = d;
		g->nc++;
	}
	rc = 0;
out:
	csv_release(&c);
	return rc;
}

/* 1 when s is an official code: 2 to 10 digits. */
static int is_code(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n >= 2 && n <= 10 && s[n] == '\0';
}

/* Sets the unit ids of districts and communes: from the mapping file, or derived as
 * UUIDv5 of "district:<code>" / "commune:<code>". The mapping is either what
 * `lienket-hub units list` prints (tab-separated: id, code, name, kind, parent) or a CSV
 * of code,unit_id; in each row the code is the first field of 2-10 digits and the id the
 * first UUID, so rows without both (a header, a branch without a code) are skipped. */
static int assign_unit_ids(struct gen *g)
{
	char name[64];
	for (int i = 0; i < g->nd; i++) {
		int n = snprintf(name, sizeof name, "district:%s", g->d[i].code);
		if (uuid5(name, (size_t)n, g->d[i].uid) != 0)
			return gen_fail(&g->err, "cannot hash: libcrypto failed");
	}
	for (int i = 0; i < g->nc; i++) {
		int n = snprintf(name, sizeof name, "commune:%s", g->c[i].code);
		if (uuid5(name, (size_t)n, g->c[i].uid) != 0)
			return gen_fail(&g->err, "cannot hash: libcrypto failed");
	}
	if (!g->ids_path)
		return 0;
	struct csv c = { 0 };
	int rc = -1;
	char sep = ',';
	FILE *f = fopen(g->ids_path, "rb");
	if (f) {
		int ch;
		while ((ch = fgetc(f)) != EOF && ch != '\n')
			if (ch == '\t') {
				sep = '\t';
				break;
			}
		fclose(f); /* read-only probe */
	}
	if (csv_load(&g->err, g->ids_path, sep, &c) != 0)
		return -1;
	unsigned char *seen_d = calloc((size_t)g->nd, 1), *seen_c = calloc((size_t)g->nc, 1);
	if (!seen_d || !seen_c) {
		gen_fail(&g->err, "out of memory");
		goto out;
	}
	for (size_t r = 0; r < c.nrow; r++) {
		const char *code = NULL, *id = NULL;
		for (size_t k = 0; k < c.row[r].n; k++) {
			const char *v = csv_get(&c, r, k);
			if (!id && uuid_valid(v))
				id = v;
			else if (!code && is_code(v))
				code = v;
		}
		if (!code || !id)
			continue;
		for (int i = 0; i < g->nd; i++) {
			if (strcmp(g->d[i].code, code) != 0)
				continue;
			if (seen_d[i] && strcmp(g->d[i].uid, id) != 0) {
				gen_fail(&g->err, "'%s' line %ld: code '%s' has two unit ids", g->ids_path, c.row[r].line, code);
				goto out;
			}
			memcpy(g->d[i].uid, id, UUID_TEXT);
			seen_d[i] = 1;
		}
		for (int i = 0; i < g->nc; i++) {
			if (strcmp(g->c[i].code, code) != 0)
				continue;
			if (seen_c[i] && strcmp(g->c[i].uid, id) != 0) {
				gen_fail(&g->err, "'%s' line %ld: code '%s' has two unit ids", g->ids_path, c.row[r].line, code);
				goto out;
			}
			memcpy(g->c[i].uid, id, UUID_TEXT);
			seen_c[i] = 1;
		}
	}
	for (int i = 0; i < g->nd; i++)
		if (!seen_d[i]) {
			gen_fail(&g->err, "'%s': no unit id for district '%s' (%s)", g->ids_path, g->d[i].code, g->d[i].name);
			goto out;
		}
	for (int i = 0; i < g->nc; i++)
		if (!seen_c[i]) {
			gen_fail(&g->err, "'%s': no unit id for commune '%s' (%s)", g->ids_path, g->c[i].code, g->c[i].name);
			goto out;
		}
	g->ids_mapped = 1;
	rc = 0;
out:
	free(seen_d);
	free(seen_c);
	csv_release(&c);
	return rc;
}

/* ------------------------------------------------------------------------------------ */
/* The plan: every choice that fixes a headline total, made once for the province.     */

struct rank {
	int idx;
	uint32_t key;
};

static int rank_cmp(const void *pa, const void *pb)
{
	const struct rank *a = pa, *b = pb;
	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	return a->idx - b->idx;
}

/* Rates branches in the order of `rk` (best first): n4 xuất sắc, n3 tốt, then hoàn thành,
 * the last n1 không hoàn thành. */
static void plan_ratings(struct gen *g, struct rank *rk, int n, int which, int n4, int n3, int n1)
{
	qsort(rk, (size_t)n, sizeof *rk, rank_cmp);
	for (int i = 0; i < n; i++) {
		int v = i < n4 ? R_XUAT_SAC : i < n4 + n3 ? R_TOT : i >= n - n1 ? R_KHONG : R_HOAN_THANH;
		g->b[rk[i].idx].rating[which] = v;
	}
}

static int plan_activities(struct gen *g, struct rng *r)
{
	const int Y = g->year;
	int cap = g->nb * 2 + g->nc * 6;
	g->a = calloc((size_t)cap, sizeof *g->a);
	if (!g->a)
		return gen_fail(&g->err, "out of memory");
	/* Kinds weighted as the article lists them; the weight sets the draw of participants. */
	static const int kind_pick[] = { VK_VACCINATION, VK_VACCINATION, VK_TESTING, VK_TESTING, VK_QUARANTINE,
					 VK_GREEN_SHIPPER, VK_GREEN_SHIPPER, VK_COVID_TEAM, VK_COVID_TEAM, VK_OTHER };
	static const int wlo[VK_N] = { 15, 15, 8, 8, 10, 5 }, whi[VK_N] = { 40, 40, 20, 25, 30, 20 };
	for (int c = 0; c < g->nc; c++) {
		struct commune *cm = &g->c[c];
		cm->first_act = g->na;
		/* A --silent commune draws from its own stream, so the others are as without it. */
		struct rng rs, *rp = r;
		if (cm->silent) {
			char stream[64];
			snprintf(stream, sizeof stream, "silent-activities:%s", cm->code);
			rng_init(&rs, g->seed, stream);
			rp = &rs;
		}
		int k = rng_range(rp, 2, 4);
		for (int i = 0; i < k + cm->nbranches; i++) {
			int branch = i < k ? -1 : cm->first_branch + i - k;
			if (branch >= 0 && !rng_percent(rp, 35))
				continue;
			struct activity *a = &g->a[g->na++];
			a->commune = c;
			a->branch = branch;
			a->kind = PICK(rp, kind_pick);
			a->year = Y;
			/* Bình Thuận's 2021 wave: most anti-epidemic work from June to October. */
			a->start = a->kind == VK_OTHER ? day_between(rp, day_of(Y, 1, 5), day_of(Y, 12, 10))
						       : day_between(rp, day_of(Y, 6, 1), day_of(Y, 11, 30));
			a->end = a->start + rng_range(rp, 0, 20);
			if (a->end > day_of(Y, 12, 31))
				a->end = day_of(Y, 12, 31);
			a->teams = branch < 0 ? rng_range(rp, 1, 4) : 1;
			a->weight = rng_range(rp, wlo[a->kind], whi[a->kind]) / (branch < 0 ? 1 : 2);
		}
		/* One activity of the year before, which the year's figures must leave out. */
		struct activity *a = &g->a[g->na++];
		a->commune = c;
		a->branch = -1;
		a->kind = rng_percent(rp, 50) ? VK_QUARANTINE : VK_OTHER;
		a->year = Y - 1;
		a->start = day_between(rp, day_of(Y - 1, 3, 1), day_of(Y - 1, 11, 30));
		a->end = a->start + rng_range(rp, 1, 14);
		a->teams = rng_range(rp, 1, 2);
		a->participations = rng_range(rp, 10, 40);
		cm->nact = g->na - cm->first_act;
	}
	/* Participations of the year: 3 each, the rest shared by weight, the remainder one by
	 * one: the sum is exactly the target. */
	long n = 0, w = 0, sum = 0;
	for (int i = 0; i < g->na; i++) {
		struct activity *a = &g->a[i];
		if (a->year == Y && g->c[a->commune].silent)
			a->participations = 3 + a->weight; /* outside the target */
		else if (a->year == Y) {
			n++;
			w += a->weight;
		}
	}
	long spare = g->target_participations - 3 * n;
	if (n == 0 || spare < 0)
		return gen_fail(&g->err, "cannot share %d participations over %ld activities", g->target_participations, n);
	for (int i = 0; i < g->na; i++)
		if (g->a[i].year == Y && !g->c[g->a[i].commune].silent) {
			g->a[i].participations = 3 + (int)((long)g->a[i].weight * spare / w);
			sum += g->a[i].participations;
		}
	for (int i = 0; i < g->na && sum < g->target_participations; i++)
		if (g->a[i].year == Y && !g->c[g->a[i].commune].silent) {
			g->a[i].participations++;
			sum++;
		}
	return 0;
}

/* The branches of a --silent commune (lo..hi of them) and everything the plan decides
 * for the others, from the commune's own stream: secretaries in office since the
 * congresses of Y-2, most with a valid card, some introduced to the Party, rated
 * "hoàn thành" or better both years, no pilot. None of it counts in a target. */
static void plan_silent(struct gen *g, int c, int lo, int hi)
{
	const int Y = g->year;
	struct commune *cm = &g->c[c];
	struct rng rs;
	char stream[64];
	snprintf(stream, sizeof stream, "silent:%s", cm->code);
	rng_init(&rs, g->seed, stream);
	cm->nbranches = rng_range(&rs, lo, hi < GEN_MAX_BRANCHES ? hi : GEN_MAX_BRANCHES);
	for (int k = 0; k < cm->nbranches; k++) {
		struct branch *b = &g->b[g->nb++];
		b->commune = c;
		b->opened = day_between(&rs, day_of(Y - 16, 1, 1), day_of(Y - 3, 12, 31));
		uuid7_on(&rs, b->opened, b->uid);
		b->term_from = day_between(&rs, day_of(Y - 2, 3, 1), day_of(Y - 2, 6, 30));
		b->insurance = rng_percent(&rs, 90) ? INS_VALID : INS_NONE;
		b->party = rng_percent(&rs, 30) ? PARTY_INTRODUCED : PARTY_NONE;
		b->rating[0] = rng_range(&rs, R_HOAN_THANH, R_XUAT_SAC);
		b->rating[1] = rng_range(&rs, R_HOAN_THANH, R_XUAT_SAC);
	}
}

static int plan(struct gen *g)
{
	struct rng r;
	const int Y = g->year;
	int *idx = NULL, *counts = NULL, *cnt = NULL, *counted = NULL;
	struct rank *rk = NULL;
	int rc = -1;
	rng_init(&r, g->seed, "plan");
	if (g->target_participations < 0)
		g->target_participations = 6200 + (int)rng_below(&r, 100);
	/* N branches over the n communes that sync; a --silent commune gets branches of its
	 * own, drawn from its own stream, outside every target. */
	const int N = g->target_branches, n = g->nc - g->nsilent;
	if (n < 1)
		return gen_fail(&g->err, "every commune is --silent");
	if (N < n)
		return gen_fail(&g->err, "%d branches cannot cover %d communes", N, n);
	if (g->target_insured > N || g->target_admitted > g->target_introduced)
		return gen_fail(&g->err, "inconsistent targets: %d insured of %d, %d admitted of %d introduced",
			    g->target_insured, N, g->target_admitted, g->target_introduced);

	/* Branches per commune: every commune between lo and hi (5-7 for 695 over 121). */
	counts = calloc((size_t)g->nc, sizeof *counts);
	counted = calloc((size_t)g->nc, sizeof *counted);
	g->b = calloc((size_t)N + (size_t)g->nsilent * GEN_MAX_BRANCHES, sizeof *g->b);
	idx = calloc((size_t)N, sizeof *idx);
	cnt = calloc((size_t)N, sizeof *cnt);
	rk = calloc((size_t)N, sizeof *rk);
	g->ds = calloc((size_t)g->nd, sizeof *g->ds);
	if (!counts || !counted || !g->b || !idx || !cnt || !rk || !g->ds) {
		gen_fail(&g->err, "out of memory");
		goto out;
	}
	int lo = N / n, hi = (N + n - 1) / n + 1;
	if (hi > GEN_MAX_BRANCHES) {
		gen_fail(&g->err, "%d branches over %d communes is more than %d a commune: give --branches and the other targets",
		     N, n, GEN_MAX_BRANCHES);
		goto out;
	}
	long rem = N - (long)lo * n;
	for (int c = 0, i = 0; c < g->nc; c++)
		if (!g->c[c].silent)
			counted[i++] = c;
	for (int i = 0; i < n; i++)
		counts[counted[i]] = lo;
	while (rem > 0) {
		int i = counted[rng_below(&r, (uint32_t)n)];
		if (counts[i] < hi) {
			counts[i]++;
			rem--;
		}
	}
	g->nb = 0;
	int ncnt = 0;
	for (int c = 0; c < g->nc; c++) {
		struct commune *cm = &g->c[c];
		cm->first_branch = g->nb;
		if (cm->silent) {
			plan_silent(g, c, lo, hi);
			continue;
		}
		cm->nbranches = counts[c];
		for (int k = 0; k < counts[c]; k++) {
			cnt[ncnt++] = g->nb;
			struct branch *b = &g->b[g->nb++];
			b->commune = c;
			b->opened = day_between(&r, day_of(Y - 16, 1, 1), day_of(Y - 3, 12, 31));
			uuid7_on(&r, b->opened, b->uid);
		}
	}

	/* Secretaries: 3% changed during the year, 5% the year before, the rest in office since
	 * the branch congresses of Y-2 (2019 for 2021). */
	for (int i = 0; i < N; i++)
		idx[i] = cnt[i];
	rng_shuffle(&r, idx, N);
	int nchg = N * 3 / 100, nchg_prev = N * 5 / 100;
	for (int i = 0; i < N; i++) {
		struct branch *b = &g->b[idx[i]];
		if (i < nchg) {
			b->changed_in = Y;
			b->term_from = day_between(&r, day_of(Y, 2, 1), day_of(Y, 10, 31));
		} else if (i < nchg + nchg_prev) {
			b->changed_in = Y - 1;
			b->term_from = day_between(&r, day_of(Y - 1, 3, 1), day_of(Y - 1, 11, 30));
		} else {
			b->term_from = day_between(&r, day_of(Y - 2, 3, 1), day_of(Y - 2, 6, 30));
		}
	}

	/* Insurance: exactly N - insured secretaries without a card valid on 31 December —
	 * half with none, half with one that lapsed during the year. */
	rng_shuffle(&r, idx, N);
	for (int i = 0; i < N - g->target_insured; i++)
		g->b[idx[i]].insurance = i % 2 ? INS_EXPIRED : INS_NONE;

	/* Party: among secretaries in office since before the year, exactly `introduced` are
	 * introduced during the year, the first `admitted` of them admitted later that year;
	 * 20 others were introduced the year before and are still waiting. */
	rng_shuffle(&r, idx, N);
	int ne = 0;
	for (int i = 0; i < N; i++)
		if (g->b[idx[i]].changed_in != Y)
			idx[ne++] = idx[i];
	if (g->target_introduced > ne) {
		gen_fail(&g->err, "only %d secretaries can be introduced, not %d", ne, g->target_introduced);
		goto out;
	}
	int prev_left = 20;
	for (int i = 0; i < ne; i++) {
		struct branch *b = &g->b[idx[i]];
		if (i < g->target_admitted)
			b->party = PARTY_ADMITTED;
		else if (i < g->target_introduced)
			b->party = PARTY_INTRODUCED;
		else if (prev_left > 0 && b->changed_in == 0) {
			b->party = PARTY_INTRODUCED_PREV;
			prev_left--;
		}
	}

	/* Ratings: a branch's standing ranks it both years; the year's ranking is the last
	 * year's with noise. Y: 22% xuất sắc, 50% tốt, the rest hoàn thành, none below;
	 * Y-1: 14% xuất sắc, 44% tốt, 3% không hoàn thành. */
	for (int i = 0; i < N; i++) {
		rk[i].idx = cnt[i];
		rk[i].key = rng_below(&r, 1000000u);
	}
	plan_ratings(g, rk, N, 0, N * 14 / 100, N * 44 / 100, N * 3 / 100);
	for (int i = 0; i < N; i++)
		rk[i].key += rng_below(&r, 300000u);
	plan_ratings(g, rk, N, 1, N * 22 / 100, N * 50 / 100, 0);

	/* The year before the model spread: 3% of the branches held and joined nothing. */
	rng_shuffle(&r, idx, N);
	for (int i = 0; i < N * 3 / 100; i++)
		g->b[idx[i]].inactive_prev = 1;

	/* Pilots: 2-3 current per district; three districts also had one that ended with
	 * Y-1. */
	int past_left = 3;
	for (int d = 0; d < g->nd; d++) {
		int m = 0;
		for (int i = 0; i < N; i++)
			if (g->c[g->b[cnt[i]].commune].district == d)
				idx[m++] = cnt[i];
		rng_shuffle(&r, idx, m);
		int k = rng_range(&r, 2, 3);
		for (int i = 0; i < k && i < m; i++)
			g->b[idx[i]].pilot = PILOT_CURRENT;
		if (past_left > 0 && m > k && rng_percent(&r, 40)) {
			g->b[idx[k]].pilot = PILOT_PAST;
			past_left--;
		}
	}

	if (plan_activities(g, &r) != 0)
		goto out;
	rc = 0;
out:
	free(counts);
	free(counted);
	free(idx);
	free(cnt);
	free(rk);
	return rc;
}

/* Names the branches: wards and towns have numbered "Khu phố"; a quarter of the
 * communes number their villages ("Thôn 1"), the others name them. */
static void name_branches(struct gen *g)
{
	for (int c = 0; c < g->nc; c++) {
		struct commune *cm = &g->c[c];
		struct rng r;
		char stream[64];
		int order[ARRAY_LEN(village_names)];
		snprintf(stream, sizeof stream, "names:%s", cm->code);
		rng_init(&r, g->seed, stream);
		for (int i = 0; i < (int)ARRAY_LEN(village_names); i++)
			order[i] = i;
		rng_shuffle(&r, order, (int)ARRAY_LEN(village_names));
		int ward = strncmp(cm->name, "Xã ", strlen("Xã ")) != 0;
		int numbered = !ward && rng_percent(&r, 25);
		for (int k = 0; k < cm->nbranches; k++) {
			struct branch *b = &g->b[cm->first_branch + k];
			if (ward)
				snprintf(b->name, sizeof b->name, "Khu phố %d", k + 1);
			else if (numbered)
				snprintf(b->name, sizeof b->name, "Thôn %d", k + 1);
			else
				snprintf(b->name, sizeof b->name, "Thôn %s", village_names[order[k % ARRAY_LEN(village_names)]]);
		}
	}
}

/* ------------------------------------------------------------------------------------ */
/* A commune office's folder.                                                           */

static const char *const commune_tables[] = {
	"unit", "unit_name", "unit_parent", "person", "role", "insurance_card", "support",
	"party", "meeting", "meeting_branch", "volunteer", "volunteer_branch", "year_record",
};
static const char *const district_tables[] = {
	"pilot", "person", "role", "meeting", "meeting_branch", "task",
};

static int write_person(struct gen *g, struct folder *fo, const char *owner, const struct person *p)
{
	row_begin(g, "person");
	if (row_set(g, "id", "%s", p->id) || row_set(g, "unit_id", "%s", owner) ||
	    row_set(g, "full_name", "%s", p->name) || row_set(g, "birth_year", "%d", p->birth_year) ||
	    row_set(g, "gender", "%s", p->gender) || row_set(g, "phone", "%s", p->phone))
		return -1;
	return emit(g, fo);
}

static int write_role(struct gen *g, struct folder *fo, struct rng *r, const char *owner, const char *person,
		      const char *role, const char *of_unit, int64_t from, int64_t until)
{
	char id[UUID_TEXT], df[DATE_TEXT], du[DATE_TEXT];
	uuid7_on(r, from, id);
	date_text(from, df);
	row_begin(g, "role");
	if (row_set(g, "id", "%s", id) || row_set(g, "unit_id", "%s", owner) ||
	    row_set(g, "person_id", "%s", person) || row_set(g, "role", "%s", role) ||
	    row_set(g, "of_unit", "%s", of_unit) || row_set(g, "term_from", "%s", df))
		return -1;
	if (until > 0) {
		date_text(until, du);
		if (row_set(g, "term_until", "%s", du))
			return -1;
	}
	return emit(g, fo);
}

static int write_card(struct gen *g, struct folder *fo, struct rng *r, const char *owner, const char *person,
		      int64_t from, int64_t until)
{
	char id[UUID_TEXT], df[DATE_TEXT], du[DATE_TEXT];
	static const char *const who[] = { "GD", "HN", "NO", "HT", "CN" };
	uuid7_on(r, from, id);
	date_text(from, df);
	row_begin(g, "insurance_card");
	if (row_set(g, "id", "%s", id) || row_set(g, "unit_id", "%s", owner) ||
	    row_set(g, "person_id", "%s", person) ||
	    row_set(g, "card_no", "%s%d%s%010u", PICK(r, who), rng_range(r, 1, 5), g->province_code,
		    rng_below(r, 4000000000u)) ||
	    row_set(g, "valid_from", "%s", df))
		return -1;
	if (until > 0) {
		date_text(until, du);
		if (row_set(g, "valid_until", "%s", du))
			return -1;
	}
	return emit(g, fo);
}

static int write_party(struct gen *g, struct folder *fo, const char *owner, const char *person,
		       const char *step, int64_t day)
{
	char dd[DATE_TEXT];
	date_text(day, dd);
	row_begin(g, "party");
	if (row_set(g, "unit_id", "%s", owner) || row_set(g, "person_id", "%s", person) ||
	    row_set(g, "step", "%s", step) || row_set(g, "on_date", "%s", dd))
		return -1;
	return emit(g, fo);
}

static int write_meeting(struct gen *g, struct folder *fo, const char *id, const char *owner,
			 const char *kind, int64_t day, const char *host, int attended, int attendees,
			 const char *concerns, const char *follow_up)
{
	char dd[DATE_TEXT];
	date_text(day, dd);
	row_begin(g, "meeting");
	if (row_set(g, "id", "%s", id) || row_set(g, "unit_id", "%s", owner) || row_set(g, "kind", "%s", kind) ||
	    row_set(g, "held_on", "%s", dd) || row_set(g, "attendees", "%d", attendees))
		return -1;
	if (host && row_set(g, "host_branch_id", "%s", host))
		return -1;
	if (attended >= 0 && row_set(g, "commune_secretary_attended", "%d", attended))
		return -1;
	if (concerns && row_set(g, "concerns", "%s", concerns))
		return -1;
	if (follow_up && row_set(g, "follow_up", "%s", follow_up))
		return -1;
	return fo ? emit(g, fo) : 0; /* without a folder the caller writes the row */
}

static int write_link(struct gen *g, struct folder *fo, const char *table, const char *owner,
		      const char *ref_col, const char *ref, const char *branch)
{
	row_begin(g, table);
	if (row_set(g, "unit_id", "%s", owner) || row_set(g, ref_col, "%s", ref) ||
	    row_set(g, "branch_id", "%s", branch))
		return -1;
	return emit(g, fo);
}

/* Concerns raised and (sometimes) their follow-up; either may be NULL. */
static int draw_concerns(struct gen *g, struct rng *r, const struct text_ctx *x, int pct, char *concern,
			 char *follow, const char **pc, const char **pf)
{
	const struct pool cp[] = { POOL(concern_who), POOL(concern_what) };
	const struct pool fp[] = { POOL(followup_what), POOL(followup_when) };
	*pc = *pf = NULL;
	if (!rng_percent(r, pct))
		return 0;
	if (text_compose(g, r, concern, GEN_VALUE_MAX, cp, ARRAY_LEN(cp), x, 2000, 1) != 0)
		return -1;
	*pc = concern;
	if (rng_percent(r, 60)) {
		if (text_compose(g, r, follow, GEN_VALUE_MAX, fp, ARRAY_LEN(fp), x, 2000, 1) != 0)
			return -1;
		*pf = follow;
	}
	return 0;
}

static int write_branch_people(struct gen *g, struct folder *fo, struct rng *r, const struct branch *b,
			       struct stats *st, const struct text_ctx *x)
{
	const int Y = g->year;
	const int64_t y0 = day_of(Y, 1, 1), y1 = day_of(Y, 12, 31);
	struct person cur, old;
	char buf[GEN_VALUE_MAX];

	/* The one before, when the secretary changed: term closed the day before. */
	if (b->changed_in) {
		int64_t from = day_between(r, day_of(Y - 2, 3, 1), day_of(Y - 2, 6, 30));
		person_draw(r, Y, 24, 34, &old);
		uuid7_on(r, from, old.id);
		if (write_person(g, fo, b->uid, &old) ||
		    write_role(g, fo, r, b->uid, old.id, "branch_secretary", b->uid, from, b->term_from - 1))
			return -1;
		/* A card still valid at year end: it must not count, its holder left office. */
		if (write_card(g, fo, r, b->uid, old.id, day_of(Y - 1, 1, 1), y1))
			return -1;
	}
	person_draw(r, Y, 21, 32, &cur);
	uuid7_on(r, b->term_from, cur.id);
	if (write_person(g, fo, b->uid, &cur) ||
	    write_role(g, fo, r, b->uid, cur.id, "branch_secretary", b->uid, b->term_from, 0))
		return -1;
	st->secretaries++;

	/* Cards: a lapsed card of last year for some, then this year's as planned. */
	if (rng_percent(r, 30) && write_card(g, fo, r, b->uid, cur.id, day_of(Y - 1, 1, 1), day_of(Y - 1, 12, 31)))
		return -1;
	if (b->insurance == INS_VALID) {
		int pick = (int)rng_below(r, 10);
		int64_t until = pick < 7 ? y1 : pick < 9 ? day_of(Y + 1, 12, 31) : 0;
		if (write_card(g, fo, r, b->uid, cur.id, y0, until))
			return -1;
		st->insured++;
	} else if (b->insurance == INS_EXPIRED) {
		if (write_card(g, fo, r, b->uid, cur.id, y0, day_of(Y, rng_range(r, 3, 9), 30)))
			return -1;
	}

	/* Support during the year, within the term; some support the year before. */
	int64_t from = b->term_from > y0 ? b->term_from : y0;
	static const int pct[SK_N] = { 25, 35, 20 };
	int any = 0;
	for (int k = 0; k < SK_N; k++) {
		int times = rng_percent(r, pct[k]) ? (rng_percent(r, 20) ? 2 : 1) : 0;
		for (int t = 0; t < times; t++) {
			char id[UUID_TEXT], dd[DATE_TEXT];
			int64_t day = day_between(r, from, day_of(Y, 12, 20));
			long amount = k == SK_LOAN ? 5000000L * rng_range(r, 2, 20) : 0;
			struct text_ctx xs = *x;
			xs.n = rng_range(r, 12, 60);
			const struct pool sp[] = { { support_note[k], 4 }, { support_tail[k], 3 } };
			uuid7_on(r, day, id);
			date_text(day, dd);
			if (text_compose(g, r, buf, sizeof buf, sp, ARRAY_LEN(sp), &xs, 500, 1) != 0)
				return -1;
			row_begin(g, "support");
			if (row_set(g, "id", "%s", id) || row_set(g, "unit_id", "%s", b->uid) ||
			    row_set(g, "person_id", "%s", cur.id) || row_set(g, "kind", "%s", sk_code[k]) ||
			    row_set(g, "on_date", "%s", dd) || row_set(g, "note", "%s", buf) ||
			    (amount && row_set(g, "amount_vnd", "%ld", amount)) || emit(g, fo))
				return -1;
			if (t == 0)
				st->support_kind[k]++;
			st->loan_amount += amount;
			any = 1;
		}
	}
	st->supported += any;
	if (b->changed_in == 0 && rng_percent(r, 10)) {
		char id[UUID_TEXT], dd[DATE_TEXT];
		int64_t day = day_between(r, day_of(Y - 1, 2, 1), day_of(Y - 1, 12, 20));
		uuid7_on(r, day, id);
		date_text(day, dd);
		row_begin(g, "support");
		if (row_set(g, "id", "%s", id) || row_set(g, "unit_id", "%s", b->uid) ||
		    row_set(g, "person_id", "%s", cur.id) || row_set(g, "kind", "loan") ||
		    row_set(g, "on_date", "%s", dd) || row_set(g, "amount_vnd", "%ld", 5000000L * rng_range(r, 2, 10)) ||
		    emit(g, fo))
			return -1;
	}

	/* Party steps, always within the term. */
	switch (b->party) {
	case PARTY_ADMITTED: {
		int64_t intro = day_between(r, day_of(Y, 1, 5), day_of(Y, 6, 30));
		int64_t adm = day_between(r, intro + 90, day_of(Y, 12, 28));
		if (write_party(g, fo, b->uid, cur.id, "introduced", intro) ||
		    write_party(g, fo, b->uid, cur.id, "admitted", adm))
			return -1;
		st->introduced++;
		st->admitted++;
		break;
	}
	case PARTY_INTRODUCED:
		if (write_party(g, fo, b->uid, cur.id, "introduced", day_between(r, from, day_of(Y, 12, 20))))
			return -1;
		st->introduced++;
		break;
	case PARTY_INTRODUCED_PREV:
		if (write_party(g, fo, b->uid, cur.id, "introduced",
				day_between(r, day_of(Y - 1, 1, 5), day_of(Y - 1, 12, 20))))
			return -1;
		st->introduced_prev++;
		break;
	default:
		break;
	}
	return 0;
}

static int write_commune(struct gen *g, int ci)
{
	const int Y = g->year;
	const struct commune *cm = &g->c[ci];
	struct stats *st = cm->silent ? &g->silent_st : &g->ds[cm->district];
	struct folder fo;
	struct rng r;
	char stream[64], id[UUID_TEXT], dd[DATE_TEXT], concern[GEN_VALUE_MAX], follow[GEN_VALUE_MAX];
	char vlow[GEN_NAME_MAX], clow[GEN_NAME_MAX];
	const char *pc, *pf;
	int rc = -1;
	unsigned char active[GEN_MAX_BRANCHES] = { 0 }, hosted[GEN_MAX_BRANCHES] = { 0 };
	if (cm->nbranches > (int)sizeof active)
		return gen_fail(&g->err, "commune '%s': too many branches", cm->code);

	snprintf(stream, sizeof stream, "commune:%s", cm->code);
	rng_init(&r, g->seed, stream);
	if (folder_open(g, &fo, cm->code, commune_tables, (int)ARRAY_LEN(commune_tables)) != 0)
		goto out;
	st->communes++;
	lower_first(clow, sizeof clow, cm->name);
	struct text_ctx x = { NULL, clow, 1, 1 };

	/* The branches: unit, dated name, dated parent link — all owned by the commune. */
	for (int k = 0; k < cm->nbranches; k++) {
		const struct branch *b = &g->b[cm->first_branch + k];
		date_text(b->opened, dd);
		row_begin(g, "unit");
		if (row_set(g, "id", "%s", b->uid) || row_set(g, "unit_id", "%s", cm->uid) ||
		    row_set(g, "opened_on", "%s", dd) || emit(g, &fo))
			goto out;
		st->branches++;
	}
	for (int k = 0; k < cm->nbranches; k++) {
		const struct branch *b = &g->b[cm->first_branch + k];
		date_text(b->opened, dd);
		uuid7_on(&r, b->opened, id);
		row_begin(g, "unit_name");
		if (row_set(g, "id", "%s", id) || row_set(g, "unit_id", "%s", cm->uid) ||
		    row_set(g, "of_unit", "%s", b->uid) || row_set(g, "name", "%s", b->name) ||
		    row_set(g, "kind", "branch") || row_set(g, "valid_from", "%s", dd) || emit(g, &fo))
			goto out;
	}
	for (int k = 0; k < cm->nbranches; k++) {
		const struct branch *b = &g->b[cm->first_branch + k];
		date_text(b->opened, dd);
		uuid7_on(&r, b->opened, id);
		row_begin(g, "unit_parent");
		if (row_set(g, "id", "%s", id) || row_set(g, "unit_id", "%s", cm->uid) ||
		    row_set(g, "of_unit", "%s", b->uid) || row_set(g, "parent_id", "%s", cm->uid) ||
		    row_set(g, "valid_from", "%s", dd) || emit(g, &fo))
			goto out;
	}

	/* The commune secretary, then each branch's secretaries and what they received. */
	struct person cs;
	int64_t cs_from = day_between(&r, day_of(Y - 4, 1, 1), day_of(Y - 1, 12, 31));
	person_draw(&r, Y, 26, 36, &cs);
	uuid7_on(&r, cs_from, cs.id);
	if (write_person(g, &fo, cm->uid, &cs) ||
	    write_role(g, &fo, &r, cm->uid, cs.id, "commune_secretary", cm->uid, cs_from, 0))
		goto out;
	for (int k = 0; k < cm->nbranches; k++) {
		const struct branch *b = &g->b[cm->first_branch + k];
		lower_first(vlow, sizeof vlow, b->name);
		x.village = vlow;
		if (write_branch_people(g, &fo, &r, b, st, &x) != 0)
			goto out;
	}

	/* Branch meetings: 10-12 a year, in different months, held by the branch. */
	for (int k = 0; k < cm->nbranches; k++) {
		const struct branch *b = &g->b[cm->first_branch + k];
		int months[12];
		for (int m = 0; m < 12; m++)
			months[m] = m + 1;
		rng_shuffle(&r, months, 12);
		int nm = rng_range(&r, 10, 12);
		int keep[13] = { 0 };
		for (int i = 0; i < nm; i++)
			keep[months[i]] = 1;
		lower_first(vlow, sizeof vlow, b->name);
		x.village = vlow;
		for (int m = 1; m <= 12; m++) {
			if (!keep[m])
				continue;
			int64_t day = day_of(Y, m, rng_range(&r, 1, 28));
			int attended = rng_percent(&r, 35);
			x.month = m % 12 + 1;
			x.n = rng_range(&r, 2, 6);
			uuid7_on(&r, day, id);
			if (draw_concerns(g, &r, &x, 40, concern, follow, &pc, &pf) ||
			    write_meeting(g, &fo, id, b->uid, "branch", day, b->uid, attended, rng_range(&r, 12, 45), pc, pf))
				goto out;
			st->branch_meetings++;
			st->branch_meetings_attended += attended;
			active[k] = 1;
		}
	}

	/* The year before: 3-6 branch meetings, none for the branches planned inactive. */
	for (int k = 0; k < cm->nbranches; k++) {
		const struct branch *b = &g->b[cm->first_branch + k];
		if (b->inactive_prev) {
			st->inactive_prev++;
			continue;
		}
		int months[12];
		for (int m = 0; m < 12; m++)
			months[m] = m + 1;
		rng_shuffle(&r, months, 12);
		int nm = rng_range(&r, 3, 6);
		lower_first(vlow, sizeof vlow, b->name);
		x.village = vlow;
		for (int i = 0; i < nm; i++) {
			int64_t day = day_of(Y - 1, months[i], rng_range(&r, 1, 28));
			x.month = months[i] % 12 + 1;
			uuid7_on(&r, day, id);
			if (draw_concerns(g, &r, &x, 20, concern, follow, &pc, &pf) ||
			    write_meeting(g, &fo, id, b->uid, "branch", day, b->uid, rng_percent(&r, 20),
					  rng_range(&r, 8, 30), pc, pf))
				goto out;
			st->branch_meetings_prev++;
		}
	}

	/* Joint meetings: one a month, hosted in turn by the branches; all (but now and then
	 * one) take part. */
	int start = rng_range(&r, 0, cm->nbranches - 1);
	for (int m = 1; m <= 12; m++) {
		int host = (start + m - 1) % cm->nbranches;
		const struct branch *hb = &g->b[cm->first_branch + host];
		int64_t day = day_of(Y, m, rng_range(&r, 5, 25));
		int absent = rng_percent(&r, 10) ? (host + 1) % cm->nbranches : -1;
		lower_first(vlow, sizeof vlow, hb->name);
		x.village = vlow;
		x.month = m % 12 + 1;
		x.n = rng_range(&r, 2, 8);
		uuid7_on(&r, day, id);
		if (draw_concerns(g, &r, &x, 70, concern, follow, &pc, &pf) ||
		    write_meeting(g, &fo, id, cm->uid, "joint", day, hb->uid, rng_percent(&r, 90),
				  rng_range(&r, 25, 80), pc, pf))
			goto out;
		for (int k = 0; k < cm->nbranches; k++) {
			if (k == absent)
				continue;
			if (write_link(g, &fo, "meeting_branch", cm->uid, "meeting_id", id, g->b[cm->first_branch + k].uid))
				goto out;
			active[k] = 1;
		}
		st->joint_meetings++;
		hosted[host] = 1;
	}
	for (int k = 0; k < cm->nbranches; k++) {
		st->joint_hosts += hosted[k];
		st->inactive += !active[k];
	}

	/* Volunteer activities as planned: commune-wide ones with 2+ branches, or a branch's
	 * own. */
	for (int i = cm->first_act; i < cm->first_act + cm->nact; i++) {
		const struct activity *a = &g->a[i];
		const struct branch *b = a->branch >= 0 ? &g->b[a->branch] : &g->b[cm->first_branch + rng_range(&r, 0, cm->nbranches - 1)];
		const char *owner = a->branch >= 0 ? b->uid : cm->uid;
		char title[GEN_VALUE_MAX], de[DATE_TEXT];
		lower_first(vlow, sizeof vlow, b->name);
		x.village = vlow;
		x.n = rng_range(&r, 1, 5);
		const struct pool tp[] = { { vol_title[a->kind], 4 }, POOL(vol_where) };
		if (text_compose(g, &r, title, sizeof title, tp, ARRAY_LEN(tp), &x, 300, 0) != 0)
			goto out;
		uuid7_on(&r, a->start, id);
		date_text(a->start, dd);
		date_text(a->end, de);
		row_begin(g, "volunteer");
		if (row_set(g, "id", "%s", id) || row_set(g, "unit_id", "%s", owner) ||
		    row_set(g, "kind", "%s", vk_code[a->kind]) || row_set(g, "title", "%s", title) ||
		    row_set(g, "started_on", "%s", dd) || row_set(g, "ended_on", "%s", de) ||
		    row_set(g, "teams", "%d", a->teams) || row_set(g, "participations", "%d", a->participations) ||
		    emit(g, &fo))
			goto out;
		if (a->branch >= 0) {
			if (write_link(g, &fo, "volunteer_branch", owner, "volunteer_id", id, b->uid))
				goto out;
		} else {
			/* 2+ branches; never, for last year's, one planned inactive that year. */
			int order[GEN_MAX_BRANCHES], ne = 0;
			for (int k = 0; k < cm->nbranches; k++)
				if (a->year == Y || !g->b[cm->first_branch + k].inactive_prev)
					order[ne++] = k;
			rng_shuffle(&r, order, ne);
			int m = ne < 2 ? ne : rng_range(&r, 2, ne);
			for (int k = 0; k < m; k++)
				if (write_link(g, &fo, "volunteer_branch", owner, "volunteer_id", id,
					       g->b[cm->first_branch + order[k]].uid))
					goto out;
		}
		if (a->year == Y) {
			st->vol_activities[a->kind]++;
			st->vol_teams[a->kind] += a->teams;
			st->vol_part[a->kind] += a->participations;
		}
	}

	/* Year-end records of the year before and the year. */
	for (int k = 0; k < cm->nbranches; k++) {
		const struct branch *b = &g->b[cm->first_branch + k];
		int area0 = rng_range(&r, 80, 260), area1 = area0 + rng_range(&r, -5, 10);
		int got0 = area0 * rng_range(&r, 50, 72) / 100, got1 = area1 * rng_range(&r, 62, 86) / 100;
		for (int w = 0; w < 2; w++) {
			row_begin(g, "year_record");
			if (row_set(g, "unit_id", "%s", b->uid) || row_set(g, "year", "%d", Y - 1 + w) ||
			    row_set(g, "rating", "%s", rating_code[b->rating[w]]) ||
			    row_set(g, "youth_gathered", "%d", w ? got1 : got0) ||
			    row_set(g, "youth_in_area", "%d", w ? area1 : area0) || emit(g, &fo))
				goto out;
		}
		st->youth_gathered_prev += got0;
		st->youth_in_area_prev += area0;
		st->youth_gathered += got1;
		st->youth_in_area += area1;
		st->rating_prev[b->rating[0]]++;
		st->rating[b->rating[1]]++;
	}
	rc = 0;
out:
	if (folder_close(g, &fo) != 0)
		rc = -1;
	return rc;
}

/* ------------------------------------------------------------------------------------ */
/* A district office's folder.                                                          */

#define GEN_MAX_STANDING 7

static int write_district(struct gen *g, int di)
{
	const int Y = g->year;
	const struct district *dt = &g->d[di];
	struct stats *st = &g->ds[di];
	struct folder fo;
	struct rng r;
	struct person sm[GEN_MAX_STANDING];
	char stream[64], id[UUID_TEXT], dd[DATE_TEXT], du[DATE_TEXT], concern[GEN_VALUE_MAX],
		follow[GEN_VALUE_MAX], title[GEN_VALUE_MAX], vlow[GEN_NAME_MAX], clow[GEN_NAME_MAX];
	int rc = -1;
	int communes[64], ncm = 0;

	for (int c = 0; c < g->nc; c++)
		if (g->c[c].district == di) {
			if (ncm == (int)ARRAY_LEN(communes))
				return gen_fail(&g->err, "district '%s': too many communes", dt->code);
			communes[ncm++] = c;
		}
	snprintf(stream, sizeof stream, "district:%s", dt->code);
	rng_init(&r, g->seed, stream);
	if (folder_open(g, &fo, dt->code, district_tables, (int)ARRAY_LEN(district_tables)) != 0)
		goto out;

	/* Pilots: current ones from Y-1 or early Y; a past one ended on 31 December Y-1. */
	for (int i = 0; i < g->nb; i++) {
		const struct branch *b = &g->b[i];
		if (g->c[b->commune].district != di || b->pilot == PILOT_NONE)
			continue;
		int64_t from = b->pilot == PILOT_CURRENT ? day_between(&r, day_of(Y - 1, 3, 1), day_of(Y, 3, 31))
							 : day_between(&r, day_of(Y - 2, 3, 1), day_of(Y - 2, 9, 30));
		uuid7_on(&r, from, id);
		date_text(from, dd);
		row_begin(g, "pilot");
		if (row_set(g, "id", "%s", id) || row_set(g, "unit_id", "%s", dt->uid) ||
		    row_set(g, "branch_id", "%s", b->uid) || row_set(g, "valid_from", "%s", dd))
			goto out;
		if (b->pilot == PILOT_PAST) {
			date_text(day_of(Y - 1, 12, 31), du);
			if (row_set(g, "valid_until", "%s", du))
				goto out;
		}
		if (emit(g, &fo))
			goto out;
		st->pilots += b->pilot == PILOT_CURRENT;
	}

	/* The standing committee. */
	int nsm = rng_range(&r, 5, GEN_MAX_STANDING);
	for (int i = 0; i < nsm; i++) {
		int64_t from = day_between(&r, day_of(Y - 4, 1, 1), day_of(Y - 1, 6, 30));
		person_draw(&r, Y, 27, 42, &sm[i]);
		uuid7_on(&r, from, sm[i].id);
		if (write_person(g, &fo, dt->uid, &sm[i]) ||
		    write_role(g, &fo, &r, dt->uid, sm[i].id, "district_standing", dt->uid, from, 0))
			goto out;
	}

	/* Giao ban twice a year, with every branch of the district. */
	for (int w = 0; w < 2; w++) {
		int64_t day = day_of(Y, w ? 10 : 4, rng_range(&r, 5, 25));
		const struct commune *cm = &g->c[communes[rng_below(&r, (uint32_t)ncm)]];
		const struct branch *b = &g->b[cm->first_branch + rng_range(&r, 0, cm->nbranches - 1)];
		lower_first(vlow, sizeof vlow, b->name);
		lower_first(clow, sizeof clow, cm->name);
		struct text_ctx x = { vlow, clow, w ? 12 : 6, 2 };
		const struct pool cp[] = { POOL(giaoban_who), POOL(giaoban_what) };
		const struct pool fp[] = { POOL(followup_what), POOL(followup_when) };
		int n = 0;
		if (text_compose(g, &r, concern, sizeof concern, cp, ARRAY_LEN(cp), &x, 2000, 1) ||
		    text_compose(g, &r, follow, sizeof follow, fp, ARRAY_LEN(fp), &x, 2000, 1))
			goto out;
		/* Not a --silent commune's branches: their ids reach other offices only through
		 * the hub, which never gets them. */
		for (int i = 0; i < g->nb; i++)
			n += g->c[g->b[i].commune].district == di && !g->c[g->b[i].commune].silent;
		uuid7_on(&r, day, id);
		if (write_meeting(g, &fo, id, dt->uid, "giao_ban", day, NULL, -1, n + nsm, concern, follow))
			goto out;
		for (int i = 0; i < g->nb; i++)
			if (g->c[g->b[i].commune].district == di && !g->c[g->b[i].commune].silent &&
			    write_link(g, &fo, "meeting_branch", dt->uid, "meeting_id", id, g->b[i].uid))
				goto out;
		st->giao_ban++;
	}

	/* Task assignment once a month, with 2-4 tasks each. */
	for (int m = 1; m <= 12; m++) {
		int64_t day = day_of(Y, m, rng_range(&r, 1, 10));
		char mid[UUID_TEXT];
		uuid7_on(&r, day, mid);
		if (write_meeting(g, &fo, mid, dt->uid, "giao_nhiem_vu", day, NULL, -1, nsm - rng_range(&r, 0, 1), NULL, NULL))
			goto out;
		st->giao_nhiem_vu++;
		int nt = rng_range(&r, 2, 4);
		for (int t = 0; t < nt; t++) {
			const struct commune *cm = &g->c[communes[rng_below(&r, (uint32_t)ncm)]];
			const struct branch *b = &g->b[cm->first_branch + rng_range(&r, 0, cm->nbranches - 1)];
			lower_first(vlow, sizeof vlow, b->name);
			lower_first(clow, sizeof clow, cm->name);
			struct text_ctx x = { vlow, clow, m, rng_range(&r, 1, 4) };
			const struct pool tp[] = { POOL(task_what), POOL(task_tail) };
			int64_t due = day + rng_range(&r, 14, 30);
			if (text_compose(g, &r, title, sizeof title, tp, ARRAY_LEN(tp), &x, 300, 1) != 0)
				goto out;
			uuid7_on(&r, day, id);
			date_text(due, du);
			row_begin(g, "task");
			if (row_set(g, "id", "%s", id) || row_set(g, "unit_id", "%s", dt->uid) ||
			    row_set(g, "meeting_id", "%s", mid) ||
			    row_set(g, "assignee_person_id", "%s", sm[(m + t) % nsm].id) ||
			    (rng_percent(&r, 70) && row_set(g, "assignee_unit_id", "%s", cm->uid)) ||
			    row_set(g, "title", "%s", title) || row_set(g, "due_on", "%s", du))
				goto out;
			if (rng_percent(&r, 85)) {
				date_text(due - rng_range(&r, 0, 10), dd);
				if (row_set(g, "done_on", "%s", dd))
					goto out;
			}
			if (emit(g, &fo))
				goto out;
			st->tasks++;
		}
	}
	rc = 0;
out:
	if (folder_close(g, &fo) != 0)
		rc = -1;
	return rc;
}

/* ------------------------------------------------------------------------------------ */
/* Expected figures (JSON) and the index of folders.                                    */

/* Adds s into to; every member of struct stats is a long (or an array of them). */
static void stats_add(struct stats *to, const struct stats *s)
{
	const long *src = (const long *)s;
	long *dst = (long *)to;
	for (size_t i = 0; i < sizeof *s / sizeof(long); i++)
		dst[i] += src[i];
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_figures(FILE *f, const struct stats *s, const char *in)
{
	long parts = 0, teams = 0, acts = 0;
	for (int k = 0; k < VK_N; k++) {
		parts += s->vol_part[k];
		teams += s->vol_teams[k];
		acts += s->vol_activities[k];
	}
	long rated = 0, rated_prev = 0;
	for (int k = 1; k < 5; k++) {
		rated += s->rating[k];
		rated_prev += s->rating_prev[k];
	}
	fprintf(f, "%s\"communes\": %ld, \"branches\": %ld,\n", in, s->communes, s->branches);
	fprintf(f, "%s\"pilots\": %ld, \"giao_ban\": %ld, \"giao_nhiem_vu\": %ld, \"tasks\": %ld,\n", in, s->pilots,
		s->giao_ban, s->giao_nhiem_vu, s->tasks);
	fprintf(f, "%s\"branch_meetings\": {\"held\": %ld, \"attended_by_commune_secretary\": %ld},\n", in,
		s->branch_meetings, s->branch_meetings_attended);
	fprintf(f, "%s\"joint_meetings\": {\"held\": %ld, \"host_branches\": %ld},\n", in, s->joint_meetings,
		s->joint_hosts);
	fprintf(f, "%s\"branch_meetings_prev\": %ld, \"inactive_branches\": %ld, \"inactive_branches_prev\": %ld,\n", in,
		s->branch_meetings_prev, s->inactive, s->inactive_prev);
	fprintf(f,
		"%s\"youth\": {\"gathered\": %ld, \"in_area\": %ld, \"gathered_prev\": %ld, \"in_area_prev\": %ld},\n",
		in, s->youth_gathered, s->youth_in_area, s->youth_gathered_prev, s->youth_in_area_prev);
	fprintf(f, "%s\"volunteer\": {\"activities\": %ld, \"teams\": %ld, \"participations\": %ld, \"by_kind\": {", in,
		acts, teams, parts);
	for (int k = 0; k < VK_N; k++)
		fprintf(f, "%s\"%s\": {\"activities\": %ld, \"teams\": %ld, \"participations\": %ld}", k ? ", " : "",
			vk_code[k], s->vol_activities[k], s->vol_teams[k], s->vol_part[k]);
	fprintf(f, "}},\n");
	fprintf(f, "%s\"party\": {\"introduced\": %ld, \"admitted\": %ld, \"introduced_prev\": %ld, \"admitted_prev\": 0},\n",
		in, s->introduced, s->admitted, s->introduced_prev);
	fprintf(f, "%s\"insurance\": {\"secretaries\": %ld, \"with_card\": %ld},\n", in, s->secretaries, s->insured);
	fprintf(f, "%s\"support\": {\"secretaries\": %ld, \"loan\": %ld, \"training\": %ld, \"seminar\": %ld, \"loan_amount_vnd\": %ld},\n",
		in, s->supported, s->support_kind[SK_LOAN], s->support_kind[SK_TRAINING], s->support_kind[SK_SEMINAR],
		s->loan_amount);
	fprintf(f, "%s\"evaluation\": {\"rated\": %ld, \"xuat_sac\": %ld, \"tot\": %ld, \"hoan_thanh\": %ld, \"khong_hoan_thanh\": %ld,\n",
		in, rated, s->rating[R_XUAT_SAC], s->rating[R_TOT], s->rating[R_HOAN_THANH], s->rating[R_KHONG]);
	fprintf(f, "%s  \"rated_prev\": %ld, \"xuat_sac_prev\": %ld, \"tot_prev\": %ld, \"hoan_thanh_prev\": %ld, \"khong_hoan_thanh_prev\": %ld}\n",
		in, rated_prev, s->rating_prev[R_XUAT_SAC], s->rating_prev[R_TOT], s->rating_prev[R_HOAN_THANH],
		s->rating_prev[R_KHONG]);
}

/* One headline line: figure, key, Vietnamese label, the article's value, ours. */
static void json_headline(FILE *f, int figure, const char *key, const char *label, const char *article,
			  long expected, int last)
{
	fprintf(f, "    {\"figure\": %d, \"key\": \"%s\", \"label_vi\": ", figure, key);
	json_str(f, label);
	fprintf(f, ", \"article\": %s, \"expected\": %ld}%s\n", article, expected, last ? "" : ",");
}

static int write_expected(struct gen *g, FILE *f, const char *path)
{
	struct stats p;
	memset(&p, 0, sizeof p);
	for (int d = 0; d < g->nd; d++)
		stats_add(&p, &g->ds[d]);
	long parts = 0;
	for (int k = 0; k < VK_N; k++)
		parts += p.vol_part[k];
	long done = p.rating[R_XUAT_SAC] + p.rating[R_TOT] + p.rating[R_HOAN_THANH];
	long good = p.rating[R_XUAT_SAC] + p.rating[R_TOT], good_prev = p.rating_prev[R_XUAT_SAC] + p.rating_prev[R_TOT];
	fprintf(f, "{\n  \"generator\": \"lienket-gen %s\", \"seed\": %" PRIu64 ", \"year\": %d,\n", GEN_VERSION,
		g->seed, g->year);
	fprintf(f, "  \"unit_ids\": \"%s\",\n  \"province\": {\"code\": ", g->ids_mapped ? "mapped" : "derived");
	json_str(f, g->province_code);
	fprintf(f, ", \"name\": ");
	json_str(f, g->province_name);
	fprintf(f, ", \"districts\": %d, \"communes\": %d, \"branches\": %ld},\n", g->nd, g->nc, p.branches);
	fprintf(f, "  \"headline\": [\n");
	json_headline(f, 11, "secretaries", "Bí thư chi đoàn thôn, khu phố", "695", p.secretaries, 0);
	json_headline(f, 11, "secretaries_with_insurance", "Bí thư chi đoàn có thẻ bảo hiểm y tế", "667", p.insured, 0);
	json_headline(f, 10, "party_introduced", "Bí thư chi đoàn được giới thiệu cho Đảng xem xét kết nạp", "245",
		      p.introduced, 0);
	json_headline(f, 10, "party_admitted", "Bí thư chi đoàn được kết nạp Đảng", "93", p.admitted, 0);
	json_headline(f, 9, "volunteer_participations", "Lượt đoàn viên, thanh niên tham gia tình nguyện (hơn 6.000)",
		      "6000", parts, 0);
	json_headline(f, 13, "branches_completed_or_better_pct", "Chi đoàn hoàn thành nhiệm vụ trở lên (%)", "100",
		      p.branches ? done * 100 / p.branches : 0, 0);
	json_headline(f, 13, "excellent_good_higher_than_prev", "Tỷ lệ xuất sắc, tốt cao hơn năm trước (1 = có)", "1",
		      good > good_prev, 1);
	fprintf(f, "  ],\n  \"figures\": {\n");
	json_figures(f, &p, "    ");
	fprintf(f, "  },\n  \"districts\": [\n");
	for (int d = 0; d < g->nd; d++) {
		fprintf(f, "   {\"code\": ");
		json_str(f, g->d[d].code);
		fprintf(f, ", \"name\": ");
		json_str(f, g->d[d].name);
		fprintf(f, ", \"unit_id\": \"%s\",\n", g->d[d].uid);
		json_figures(f, &g->ds[d], "    ");
		fprintf(f, "   }%s\n", d + 1 < g->nd ? "," : "");
	}
	fprintf(f, "  ]");
	if (g->nsilent) {
		/* What the --silent offices record: never synced, so in none of the figures above. */
		fprintf(f, ",\n  \"silent\": {\"communes\": [");
		for (int c = 0, k = 0; c < g->nc; c++) {
			if (!g->c[c].silent)
				continue;
			fprintf(f, "%s{\"code\": ", k++ ? ", " : "");
			json_str(f, g->c[c].code);
			fprintf(f, ", \"name\": ");
			json_str(f, g->c[c].name);
			fprintf(f, ", \"unit_id\": \"%s\", \"district_code\": ", g->c[c].uid);
			json_str(f, g->d[g->c[c].district].code);
			fprintf(f, ", \"branches\": %d}", g->c[c].nbranches);
		}
		fprintf(f, "],\n   \"figures\": {\n");
		json_figures(f, &g->silent_st, "    ");
		fprintf(f, "  }}");
	}
	fprintf(f, "\n}\n");
	if (ferror(f))
		return gen_fail(&g->err, "cannot write '%s'", path);
	return 0;
}

/* Refuses to finish when the rows written do not give the planned headline figures. */
static int check_headline(struct gen *g)
{
	struct stats p;
	memset(&p, 0, sizeof p);
	for (int d = 0; d < g->nd; d++)
		stats_add(&p, &g->ds[d]);
	long parts = 0;
	for (int k = 0; k < VK_N; k++)
		parts += p.vol_part[k];
	long good = p.rating[R_XUAT_SAC] + p.rating[R_TOT], good_prev = p.rating_prev[R_XUAT_SAC] + p.rating_prev[R_TOT];
	if (p.secretaries != g->target_branches || p.insured != g->target_insured ||
	    p.introduced != g->target_introduced || p.admitted != g->target_admitted ||
	    parts != g->target_participations || p.rating[R_KHONG] != 0 || good <= good_prev || p.inactive != 0 ||
	    p.youth_gathered * p.youth_in_area_prev <= p.youth_gathered_prev * p.youth_in_area)
		return gen_fail(&g->err,
			    "bug: figures differ from the plan: %ld secretaries, %ld insured, %ld introduced, %ld admitted, "
			    "%ld participations",
			    p.secretaries, p.insured, p.introduced, p.admitted, parts);
	return 0;
}

static int write_index(struct gen *g)
{
	char path[GEN_PATH_MAX];
	if (snprintf(path, sizeof path, "%s/index.csv", g->out_dir) >= (int)sizeof path)
		return gen_fail(&g->err, "output path too long");
	FILE *f = fopen(path, "wb");
	if (!f)
		return gen_fail(&g->err, "cannot create '%s': %s", path, strerror(errno));
	fprintf(f, "folder,kind,code,name,unit_id,district_code,branches,files\r\n");
	for (int d = 0; d < g->nd; d++) {
		fprintf(f, "%s,district,%s,%s,%s,%s,,%d\r\n", g->d[d].code, g->d[d].code, g->d[d].name, g->d[d].uid,
			g->d[d].code, (int)ARRAY_LEN(district_tables));
	}
	for (int c = 0; c < g->nc; c++) {
		const struct commune *cm = &g->c[c];
		fprintf(f, "%s,commune,%s,%s,%s,%s,%d,%d\r\n", cm->code, cm->code, cm->name, cm->uid,
			g->d[cm->district].code, cm->nbranches, (int)ARRAY_LEN(commune_tables));
	}
	int bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return gen_fail(&g->err, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}

static int write_expected_file(struct gen *g)
{
	char path[GEN_PATH_MAX];
	if (snprintf(path, sizeof path, "%s/expected.json", g->out_dir) >= (int)sizeof path)
		return gen_fail(&g->err, "output path too long");
	FILE *f = fopen(path, "wb");
	if (!f)
		return gen_fail(&g->err, "cannot create '%s': %s", path, strerror(errno));
	int rc = write_expected(g, f, path);
	if (fclose(f) != 0 && rc == 0)
		rc = gen_fail(&g->err, "cannot write '%s': %s", path, strerror(errno));
	return rc;
}

/* ------------------------------------------------------------------------------------ */
/* The benchmark stream: rows of one table, owned by the province's branches.          */

static int write_changes(struct gen *g, const char *table, long count, const char *path)
{
	struct rng r;
	struct out_file o;
	char id[UUID_TEXT], dd[DATE_TEXT], buf[GEN_VALUE_MAX], follow[GEN_VALUE_MAX], vlow[GEN_NAME_MAX],
		clow[GEN_NAME_MAX];
	const char *pc, *pf;
	int rc = -1;
	memset(&o, 0, sizeof o);
	o.t = schema_table_find(table, SCHEMA_VERSION);
	if (!o.t || (strcmp(table, "meeting") && strcmp(table, "volunteer") && strcmp(table, "person")))
		return gen_fail(&g->err, "--table must be meeting, volunteer or person, not '%s'", table);
	snprintf(o.path, sizeof o.path, "%s", path);
	o.f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
	if (!o.f)
		return gen_fail(&g->err, "cannot create '%s': %s", path, strerror(errno));
	rng_init(&r, g->seed, "changes");
	size_t n = 0;
	for (size_t c = 0; c < o.t->ncolumns; c++)
		n += (size_t)snprintf(g->line + n, GEN_LINE_MAX - n, "%s%s", c ? "," : "", o.t->columns[c].name);
	if (out_write(g, &o, g->line, n) != 0 || out_write(g, &o, "\r\n", 2) != 0)
		goto out;
	/* Ids are UUIDv7 a few seconds apart from 1 January of the year, as agents make them. */
	int64_t ms = day_of(g->year, 1, 1) * 86400000LL;
	for (long i = 0; i < count; i++) {
		const struct branch *b = &g->b[rng_below(&r, (uint32_t)g->nb)];
		const struct commune *cm = &g->c[b->commune];
		int64_t day = day_between(&r, day_of(g->year, 1, 1), day_of(g->year, 12, 31));
		lower_first(vlow, sizeof vlow, b->name);
		lower_first(clow, sizeof clow, cm->name);
		struct text_ctx x = { vlow, clow, rng_range(&r, 1, 12), rng_range(&r, 1, 6) };
		ms += rng_range(&r, 1, 5000);
		uuid7(&r, ms, id);
		date_text(day, dd);
		if (table[0] == 'm') {
			if (draw_concerns(g, &r, &x, 100, buf, follow, &pc, &pf) ||
			    write_meeting(g, NULL, id, b->uid, "branch", day, b->uid, rng_percent(&r, 35),
					  rng_range(&r, 12, 45), pc, pf))
				goto out;
		} else if (table[0] == 'v') {
			int kind = (int)rng_below(&r, VK_N);
			const struct pool tp[] = { { vol_title[kind], 4 }, POOL(vol_where) };
			if (text_compose(g, &r, buf, sizeof buf, tp, ARRAY_LEN(tp), &x, 300, 0) != 0)
				goto out;
			row_begin(g, "volunteer");
			if (row_set(g, "id", "%s", id) || row_set(g, "unit_id", "%s", b->uid) ||
			    row_set(g, "kind", "%s", vk_code[kind]) || row_set(g, "title", "%s", buf) ||
			    row_set(g, "started_on", "%s", dd) || row_set(g, "teams", "%d", rng_range(&r, 1, 3)) ||
			    row_set(g, "participations", "%d", rng_range(&r, 3, 40)))
				goto out;
		} else {
			struct person p;
			person_draw(&r, g->year, 18, 35, &p);
			memcpy(p.id, id, UUID_TEXT);
			row_begin(g, "person");
			if (row_set(g, "id", "%s", p.id) || row_set(g, "unit_id", "%s", b->uid) ||
			    row_set(g, "full_name", "%s", p.name) || row_set(g, "birth_year", "%d", p.birth_year) ||
			    row_set(g, "gender", "%s", p.gender) || row_set(g, "phone", "%s", p.phone))
				goto out;
		}
		if (row_write(g, &o) != 0)
			goto out;
	}
	rc = 0;
out:
	if (o.f != stdout) {
		if (fclose(o.f) != 0 && rc == 0)
			rc = gen_fail(&g->err, "cannot write '%s': %s", path, strerror(errno));
	} else if (fflush(stdout) != 0 && rc == 0) {
		rc = gen_fail(&g->err, "cannot write to standard output: %s", strerror(errno));
	}
	return rc;
}

/* ------------------------------------------------------------------------------------ */

static void gen_release(struct gen *g)
{
	free(g->d);
	free(g->c);
	free(g->b);
	free(g->a);
	free(g->ds);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lienket-gen province --units FILE --out DIR [--seed N] [--year Y]\n"
		"                            [--unit-ids FILE] [--print-expected]\n"
		"       lienket-gen province --units FILE --print-expected [--seed N] [--year Y] [--unit-ids FILE]\n"
		"       lienket-gen changes --units FILE --table meeting|volunteer|person --count N\n"
		"                           --rows-out FILE|- [--seed N] [--year Y] [--unit-ids FILE]\n"
		"       province also takes [--silent CODE]... (a commune whose office never syncs)\n"
		"\n"
		"province: writes DIR/<code>/NN-<table>.csv for every commune and district office,\n"
		"DIR/index.csv and DIR/expected.json (the figures the report must show).\n"
		"--unit-ids FILE: CSV of code,unit_id as the hub prints them; without it unit ids are\n"
		"derived as UUIDv5 of \"district:<code>\" / \"commune:<code>\".\n"
		"Targets (the article's, by default): --branches 695 --insured 667 --introduced 245\n"
		"--admitted 93 --participations N (default 6200 + a seeded draw below 100).\n"
		"--silent CODE: that commune's office records a year too (its own 5-7 branches, drawn\n"
		"from its own stream) but never syncs: its rows are outside the targets and the\n"
		"figures, which the other communes reach alone; district folders do not name its\n"
		"branches. expected.json lists it under \"silent\". Repeatable.\n");
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct gen *g = calloc(1, sizeof *g);
	const char *table = NULL, *rows_out = NULL;
	const char *silent[64];
	int nsilent = 0;
	long count = -1;
	int rc = 1, changes;
	if (!g) {
		fprintf(stderr, "lienket-gen: out of memory\n");
		return 1;
	}
	if (argc < 2 || (strcmp(argv[1], "province") && strcmp(argv[1], "changes"))) {
		usage(argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout : stderr);
		free(g);
		return argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? 0 : 2;
	}
	changes = strcmp(argv[1], "changes") == 0;
	g->year = 2021;
	g->seed = 1;
	g->target_branches = 695;
	g->target_insured = 667;
	g->target_introduced = 245;
	g->target_admitted = 93;
	g->target_participations = -1;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long x = 0;
		int *target = !strcmp(a, "--branches") ? &g->target_branches
			      : !strcmp(a, "--insured") ? &g->target_insured
			      : !strcmp(a, "--introduced") ? &g->target_introduced
			      : !strcmp(a, "--admitted") ? &g->target_admitted
			      : !strcmp(a, "--participations") ? &g->target_participations
							       : NULL;
		if (!strcmp(a, "--print-expected")) {
			g->print_expected = 1;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			rc = 0;
			goto out;
		}
		if (!v) {
			fprintf(stderr, "lienket-gen: '%s' needs a value (see --help)\n", a);
			rc = 2;
			goto out;
		}
		i++;
		if (!strcmp(a, "--units"))
			g->units_path = v;
		else if (!strcmp(a, "--unit-ids"))
			g->ids_path = v;
		else if (!strcmp(a, "--out"))
			g->out_dir = v;
		else if (!strcmp(a, "--table"))
			table = v;
		else if (!strcmp(a, "--rows-out"))
			rows_out = v;
		else if (!strcmp(a, "--silent") && is_code(v) && nsilent < (int)ARRAY_LEN(silent))
			silent[nsilent++] = v;
		else if (!strcmp(a, "--seed") && parse_long(v, 0, LONG_MAX, &x) == 0)
			g->seed = (uint64_t)x;
		else if (!strcmp(a, "--year") && parse_long(v, 2002, 2099, &x) == 0)
			g->year = (int)x;
		else if (!strcmp(a, "--count") && parse_long(v, 0, LONG_MAX, &x) == 0)
			count = x;
		else if (target && parse_long(v, 0, 10000000, &x) == 0)
			*target = (int)x;
		else {
			fprintf(stderr, "lienket-gen: bad option or value '%s %s' (see --help)\n", a, v);
			rc = 2;
			goto out;
		}
	}
	if (!g->units_path || (changes ? (!table || !rows_out || count < 0)
				       : (!g->out_dir && !g->print_expected))) {
		usage(stderr);
		rc = 2;
		goto out;
	}
	if (changes && nsilent) {
		fprintf(stderr, "lienket-gen: --silent is for 'province' only\n");
		rc = 2;
		goto out;
	}
	if (load_units(g))
		goto fail;
	for (int i = 0; i < nsilent; i++) {
		int c = 0;
		while (c < g->nc && strcmp(g->c[c].code, silent[i]) != 0)
			c++;
		if (c == g->nc) {
			gen_fail(&g->err, "--silent %s: no such commune in '%s'", silent[i], g->units_path);
			goto fail;
		}
		g->nsilent += !g->c[c].silent;
		g->c[c].silent = 1;
	}
	if (assign_unit_ids(g) || plan(g))
		goto fail;
	name_branches(g);
	if (!g->ids_mapped && !changes)
		fprintf(stderr, "lienket-gen: no --unit-ids: district and commune ids derived as UUIDv5 of "
				"\"district:<code>\" / \"commune:<code>\"\n");
	if (changes) {
		if (write_changes(g, table, count, rows_out) != 0)
			goto fail;
		rc = 0;
		goto out;
	}
	if (g->out_dir && mkdir_p1(g, g->out_dir) != 0)
		goto fail;
	for (int c = 0; c < g->nc; c++)
		if (write_commune(g, c) != 0)
			goto fail;
	for (int d = 0; d < g->nd; d++)
		if (write_district(g, d) != 0)
			goto fail;
	if (check_headline(g) != 0)
		goto fail;
	if (g->out_dir && (write_index(g) || write_expected_file(g)))
		goto fail;
	if (g->print_expected) {
		if (write_expected(g, stdout, "standard output") != 0)
			goto fail;
		if (fflush(stdout) != 0) {
			gen_fail(&g->err, "cannot write to standard output: %s", strerror(errno));
			goto fail;
		}
	}
	if (g->out_dir)
		fprintf(stderr, "lienket-gen: %d districts, %d communes, %d branches, %ld rows in '%s'\n", g->nd, g->nc,
			g->nb, g->rows_written, g->out_dir);
	if (g->out_dir && g->nsilent)
		fprintf(stderr, "lienket-gen: of which %d silent commune(s), %ld branches, outside the figures\n",
			g->nsilent, g->silent_st.branches);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "lienket-gen: %s\n", g->err.msg);
	rc = 1;
out:
	gen_release(g);
	free(g);
	return rc;
}
