/*
 * figures_source.c — the checks and names shared by every figures back end
 * (figures_source.h). Holds no state.
 */
#include "figures_source.h"

#include <stdio.h>

int figures_source_check(const struct figures_source *src, struct figures_error *err)
{
	int ok = src && src->version == FIGURES_SOURCE_VERSION && src->read_begin &&
		 src->read_end && src->units && src->unit_names && src->unit_links &&
		 src->unit_events && src->meeting_groups && src->meeting_tasks &&
		 src->meeting_participants && src->branch_took_part && src->volunteer_units &&
		 src->volunteer_groups && src->pilots && src->gathering && src->ratings &&
		 src->party_steps && src->secretaries && src->support && src->free;
	if (ok)
		return FIGURES_OK;
	if (err) {
		err->code = FIGURES_VERSION;
		if (!src)
			snprintf(err->message, sizeof err->message, "no figures source");
		else if (src->version != FIGURES_SOURCE_VERSION)
			snprintf(err->message, sizeof err->message,
				 "figures source of version %d, this build reads version %d",
				 src->version, FIGURES_SOURCE_VERSION);
		else
			snprintf(err->message, sizeof err->message,
				 "figures source of version %d with a slot missing", src->version);
	}
	return FIGURES_VERSION;
}

const char *figures_code_name(enum figures_code code)
{
	switch (code) {
	case FIGURES_OK: return "ok";
	case FIGURES_STOPPED: return "stopped";
	case FIGURES_BUSY: return "busy";
	case FIGURES_CORRUPT: return "corrupt";
	case FIGURES_MISSING: return "missing";
	case FIGURES_IO: return "io";
	case FIGURES_NO_MEMORY: return "no_memory";
	case FIGURES_STORAGE: return "storage";
	case FIGURES_VERSION: return "version";
	}
	return "storage";
}

void figures_source_free(struct figures_source *src)
{
	if (src && src->free)
		src->free(src);
}
