/*
 * wire.c — the JSON messages of PROTOCOL.md §6: defensive decoders and encoders.
 *
 * The only file that includes jansson. Every decoder runs the same front end
 * (wire_parse): a pre-scan of the raw text that refuses nesting deeper than
 * WIRE_MAX_DEPTH before jansson recurses into it, a parse with JSON_REJECT_DUPLICATES,
 * a walk refusing strings longer than WIRE_MAX_STRING, then the `v` check. Each
 * message decoder then reads its members, naming the one at fault in wire_status.
 *
 * Ownership: a decoded change set or pull page keeps the parsed jansson document in
 * its `priv` storage; the strings its entries and rows point to are borrowed from it
 * and live until the matching _free. Compound values (arrays and objects inside
 * fields) are re-serialised compactly with sorted keys into a `holder` array owned by
 * the same storage, so that they have a canonical text (PROTOCOL.md §5). Decoders
 * write *out and the status only as documented in wire.h; no global state is kept.
 * Change sets of shape 2 (PROTOCOL.md §6.2a) are read and written by wire_v2.c, without
 * a JSON tree; wire_changeset_decode and the writer dispatch to it.
 */
#include "wire.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ids.h"
#include "validate.h"
#include "wire_internal.h"

int wire_fail(struct wire_status *st, enum wire_error code, const char *field,
		     const char *fmt, ...)
{
	if (st) {
		va_list ap;
		st->code = code;
		snprintf(st->field, sizeof st->field, "%s", field ? field : "");
		va_start(ap, fmt);
		vsnprintf(st->message, sizeof st->message, fmt, ap);
		va_end(ap);
	}
	return (int)code;
}

static int nomem(struct wire_status *st)
{
	return wire_fail(st, WIRE_NOMEM, NULL, "out of memory");
}

const char *wire_error_code(enum wire_error e)
{
	switch (e) {
	case WIRE_OK: return "ok";
	case WIRE_NOMEM: return "internal";
	case WIRE_BAD_JSON: return "bad_json";
	case WIRE_BAD_UTF8: return "bad_utf8";
	case WIRE_DUPLICATE_KEY: return "duplicate_key";
	case WIRE_TOO_DEEP: return "too_deep";
	case WIRE_NUMBER_RANGE: return "number_range";
	case WIRE_STRING_TOO_LONG: return "string_too_long";
	case WIRE_TOO_MANY: return "too_many";
	case WIRE_BAD_MESSAGE: return "bad_message";
	case WIRE_BAD_VERSION: return "protocol_version";
	case WIRE_BAD_SEQUENCE: return "bad_sequence";
	}
	return "internal";
}

/* ------------------------------------------------------------------ front end */

/* 1 when brackets outside strings nest deeper than WIRE_MAX_DEPTH. Runs on the raw
 * text so that jansson never recurses into a hostile depth. */
static int too_deep(const char *s, size_t len)
{
	int depth = 0, in_str = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > WIRE_MAX_DEPTH)
				return 1;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

/* Refuses any string (value or key) longer than WIRE_MAX_STRING. Depth is bounded by
 * the pre-scan, so the recursion is too. */
static int check_strings(json_t *j, const char *where, struct wire_status *st)
{
	if (json_is_string(j)) {
		if (json_string_length(j) > WIRE_MAX_STRING)
			return wire_fail(st, WIRE_STRING_TOO_LONG, where,
					 "string of %zu bytes, at most %d", json_string_length(j),
					 WIRE_MAX_STRING);
	} else if (json_is_array(j)) {
		size_t i = 0;
		json_t *v = NULL;
		json_array_foreach(j, i, v) {
			int rc = check_strings(v, where, st);
			if (rc)
				return rc;
		}
	} else if (json_is_object(j)) {
		const char *k = NULL;
		json_t *v = NULL;
		json_object_foreach(j, k, v) {
			if (strlen(k) > WIRE_MAX_STRING)
				return wire_fail(st, WIRE_STRING_TOO_LONG, "", "object key too long");
			int rc = check_strings(v, k, st);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- a syntax checker that never allocates (see wire_json_wellformed) ---- */

struct jscan {
	const unsigned char *p, *end;
};

static void js_ws(struct jscan *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int js_hex4(struct jscan *j, unsigned *out)
{
	unsigned v = 0;
	if (j->end - j->p < 4)
		return 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = *j->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return 0;
	}
	*out = v;
	return 1;
}

/* A string at j->p (the opening quote): valid UTF-8, no raw control characters, known
 * escapes, no \u0000, surrogates only in pairs. */
static int js_string(struct jscan *j)
{
	j->p++;
	while (j->p < j->end) {
		unsigned char c = *j->p;
		if (c == '"') {
			j->p++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			unsigned u, lo;
			if (++j->p >= j->end)
				return 0;
			c = *j->p++;
			if (c != 'u') {
				if (!strchr("\"\\/bfnrt", c) || c == '\0')
					return 0;
				continue;
			}
			if (!js_hex4(j, &u) || u == 0 || (u >= 0xdc00 && u <= 0xdfff))
				return 0;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
					return 0;
				j->p += 2;
				if (!js_hex4(j, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return 0;
			}
			continue;
		}
		if (c < 0x80) {
			j->p++;
			continue;
		}
		size_t n = 1;
		while (n < 4 && j->p + n < j->end && (j->p[n] & 0xc0) == 0x80)
			n++;
		if (!validate_utf8((const char *)j->p, n))
			return 0;
		j->p += n;
	}
	return 0;
}

static int js_digits(struct jscan *j)
{
	const unsigned char *start = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > start;
}

static int js_number(struct jscan *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!(j->p < j->end && *j->p >= '1' && *j->p <= '9') || !js_digits(j))
		return 0;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!js_digits(j))
			return 0;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!js_digits(j))
			return 0;
	}
	return 1;
}

static int js_word(struct jscan *j, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static int js_value(struct jscan *j, int depth)
{
	js_ws(j);
	if (j->p >= j->end)
		return 0;
	unsigned char c = *j->p;
	if (c == '{' || c == '[') {
		unsigned char close = c == '{' ? '}' : ']';
		if (depth >= WIRE_MAX_DEPTH)
			return 0;
		j->p++;
		js_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return 1;
		}
		for (;;) {
			if (c == '{') {
				js_ws(j);
				if (j->p >= j->end || *j->p != '"' || !js_string(j))
					return 0;
				js_ws(j);
				if (j->p >= j->end || *j->p++ != ':')
					return 0;
			}
			if (!js_value(j, depth + 1))
				return 0;
			js_ws(j);
			if (j->p >= j->end)
				return 0;
			if (*j->p == close) {
				j->p++;
				return 1;
			}
			if (*j->p++ != ',')
				return 0;
		}
	}
	if (c == '"')
		return js_string(j);
	if (c == '-' || (c >= '0' && c <= '9'))
		return js_number(j);
	return js_word(j, "true") || js_word(j, "false") || js_word(j, "null");
}

int wire_json_wellformed(const char *json, size_t len)
{
	if (!json)
		return 0;
	struct jscan j = { (const unsigned char *)json, (const unsigned char *)json + len };
	js_ws(&j);
	if (j.p >= j.end || (*j.p != '{' && *j.p != '['))
		return 0;
	if (!js_value(&j, 0))
		return 0;
	js_ws(&j);
	return j.p == j.end;
}

