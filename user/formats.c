// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A snapshot written in the format `protomix snapshot -f` names (formats.h). */
#include <errno.h>
#include <string.h>
#include "export.h"
#include "formats.h"
#include "html.h"
#include "util.h"

int export_fmt_from_name(const char *name)
{
	if (!strcmp(name, "json"))
		return EXPORT_JSON;
	if (!strcmp(name, "md"))
		return EXPORT_MD;
	if (!strcmp(name, "csv"))
		return EXPORT_CSV;
	if (!strcmp(name, "html"))
		return EXPORT_HTML;
	if (!strcmp(name, "svg"))
		return EXPORT_SVG;
	return -1;
}

struct write_ctx {
	enum export_fmt fmt;
	json_object *snap;
	const char *dest;
};

static int write_fmt(FILE *f, void *ctx)
{
	const struct write_ctx *w = ctx;

	switch (w->fmt) {
	case EXPORT_MD:
		return export_md(f, w->snap);
	case EXPORT_CSV:
		return export_csv(f, w->snap);
	case EXPORT_HTML:
		return export_html(f, w->snap,
				   json_object_object_get(w->snap, "evidence"));
	case EXPORT_SVG:
		return export_svg(f, w->snap, w->dest);
	default:
		fputs(json_object_to_json_string_ext(w->snap, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_NOSLASHESCAPE), f);
		fputc('\n', f);
		return ferror(f) ? -EIO : 0;
	}
}

int export_write(const char *path, enum export_fmt fmt, json_object *snap,
		 const char *dest)
{
	struct write_ctx w = { .fmt = fmt, .snap = snap, .dest = dest };

	return write_output(path ? path : "-", write_fmt, &w);
}
