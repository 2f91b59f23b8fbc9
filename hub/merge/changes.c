/*
 * changes.c — applying change sets (see changes.h).
 *
 * Per agent the store keeps the acknowledged sequence, chain(acked), and chain(k) for
 * every sequence k it acknowledged (store chains_put, written with the merge). A change
 * set from..to is checked against them:
 *   from > acked+1          gap (409, expected = acked+1), nothing stored;
 *   otherwise               the chain is recomputed from chain_before through the
 *                           entries; at seq = min(to, acked) it must equal the hub's
 *                           chain there (collision resistance makes this one check the
 *                           whole overlap), else fork (409), nothing applied;
 *   a clock to apply beyond the drift limit and its row's clock (PROTOCOL.md §4)
 *                           clock_ahead (422), nothing stored;
 *   to <= acked             duplicate: acknowledged again, nothing applied;
 *   otherwise               only entries after acked are applied.
 * Checking at exactly min(to, acked) matters: a laptop restored from an old backup
 * may send new entries 4..4 where the hub received 4..5 in one change set. Sequences
 * acknowledged by a hub older than the chain table have no chain(k) there: receipt
 * boundaries are used, and where neither knows, a duplicate is taken on trust.
 * Each applied entry is validated (quarantine on failure), held when its owning unit has
 * no place in the tree yet (unknown, or known without a parent link: PROTOCOL.md §7.3),
 * checked against the agent's scope, then merged into its row (merge.h) with one row
 * read and one row write; flags are recomputed for that row. Held changes are indexed
 * by their unit: a change set or hub command that writes unit rows settles only the
 * held changes of the units it wrote (changes_retry_held); past the bounds on held
 * changes the change set is refused whole (429 held_full).
 *
 * Invariant: a refused change set leaves the store as it was, except a fork marks the
 * token fork_refused (that is what lets `recover` re-bind it once).
 */
#include "changes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "ids.h"
#include "units.h"

#define ZERO_CHAIN "0000000000000000000000000000000000000000000000000000000000000000"

