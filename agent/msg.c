/*
 * msg.c — the office's message table (see msg.h).
 *
 * The table is built from msg_data.def, msg_sync.def and msg_figures.def by the MSG()
 * X-macro, so an id and its two texts cannot drift apart. The language is decided from
 * the environment (LC_ALL, then LC_MESSAGES, then LANG: the POSIX precedence, read with
 * getenv only so a Windows build works) once per call; nothing here allocates or keeps
 * state.
 */
#include "msg.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct msg_text {
	const char *vi;
	const char *en;
};

static const struct msg_text texts[MSG_COUNT] = {
#define MSG(id, vi, en) [id] = { vi, en },
#include "msg_data.def"
#include "msg_sync.def"
#include "msg_figures.def"
#undef MSG
};

int msg_english(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return strncmp(v, "en", 2) == 0;
	}
	return 0;
}

const char *msg_lang(enum msg_id id, int english)
{
	if ((unsigned)id >= MSG_COUNT)
		return "?";
	const struct msg_text *t = &texts[id];
	return english ? t->en : t->vi;
}

const char *msg(enum msg_id id)
{
	return msg_lang(id, msg_english());
}

void msg_say(FILE *f, int id, ...)
{
	va_list ap;
	va_start(ap, id);
	vfprintf(f, msg((enum msg_id)id), ap);
	va_end(ap);
	fputc('\n', f);
}

/* Hub error codes (PROTOCOL.md §7.1), quarantine codes (§7.2), skip reasons (§5) and
 * flags (§7.3). */
static const struct {
	const char *code;
	enum msg_id id;
} codes[] = {
	{ "bad_type", MSG_CODE_BAD_TYPE },
	{ "bad_enum", MSG_CODE_BAD_ENUM },
	{ "bad_range", MSG_CODE_BAD_RANGE },
	{ "too_long", MSG_CODE_TOO_LONG },
	{ "bad_date", MSG_CODE_BAD_DATE },
	{ "bad_id", MSG_CODE_BAD_ID },
	{ "required", MSG_CODE_REQUIRED },
	{ "out_of_scope", MSG_CODE_OUT_OF_SCOPE },
	{ "owner_changed", MSG_CODE_OWNER_CHANGED },
	{ "key_changed", MSG_CODE_KEY_CHANGED },
	{ "hub_only", MSG_CODE_HUB_ONLY },
	{ "unknown_table", MSG_CODE_UNKNOWN_TABLE },
	{ "unknown_column", MSG_CODE_UNKNOWN_COLUMN },
	{ "bad_op", MSG_CODE_BAD_OP },
	{ "bad_json", MSG_CODE_BAD_JSON },
	{ "bad_message", MSG_CODE_BAD_MESSAGE },
	{ "bad_deflate", MSG_CODE_BAD_DEFLATE },
	{ "protocol_version", MSG_CODE_PROTOCOL_VERSION },
	{ "bad_sequence", MSG_CODE_BAD_SEQUENCE },
	{ "unauthorized", MSG_CODE_UNAUTHORIZED },
	{ "revoked", MSG_CODE_REVOKED },
	{ "forbidden", MSG_CODE_FORBIDDEN },
	{ "token_bound", MSG_CODE_TOKEN_BOUND },
	{ "agent_retired", MSG_CODE_AGENT_RETIRED },
	{ "not_found", MSG_CODE_NOT_FOUND },
	{ "method", MSG_CODE_METHOD },
	{ "timeout", MSG_CODE_TIMEOUT },
	{ "gap", MSG_CODE_GAP },
	{ "fork", MSG_CODE_FORK },
	{ "length_required", MSG_CODE_LENGTH_REQUIRED },
	{ "too_large", MSG_CODE_TOO_LARGE },
	{ "bad_encoding", MSG_CODE_BAD_ENCODING },
	{ "clock_ahead", MSG_CODE_CLOCK_AHEAD },
	{ "schema_newer", MSG_CODE_SCHEMA_NEWER },
	{ "busy", MSG_CODE_BUSY },
	{ "held_full", MSG_CODE_HELD_FULL },
	{ "internal", MSG_CODE_INTERNAL },
	{ "unavailable", MSG_CODE_UNAVAILABLE },
	{ "unencodable", MSG_CODE_UNENCODABLE },
	{ "dangling_ref", MSG_CODE_DANGLING_REF },
	{ "closed_unit", MSG_CODE_CLOSED_UNIT },
	{ "held", MSG_CODE_HELD },
};

const char *msg_code_lang(const char *code, int english)
{
	if (code)
		for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
			if (strcmp(codes[i].code, code) == 0)
				return msg_lang(codes[i].id, english);
	return msg_lang(MSG_CODE_UNKNOWN, english);
}

const char *msg_code(const char *code)
{
	return msg_code_lang(code, msg_english());
}
