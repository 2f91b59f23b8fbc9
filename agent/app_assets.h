/*
 * app_assets.h — the office app's page files (agent/app/: .html, .js, .css, .svg), embedded
 * in the binary at build time by scripts/embed_assets.sh (the Makefile writes
 * $(B)/gen/app_assets.c), so the app reads nothing from disk and works with no
 * internet. Static, read-only data for the whole program.
 */
#ifndef LK_AGENT_APP_ASSETS_H
#define LK_AGENT_APP_ASSETS_H

#include <stddef.h>

struct app_asset {
	const char *path;         /* "/index.html" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

/* Terminated by an entry whose path is NULL. */
extern const struct app_asset app_assets[];

#endif