void changes_error(struct changes_result *res, int status, const char *code, const char *field,
		   int64_t hub_time, const char *fmt, ...)
{
	va_list ap;
	res->status = status;
	memset(&res->error, 0, sizeof res->error);
	res->error.hub_time = hub_time;
	snprintf(res->error.code, sizeof res->error.code, "%s", code);
	snprintf(res->error.field, sizeof res->error.field, "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(res->error.message, sizeof res->error.message, fmt, ap);
	va_end(ap);
}

void changes_result_release(struct changes_result *r)
{
	if (r)
		wire_changes_answer_release(&r->answer);
}

int changes_precheck(const struct wire_changeset *cs, int64_t hub_time_ms, struct changes_result *res)
{
	char field[64];
	if (cs->schema > SCHEMA_VERSION) {
		changes_error(res, 422, "schema_newer", "schema", hub_time_ms,
			      "change set written under schema %d, hub has %d", cs->schema,
			      SCHEMA_VERSION);
		res->error.hub_schema = SCHEMA_VERSION;
		return 1;
	}
	for (size_t i = 0; i < cs->nentries; i++) {
		struct validate_status vs = { 0 };
		enum validate_code vc = validate_names(&cs->entries[i], cs->schema, &vs);
		if (vc == VALIDATE_OK)
			continue;
		int tbl = vc == VALIDATE_UNKNOWN_TABLE;
		snprintf(field, sizeof field, "entries[%zu].%s", i, tbl ? "table" : "fields");
		changes_error(res, 400, tbl ? "unknown_table" : "unknown_column", field, hub_time_ms,
			      "%s", vs.message);
		return 1;
	}
	return 0;
}

/* ---- one entry ---- */

/* What applying one change set learns about units and referenced rows, so that the
 * statements behind it run once per change set rather than once per change (an office
 * writes for a handful of units; bench/README.md, figure 1). Every fact kept stays
 * true until a unit table is written, when memo_forget drops the facts about units:
 * a unit known to the hub stays known (an insert is never undone), a row inserted
 * stays inserted, but a unit with no closing event may get one. */
#define MEMO_REFS 16
struct memo {
	char known[37];  /* an owner the hub holds */
	char open[37];   /* an owner with no closing event at any date */
	struct { const struct schema_table *t; char id[37]; } refs[MEMO_REFS]; /* rows known */
	size_t next_ref;
};

static void memo_forget_units(struct memo *m)
{
	if (m)
		m->open[0] = 0;
}

/* unit_known through the memo (m may be NULL). */
static int memo_unit_known(struct store *s, struct memo *m, const char *unit)
{
	if (m && m->known[0] && strcmp(m->known, unit) == 0)
		return 1;
	int k = s->unit_known(s, unit);
	if (k == 1 && m)
		snprintf(m->known, sizeof m->known, "%s", unit);
	return k;
}

/* row_known through the memo (m may be NULL); only "known" is kept. */
static int memo_row_known(struct store *s, struct memo *m, const struct schema_table *t,
			  const char *id)
{
	if (m)
		for (size_t i = 0; i < MEMO_REFS; i++)
			if (m->refs[i].t == t && strcmp(m->refs[i].id, id) == 0)
				return 1;
	int k = s->row_known(s, t, id);
	if (k == 1 && m && strlen(id) < sizeof m->refs[0].id) {
		size_t i = m->next_ref++ % MEMO_REFS;
		m->refs[i].t = t;
		snprintf(m->refs[i].id, sizeof m->refs[i].id, "%s", id);
	}
	return k;
}

struct applier {
	struct store *s;
	const char *agent;
	const char *unit;
	int schema;
	int64_t now_ms;
	char today[11];
	struct units_scope scope;
	int scope_ok;
	int units_touched;
	struct changes_cache *cache; /* may be NULL */
	int list; /* 1: collect quarantines for the answer */
	struct wire_quarantine *q;
	size_t nq, qcap;
	int64_t applied, held, skipped;
	struct memo memo;
	int settling;              /* settling held changes: no bound applies (none is added) */
	int held_counted;          /* held_agent and held_total read from the store */
	int64_t held_agent, held_total;
	int held_full;             /* a change could not be held: the change set is refused */
};

static int is_unit_table(const struct schema_table *t)
{
	return strncmp(t->name, "unit", 4) == 0;
}

static int quarantine(struct applier *A, const struct entry *e, const char *code,
		      const char *field, const char *message)
{
	if (A->s->quarantine_add(A->s, A->agent, e->seq, code, e->table, e->id, field, message,
				 A->now_ms) != 0)
		return -1;
	if (!A->list)
		return 0;
	if (A->nq == A->qcap) {
		size_t nc = A->qcap ? A->qcap * 2 : 8;
		struct wire_quarantine *n = realloc(A->q, nc * sizeof *n);
		if (!n)
			return -1;
		A->q = n;
		A->qcap = nc;
	}
	struct wire_quarantine *q = &A->q[A->nq++];
	memset(q, 0, sizeof *q);
	q->seq = e->seq;
	snprintf(q->code, sizeof q->code, "%s", code);
	snprintf(q->table, sizeof q->table, "%s", e->table ? e->table : "");
	snprintf(q->id, sizeof q->id, "%s", e->id ? e->id : "");
	snprintf(q->field, sizeof q->field, "%s", field ? field : "");
	snprintf(q->message, sizeof q->message, "%s", message ? message : "");
	return 0;
}

/* The first non-null date column of a row (rule 1 of the record's date). */
static const char *row_date(const struct merge_row *r)
{
	for (size_t i = 2; i < r->t->ncolumns; i++)
		if (r->t->columns[i].type == SCHEMA_DATE && r->cells[i].v.kind == VALUE_TEXT)
			return r->cells[i].v.s;
	return NULL;
}

/* The last date a record can carry (validate.h: dates are YYYY-MM-DD). */
#define DATE_LAST "9999-12-31"

/* The date (rule 1) of the row r belongs to: the row of its first reference to a table
 * other than unit and person (a participation's meeting or activity, a task's
 * meeting), when the hub holds it and it exists. 1 with out written, 0 when there is
 * none, -1 on storage failure. */
static int parent_date(struct store *s, const struct merge_row *r, char out[11])
{
	for (size_t i = 2; i < r->t->ncolumns; i++) {
		const struct schema_column *c = &r->t->columns[i];
		if (c->type != SCHEMA_REF || !c->ref_table || strcmp(c->ref_table, "unit") == 0 ||
		    strcmp(c->ref_table, "person") == 0)
			continue;
		const struct schema_table *pt = schema_table_find(c->ref_table, SCHEMA_VERSION);
		if (!pt || r->cells[i].v.kind != VALUE_TEXT || !ids_uuid_valid(r->cells[i].v.s))
			return 0;
		struct merge_row p;
		if (merge_row_init(&p, pt, r->cells[i].v.s, "") != 0)
			return -1;
		int rc = s->row_read(s, &p);
		const char *d = rc == 0 && merge_row_exists(&p) ? row_date(&p) : NULL;
		if (d)
			snprintf(out, 11, "%s", d);
		merge_row_release(&p);
		return rc < 0 ? -1 : d != NULL;
	}
	return 0;
}

/* The record's date for closed_unit (PROTOCOL.md §7.3): its first date column set; a
 * year-end record's 31 December; the date of the row it belongs to; else the Vietnam
 * date of its insert clock — the office's recorded time of the insert, so a record
 * made before a reform and synced (or flagged again) after it is not dated after it.
 * `today` only for a row without an insert clock. 0, or -1 on storage failure. */
static int record_date(struct store *s, const struct merge_row *r, const char *today,
		       char out[11])
{
	const char *d = row_date(r);
	if (d) {
		snprintf(out, 11, "%s", d);
		return 0;
	}
	if (strcmp(r->t->name, "year_record") == 0) {
		const struct schema_column *c = schema_column_find(r->t, "year", SCHEMA_VERSION);
		const struct merge_cell *y = c ? &r->cells[schema_column_index(r->t, c)] : NULL;
		if (y && y->v.kind == VALUE_INT && y->v.i >= 0 && y->v.i <= 9999) {
			snprintf(out, 11, "%04d-12-31", (int)y->v.i);
			return 0;
		}
	}
	int k = parent_date(s, r, out);
	if (k != 0)
		return k < 0 ? -1 : 0;
	if (r->ins_clock)
		units_today(hlc_ms(r->ins_clock), out);
	else
		snprintf(out, 11, "%s", today);
	return 0;
}

/* Sets closed_unit on an existing row whose owner was closed by a reform on or before
 * the record's date (record_date), naming the successor. m (may be NULL) remembers an
 * owner closed on no date at all. */
static int closed_flag(struct store *s, struct memo *m, const struct merge_row *r, const char *today,
		       int64_t now_ms)
{
	char successor[37] = "", date[11];
	if (m && m->open[0] && strcmp(m->open, r->owner) == 0)
		return 0;
	if (m) {
		int ever = s->unit_closed(s, r->owner, DATE_LAST, successor);
		if (ever < 0)
			return -1;
		if (!ever) {
			snprintf(m->open, sizeof m->open, "%s", r->owner);
			return 0;
		}
		successor[0] = 0;
	}
	if (record_date(s, r, today, date) != 0)
		return -1;
	int closed = s->unit_closed(s, r->owner, date, successor);
	if (closed < 0)
		return -1;
	if (!closed)
		return 0;
	struct store_flag f = { r->t->name, r->id, "closed_unit", NULL, r->owner,
				successor[0] ? successor : NULL };
	return s->flag_set(s, &f, now_ms);
}

/* Recomputes the flags of row r after a write: held (no insert yet), dangling_ref
 * (a reference to a row the hub does not hold), closed_unit (owner closed before the
 * record's date). An insert resolves dangling references to this row. m: the change
 * set's memo, or NULL. */
static int row_flags(struct store *s, struct memo *m, const struct merge_row *r, const char *today,
		     int64_t now_ms)
{
	const char *tn = r->t->name;
	if (s->flag_clear(s, tn, r->id, NULL) != 0)
		return -1;
	if (!merge_row_inserted(r)) {
		struct store_flag f = { tn, r->id, "held", NULL, "insert not received", NULL };
		return s->flag_set(s, &f, now_ms);
	}
	char self[80];
	snprintf(self, sizeof self, "%s/%s", tn, r->id);
	if (s->flag_resolve(s, "dangling_ref", self) != 0)
		return -1;
	if (!merge_row_exists(r))
		return 0;
	for (size_t i = 2; i < r->t->ncolumns; i++) {
		const struct schema_column *c = &r->t->columns[i];
		if (c->type != SCHEMA_REF || r->cells[i].v.kind != VALUE_TEXT || !c->ref_table)
			continue;
		const struct schema_table *rt = schema_table_find(c->ref_table, SCHEMA_VERSION);
		if (!rt)
			continue;
		int known = memo_row_known(s, m, rt, r->cells[i].v.s);
		if (known < 0)
			return -1;
		if (known)
			continue;
		char detail[80];
		snprintf(detail, sizeof detail, "%s/%s", rt->name, r->cells[i].v.s);
		struct store_flag f = { tn, r->id, "dangling_ref", c->name, detail, NULL };
		if (s->flag_set(s, &f, now_ms) != 0)
			return -1;
	}
	return closed_flag(s, m, r, today, now_ms);
}

struct reflag {
	struct store *s;
	const char *today;
	int64_t now_ms;
};

static int reflag_row(void *ctx, const struct merge_row *r)
{
	struct reflag *R = ctx;
	if (R->s->flag_clear(R->s, r->t->name, r->id, "closed_unit") != 0)
		return -1;
	return closed_flag(R->s, NULL, r, R->today, R->now_ms);
}

/* A reform event of `unit` was written: its rows' closed_unit flags are recomputed
 * (a close flags records dated after it; an event removed clears them). */
static int reflag_unit(struct store *s, const char *unit, const char *today, int64_t now_ms)
{
	char json[48];
	struct reflag R = { s, today, now_ms };
	if (!unit || !ids_uuid_valid(unit))
		return 0;
	snprintf(json, sizeof json, "[\"%s\"]", unit);
	for (size_t t = 0; t < schema_ntables; t++)
		if (s->rows_owned(s, &schema_tables[t], json, reflag_row, &R) != 0)
			return -1;
	return 0;
}

/* Reads the row, checks its owner, merges, writes when changed. Returns 0 merged,
 * 1 owner changed (nothing written), -1 failure. */
static int merge_into(struct store *s, struct memo *m, const struct schema_table *t,
		      const struct entry *e, const char *writer, int64_t now_ms, const char *today)
{
	struct merge_row r;
	int rc = -1, changed = 0;
	if (merge_row_init(&r, t, e->id, e->owner) != 0)
		return -1;
	int found = s->row_read(s, &r);
	if (found < 0)
		goto done;
	if (found == 0 && strcmp(r.owner, e->owner) != 0 &&
	    !(e->op == ENTRY_INSERT && !merge_row_inserted(&r))) {
		rc = 1;
		goto done;
	}
	int is_event = strcmp(t->name, "unit_event") == 0;
	size_t of_col = 0;
	char of_before[37] = "";
	if (is_event) {
		const struct schema_column *c = schema_column_find(t, "of_unit", SCHEMA_VERSION);
		of_col = c ? schema_column_index(t, c) : 0;
		if (of_col && r.cells[of_col].v.kind == VALUE_TEXT)
			snprintf(of_before, sizeof of_before, "%s", r.cells[of_col].v.s);
	}
	if (merge_apply(&r, e, writer, &changed) != 0)
		goto done;
	if (changed) {
		uint64_t hs;
		if (is_unit_table(t))
			memo_forget_units(m);
		if (s->next_hs(s, &hs) != 0 || s->row_write(s, &r, hs, now_ms) != 0 ||
		    row_flags(s, m, &r, today, now_ms) != 0)
			goto done;
		if (is_event && of_col) {
			const char *of_now = r.cells[of_col].v.kind == VALUE_TEXT ? r.cells[of_col].v.s : NULL;
			if (reflag_unit(s, of_now, today, now_ms) != 0)
				goto done;
			if (of_before[0] && (!of_now || strcmp(of_now, of_before) != 0) &&
			    reflag_unit(s, of_before, today, now_ms) != 0)
				goto done;
		}
	}
	rc = 0;
done:
	merge_row_release(&r);
	return rc;
}

/* Whether one more change may be held for A's agent (CHANGES_HELD_MAX_PER_AGENT,
 * CHANGES_HELD_MAX): 1 yes, 0 no (A->held_full set), -1 failure. */
static int hold_allowed(struct applier *A)
{
	int64_t per_agent = A->cache && A->cache->held_max_per_agent ? A->cache->held_max_per_agent
								      : CHANGES_HELD_MAX_PER_AGENT;
	int64_t total = A->cache && A->cache->held_max ? A->cache->held_max : CHANGES_HELD_MAX;
	if (A->settling)
		return 1;
	if (!A->held_counted) {
		if (A->s->held_count(A->s, A->agent, &A->held_agent) != 0 ||
		    A->s->held_count(A->s, NULL, &A->held_total) != 0)
			return -1;
		A->held_counted = 1;
	}
	if (A->held_agent < per_agent && A->held_total < total)
		return 1;
	A->held_full = 1;
	return 0;
}

static int hold(struct applier *A, const struct entry *e)
{
	static const unsigned char zero[32];
	int rc = -1;
	int allowed = hold_allowed(A);
	if (allowed <= 0)
		return allowed;
	struct wire_changeset_writer *w = wire_changeset_writer_new(A->schema, A->agent);
	if (!w)
		return -1;
	if (wire_changeset_writer_add(w, e) != 0) {
		wire_changeset_writer_free(w);
		return -1;
	}
	char *json = wire_changeset_writer_finish(w, zero, zero);
	if (!json)
		return -1;
	char detail[80];
	snprintf(detail, sizeof detail, "unit/%s", e->owner);
	struct store_flag f = { e->table, e->id, "held", "unit_id", detail, NULL };
	if (A->s->held_add(A->s, A->agent, e->seq, e->owner, A->schema, json, A->now_ms) == 0 &&
	    A->s->flag_set(A->s, &f, A->now_ms) == 0) {
		A->held++;
		A->held_agent++;
		A->held_total++;
		rc = 0;
	}
	free(json);
	return rc;
}

void changes_cache_release(struct changes_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CHANGES_CACHE_SCOPES; i++)
		units_scope_release(&c->slot[i].scope);
	memset(c, 0, sizeof *c);
}