static int map_parse_error(const char *json, size_t len, const json_error_t *err,
			   struct wire_status *st)
{
	enum wire_error code = WIRE_BAD_JSON;
	switch (json_error_code(err)) {
	case json_error_out_of_memory: code = WIRE_NOMEM; break;
	case json_error_invalid_utf8: code = WIRE_BAD_UTF8; break;
	case json_error_duplicate_key: code = WIRE_DUPLICATE_KEY; break;
	case json_error_numeric_overflow: code = WIRE_NUMBER_RANGE; break;
	case json_error_stack_overflow: code = WIRE_TOO_DEEP; break;
	default:
		/* jansson leaves the text empty when it fails before parsing (it could not
		 * allocate its lexer): that is our fault, not the sender's. Older jansson
		 * without error codes: fall back on its text. */
		if (err->text[0] == '\0')
			return wire_fail(st, WIRE_NOMEM, NULL, "out of memory while parsing");
		if (strstr(err->text, "too big"))
			code = WIRE_NUMBER_RANGE;
		break;
	}
	/* jansson reports some allocation failures inside the lexer as syntax errors:
	 * text that is well formed was refused for lack of memory, not by the sender. */
	if (code == WIRE_BAD_JSON && wire_json_wellformed(json, len))
		return wire_fail(st, WIRE_NOMEM, NULL, "out of memory while parsing");
	return wire_fail(st, code, NULL, "%s at byte %d", err->text, err->position);
}

/* Parses one message object and checks that `v` is 1; `shapes` names the versions the
 * message has, for the refusal ("1", or "1 or 2" for a change set). On success *out is
 * a new reference. */
static int wire_parse_shapes(const char *json, size_t len, json_t **out, const char *shapes,
			     struct wire_status *st)
{
	/* zeroed: jansson sets the error's code byte only once it has started parsing, so
	 * an allocation failure before that would leave a stale code (read as any error) */
	json_error_t err;
	memset(&err, 0, sizeof err);
	if (!json)
		return wire_fail(st, WIRE_BAD_JSON, NULL, "no body");
	if (too_deep(json, len))
		return wire_fail(st, WIRE_TOO_DEEP, NULL, "nesting deeper than %d", WIRE_MAX_DEPTH);
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (!doc)
		return map_parse_error(json, len, &err, st);
	int rc;
	if (!json_is_object(doc)) {
		rc = wire_fail(st, WIRE_BAD_MESSAGE, NULL, "the message is not a JSON object");
		goto fail;
	}
	json_t *v = json_object_get(doc, "v");
	if (!v) {
		rc = wire_fail(st, WIRE_BAD_MESSAGE, "v", "member 'v' missing");
		goto fail;
	}
	if (!json_is_integer(v)) {
		rc = wire_fail(st, WIRE_BAD_MESSAGE, "v", "'v' is not an integer");
		goto fail;
	}
	if (json_integer_value(v) != WIRE_MESSAGE_V) {
		rc = wire_fail(st, WIRE_BAD_VERSION, "v", "protocol version %lld, expected %s",
			       (long long)json_integer_value(v), shapes);
		goto fail;
	}
	if ((rc = check_strings(doc, "", st)) != 0)
		goto fail;
	*out = doc;
	return 0;
fail:
	json_decref(doc);
	return rc;
}

static int wire_parse(const char *json, size_t len, json_t **out, struct wire_status *st)
{
	return wire_parse_shapes(json, len, out, "1", st);
}

/* ------------------------------------------------------------------ member readers */

static int get(json_t *obj, const char *key, json_t **out, const char *path,
	       struct wire_status *st)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "member '%s' missing", path);
	*out = v;
	return 0;
}

/* An integer in [min, max]. A real is a number out of range, a non-number a bad message. */
static int as_int(json_t *v, int64_t min, int64_t max, int64_t *out, const char *path,
		  struct wire_status *st)
{
	if (json_is_real(v))
		return wire_fail(st, WIRE_NUMBER_RANGE, path, "'%s' is not an integer", path);
	if (!json_is_integer(v))
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' is not a number", path);
	json_int_t i = json_integer_value(v);
	if (i < min || i > max)
		return wire_fail(st, WIRE_NUMBER_RANGE, path, "'%s' out of range", path);
	*out = (int64_t)i;
	return 0;
}

static int as_u64(json_t *v, uint64_t max, uint64_t *out, const char *path,
		  struct wire_status *st)
{
	int64_t i = 0;
	int rc = as_int(v, 0, max > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)max, &i, path, st);
	if (rc)
		return rc;
	*out = (uint64_t)i;
	return 0;
}

static int get_int(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out,
		   struct wire_status *st)
{
	json_t *v = NULL;
	int rc = get(obj, key, &v, key, st);
	return rc ? rc : as_int(v, min, max, out, key, st);
}

static int get_u53(json_t *obj, const char *key, uint64_t *out, struct wire_status *st)
{
	json_t *v = NULL;
	int rc = get(obj, key, &v, key, st);
	return rc ? rc : as_u64(v, (uint64_t)WIRE_MAX_SAFE_INT, out, key, st);
}

static int as_str(json_t *v, const char **s, size_t *len, const char *path,
		  struct wire_status *st)
{
	/* json_string_value is NULL exactly when v is not a string. The failure returns
	 * WIRE_BAD_MESSAGE (what wire_fail returns) spelt out: the analyzer does not inline
	 * variadic wire_fail, so it otherwise assumed a 0 return with *s left NULL. */
	const char *p = json_string_value(v);
	if (!p) {
		wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' is not a string", path);
		return (int)WIRE_BAD_MESSAGE;
	}
	*s = p;
	*len = json_string_length(v);
	return 0;
}

static int as_uuid(json_t *v, const char **s, const char *path, struct wire_status *st)
{
	size_t len = 0;
	int rc = as_str(v, s, &len, path, st);
	if (rc)
		return rc;
	if (!ids_uuid_valid(*s))
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' is not a lowercase UUID", path);
	return 0;
}

static int get_uuid(json_t *obj, const char *key, char out[37], struct wire_status *st)
{
	json_t *v = NULL;
	const char *s = NULL;
	int rc = get(obj, key, &v, key, st);
	if (!rc)
		rc = as_uuid(v, &s, key, st);
	if (!rc)
		memcpy(out, s, 37);
	return rc;
}

static int as_hash(json_t *v, unsigned char out[32], const char *path, struct wire_status *st)
{
	const char *s = NULL;
	size_t len = 0;
	int rc = as_str(v, &s, &len, path, st);
	if (rc)
		return rc;
	if (len != ENTRY_HASH_HEX || hex_decode(s, out, ENTRY_HASH_BYTES) != 0)
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' is not 64 hex digits", path);
	return 0;
}

static int get_bool(json_t *obj, const char *key, int *out, struct wire_status *st)
{
	json_t *v = NULL;
	int rc = get(obj, key, &v, key, st);
	if (rc)
		return rc;
	if (!json_is_boolean(v))
		return wire_fail(st, WIRE_BAD_MESSAGE, key, "'%s' is not true or false", key);
	*out = json_is_true(v);
	return 0;
}

/* Copies at most cap-1 bytes, cutting at a UTF-8 character boundary. */
static void copy_trunc(char *dst, size_t cap, const char *src, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	while (n > 0 && n < len && ((unsigned char)src[n] & 0xc0) == 0x80)
		n--;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A string member copied whole into dst (refused when longer), or truncated. */
static int copy_str(json_t *v, char *dst, size_t cap, int truncate, const char *path,
		    struct wire_status *st)
{
	const char *s = NULL;
	size_t len = 0;
	int rc = as_str(v, &s, &len, path, st);
	if (rc)
		return rc;
	if (len >= cap && !truncate)
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' longer than %zu bytes", path,
				 cap - 1);
	copy_trunc(dst, cap, s, len);
	return 0;
}

