/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_REPORT_TABLES_H
#define PHASOR_REPORT_TABLES_H
/*
 * report_tables: the tables of `phasor report` as text, made once from the
 * model (report.h) and printed twice: drawn on the pages (report_draw.c)
 * and written as the CSV beside them (--csv), so both show the same
 * numbers in the same form. Local times follow the process's zone (TZ).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "phasor/report.h"

/* What the model does not hold: the title block and the site's settings. */
struct report_doc {
	const char *site, *zone, *db, *version;
	const char *currency;        /* "" none */
	int64_t made_us;
	double price_per_kwh, co2_per_kwh, contract_w; /* NaN: not set */
	const char *const *meters;   /* r->nmeters names */
	const size_t *parent1;       /* r->nmeters: 1 + a meter's parent, 0 a root; NULL: no tree */
	const int *shift_min;
	size_t nshifts;
};

struct report_col {
	const char *name;            /* CSV column name */
	const char *head;            /* on the page */
	const char *unit;            /* "" none */
	double width;                /* share of the page's width */
	int right;                   /* 1: numbers, aligned right */
};

struct report_table {
	const char *id;              /* CSV table name: "day", "meter", ... */
	const char *title;
	size_t ncols;
	const struct report_col *cols;
	size_t nrows;
	char **cells;                /* nrows x ncols, owned */
	int csv_only;                /* too long for the pages (charts show it) */
};

struct report_tables {
	struct report_table *t;
	size_t n;
};

void report_tables_make(const struct report *r, const struct report_doc *d,
			struct report_tables *out);
void report_tables_free(struct report_tables *t);
/* The table named id, or NULL. */
const struct report_table *report_tables_find(const struct report_tables *t, const char *id);
/* The cell (row, col). */
static inline const char *report_cell(const struct report_table *t, size_t row, size_t col)
{
	return t->cells[row * t->ncols + col];
}
/*
 * Every table into out as CSV, one row per cell of the tables' rows
 * (tidy): table,item,column,value,unit; item is the row's first cell.
 */
void report_tables_csv(const struct report_tables *t, FILE *out);

/* "2026-11-22 14:00" in local time (the zone of TZ). */
char *report_local_time(int64_t t_us, char *buf, size_t size);

#endif