static int scope_copy(const struct units_scope *from, struct units_scope *to)
{
	to->n = 0;
	to->ids = malloc((from->n ? from->n : 1) * sizeof *to->ids);
	if (!to->ids)
		return -1;
	if (from->n)
		memcpy(to->ids, from->ids, from->n * sizeof *to->ids);
	to->n = from->n;
	return 0;
}

/* A->scope for A->unit today: from the cache while the unit tree is unchanged, else
 * computed (and kept in the cache). 0 or -1. */
static int scope_load(struct applier *A)
{
	struct changes_cache *C = A->cache;
	uint64_t v;
	if (!C)
		return units_scope_compute(A->s, A->unit, A->today, &A->scope);
	if (A->s->units_version(A->s, &v) != 0)
		return -1;
	for (size_t i = 0; i < CHANGES_CACHE_SCOPES; i++) {
		struct changes_cached_scope *c = &C->slot[i];
		if (c->scope.ids && c->version == v && strcmp(c->unit, A->unit) == 0 &&
		    strcmp(c->today, A->today) == 0)
			return scope_copy(&c->scope, &A->scope);
	}
	if (units_scope_compute(A->s, A->unit, A->today, &A->scope) != 0)
		return -1;
	struct changes_cached_scope *c = &C->slot[C->next++ % CHANGES_CACHE_SCOPES];
	units_scope_release(&c->scope);
	if (scope_copy(&A->scope, &c->scope) != 0)
		return 0; /* not kept: the next change set computes it again */
	snprintf(c->unit, sizeof c->unit, "%s", A->unit);
	snprintf(c->today, sizeof c->today, "%s", A->today);
	c->version = v;
	return 0;
}