/* An optional string member: missing or null leaves dst empty. */
static int opt_str(json_t *obj, const char *key, char *dst, size_t cap, int truncate,
		   struct wire_status *st)
{
	json_t *v = json_object_get(obj, key);
	dst[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	return copy_str(v, dst, cap, truncate, key, st);
}

/* A field value of any JSON type (PROTOCOL.md §5, entry.h). Strings are borrowed from
 * the document; compound values get a canonical text kept alive by `holder`. */
static int decode_value(json_t *j, struct value *v, json_t *holder, const char *path,
			struct wire_status *st)
{
	memset(v, 0, sizeof *v);
	switch (json_typeof(j)) {
	case JSON_NULL:
		v->kind = VALUE_NULL;
		return 0;
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(j);
		if (i < -WIRE_MAX_SAFE_INT || i > WIRE_MAX_SAFE_INT)
			return wire_fail(st, WIRE_NUMBER_RANGE, path,
					 "'%s' beyond the JSON-safe range", path);
		v->kind = VALUE_INT;
		v->i = (int64_t)i;
		return 0;
	}
	case JSON_STRING:
		v->kind = VALUE_TEXT;
		v->s = json_string_value(j);
		v->len = json_string_length(j);
		return 0;
	case JSON_REAL:
		v->kind = VALUE_REAL;
		v->r = json_real_value(j);
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		v->kind = VALUE_BOOL;
		v->i = json_is_true(j);
		return 0;
	case JSON_ARRAY:
	case JSON_OBJECT: {
		char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		json_t *s = text ? json_string(text) : NULL;
		free(text);
		if (!s || json_array_append_new(holder, s) != 0)
			return nomem(st);
		v->kind = VALUE_COMPOUND;
		v->s = json_string_value(s);
		v->len = json_string_length(s);
		return 0;
	}
	}
	return wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' has an unknown JSON type", path);
}

/* ------------------------------------------------------------------ value encoding */

/* 0 and a new reference in *out; 1 when the value cannot be encoded; -1 on NOMEM. */
static int encode_value(const struct value *v, json_t **out)
{
	json_t *j = NULL;
	switch (v->kind) {
	case VALUE_NULL:
		j = json_null();
		break;
	case VALUE_INT:
		if (v->i < -WIRE_MAX_SAFE_INT || v->i > WIRE_MAX_SAFE_INT)
			return 1;
		j = json_integer((json_int_t)v->i);
		break;
	case VALUE_TEXT:
		if (!v->s || v->len > WIRE_MAX_STRING || !validate_utf8(v->s, v->len))
			return 1;
		j = json_stringn_nocheck(v->s, v->len);
		break;
	case VALUE_REAL:
		if (!isfinite(v->r))
			return 1;
		j = json_real(v->r);
		break;
	case VALUE_BOOL:
		j = json_boolean(v->i);
		break;
	case VALUE_COMPOUND: {
		json_error_t err;
		memset(&err, 0, sizeof err); /* see wire_parse */
		if (!v->s)
			return 1;
		j = json_loadb(v->s, v->len, JSON_REJECT_DUPLICATES, &err);
		if (!j) /* no text: jansson failed to allocate before parsing */
			return json_error_code(&err) == json_error_out_of_memory || !err.text[0] ? -1 : 1;
		break;
	}
	default:
		return 1;
	}
	if (!j)
		return -1;
	*out = j;
	return 0;
}

static int text_ok(const char *s)
{
	return s && validate_utf8(s, strlen(s)) && strlen(s) <= WIRE_MAX_STRING;
}

int wire_text_ok(const char *s, size_t len)
{
	return s && len <= WIRE_MAX_STRING && validate_utf8(s, len);
}

int wire_value_from_text(const char *text, size_t len, struct value *v, void **holder, const char *path,
			 struct wire_status *st)
{
	json_error_t err;
	memset(&err, 0, sizeof err); /* see wire_parse */
	json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
	if (!j)
		return map_parse_error(text, len, &err, st);
	int rc = 0;
	if (!*holder && !(*holder = json_array()))
		rc = nomem(st);
	if (!rc && json_is_string(j)) {
		/* borrowed from the holder, which outlives this value's document */
		if (json_array_append(*holder, j) != 0)
			rc = nomem(st);
	}
	if (!rc)
		rc = decode_value(j, v, *holder, path, st);
	json_decref(j);
	return rc;
}

int wire_duplicate_keys(const char *json, size_t len, struct wire_status *st)
{
	json_error_t err;
	memset(&err, 0, sizeof err);
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (!j)
		return map_parse_error(json, len, &err, st);
	json_decref(j);
	return 0;
}

char *wire_value_to_text(const struct value *v, int *rc)
{
	json_t *j = NULL;
	*rc = encode_value(v, &j);
	if (*rc)
		return NULL;
	char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (!t)
		*rc = -1;
	return t;
}

/* [seq, table, id, op, owner, clock, fields] or [seq, null, hash, reason]. */
static int encode_entry(const struct entry *e, json_t **out)
{
	if (e->seq > (uint64_t)WIRE_MAX_SAFE_INT)
		return 1;
	json_t *a = json_array();
	if (!a)
		return -1;
	int rc = -1;
	if (json_array_append_new(a, json_integer((json_int_t)e->seq)))
		goto fail;
	if (e->skipped) {
		char hex[ENTRY_HASH_HEX + 1];
		const char *reason = e->reason ? e->reason : "unencodable";
		if (!text_ok(reason)) {
			rc = 1;
			goto fail;
		}
		hex_encode(e->hash, ENTRY_HASH_BYTES, hex);
		if (json_array_append_new(a, json_null()) ||
		    json_array_append_new(a, json_string(hex)) ||
		    json_array_append_new(a, json_string(reason)))
			goto fail;
		*out = a;
		return 0;
	}
	char op[2] = { e->op, '\0' };
	if (!text_ok(e->table) || !text_ok(e->id) || !text_ok(e->owner) ||
	    (e->op != ENTRY_INSERT && e->op != ENTRY_UPDATE && e->op != ENTRY_DELETE) ||
	    e->clock > WIRE_MAX_CLOCK || (e->nfields && !e->fields)) {
		rc = 1;
		goto fail;
	}
	if (json_array_append_new(a, json_string(e->table)) ||
	    json_array_append_new(a, json_string(e->id)) ||
	    json_array_append_new(a, json_string(op)) ||
	    json_array_append_new(a, json_string(e->owner)) ||
	    json_array_append_new(a, json_integer((json_int_t)e->clock)))
		goto fail;
	json_t *f = json_object();
	if (json_array_append_new(a, f)) /* steals f, even on failure */
		goto fail;
	for (size_t i = 0; i < e->nfields; i++) {
		const struct field *fl = &e->fields[i];
		json_t *v = NULL;
		if (!text_ok(fl->name) || json_object_get(f, fl->name)) {
			rc = 1; /* a name that is not text, or the same column twice */
			goto fail;
		}
		int vr = encode_value(&fl->v, &v);
		if (vr) {
			rc = vr;
			goto fail;
		}
		if (json_object_set_new(f, fl->name, v))
			goto fail;
	}
	*out = a;
	return 0;
fail:
	json_decref(a);
	return rc;
}

static char *dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

/* Sets obj[key] = value (stolen); a NULL value (failed allocation) fails. */
static int put(json_t *obj, const char *key, json_t *value)
{
	return value ? json_object_set_new(obj, key, value) : -1;
}

/* ------------------------------------------------------------------ hello */

/* The optional "changes_v" of a hello or its answer (PROTOCOL.md §6.1): 1 when absent. */
static int opt_changes_v(json_t *doc, int *out, struct wire_status *st)
{
	json_t *v = json_object_get(doc, "changes_v");
	int64_t n = 1;
	if (v) {
		if (!json_is_integer(v))
			return wire_fail(st, WIRE_BAD_MESSAGE, "changes_v", "'changes_v' is not an integer");
		n = json_integer_value(v);
		if (n < 1 || n > WIRE_MAX_SCHEMA)
			return wire_fail(st, WIRE_BAD_MESSAGE, "changes_v", "'changes_v' out of range");
	}
	*out = (int)n;
	return 0;
}

