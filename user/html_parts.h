/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Private to the HTML and SVG output (html.h): what html.c, the report,
 * takes from html_chart.c, the chart, the escaping of text and the
 * classes' colours. Nothing else includes it.
 */
#ifndef PM_HTML_PARTS_H
#define PM_HTML_PARTS_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>

/* Classes per chart and per mix listed, at most. */
#define MAX_SERIES 32

/* s with &, <, >, " escaped for element text and attribute values. */
void html_esc(FILE *f, const char *s);

/* The classes in warning colours (IPsec, wireguard). */
bool html_class_warns(const char *cls);

/* dest's chart of the history hist, an <svg> element. */
void html_svg_chart(FILE *f, json_object *hist, json_object *dest);

#endif
