/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Names of the protocol classes, parse-failure reasons and hooks: the
 * words used on the command line, in JSON keys and in table columns. */
#ifndef PM_CLASSES_H
#define PM_CLASSES_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "protomix.h"

const char *class_name(unsigned int c);
/* Its definition, as `protomix classes` prints it. */
const char *class_desc(unsigned int c);
/* Returns the class for a name, or -1. */
int class_from_name(const char *name);
/* A bit per IPsec class: esp, ah, esp_udp, ike (docs/classes.md, "Class
 * masks"). */
uint32_t class_ipsec_mask(void);

const char *reason_name(unsigned int r);
/* Its definition, as `protomix classes` prints it. */
const char *reason_desc(unsigned int r);
const char *hook_name(unsigned int h);

/* "tcp,icmp" and ["tcp","icmp"] for a class mask. */
char *classes_text(uint32_t mask, char *buf, size_t len);
json_object *classes_json(uint32_t mask);

#endif