int wire_hello_decode(const char *json, size_t len, struct wire_hello *out, struct wire_status *st)
{
	json_t *doc = NULL, *sw = NULL;
	struct wire_hello h = { 0 };
	int64_t schema = 0, wall = 0, pending = 0;
	int rc = wire_parse(json, len, &doc, st);
	if (rc)
		return rc;
	if ((rc = get_int(doc, "schema", 1, WIRE_MAX_SCHEMA, &schema, st)) ||
	    (rc = get_uuid(doc, "agent", h.agent, st)) ||
	    (rc = get_int(doc, "wall", 0, WIRE_MAX_SAFE_INT, &wall, st)) ||
	    (rc = get_int(doc, "pending", 0, WIRE_MAX_SAFE_INT, &pending, st)) ||
	    (rc = get_u53(doc, "acked", &h.acked, st)) ||
	    (rc = get(doc, "software", &sw, "software", st)) ||
	    (rc = copy_str(sw, h.software, sizeof h.software, 1, "software", st)) ||
	    (rc = opt_changes_v(doc, &h.changes_v, st)))
		goto done;
	h.v = WIRE_MESSAGE_V;
	h.schema = (int)schema;
	h.wall_ms = wall;
	h.pending = pending;
	*out = h;
done:
	json_decref(doc);
	return rc;
}

char *wire_hello_encode(const struct wire_hello *h)
{
	json_t *o = json_object();
	if (!o || put(o, "v", json_integer(WIRE_MESSAGE_V)) ||
	    put(o, "schema", json_integer(h->schema)) || put(o, "agent", json_string(h->agent)) ||
	    put(o, "wall", json_integer(h->wall_ms)) ||
	    put(o, "pending", json_integer(h->pending)) ||
	    put(o, "acked", json_integer((json_int_t)h->acked)) ||
	    put(o, "software", json_string(h->software)) ||
	    (h->changes_v > 1 && put(o, "changes_v", json_integer(h->changes_v)))) {
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

/* ------------------------------------------------------------------ hello answer */

/* "<count>:<16 lowercase hex>" as produced by checksum_format. */
static int checksum_text_ok(const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len);
	if (!colon || colon == s || colon - s > 20 || (size_t)(s + len - colon) != 17)
		return 0;
	for (const char *p = s; p < colon; p++)
		if (*p < '0' || *p > '9')
			return 0;
	for (const char *p = colon + 1; p < s + len; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int wire_hello_answer_decode(const char *json, size_t len, struct wire_hello_answer *out,
			     struct wire_status *st)
{
	json_t *doc = NULL, *v = NULL, *limits = NULL, *sums = NULL;
	struct wire_hello_answer a = { 0 };
	int64_t schema = 0;
	unsigned char chain[32];
	int rc = wire_parse(json, len, &doc, st);
	if (rc)
		return rc;
	if ((rc = get_int(doc, "schema", 1, WIRE_MAX_SCHEMA, &schema, st)) ||
	    (rc = get_int(doc, "hub_time", 0, WIRE_MAX_SAFE_INT, &a.hub_time, st)) ||
	    (rc = get_uuid(doc, "hub_id", a.hub_id, st)) ||
	    (rc = get_uuid(doc, "unit", a.unit, st)) ||
	    (rc = get_u53(doc, "acked", &a.acked, st)) ||
	    (rc = get(doc, "chain", &v, "chain", st)) ||
	    (rc = as_hash(v, chain, "chain", st)) ||
	    (rc = get_u53(doc, "backup_seq", &a.backup_seq, st)) ||
	    (rc = get(doc, "limits", &limits, "limits", st)))
		goto done;
	hex_encode(chain, sizeof chain, a.chain);
	if (!json_is_object(limits)) {
		rc = wire_fail(st, WIRE_BAD_MESSAGE, "limits", "'limits' is not an object");
		goto done;
	}
	if ((rc = get_int(limits, "max_body_bytes", 1, WIRE_MAX_SAFE_INT, &a.max_body_bytes, st)) ||
	    (rc = get_int(limits, "max_inflated_bytes", 1, WIRE_MAX_SAFE_INT,
			  &a.max_inflated_bytes, st)) ||
	    (rc = get_int(limits, "max_changes", 1, WIRE_MAX_SAFE_INT, &a.max_changes, st)) ||
	    (rc = get_int(limits, "max_ahead_ms", 0, WIRE_MAX_SAFE_INT, &a.max_ahead_ms, st)) ||
	    (rc = get_int(limits, "pull_page_rows", 1, WIRE_MAX_SAFE_INT, &a.pull_page_rows, st)) ||
	    (rc = get(doc, "checksums", &sums, "checksums", st)) ||
	    (rc = get_bool(doc, "retired", &a.retired, st)) ||
	    (rc = opt_changes_v(doc, &a.changes_v, st)))
		goto done;
	if (!json_is_object(sums)) {
		rc = wire_fail(st, WIRE_BAD_MESSAGE, "checksums", "'checksums' is not an object");
		goto done;
	}
	if (json_object_size(sums)) {
		a.checksums = calloc(json_object_size(sums), sizeof *a.checksums);
		if (!a.checksums) {
			rc = nomem(st);
			goto done;
		}
	}
	const char *unit = NULL;
	json_object_foreach(sums, unit, v) {
		struct wire_checksum_item *it = &a.checksums[a.nchecksums];
		if (!ids_uuid_valid(unit)) {
			rc = wire_fail(st, WIRE_BAD_MESSAGE, "checksums", "key is not a UUID");
			goto done;
		}
		if (!json_is_string(v) || json_string_length(v) >= sizeof it->value ||
		    !checksum_text_ok(json_string_value(v), json_string_length(v))) {
			rc = wire_fail(st, WIRE_BAD_MESSAGE, "checksums",
				       "a checksum is not '<count>:<16 hex>'");
			goto done;
		}
		memcpy(it->unit, unit, 37);
		memcpy(it->value, json_string_value(v), json_string_length(v) + 1);
		a.nchecksums++;
	}
	a.v = WIRE_MESSAGE_V;
	a.schema = (int)schema;
	*out = a;
	a.checksums = NULL;
done:
	free(a.checksums);
	json_decref(doc);
	return rc;
}

char *wire_hello_answer_encode(const struct wire_hello_answer *a)
{
	json_t *o = json_object(), *lim = json_object(), *sums = json_object();
	if (!o || !lim || !sums)
		goto fail;
	if (put(lim, "max_body_bytes", json_integer(a->max_body_bytes)) ||
	    put(lim, "max_inflated_bytes", json_integer(a->max_inflated_bytes)) ||
	    put(lim, "max_changes", json_integer(a->max_changes)) ||
	    put(lim, "max_ahead_ms", json_integer(a->max_ahead_ms)) ||
	    put(lim, "pull_page_rows", json_integer(a->pull_page_rows)))
		goto fail;
	for (size_t i = 0; i < a->nchecksums; i++)
		if (put(sums, a->checksums[i].unit, json_string(a->checksums[i].value)))
			goto fail;
	if (put(o, "v", json_integer(WIRE_MESSAGE_V)) ||
	    put(o, "schema", json_integer(a->schema)) ||
	    put(o, "hub_time", json_integer(a->hub_time)) ||
	    put(o, "hub_id", json_string(a->hub_id)) || put(o, "unit", json_string(a->unit)) ||
	    put(o, "acked", json_integer((json_int_t)a->acked)) ||
	    put(o, "chain", json_string(a->chain)) ||
	    put(o, "backup_seq", json_integer((json_int_t)a->backup_seq)))
		goto fail;
	json_t *l = lim, *s = sums;
	lim = sums = NULL; /* put() steals each, even on failure */
	if (put(o, "limits", l)) {
		json_decref(s);
		goto fail;
	}
	if (put(o, "checksums", s) || put(o, "retired", json_boolean(a->retired)) ||
	    put(o, "changes_v", json_integer(a->changes_v > 1 ? a->changes_v : 1)))
		goto fail;
	return dump(o);
fail:
	json_decref(o);
	json_decref(lim);
	json_decref(sums);
	return NULL;
}

void wire_hello_answer_release(struct wire_hello_answer *a)
{
	if (!a)
		return;
	free(a->checksums);
	a->checksums = NULL;
	a->nchecksums = 0;
}

/* ------------------------------------------------------------------ change set */

void wire_changeset_free(struct wire_changeset *cs)
{
	if (!cs)
		return;
	struct cs_priv *p = cs->priv;
	if (p) {
		json_decref(p->doc);
		json_decref(p->holder);
		free(p->fields);
		for (size_t i = 0; i < p->nblocks; i++)
			free(p->blocks[i]);
		free(p->blocks);
		free(p->arena);
		free(p->seen);
		free(p);
	}
	free(cs->entries);
	free(cs);
}

static int decode_entry(json_t *a, size_t idx, uint64_t want_seq, struct entry *e,
			struct field **next_field, json_t *holder, struct wire_status *st)
{
	char path[WIRE_PATH];
	int rc;
	snprintf(path, sizeof path, "entries[%zu]", idx);
	if (!json_is_array(a) || json_array_size(a) < 1)
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' is not an entry array", path);
	if ((rc = as_u64(json_array_get(a, 0), (uint64_t)WIRE_MAX_SAFE_INT, &e->seq, path, st)))
		return rc;
	if (e->seq != want_seq)
		return wire_fail(st, WIRE_BAD_SEQUENCE, path, "expected sequence %llu, got %llu",
				 (unsigned long long)want_seq, (unsigned long long)e->seq);
	json_t *second = json_array_get(a, 1);
	if (json_is_null(second)) {
		const char *reason = NULL;
		size_t rlen = 0;
		if (json_array_size(a) != 4)
			return wire_fail(st, WIRE_BAD_MESSAGE, path,
					 "a skipped entry has 4 members");
		snprintf(path, sizeof path, "entries[%zu].hash", idx);
		if ((rc = as_hash(json_array_get(a, 2), e->hash, path, st)))
			return rc;
		snprintf(path, sizeof path, "entries[%zu].reason", idx);
		if ((rc = as_str(json_array_get(a, 3), &reason, &rlen, path, st)))
			return rc;
		if (strcmp(reason, "too_large") != 0 && strcmp(reason, "unencodable") != 0)
			return wire_fail(st, WIRE_BAD_MESSAGE, path, "unknown skip reason");
		e->skipped = 1;
		e->reason = reason;
		return 0;
	}
	if (json_array_size(a) != 7)
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "an entry has 7 members");
	const char *op = NULL;
	size_t n = 0;
	snprintf(path, sizeof path, "entries[%zu].table", idx);
	if ((rc = as_str(second, &e->table, &n, path, st)))
		return rc;
	snprintf(path, sizeof path, "entries[%zu].id", idx);
	if ((rc = as_str(json_array_get(a, 2), &e->id, &n, path, st)))
		return rc;
	snprintf(path, sizeof path, "entries[%zu].op", idx);
	if ((rc = as_str(json_array_get(a, 3), &op, &n, path, st)))
		return rc;
	if (n != 1 || (op[0] != ENTRY_INSERT && op[0] != ENTRY_UPDATE && op[0] != ENTRY_DELETE))
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "op is not \"i\", \"u\" or \"d\"");
	e->op = op[0];
	snprintf(path, sizeof path, "entries[%zu].owner", idx);
	if ((rc = as_str(json_array_get(a, 4), &e->owner, &n, path, st)))
		return rc;
	snprintf(path, sizeof path, "entries[%zu].clock", idx);
	if ((rc = as_u64(json_array_get(a, 5), WIRE_MAX_CLOCK, &e->clock, path, st)))
		return rc;
	json_t *fields = json_array_get(a, 6);
	snprintf(path, sizeof path, "entries[%zu].fields", idx);
	if (!json_is_object(fields))
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' is not an object", path);
	e->fields = *next_field;
	e->nfields = 0;
	const char *name = NULL;
	json_t *v = NULL;
	json_object_foreach(fields, name, v) {
		struct field *f = &(*next_field)[e->nfields];
		snprintf(path, sizeof path, "entries[%zu].fields.%s", idx, name);
		f->name = name;
		if ((rc = decode_value(v, &f->v, holder, path, st)))
			return rc;
		e->nfields++;
	}
	*next_field += e->nfields;
	return 0;
}

/* The top-level "v" of well-formed text whose top is an object: 1 and *v when it is an
 * integer of at most 18 digits, else 0. Reads only the top level. */
static int peek_v(const char *json, size_t len, long long *v)
{
	const char *p = json, *end = json + len;
	int depth = 0, in_str = 0, key = 0;
	const char *ks = NULL;
	for (; p < end; p++) {
		char c = *p;
		if (in_str) {
			if (c == '\\') {
				p++;
			} else if (c == '"') {
				in_str = 0;
				if (depth == 1 && key && p - ks == 1 && *ks == 'v') {
					const char *q = p + 1;
					while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == ':'))
						q++;
					const char *d = q + (q < end && *q == '-');
					size_t n = 0;
					while (d + n < end && d[n] >= '0' && d[n] <= '9')
						n++;
					if (n == 0 || n > 18 || (d + n < end && strchr(".eE", d[n])))
						return 0;
					*v = strtoll(q, NULL, 10);
					return 1;
				}
			}
			continue;
		}
		if (c == '"') {
			in_str = 1;
			ks = p + 1;
		} else if (c == '{' || c == '[') {
			depth++;
			key = c == '{';
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == ',' && depth == 1) {
			key = 1;
		} else if (c == ':' && depth == 1) {
			key = 0;
		}
	}
	return 0;
}

