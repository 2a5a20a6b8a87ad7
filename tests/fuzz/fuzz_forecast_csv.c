// SPDX-License-Identifier: MIT
/*
 * fuzz_forecast_csv: the CSV input of `phasor forecast --csv`
 * (cmd_forecast_csv() in src/cmd/cmd_forecast.c, with csv_split() of
 * src/base/csv.c): the rows read as the command reads a file, then made a
 * series on the data's own step, or on a 15-minute grid when the input's
 * first byte is odd. A series that comes out has whole intervals from a
 * grid-aligned start. The command's messages go to stderr (quietened by
 * run.sh).
 */
#include <math.h>

#include "phasor/cmd.h"
#include "phasor/csv.h"
#include "phasor/util.h"
#include "fuzz.h"

#define US INT64_C(1000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *line, *fields[8];
	int64_t step = 0, t0 = 0, step_out = 0;
	double *y = NULL;
	size_t n = 0;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		step = 15 * 60 * US;
	text = fuzz_string(data + 1, size - 1);
	if (cmd_forecast_csv("fuzz.csv", text, size - 1, step, &t0, &step_out, &y, &n) ==
	    EXIT_OK) {
		if (y == NULL || n < 1 || step_out < 60 * US || (86400 * US) % step_out != 0 ||
		    (step != 0 && step_out != step) || (step != 0 && t0 % step != 0))
			abort();
	} else if (y != NULL || n != 0) {
		abort();
	}
	free(y);
	free(text);

	/* One line split on its own (the first, up to a newline). */
	text = fuzz_string(data + 1, size - 1);
	line = strtok(text, "\n");
	if (line != NULL) {
		long nf = csv_split(line, fields, UTIL_ARRAY_LEN(fields));

		if (nf > 0) {
			long i;

			for (i = 0; i < nf && i < (long)UTIL_ARRAY_LEN(fields); i++)
				if (fields[i] == NULL)
					abort();
		}
	}
	free(text);
	return 0;
}