static int scope_has(struct applier *A, const char *unit)
{
	if (!A->scope_ok || A->units_touched) {
		units_scope_release(&A->scope);
		if (scope_load(A) != 0)
			return -1;
		A->scope_ok = 1;
		A->units_touched = 0;
	}
	return units_scope_contains(&A->scope, unit);
}

static const struct value *entry_field(const struct entry *e, const char *name)
{
	for (size_t i = 0; i < e->nfields; i++)
		if (strcmp(e->fields[i].name, name) == 0)
			return &e->fields[i].v;
	return NULL;
}

/* An agent may name and link only units it owns (a commune's village branches: their
 * unit rows are owned by the commune) and attach them only under units in its scope;
 * otherwise a link row owned by its own unit could pull another unit into its scope.
 * 1 allowed, 0 not (msg written), -1 failure. */
static int unit_link_allowed(struct applier *A, const struct entry *e, char *msg, size_t len)
{
	const struct value *of = entry_field(e, "of_unit");
	if (of && of->kind == VALUE_TEXT) {
		const struct schema_table *ut = schema_table_find("unit", SCHEMA_VERSION);
		struct merge_row r;
		if (!ut || merge_row_init(&r, ut, of->s, NULL) != 0)
			return -1;
		int rc = A->s->row_read(A->s, &r);
		int foreign = rc == 0 && merge_row_inserted(&r) && strcmp(r.owner, e->owner) != 0;
		merge_row_release(&r);
		if (rc < 0)
			return -1;
		if (foreign) {
			snprintf(msg, len, "unit %s is not owned by %s", of->s, e->owner);
			return 0;
		}
	}
	const struct value *parent = entry_field(e, "parent_id");
	if (parent && parent->kind == VALUE_TEXT) {
		int in = scope_has(A, parent->s);
		if (in < 0)
			return -1;
		if (!in) {
			snprintf(msg, len, "parent %s is not in the scope of unit %s", parent->s, A->unit);
			return 0;
		}
	}
	return 1;
}

/* Where a change owned by `owner` goes for A's agent: merged (its unit is in the
 * agent's scope), quarantined out_of_scope (the unit has a place in the tree outside
 * it), or held (the unit is unknown, or known with no place yet: a branch whose
 * `unit_parent` row has not arrived). Held until placed, so that a change set cut
 * between a branch's `unit` and `unit_parent` rows loses nothing (PROTOCOL.md §7.3).
 * Village branches are leaves and an office journals a unit's link before its
 * children's, so a unit's own link is what places it. -1 on failure. */
enum placement { PLACE_HOLD, PLACE_IN, PLACE_OUT };

static int placement_of(struct applier *A, const char *owner)
{
	int known = memo_unit_known(A->s, &A->memo, owner);
	if (known <= 0)
		return known < 0 ? -1 : PLACE_HOLD;
	int in = scope_has(A, owner);
	if (in != 0)
		return in < 0 ? -1 : PLACE_IN;
	int placed = A->s->unit_placed(A->s, owner);
	if (placed < 0)
		return -1;
	return placed ? PLACE_OUT : PLACE_HOLD;
}

/* Applies one entry of an agent; `check` is its validation when already done (or NULL).
 * 0 (applied, quarantined, held or skipped; or not held for the bound: A->held_full),
 * -1 failure. */