int wire_changeset_decode(const char *json, size_t len, struct wire_changeset **out,
			  struct wire_status *st)
{
	json_t *doc = NULL, *v = NULL, *entries = NULL;
	int64_t schema = 0;
	long long shape = 0;
	/* Shape 2 is read without jansson; malformed text of either shape goes through
	 * jansson, whose error says what is wrong with it. */
	if (json && !too_deep(json, len) && wire_json_wellformed(json, len)) {
		const char *p = json;
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '{' && peek_v(json, len, &shape) && shape == WIRE_CHANGES_V2)
			return wire_v2_changeset_decode(json, len, out, st);
	}
	int rc = wire_parse_shapes(json, len, &doc, "1 or 2", st);
	if (rc)
		return rc;
	struct wire_changeset *cs = calloc(1, sizeof *cs);
	struct cs_priv *p = calloc(1, sizeof *p);
	if (!cs || !p) {
		free(cs);
		free(p);
		json_decref(doc);
		return nomem(st);
	}
	cs->priv = p;
	p->doc = doc;
	if ((rc = get_int(doc, "schema", 1, WIRE_MAX_SCHEMA, &schema, st)) ||
	    (rc = get_uuid(doc, "agent", cs->agent, st)) ||
	    (rc = get_u53(doc, "from", &cs->from, st)) || (rc = get_u53(doc, "to", &cs->to, st)) ||
	    (rc = get(doc, "chain_before", &v, "chain_before", st)) ||
	    (rc = as_hash(v, cs->chain_before, "chain_before", st)) ||
	    (rc = get(doc, "chain_after", &v, "chain_after", st)) ||
	    (rc = as_hash(v, cs->chain_after, "chain_after", st)) ||
	    (rc = get(doc, "entries", &entries, "entries", st)))
		goto fail;
	cs->v = WIRE_MESSAGE_V;
	cs->schema = (int)schema;
	if (!json_is_array(entries)) {
		rc = wire_fail(st, WIRE_BAD_MESSAGE, "entries", "'entries' is not an array");
		goto fail;
	}
	size_t n = json_array_size(entries);
	if (n > WIRE_MAX_CHANGES) {
		rc = wire_fail(st, WIRE_TOO_MANY, "entries", "%zu entries, at most %d", n,
			       WIRE_MAX_CHANGES);
		goto fail;
	}
	if (cs->from < 1 || cs->to < cs->from) {
		rc = wire_fail(st, WIRE_BAD_SEQUENCE, "from", "not a range from..to with from >= 1");
		goto fail;
	}
	if (cs->to - cs->from >= WIRE_MAX_CHANGES) {
		rc = wire_fail(st, WIRE_TOO_MANY, "to", "range of more than %d entries",
			       WIRE_MAX_CHANGES);
		goto fail;
	}
	if (n != cs->to - cs->from + 1) {
		rc = wire_fail(st, WIRE_BAD_SEQUENCE, "entries", "%zu entries for %llu..%llu", n,
			       (unsigned long long)cs->from, (unsigned long long)cs->to);
		goto fail;
	}
	size_t nfields = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_array_get(json_array_get(entries, i), 6);
		if (json_is_object(f))
			nfields += json_object_size(f);
	}
	cs->entries = calloc(n, sizeof *cs->entries);
	p->fields = calloc(nfields ? nfields : 1, sizeof *p->fields);
	p->holder = json_array();
	if (!cs->entries || !p->fields || !p->holder) {
		rc = nomem(st);
		goto fail;
	}
	struct field *next = p->fields;
	for (size_t i = 0; i < n; i++) {
		rc = decode_entry(json_array_get(entries, i), i, cs->from + i, &cs->entries[i], &next,
				  p->holder, st);
		if (rc)
			goto fail;
	}
	cs->nentries = n;
	*out = cs;
	return 0;
