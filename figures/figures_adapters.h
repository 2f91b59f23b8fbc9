/*
 * figures_adapters.h — the row adapters of a figures back end (figures_source.h): for
 * each row type, a context holding the slot's callback and its argument, and a step
 * function that fills the row from the current result row's columns (in the SELECT's
 * order) and calls the callback. Every back end needs the same thirteen, so they are
 * written once here.
 *
 * Not a header of declarations: it defines static functions, and is included once, by
 * a back end's .c file (figures_sqlite.c, hub/store/figures_pg.c), after it has defined
 *   FIGURES_ROW_HANDLE   the type its step functions receive (sqlite3_stmt *, …)
 *   text(st, i), i64(st, i)   static functions reading column i of the handle st as a
 *                        borrowed string (NULL for NULL) and as an integer (0 for NULL).
 * It gets <name>_ctx and <name>_step for unit, name, link, event, mgroup, count, id,
 * vgroup, gathering, rating, party, secretary and support.
 */
#ifndef FIGURES_ROW_HANDLE
#error "define FIGURES_ROW_HANDLE, text() and i64() before including figures_adapters.h"
#endif

#define FIGURES_ADAPTER(name, type, fill)                                                 \
	struct name##_ctx {                                                               \
		int (*row)(void *arg, const struct type *r);                              \
		void *arg;                                                                \
	};                                                                                \
	static int name##_step(FIGURES_ROW_HANDLE st, void *ctx)                          \
	{                                                                                 \
		struct name##_ctx *c = ctx;                                               \
		struct type r = fill;                                                     \
		return c->row(c->arg, &r);                                                \
	}

FIGURES_ADAPTER(unit, figures_unit_row, ((struct figures_unit_row){ text(st, 0), text(st, 1) }))
FIGURES_ADAPTER(name, figures_name_row,
		((struct figures_name_row){ text(st, 0), text(st, 1), text(st, 2), text(st, 3),
					    text(st, 4), text(st, 5), text(st, 6) }))
FIGURES_ADAPTER(link, figures_link_row,
		((struct figures_link_row){ text(st, 0), text(st, 1), text(st, 2), text(st, 3),
					    text(st, 4) }))
FIGURES_ADAPTER(event, figures_event_row,
		((struct figures_event_row){ text(st, 0), text(st, 1), text(st, 2), text(st, 3),
					     text(st, 4) }))
FIGURES_ADAPTER(mgroup, figures_meeting_group,
		((struct figures_meeting_group){ text(st, 0), text(st, 1), text(st, 2),
						 i64(st, 3), i64(st, 4) }))
FIGURES_ADAPTER(count, figures_unit_count,
		((struct figures_unit_count){ text(st, 0), i64(st, 1) }))
FIGURES_ADAPTER(id, figures_unit_id, ((struct figures_unit_id){ text(st, 0) }))
FIGURES_ADAPTER(vgroup, figures_volunteer_group,
		((struct figures_volunteer_group){ text(st, 0), text(st, 1), i64(st, 2),
						   i64(st, 3), i64(st, 4) }))
FIGURES_ADAPTER(gathering, figures_gathering_row,
		((struct figures_gathering_row){ text(st, 0), i64(st, 1), i64(st, 2) }))
FIGURES_ADAPTER(rating, figures_rating_row,
		((struct figures_rating_row){ text(st, 0), text(st, 1), i64(st, 2) }))
FIGURES_ADAPTER(party, figures_party_row,
		((struct figures_party_row){ text(st, 0), text(st, 1), text(st, 2) }))
FIGURES_ADAPTER(secretary, figures_secretary_row,
		((struct figures_secretary_row){ text(st, 0), text(st, 1), i64(st, 2) != 0 }))
FIGURES_ADAPTER(support, figures_support_row,
		((struct figures_support_row){ text(st, 0), text(st, 1), text(st, 2),
					       i64(st, 3) }))
