/*
 * msg.h — every text an office reads (status, rejections, import errors), in one
 * table, Vietnamese by default, English when the locale asks for it (LC_ALL /
 * LC_MESSAGES / LANG starting with "en"). Logs never go through here: they are English.
 *
 * Messages are declared in msg_data.def (data entry, import), msg_sync.def (sync,
 * status) and msg_figures.def (figures): MSG(ID, "Vietnamese", "English") — printf
 * formats, same arguments in both.
 */
#ifndef LK_AGENT_MSG_H
#define LK_AGENT_MSG_H

#include <stdio.h>

enum msg_id {
#define MSG(id, vi, en) id,
#include "msg_data.def"
#include "msg_sync.def"
#include "msg_figures.def"
#undef MSG
	MSG_COUNT
};

/* The format string for id in the user's language (static). */
const char *msg(enum msg_id id);
/* The same in a language chosen by the caller (english 0: Vietnamese), for what does
 * not go to this process's terminal (the office app's page is always Vietnamese). */
const char *msg_lang(enum msg_id id, int english);

/* Prints message id on f, formatted with the arguments that follow, then a newline.
 * id is an enum msg_id passed as int: an enum is not a safe last named argument for
 * va_start. */
void msg_say(FILE *f, int id, ...);

/* Translation of a hub error or quarantine code ("bad_enum", "gap", …) for the office;
 * unknown codes give a generic text. Static string. */
const char *msg_code(const char *code);
const char *msg_code_lang(const char *code, int english);

/* 1 when the user's locale asks for English. */
int msg_english(void);

#endif