fail:
	wire_changeset_free(cs);
	return rc;
}

/* Writer: entries are kept as JSON until finish; `bytes` tracks the text size. */
struct wire_changeset_writer {
	int schema;
	char agent[37];
	struct wire_v2_writer *v2; /* shape 2: everything below is unused */
	json_t *entries;
	uint64_t from;
	size_t count;
	size_t bytes;
};

/* Size of the envelope around the entries, with from/to at their widest. */
static size_t envelope_bytes(int schema, const char *agent)
{
	return (size_t)snprintf(NULL, 0,
				"{\"v\":1,\"schema\":%d,\"agent\":\"%s\",\"from\":%s,\"to\":%s,"
				"\"chain_before\":\"%64s\",\"chain_after\":\"%64s\",\"entries\":[]}",
				schema, agent, "9007199254740992", "9007199254740992", "", "");
}

struct wire_changeset_writer *wire_changeset_writer_new(int schema, const char *agent)
{
	struct wire_changeset_writer *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->entries = json_array();
	if (!w->entries) {
		free(w);
		return NULL;
	}
	w->schema = schema;
	copy_trunc(w->agent, sizeof w->agent, agent ? agent : "", agent ? strlen(agent) : 0);
	w->bytes = envelope_bytes(schema, w->agent);
	return w;
}

struct wire_changeset_writer *wire_changeset_writer_new_v(int schema, const char *agent, int changes_v)
{
	if (changes_v != WIRE_CHANGES_V2)
		return wire_changeset_writer_new(schema, agent);
	struct wire_changeset_writer *w = calloc(1, sizeof *w);
	if (!w || !(w->v2 = wire_v2_writer_new(schema, agent))) {
		free(w);
		return NULL;
	}
	w->schema = schema;
	return w;
}

int wire_changeset_writer_version(const struct wire_changeset_writer *w)
{
	return w->v2 ? WIRE_CHANGES_V2 : WIRE_CHANGES_V1;
}

int wire_changeset_writer_add_within(struct wire_changeset_writer *w, const struct entry *e,
				     size_t max_bytes)
{
	if (w->v2)
		return wire_v2_writer_add(w->v2, e, max_bytes);
	struct wire_encoded_entry *x = NULL;
	if (w->count && e->seq != w->from + w->count)
		return -1;
	int rc = wire_encoded_entry_new(e, &x);
	if (rc)
		return rc;
	if (w->bytes + wire_encoded_entry_bytes(x) + (w->count ? 1 : 0) > max_bytes) {
		wire_encoded_entry_free(x);
		return 2;
	}
	return wire_changeset_writer_add_encoded(w, x);
}

int wire_changeset_writer_add(struct wire_changeset_writer *w, const struct entry *e)
{
	json_t *j = NULL;
	if (w->v2)
		return wire_v2_writer_add(w->v2, e, SIZE_MAX);
	if (w->count && e->seq != w->from + w->count)
		return -1;
	int rc = encode_entry(e, &j);
	if (rc)
		return rc;
	size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT);
	if (n == 0) {
		json_decref(j);
		return -1;
	}
	if (json_array_append_new(w->entries, j)) /* steals j, even on failure */
		return -1;
	if (w->count == 0)
		w->from = e->seq;
	w->bytes += n + (w->count ? 1 : 0);
	w->count++;
	return 0;
}

size_t wire_changeset_writer_bytes(const struct wire_changeset_writer *w)
{
	return w->v2 ? wire_v2_writer_bytes(w->v2) : w->bytes;
}

size_t wire_changeset_writer_count(const struct wire_changeset_writer *w)
{
	return w->v2 ? wire_v2_writer_count(w->v2) : w->count;
}

size_t wire_entry_encoded_bytes(const struct entry *e)
{
	json_t *j = NULL;
	if (encode_entry(e, &j) != 0)
		return 0;
	size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT);
	json_decref(j);
	return n;
}

struct wire_encoded_entry {
	json_t *j;
	uint64_t seq;
	size_t bytes; /* compact JSON length of j */
};

int wire_encoded_entry_new(const struct entry *e, struct wire_encoded_entry **out)
{
	struct wire_encoded_entry *x = calloc(1, sizeof *x);
	if (!x)
		return -1;
	int rc = encode_entry(e, &x->j);
	if (rc == 0 && (x->bytes = json_dumpb(x->j, NULL, 0, JSON_COMPACT)) == 0)
		rc = -1;
	if (rc) {
		wire_encoded_entry_free(x);
		return rc;
	}
	x->seq = e->seq;
	*out = x;
	return 0;
}

size_t wire_encoded_entry_bytes(const struct wire_encoded_entry *x)
{
	return x->bytes;
}

int wire_changeset_writer_add_encoded(struct wire_changeset_writer *w, struct wire_encoded_entry *x)
{
	int rc = -1;
	if (w->v2 || (w->count && x->seq != w->from + w->count))
		goto out;
	json_t *j = x->j;
	x->j = NULL;
	if (json_array_append_new(w->entries, j)) /* steals j, even on failure */
		goto out;
	if (w->count == 0)
		w->from = x->seq;
	w->bytes += x->bytes + (w->count ? 1 : 0);
	w->count++;
	rc = 0;
out:
	wire_encoded_entry_free(x);
	return rc;
}

void wire_encoded_entry_free(struct wire_encoded_entry *x)
{
	if (!x)
		return;
	json_decref(x->j);
	free(x);
}

char *wire_changeset_writer_finish(struct wire_changeset_writer *w,
				   const unsigned char chain_before[32],
				   const unsigned char chain_after[32])
{
	char before[65], after[65];
	char *text = NULL;
	if (w->v2) {
		text = wire_v2_writer_finish(w->v2, chain_before, chain_after);
		wire_changeset_writer_free(w);
		return text;
	}
	json_t *o = json_object();
	hex_encode(chain_before, 32, before);
	hex_encode(chain_after, 32, after);
	uint64_t to = w->count ? w->from + w->count - 1 : 0;
	json_t *entries = w->entries;
	w->entries = NULL;
	if (!o || put(o, "v", json_integer(WIRE_MESSAGE_V)) ||
	    put(o, "schema", json_integer(w->schema)) || put(o, "agent", json_string(w->agent)) ||
	    put(o, "from", json_integer((json_int_t)w->from)) ||
	    put(o, "to", json_integer((json_int_t)to)) ||
	    put(o, "chain_before", json_string(before)) ||
	    put(o, "chain_after", json_string(after))) {
		json_decref(entries);
		json_decref(o);
		goto done;
	}
	if (put(o, "entries", entries)) {
		json_decref(o);
		goto done;
	}
	text = dump(o);
done:
	wire_changeset_writer_free(w);
	return text;
}