static int apply_entry(struct applier *A, const struct entry *e, const struct changes_check *check)
{
	char msg[160];
	if (e->skipped) {
		char hex[ENTRY_HASH_HEX + 1];
		hex_encode(e->hash, ENTRY_HASH_BYTES, hex);
		if (A->s->skipped_add(A->s, A->agent, e->seq, hex, e->reason ? e->reason : "",
				      A->now_ms) != 0)
			return -1;
		A->skipped++;
		return 0;
	}
	struct validate_status own = { 0 };
	const struct validate_status *vs = check ? &check->vs : &own;
	enum validate_code vc = check ? check->vc : validate_entry(e, A->schema, 0, &own);
	if (vc != VALIDATE_OK)
		return quarantine(A, e, validate_code_str(vc), vs->field, vs->message);
	const struct schema_table *t = schema_table_find(e->table, A->schema);
	if (!t)
		return quarantine(A, e, "bad_id", NULL, "unknown table");
	int place = placement_of(A, e->owner);
	if (place < 0)
		return -1;
	if (place == PLACE_HOLD)
		return hold(A, e);
	if (place == PLACE_OUT) {
		snprintf(msg, sizeof msg, "owning unit %s is not in the scope of unit %s", e->owner, A->unit);
		return quarantine(A, e, "out_of_scope", "unit_id", msg);
	}
	if (e->op != ENTRY_DELETE && (strcmp(t->name, "unit_parent") == 0 || strcmp(t->name, "unit_name") == 0)) {
		int ok = unit_link_allowed(A, e, msg, sizeof msg);
		if (ok < 0)
			return -1;
		if (!ok)
			return quarantine(A, e, "out_of_scope", "of_unit", msg);
	}
	int rc = merge_into(A->s, &A->memo, t, e, A->agent, A->now_ms, A->today);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		snprintf(msg, sizeof msg, "owning unit %s differs from the row's", e->owner);
		return quarantine(A, e, "owner_changed", "unit_id", msg);
	}
	if (is_unit_table(t))
		A->units_touched = 1;
	A->applied++;
	return 0;
}

static void applier_release(struct applier *A)
{
	units_scope_release(&A->scope);
	free(A->q);
	A->q = NULL;
}

/* ---- held changes ---- */

struct held_item {
	char agent[37];
	uint64_t seq;
	int schema;
	char *json;
};

struct held_list {
	struct held_item *items;
	size_t n, cap;
};

static void held_list_release(struct held_list *L)
{
	for (size_t i = 0; i < L->n; i++)
		free(L->items[i].json);
	free(L->items);
	memset(L, 0, sizeof *L);
}

static int collect_held(void *ctx, const char *agent, uint64_t seq, const char *owner, int schema,
			const char *json)
{
	struct held_list *L = ctx;
	(void)owner;
	if (L->n == L->cap) {
		size_t nc = L->cap ? L->cap * 2 : 16;
		struct held_item *n = realloc(L->items, nc * sizeof *n);
		if (!n)
			return -1;
		L->items = n;
		L->cap = nc;
	}
	struct held_item *it = &L->items[L->n];
	snprintf(it->agent, sizeof it->agent, "%s", agent ? agent : "");
	it->seq = seq;
	it->schema = schema;
	it->json = strdup(json ? json : "");
	if (!it->json)
		return -1;
	L->n++;
	return 0;
}

/* Unit ids, sorted and unique once units_touched has run. */
struct unit_ids {
	char (*v)[37];
	size_t n, cap;
};

static int unit_ids_add(struct unit_ids *U, const struct value *v)
{
	if (v->kind != VALUE_TEXT || v->len != 36)
		return 0;
	if (U->n == U->cap) {
		size_t nc = U->cap ? U->cap * 2 : 16;
		char (*n)[37] = realloc(U->v, nc * sizeof *n);
		if (!n)
			return -1;
		U->v = n;
		U->cap = nc;
	}
	memcpy(U->v[U->n], v->s, 36);
	U->v[U->n++][36] = '\0';
	return 0;
}

/* The units a unit-table row is about: a unit row its own id; a name or parent link
 * its unit (of_unit); a reform event its unit and the other unit it names. */
static int touched_row(void *ctx, const struct merge_row *r, uint64_t hs)
{
	struct unit_ids *U = ctx;
	(void)hs;
	if (strcmp(r->t->name, "unit") == 0)
		return unit_ids_add(U, &(struct value){ .kind = VALUE_TEXT, .s = r->id, .len = strlen(r->id) });
	for (size_t i = 2; i < r->t->ncolumns; i++) {
		const char *name = r->t->columns[i].name;
		if ((strcmp(name, "of_unit") == 0 || strcmp(name, "other_unit") == 0) &&
		    unit_ids_add(U, &r->cells[i].v) != 0)
			return -1;
	}
	return 0;
}

