// SPDX-License-Identifier: MIT
/*
 * pngscale: a PNG scaled to WIDTH pixels (the height in proportion) with
 * cairo's image surfaces and its best filter: for the small copies of the report's pages in docs/img (docs/reports.md).
 *
 *   pngscale IN.png OUT.png WIDTH
 */
#include <stdio.h>
#include <stdlib.h>

#include <cairo.h>

int main(int argc, char **argv)
{
	cairo_surface_t *in, *rgb;
	cairo_t *cr;
	int w, h, nw, nh;
	double k;

	if (argc != 4 || (nw = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: pngscale IN.png OUT.png WIDTH\n");
		return 2;
	}
	in = cairo_image_surface_create_from_png(argv[1]);
	if (cairo_surface_status(in) != CAIRO_STATUS_SUCCESS) {
		fprintf(stderr, "pngscale: %s: %s\n", argv[1],
			cairo_status_to_string(cairo_surface_status(in)));
		return 1;
	}
	w = cairo_image_surface_get_width(in);
	h = cairo_image_surface_get_height(in);
	k = (double)nw / w;
	nh = (int)(h * k + 0.5);
	rgb = cairo_image_surface_create(CAIRO_FORMAT_RGB24, nw, nh);
	cr = cairo_create(rgb);
	cairo_scale(cr, k, k);
	cairo_set_source_surface(cr, in, 0, 0);
	cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BEST);
	cairo_paint(cr);
	cairo_destroy(cr);
	cairo_surface_flush(rgb);
	if (cairo_surface_write_to_png(rgb, argv[2]) != CAIRO_STATUS_SUCCESS) {
		fprintf(stderr, "pngscale: cannot write %s\n", argv[2]);
		return 1;
	}
	cairo_surface_destroy(rgb);
	cairo_surface_destroy(in);
	return 0;
}