void wire_changeset_writer_free(struct wire_changeset_writer *w)
{
	if (!w)
		return;
	wire_v2_writer_free(w->v2);
	json_decref(w->entries);
	free(w);
}

/* ------------------------------------------------------------------ changes answer */

int wire_changes_answer_decode(const char *json, size_t len, struct wire_changes_answer *out,
			       struct wire_status *st)
{
	json_t *doc = NULL, *q = NULL;
	struct wire_changes_answer a = { 0 };
	int rc = wire_parse(json, len, &doc, st);
	if (rc)
		return rc;
	if ((rc = get_int(doc, "hub_time", 0, WIRE_MAX_SAFE_INT, &a.hub_time, st)) ||
	    (rc = get_u53(doc, "acked", &a.acked, st)) ||
	    (rc = get_int(doc, "applied", 0, WIRE_MAX_SAFE_INT, &a.applied, st)) ||
	    (rc = get_bool(doc, "duplicate", &a.duplicate, st)) ||
	    (rc = get(doc, "quarantined", &q, "quarantined", st)))
		goto done;
	if (!json_is_array(q)) {
		rc = wire_fail(st, WIRE_BAD_MESSAGE, "quarantined", "'quarantined' is not an array");
		goto done;
	}
	size_t n = json_array_size(q);
	if (n > WIRE_MAX_CHANGES) {
		rc = wire_fail(st, WIRE_TOO_MANY, "quarantined", "more than %d quarantined",
			       WIRE_MAX_CHANGES);
		goto done;
	}
	if (n && !(a.quarantined = calloc(n, sizeof *a.quarantined))) {
		rc = nomem(st);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(q, i), *v = NULL;
		struct wire_quarantine *it = &a.quarantined[i];
		char path[WIRE_PATH];
		snprintf(path, sizeof path, "quarantined[%zu]", i);
		if (!json_is_object(o)) {
			rc = wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' is not an object", path);
			goto done;
		}
		if ((rc = get(o, "seq", &v, "seq", st)) ||
		    (rc = as_u64(v, (uint64_t)WIRE_MAX_SAFE_INT, &it->seq, "seq", st)) ||
		    (rc = get(o, "code", &v, "code", st)) ||
		    (rc = copy_str(v, it->code, sizeof it->code, 0, "code", st)) ||
		    (rc = opt_str(o, "table", it->table, sizeof it->table, 0, st)) ||
		    (rc = opt_str(o, "id", it->id, sizeof it->id, 0, st)) ||
		    (rc = opt_str(o, "field", it->field, sizeof it->field, 1, st)) ||
		    (rc = opt_str(o, "message", it->message, sizeof it->message, 1, st)))
			goto done;
		a.nquarantined++;
	}
	a.v = WIRE_MESSAGE_V;
	*out = a;
	a.quarantined = NULL;
done:
	free(a.quarantined);
	json_decref(doc);
	return rc;
}

/* A string member, or null when empty. */
static json_t *str_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

char *wire_changes_answer_encode(const struct wire_changes_answer *a)
{
	json_t *o = json_object(), *q = json_array();
	if (!o || !q)
		goto fail;
	for (size_t i = 0; i < a->nquarantined; i++) {
		const struct wire_quarantine *it = &a->quarantined[i];
		json_t *x = json_object();
		if (!x || json_array_append_new(q, x) ||
		    put(x, "seq", json_integer((json_int_t)it->seq)) ||
		    put(x, "code", json_string(it->code)) || put(x, "table", str_or_null(it->table)) ||
		    put(x, "id", str_or_null(it->id)) || put(x, "field", str_or_null(it->field)) ||
		    put(x, "message", json_string(it->message)))
			goto fail;
	}
	if (put(o, "v", json_integer(WIRE_MESSAGE_V)) ||
	    put(o, "hub_time", json_integer(a->hub_time)) ||
	    put(o, "acked", json_integer((json_int_t)a->acked)) ||
	    put(o, "applied", json_integer(a->applied)) ||
	    put(o, "duplicate", json_boolean(a->duplicate))) {
		goto fail;
	}
	json_t *qq = q;
	q = NULL;
	if (put(o, "quarantined", qq))
		goto fail;
	return dump(o);
fail:
	json_decref(o);
	json_decref(q);
	return NULL;
}

void wire_changes_answer_release(struct wire_changes_answer *a)
{
	if (!a)
		return;
	free(a->quarantined);
	a->quarantined = NULL;
	a->nquarantined = 0;
}

/* ------------------------------------------------------------------ error answer */

int wire_error_answer_decode(const char *json, size_t len, struct wire_error_answer *out,
			     struct wire_status *st)
{
	json_t *doc = NULL, *err = NULL, *v = NULL;
	struct wire_error_answer a = { 0 };
	int64_t hs = 0;
	int rc = wire_parse(json, len, &doc, st);
	if (rc)
		return rc;
	if ((rc = get_int(doc, "hub_time", 0, WIRE_MAX_SAFE_INT, &a.hub_time, st)) ||
	    (rc = get(doc, "error", &err, "error", st)))
		goto done;
	if (!json_is_object(err)) {
		rc = wire_fail(st, WIRE_BAD_MESSAGE, "error", "'error' is not an object");
		goto done;
	}
	if ((rc = get(err, "code", &v, "error.code", st)) ||
	    (rc = copy_str(v, a.code, sizeof a.code, 0, "error.code", st)) ||
	    (rc = opt_str(err, "message", a.message, sizeof a.message, 1, st)) ||
	    (rc = opt_str(err, "field", a.field, sizeof a.field, 1, st)))
		goto done;
	if ((v = json_object_get(err, "expected")) &&
	    (rc = as_u64(v, (uint64_t)WIRE_MAX_SAFE_INT, &a.expected, "error.expected", st)))
		goto done;
	if ((v = json_object_get(err, "seq")) &&
	    (rc = as_u64(v, (uint64_t)WIRE_MAX_SAFE_INT, &a.seq, "error.seq", st)))
		goto done;
	if ((v = json_object_get(err, "hub_schema"))) {
		if ((rc = as_int(v, 0, WIRE_MAX_SCHEMA, &hs, "error.hub_schema", st)))
			goto done;
		a.hub_schema = (int)hs;
	}
	*out = a;
done:
	json_decref(doc);
	return rc;
}

char *wire_error_answer_encode(const struct wire_error_answer *a)
{
	json_t *o = json_object(), *e = json_object();
	if (!o || !e)
		goto fail;
	if (put(e, "code", json_string(a->code)) || put(e, "message", json_string(a->message)))
		goto fail;
	if (a->field[0] && put(e, "field", json_string(a->field)))
		goto fail;
	if ((strcmp(a->code, "gap") == 0 || (strcmp(a->code, "fork") == 0 && a->expected)) &&
	    put(e, "expected", json_integer((json_int_t)a->expected)))
		goto fail;
	if (strcmp(a->code, "clock_ahead") == 0 && put(e, "seq", json_integer((json_int_t)a->seq)))
		goto fail;
	if (strcmp(a->code, "schema_newer") == 0 && put(e, "hub_schema", json_integer(a->hub_schema)))
		goto fail;
	if (put(o, "v", json_integer(WIRE_MESSAGE_V)) ||
	    put(o, "hub_time", json_integer(a->hub_time)))
		goto fail;
	json_t *ee = e;
	e = NULL;
	if (put(o, "error", ee))
		goto fail;
	return dump(o);
fail:
	json_decref(o);
	json_decref(e);
	return NULL;
}

/* ------------------------------------------------------------------ pull page */

struct pull_priv {
	json_t *doc;
	json_t *holder;
	struct wire_pull_field *fields;
};

void wire_pull_page_free(struct wire_pull_page *p)
{
	if (!p)
		return;
	struct pull_priv *pp = p->priv;
	if (pp) {
		json_decref(pp->doc);
		json_decref(pp->holder);
		free(pp->fields);
		free(pp);
	}
	free(p->rows);
	free(p);
}