static int cmp_unit_id(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* The units whose unit-table rows were written after hub position `since`. */
static int units_touched(struct store *s, uint64_t since, struct unit_ids *U)
{
	/* Every row written since: at most one change set's or one command's. */
	const size_t all = (size_t)1 << 40;
	for (size_t t = 0; t < schema_ntables; t++)
		if (is_unit_table(&schema_tables[t]) &&
		    s->rows_after(s, &schema_tables[t], since, NULL, all, touched_row, U) != 0)
			return -1;
	if (U->n > 1)
		qsort(U->v, U->n, sizeof U->v[0], cmp_unit_id);
	size_t k = 0;
	for (size_t i = 0; i < U->n; i++)
		if (k == 0 || strcmp(U->v[k - 1], U->v[i]) != 0)
			memmove(U->v[k++], U->v[i], sizeof U->v[0]);
	U->n = k;
	return 0;
}

/* Settles one held change of A's agent when its unit has a place; *settled counts it. */
static int settle_one(struct applier *A, const struct held_item *it, const char *owner,
		      size_t *settled)
{
	struct wire_changeset *cs = NULL;
	struct wire_status ws;
	int rc = -1;
	int place = placement_of(A, owner);
	if (place != PLACE_IN && place != PLACE_OUT)
		return place < 0 ? -1 : 0;
	if (wire_changeset_decode(it->json, strlen(it->json), &cs, &ws) != 0 || cs->nentries != 1)
		goto done;
	A->schema = it->schema;
	if (A->s->held_remove(A->s, it->agent, it->seq) != 0 ||
	    A->s->flag_clear(A->s, cs->entries[0].table, cs->entries[0].id, "held") != 0 ||
	    apply_entry(A, &cs->entries[0], NULL) != 0)
		goto done;
	(*settled)++;
	rc = 0;
done:
	wire_changeset_free(cs);
	return rc;
}

/* Settles the held changes waiting for `owner`, agent by agent (one applier, so one
 * scope, per agent). */
static int settle_owner(struct store *s, struct changes_cache *cache, const char *owner,
			int64_t now_ms, size_t *settled)
{
	struct held_list L = { 0 };
	int rc = s->held_of_owner(s, owner, collect_held, &L);
	for (size_t i = 0; rc == 0 && i < L.n;) {
		struct store_agent ag;
		struct applier A = { 0 };
		size_t j = i;
		while (j < L.n && strcmp(L.items[j].agent, L.items[i].agent) == 0)
			j++;
		int k = s->agent_get(s, L.items[i].agent, &ag);
		if (k < 0)
			rc = -1;
		if (k == 0) {
			A.s = s;
			A.agent = L.items[i].agent;
			A.unit = ag.unit_id;
			A.now_ms = now_ms;
			A.cache = cache;
			A.settling = 1;
			units_today(now_ms, A.today);
			for (size_t m = i; rc == 0 && m < j; m++)
				rc = settle_one(&A, &L.items[m], owner, settled);
		}
		applier_release(&A);
		i = j;
	}
	held_list_release(&L);
	return rc;
}

int changes_retry_held(struct store *s, struct changes_cache *cache, uint64_t since_hs,
		       int64_t now_ms)
{
	int rc = 0;
	for (;;) {
		struct unit_ids U = { 0 };
		uint64_t now_hs;
		size_t settled = 0;
		rc = s->last_hs(s, &now_hs) == 0 && units_touched(s, since_hs, &U) == 0 ? 0 : -1;
		for (size_t i = 0; rc == 0 && i < U.n; i++)
			rc = settle_owner(s, cache, U.v[i], now_ms, &settled);
		free(U.v);
		/* What the settled changes wrote to unit tables may place other held ones. */
		if (rc != 0 || settled == 0)
			break;
		since_hs = now_hs;
	}
	return rc;
}

/* ---- a change set ---- */

static int row_max_clock(struct store *s, const struct schema_table *t, const char *id,
			 uint64_t *max);

/* The drift limit (PROTOCOL.md §4): the first entry to apply (seq > acked) whose clock
 * is beyond hub time + max_ahead_ms and more than HLC_ROW_CARRY_MS beyond the highest
 * clock the hub holds for its row. The row is read only for a clock beyond the drift
 * limit. 0 with *refused (index, or cs->nentries when none), -1 on a storage failure. */
static int clock_refused(struct store *s, const struct wire_changeset *cs, uint64_t acked,
			 int64_t now_ms, int64_t max_ahead_ms, size_t *refused)
{
	*refused = cs->nentries;
	for (size_t i = 0; i < cs->nentries; i++) {
		const struct entry *e = &cs->entries[i];
		uint64_t row_max = 0;
		if (e->seq <= acked || e->skipped || !hlc_too_far_ahead(e->clock, now_ms, max_ahead_ms))
			continue;
		const struct schema_table *t = schema_table_find(e->table, cs->schema);
		if (t && e->id && row_max_clock(s, t, e->id, &row_max) != 0)
			return -1;
		if (hlc_refused(e->clock, now_ms, max_ahead_ms, row_max)) {
			*refused = i;
			return 0;
		}
	}
	return 0;
}

static int hub_chain_at(struct store *s, const struct store_agent *ag, uint64_t seq,
			unsigned char chain[32]);

/* The first sequence of cs, up to `at`, whose chain differs from the hub's: the hub
 * holds identically every entry before it (chains agree on a prefix, then never
 * again). 0 when the change set starts past that point or the hub does not know. */
static int fork_point(struct store *s, const struct store_agent *ag, const struct wire_changeset *cs,
		      const struct changes_prep *prep, uint64_t at, uint64_t *first)
{
	unsigned char hub[32];
	*first = 0;
	int k = hub_chain_at(s, ag, cs->from - 1, hub);
	if (k != 0 || memcmp(hub, cs->chain_before, 32) != 0)
		return k < 0 ? -1 : 0;
	for (size_t i = 0; i < cs->nentries && cs->entries[i].seq <= at; i++) {
		k = hub_chain_at(s, ag, cs->entries[i].seq, hub);
		if (k != 0)
			return k < 0 ? -1 : 0;
		if (memcmp(hub, prep->chains[i], 32) != 0) {
			*first = cs->entries[i].seq;
			return 0;
		}
	}
	return 0;
}

static int refuse_fork(struct store *s, struct store_token *token, const struct wire_changeset *cs,
		       uint64_t at, uint64_t first, int64_t now_ms, struct changes_result *res)
{
	changes_error(res, 409, "fork", "chain_before", now_ms,
		      "the chain of agent %s at sequence %llu differs from the hub's", cs->agent,
		      (unsigned long long)at);
	res->error.expected = first;
	if (token) {
		token->fork_refused = 1;
		if (s->token_put(s, token) != 0)
			return -1;
	}
	return 0;
}

/* The hub's chain(seq) of an acknowledged sequence: 0 (written), 1 unknown (acknowledged
 * before the hub kept every chain, and not at a receipt boundary), -1 failure. */
static int hub_chain_at(struct store *s, const struct store_agent *ag, uint64_t seq,
			unsigned char chain[32])
{
	char hex[65];
	if (seq == ag->acked)
		return hex_decode(ag->chain, chain, 32) == 0 ? 0 : -1;
	int k = s->chain_get(s, ag->id, seq, chain);
	if (k != 1)
		return k;
	k = s->receipt_chain_at(s, ag->id, seq, hex);
	if (k != 0)
		return k;
	return hex_decode(hex, chain, 32) == 0 ? 0 : -1;
}

int changes_prepare(const struct wire_changeset *cs, struct changes_prep *p)
{
	size_t n = cs->nentries;
	memset(p, 0, sizeof *p);
	p->chains = malloc((n ? n : 1) * sizeof *p->chains);
	p->checks = calloc(n ? n : 1, sizeof *p->checks);
	if (!p->chains || !p->checks)
		goto fail;
	p->n = n;
	unsigned char c[32];
	memcpy(c, cs->chain_before, 32);
	for (size_t i = 0; i < n; i++) {
		const struct entry *e = &cs->entries[i];
		unsigned char h[ENTRY_HASH_BYTES];
		if (entry_hash(e, h) != 0)
			goto fail;
		entry_chain_step(c, h, c);
		memcpy(p->chains[i], c, 32);
		p->checks[i].vc = e->skipped ? VALIDATE_OK : validate_entry(e, cs->schema, 0, &p->checks[i].vs);
	}
	memcpy(p->chain_end, c, 32);
	return 0;
fail:
	changes_prep_release(p);
	return -1;
}

void changes_prep_release(struct changes_prep *p)
{
	if (!p)
		return;
	free(p->chains);
	free(p->checks);
	memset(p, 0, sizeof *p);
}

int changes_apply(struct store *s, const struct wire_changeset *cs, const struct changes_prep *prep,
		  struct changes_cache *cache, const char *unit_id, struct store_token *token,
		  int64_t now_ms, int64_t max_ahead_ms, struct changes_result *res)
{
	struct store_agent ag;
	struct applier A = { 0 };
	struct changes_prep own = { 0 };
	unsigned char at_check[32], hub_at[32];
	int rc = -1, keep = 0, have_check = 0;
	memset(res, 0, sizeof *res);
	if (!prep || prep->n != cs->nentries) {
		if (changes_prepare(cs, &own) != 0)
			return -1;
		prep = &own;
	}
	if (s->savepoint(s) != 0) {
		changes_prep_release(&own);
		return -1;
	}
	int found = s->agent_get(s, cs->agent, &ag);
	if (found < 0)
		goto done;
	if (found == 1) {
		memset(&ag, 0, sizeof ag);
		snprintf(ag.id, sizeof ag.id, "%s", cs->agent);
		snprintf(ag.unit_id, sizeof ag.unit_id, "%s", unit_id);
		snprintf(ag.chain, sizeof ag.chain, "%s", ZERO_CHAIN);
		ag.first_seen_ms = now_ms;
	}
	if (ag.retired_to[0]) {
		changes_error(res, 403, "agent_retired", "agent", now_ms,
			      "agent %s was retired by recover (now %s)", ag.id, ag.retired_to);
		rc = 0;
		goto done;
	}
	uint64_t acked = ag.acked;
	if (cs->from > acked + 1) {
		changes_error(res, 409, "gap", "from", now_ms, "expected sequence %llu, got %llu",
			      (unsigned long long)acked + 1, (unsigned long long)cs->from);
		res->error.expected = acked + 1;
		rc = 0;
		goto done;
	}
	/* The sequence to check: the last one both sides hold (from - 1 <= check <= to,
	 * as the entries are exactly from..to: the decoder's bad_sequence). */
	uint64_t check = cs->to < acked ? cs->to : acked;
	if (cs->from - 1 == check) {
		memcpy(at_check, cs->chain_before, 32);
		have_check = 1;
	}
	for (size_t i = 0; i < cs->nentries; i++) {
		if (cs->entries[i].seq == check) {
			memcpy(at_check, prep->chains[i], 32);
			have_check = 1;
		}
	}
	if (memcmp(prep->chain_end, cs->chain_after, 32) != 0) {
		changes_error(res, 400, "bad_message", "chain_after", now_ms,
			      "chain_after does not follow from chain_before and the entries");
		rc = 0;
		goto done;
	}
	res->answer.v = WIRE_MESSAGE_V;
	res->answer.hub_time = now_ms;
	struct store_receipt rec = { 0 };
	snprintf(rec.agent_id, sizeof rec.agent_id, "%s", cs->agent);
	rec.seq_from = cs->from;
	rec.seq_to = cs->to;
	hex_encode(cs->chain_before, 32, rec.chain_before);
	hex_encode(cs->chain_after, 32, rec.chain_after);
	rec.received_ms = now_ms;
	int known = hub_chain_at(s, &ag, check, hub_at);
	if (known < 0)
		goto done;
	/* Unknown only for a duplicate in a range an older hub acknowledged (check = to <
	 * acked): taken on trust, as that hub did. */
	if (!have_check || (known == 0 && memcmp(at_check, hub_at, 32) != 0)) {
		uint64_t first = 0;
		int fp = fork_point(s, &ag, cs, prep, check, &first);
		changes_prep_release(&own);
		if (s->savepoint_end(s, 0) != 0 || fp != 0)
			return -1;
		return refuse_fork(s, token, cs, check, first, now_ms, res);
	}
	size_t late = cs->nentries;
	if (cs->to > acked && clock_refused(s, cs, acked, now_ms, max_ahead_ms, &late) != 0)
		goto done;
	if (late < cs->nentries) {
		char field[64];
		snprintf(field, sizeof field, "entries[%zu].clock", late);
		changes_error(res, 422, "clock_ahead", field, now_ms,
			      "clock of entry %llu is beyond hub time + %lld ms and its row's clock",
			      (unsigned long long)cs->entries[late].seq, (long long)max_ahead_ms);
		res->error.seq = cs->entries[late].seq;
		rc = 0;
		goto done;
	}
	if (cs->to <= acked) {
		rec.duplicate = 1;
		res->answer.duplicate = 1;
	} else {
		A.s = s;
		A.agent = cs->agent;
		A.unit = unit_id; /* the token's unit, never the agent record's (§9) */
		A.schema = cs->schema;
		A.now_ms = now_ms;
		A.list = 1;
		A.cache = cache;
		units_today(now_ms, A.today);
		int units_changed = 0;
		uint64_t since_hs;
		if (s->last_hs(s, &since_hs) != 0)
			goto done;
		for (size_t i = 0; i < cs->nentries; i++) {
			if (cs->entries[i].seq <= acked)
				continue;
			if (apply_entry(&A, &cs->entries[i], &prep->checks[i]) != 0)
				goto done;
			if (A.held_full) {
				/* Refused whole: the savepoint undoes what came before it. */
				changes_error(res, 429, "held_full", NULL, now_ms,
					      "sequence %llu would be held beyond the bound on held "
					      "changes (%lld of this agent, %lld in all); send again later",
					      (unsigned long long)cs->entries[i].seq,
					      (long long)A.held_agent, (long long)A.held_total);
				rc = 0;
				goto done;
			}
			if (A.units_touched)
				units_changed = 1;
		}
		if (s->chains_put(s, cs->agent, acked + 1, cs->to, prep->chains[acked + 1 - cs->from]) != 0)
			goto done;
		ag.acked = cs->to;
		hex_encode(prep->chain_end, 32, ag.chain);
		ag.last_changes_ms = now_ms;
		if (s->agent_put(s, &ag) != 0)
			goto done;
		if (units_changed && changes_retry_held(s, cache, since_hs, now_ms) != 0)
			goto done;
		rec.applied = A.applied;
		rec.quarantined = (int64_t)A.nq;
		rec.held = A.held;
		rec.skipped = A.skipped;
		res->answer.applied = A.applied;
		res->answer.quarantined = A.q;
		res->answer.nquarantined = A.nq;
		A.q = NULL;
		res->held = A.held;
		res->skipped = A.skipped;
	}
	if (s->receipt_add(s, &rec) != 0)
		goto done;
	/* What this change set acknowledges: never beyond its `to`, even when the hub holds
	 * more of this agent — the chain was compared only up to there (§6.2), and a
	 * restored copy may have typed new entries under the numbers after it. */
	res->answer.acked = cs->to;
	res->status = 200;
	keep = 1;
	rc = 0;
done:
	changes_prep_release(&own);
	applier_release(&A);
	if (s->savepoint_end(s, keep) != 0)
		rc = -1;
	if (rc != 0)
		changes_result_release(res);
	return rc;
}

/* ---- the hub's own writes ---- */

/* The greatest clock written into a row (insert, delete, any column), 0 when the row
 * is new: a correction is ordered after what the operator saw. -1 on failure. */
static int row_max_clock(struct store *s, const struct schema_table *t, const char *id,
			 uint64_t *max)
{
	struct merge_row r;
	*max = 0;
	if (merge_row_init(&r, t, id, NULL) != 0)
		return -1;
	int found = s->row_read(s, &r);
	if (found == 0) {
		*max = r.ins_clock > r.del_clock ? r.ins_clock : r.del_clock;
		for (size_t i = 2; i < t->ncolumns; i++)
			if (r.cells[i].clock > *max)
				*max = r.cells[i].clock;
	}
	merge_row_release(&r);
	return found < 0 ? -1 : 0;
}

/* Advances the hub's own journal (meta hub_seq, hub_chain) by entry e. */
static int hub_journal(struct store *s, struct entry *e)
{
	char buf[80];
	unsigned char chain[32], h[ENTRY_HASH_BYTES];
	int r = s->meta_get(s, "hub_seq", buf, sizeof buf);
	if (r < 0)
		return -1;
	e->seq = (r == 0 ? strtoull(buf, NULL, 10) : 0) + 1;
	r = s->meta_get(s, "hub_chain", buf, sizeof buf);
	if (r < 0 || hex_decode(r == 0 ? buf : ZERO_CHAIN, chain, 32) != 0 || entry_hash(e, h) != 0)
		return -1;
	entry_chain_step(chain, h, chain);
	hex_encode(chain, 32, buf);
	if (s->meta_set(s, "hub_chain", buf) != 0)
		return -1;
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)e->seq);
	return s->meta_set(s, "hub_seq", buf);
}