/* [clock, writer] or null (writer left NULL). */
static int decode_stamp(json_t *v, uint64_t *clock, const char **writer, const char *path,
			struct wire_status *st)
{
	int rc;
	*clock = 0;
	*writer = NULL;
	if (json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) != 2)
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' is not [clock, writer] or null",
				 path);
	if ((rc = as_u64(json_array_get(v, 0), WIRE_MAX_CLOCK, clock, path, st)))
		return rc;
	return as_uuid(json_array_get(v, 1), writer, path, st);
}

static int decode_row(json_t *o, size_t idx, struct wire_pull_row *r,
		      struct wire_pull_field **next, json_t *holder, struct wire_status *st)
{
	char path[WIRE_PATH];
	json_t *v = NULL, *f = NULL;
	size_t n = 0;
	int rc;
	snprintf(path, sizeof path, "rows[%zu]", idx);
	if (!json_is_object(o))
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' is not an object", path);
#define ROW_MEMBER(key)                                                       \
	do {                                                                  \
		snprintf(path, sizeof path, "rows[%zu].%s", idx, key);        \
		if (!(v = json_object_get(o, key)))                           \
			return wire_fail(st, WIRE_BAD_MESSAGE, path,          \
					 "member '%s' missing", path);        \
	} while (0)
	ROW_MEMBER("t");
	if ((rc = as_str(v, &r->table, &n, path, st)))
		return rc;
	ROW_MEMBER("id");
	if ((rc = as_uuid(v, &r->id, path, st)))
		return rc;
	ROW_MEMBER("u");
	if ((rc = as_uuid(v, &r->owner, path, st)))
		return rc;
	ROW_MEMBER("ins");
	if ((rc = decode_stamp(v, &r->ins_clock, &r->ins_writer, path, st)))
		return rc;
	ROW_MEMBER("del");
	if ((rc = decode_stamp(v, &r->del_clock, &r->del_writer, path, st)))
		return rc;
	ROW_MEMBER("f");
#undef ROW_MEMBER
	f = v;
	if (!json_is_object(f))
		return wire_fail(st, WIRE_BAD_MESSAGE, path, "'%s' is not an object", path);
	r->fields = *next;
	r->nfields = 0;
	const char *name = NULL;
	json_object_foreach(f, name, v) {
		struct wire_pull_field *pf = &(*next)[r->nfields];
		snprintf(path, sizeof path, "rows[%zu].f.%s", idx, name);
		if (!json_is_array(v) || json_array_size(v) != 3)
			return wire_fail(st, WIRE_BAD_MESSAGE, path,
					 "'%s' is not [value, clock, writer]", path);
		pf->name = name;
		if ((rc = decode_value(json_array_get(v, 0), &pf->v, holder, path, st)) ||
		    (rc = as_u64(json_array_get(v, 1), WIRE_MAX_CLOCK, &pf->clock, path, st)) ||
		    (rc = as_uuid(json_array_get(v, 2), &pf->writer, path, st)))
			return rc;
		r->nfields++;
	}
	*next += r->nfields;
	return 0;
}

int wire_pull_page_decode(const char *json, size_t len, struct wire_pull_page **out,
			  struct wire_status *st)
{
	json_t *doc = NULL, *rows = NULL;
	int rc = wire_parse(json, len, &doc, st);
	if (rc)
		return rc;
	struct wire_pull_page *p = calloc(1, sizeof *p);
	struct pull_priv *pp = calloc(1, sizeof *pp);
	if (!p || !pp) {
		free(p);
		free(pp);
		json_decref(doc);
		return nomem(st);
	}
	p->priv = pp;
	pp->doc = doc;
	if ((rc = get_int(doc, "hub_time", 0, WIRE_MAX_SAFE_INT, &p->hub_time, st)) ||
	    (rc = get_u53(doc, "cursor", &p->cursor, st)) ||
	    (rc = get_bool(doc, "more", &p->more, st)) ||
	    (rc = get(doc, "rows", &rows, "rows", st)))
		goto fail;
	if (!json_is_array(rows)) {
		rc = wire_fail(st, WIRE_BAD_MESSAGE, "rows", "'rows' is not an array");
		goto fail;
	}
	size_t n = json_array_size(rows), nfields = 0;
	if (n > WIRE_MAX_PULL_ROWS) {
		rc = wire_fail(st, WIRE_TOO_MANY, "rows", "%zu rows, at most %d", n,
			       WIRE_MAX_PULL_ROWS);
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_object_get(json_array_get(rows, i), "f");
		if (json_is_object(f))
			nfields += json_object_size(f);
	}
	p->rows = calloc(n ? n : 1, sizeof *p->rows);
	pp->fields = calloc(nfields ? nfields : 1, sizeof *pp->fields);
	pp->holder = json_array();
	if (!p->rows || !pp->fields || !pp->holder) {
		rc = nomem(st);
		goto fail;
	}
	struct wire_pull_field *next = pp->fields;
	for (size_t i = 0; i < n; i++)
		if ((rc = decode_row(json_array_get(rows, i), i, &p->rows[i], &next, pp->holder, st)))
			goto fail;
	p->nrows = n;
	p->v = WIRE_MESSAGE_V;
	*out = p;
	return 0;
fail:
	wire_pull_page_free(p);
	return rc;
}

struct wire_pull_writer {
	int64_t hub_time;
	json_t *rows;
};

struct wire_pull_writer *wire_pull_writer_new(int64_t hub_time)
{
	struct wire_pull_writer *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->rows = json_array();
	if (!w->rows) {
		free(w);
		return NULL;
	}
	w->hub_time = hub_time;
	return w;
}

static json_t *stamp(uint64_t clock, const char *writer)
{
	return writer ? json_pack("[Is]", (json_int_t)clock, writer) : json_null();
}

int wire_pull_writer_add(struct wire_pull_writer *w, const struct wire_pull_row *row)
{
	json_t *o = json_object(), *f = json_object();
	if (!o || !f || !text_ok(row->table) || !text_ok(row->id) || !text_ok(row->owner))
		goto fail;
	for (size_t i = 0; i < row->nfields; i++) {
		const struct wire_pull_field *pf = &row->fields[i];
		json_t *v = NULL, *triple = NULL;
		if (!text_ok(pf->name) || !text_ok(pf->writer) || encode_value(&pf->v, &v) != 0)
			goto fail;
		triple = json_pack("[oIs]", v, (json_int_t)pf->clock, pf->writer);
		if (put(f, pf->name, triple))
			goto fail;
	}
	if (put(o, "t", json_string(row->table)) || put(o, "id", json_string(row->id)) ||
	    put(o, "u", json_string(row->owner)) ||
	    put(o, "ins", stamp(row->ins_clock, row->ins_writer)) ||
	    put(o, "del", stamp(row->del_clock, row->del_writer)))
		goto fail;
	json_t *ff = f;
	f = NULL;
	if (put(o, "f", ff)) /* steals ff */
		goto fail;
	if (json_array_append_new(w->rows, o)) /* steals o, even on failure */
		return -1;
	return 0;
fail:
	json_decref(o);
	json_decref(f);
	return -1;
}

char *wire_pull_writer_finish(struct wire_pull_writer *w, uint64_t cursor, int more)
{
	char *text = NULL;
	json_t *o = json_object();
	json_t *rows = w->rows;
	w->rows = NULL;
	if (!o || put(o, "v", json_integer(WIRE_MESSAGE_V)) ||
	    put(o, "hub_time", json_integer(w->hub_time)) ||
	    put(o, "cursor", json_integer((json_int_t)cursor)) ||
	    put(o, "more", json_boolean(more))) {
		json_decref(rows);
		json_decref(o);
		goto done;
	}
	if (put(o, "rows", rows)) {
		json_decref(o);
		goto done;
	}
	text = dump(o);
done:
	wire_pull_writer_free(w);
	return text;
}

void wire_pull_writer_free(struct wire_pull_writer *w)
{
	if (!w)
		return;
	json_decref(w->rows);
	free(w);
}