int changes_apply_hub(struct store *s, const struct entry *e, int64_t now_ms,
		      struct validate_status *vs)
{
	char hub_id[40], last[32], today[11];
	memset(vs, 0, sizeof *vs);
	if (s->meta_get(s, "hub_id", hub_id, sizeof hub_id) != 0)
		return -1;
	int r = s->meta_get(s, "hub_clock", last, sizeof last);
	if (r < 0)
		return -1;
	struct entry he = *e;
	he.clock = 0;
	if (validate_entry(&he, SCHEMA_VERSION, 1, vs) != VALIDATE_OK)
		return 1;
	const struct schema_table *t = schema_table_find(he.table, SCHEMA_VERSION);
	if (!t)
		return 1;
	uint64_t seen;
	if (row_max_clock(s, t, he.id, &seen) != 0)
		return -1;
	uint64_t clock = hlc_next(r == 0 ? strtoull(last, NULL, 10) : 0, now_ms);
	if (clock <= seen)
		clock = seen + 1;
	he.clock = clock;
	snprintf(last, sizeof last, "%llu", (unsigned long long)clock);
	if (s->meta_set(s, "hub_clock", last) != 0)
		return -1;
	units_today(now_ms, today);
	int rc = merge_into(s, NULL, t, &he, hub_id, now_ms, today);
	if (rc == 1) {
		snprintf(vs->message, sizeof vs->message, "owning unit differs from the row's");
		vs->code = VALIDATE_OWNER_CHANGED;
		return 1;
	}
	return rc != 0 || hub_journal(s, &he) != 0 ? -1 : 0;
}

int changes_hub_mark(struct store *s, struct changes_hub_mark *m)
{
	char buf[80];
	int r = s->meta_get(s, "hub_seq", buf, sizeof buf);
	if (r < 0)
		return -1;
	m->seq = r == 0 ? strtoull(buf, NULL, 10) : 0;
	if (s->last_hs(s, &m->hs) != 0)
		return -1;
	r = s->meta_get(s, "hub_chain", m->chain, sizeof m->chain);
	if (r < 0)
		return -1;
	if (r == 1)
		memcpy(m->chain, ZERO_CHAIN, sizeof m->chain);
	return 0;
}

int changes_hub_receipt(struct store *s, const struct changes_hub_mark *m, int64_t now_ms)
{
	struct changes_hub_mark now;
	struct store_receipt rec = { 0 };
	if (changes_hub_mark(s, &now) != 0)
		return -1;
	if (now.seq == m->seq)
		return 0;
	/* What the hub wrote may be the unit held changes wait for: settled once the
	 * whole command is written (a unit's parent link comes after its unit row). */
	if (changes_retry_held(s, NULL, m->hs, now_ms) != 0)
		return -1;
	if (s->meta_get(s, "hub_id", rec.agent_id, sizeof rec.agent_id) != 0)
		return -1;
	rec.seq_from = m->seq + 1;
	rec.seq_to = now.seq;
	snprintf(rec.chain_before, sizeof rec.chain_before, "%s", m->chain);
	snprintf(rec.chain_after, sizeof rec.chain_after, "%s", now.chain);
	rec.applied = (int64_t)(now.seq - m->seq);
	rec.received_ms = now_ms;
	return s->receipt_add(s, &rec);
}
