// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "snapgen.h"

uint64_t snapgen_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void v4(uint8_t a[16], uint32_t ip)
{
	memset(a, 0, 10);
	a[10] = a[11] = 0xff;
	a[12] = ip >> 24;
	a[13] = ip >> 16;
	a[14] = ip >> 8;
	a[15] = ip;
}

/* The i-th key: distinct for distinct i (the index is in the address). */
static void odd_key(uint8_t a[16], size_t i, uint64_t r)
{
	uint32_t low = (uint32_t)i;

	memset(a, 0, 16);
	switch (i % 8) {
	case 0:		/* IPv4, random with the index in its low bits */
		v4(a, (uint32_t)(r << 24) | (low & 0xffffff));
		a[12] = (uint8_t)(r >> 8);
		a[13] = low >> 16;
		a[14] = low >> 8;
		a[15] = low;
		a[12] = (a[12] & 0xf8) | ((low >> 24) & 7);
		break;
	case 1:		/* IPv4 with 0 and 255 bytes */
		v4(a, 0);
		a[12] = (low & 1) ? 255 : 0;
		a[13] = low >> 16;
		a[14] = low >> 8;
		a[15] = low;
		break;
	case 2:		/* 2001:db8::/32, random */
		a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
		for (int b = 4; b < 12; b++)
			a[b] = (uint8_t)(r >> (8 * (b - 4)));
		memcpy(a + 12, &low, 4);
		break;
	case 3:		/* runs of zeros: fe80::x, ::x (v4-compatible) */
		if (low & 8) {
			a[0] = 0xfe, a[1] = 0x80;
		}
		memcpy(a + 12, &low, 4);
		break;
	case 4:		/* ffff in odd places, not v4-mapped */
		memset(a, 0xff, 16);
		a[(low >> 3) % 10] = 0;
		a[10] = 0;
		memcpy(a + 12, &low, 4);
		break;
	case 5:		/* 64:ff9b::a.b.c.d (NAT64) */
		a[1] = 0x64, a[2] = 0xff, a[3] = 0x9b;
		memcpy(a + 12, &low, 4);
		break;
	case 6:		/* ::ffff:0:a.b.c.d and 0 in the middle */
		a[8] = 0xff, a[9] = 0xff;
		memcpy(a + 12, &low, 4);
		break;
	default:	/* random IPv6 with the index at the end */
		for (int b = 0; b < 8; b++)
			a[b] = (uint8_t)(r >> (8 * b));
		a[0] |= 0x20;
		memcpy(a + 12, &low, 4);
		break;
	}
}

void snapgen_fill(struct dest_table *t, size_t n, uint64_t seed, bool odd)
{
	uint64_t s = seed | 1;
	static const uint64_t day = 86400ull * 1000000000ull;

	for (size_t i = 0; i < n; i++) {
		struct pm_dest *d = &t->vals[i];
		uint8_t *a = t->keys[i].addr;
		uint64_t r = snapgen_rand(&s);

		memset(d, 0, sizeof(*d));
		if (!odd) {
			/* 10.0.0.0/8 and 172.16.0.0/12 by index, some IPv6 */
			if (i % 16 == 15) {
				memset(a, 0, 16);
				a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
				memcpy(a + 8, &i, 8);
			} else {
				v4(a, (i & 1 ? 0xac100000u : 0x0a000000u) + (uint32_t)(i >> 1));
			}
			for (int k = 0; k < 1 + (int)(r % 3); k++) {
				int c = (r >> (8 * k + 8)) % PM_NCLASS;
				uint64_t p = 1 + (snapgen_rand(&s) % 100000);

				d->packets[c] += p;
				d->bytes[c] += p * (60 + r % 1400);
			}
			d->first_seen = 1000000000ull + (r >> 20) % (3 * day);
			d->last_seen = d->first_seen + (r >> 8) % 60000000000ull;
			d->violations = (r % 97 == 0) ? r % 1000 : 0;
			d->flags = (r % 89 == 0) ? PM_D_SHIFTED : 0;
			if (r % 7 == 0)		/* seen inside VXLAN */
				d->flags |= PM_D_VIA(PM_C_VXLAN);
		} else {
			odd_key(a, i, r);
			switch (i % 11) {
			case 0:		/* nothing counted */
				break;
			case 1:		/* every class */
				for (int c = 0; c < PM_NCLASS; c++) {
					d->packets[c] = c + 1;
					d->bytes[c] = (c + 1) * 1500ull;
				}
				break;
			case 2:		/* the largest counts */
				d->packets[i / 11 % PM_NCLASS] = UINT64_MAX;
				d->bytes[i / 11 % PM_NCLASS] = UINT64_MAX;
				d->violations = UINT64_MAX;
				break;
			case 3:		/* ties: same total packets, other classes */
				d->packets[i / 11 % PM_NCLASS] = 1000;
				d->bytes[(i / 11 + 1) % PM_NCLASS] = 7;
				break;
			default:	/* one or more classes, random */
				for (int k = 0; k < 1 + (int)(r % 4); k++) {
					int c = (r >> (8 * k + 8)) % PM_NCLASS;

					d->packets[c] += snapgen_rand(&s) % 5000;
					d->bytes[c] += snapgen_rand(&s) % 5000000;
				}
				d->violations = r % 3 ? 0 : r % 100000;
			}
			/* times: 0, a shared second, or anywhere in 11 days */
			d->first_seen = i % 13 == 0 ? 0 : i % 5 == 0 ? 7 * day + 999999999 :
				snapgen_rand(&s) % (11 * day);
			d->last_seen = d->first_seen + (i % 3 ? snapgen_rand(&s) % (2 * day) : 0);
			d->flags = r % 4 == 0 ? PM_D_SHIFTED : 0;
			/* any PM_D_VIA bits, those of classes that are no
			 * tunnel (other, wireguard) included: never written */
			d->flags |= (uint32_t)(r >> 36) & PM_D_VIA_MASK;
			/* rule verdicts: cached for generation 3 (rule 1 or 2),
			 * stale, or a rule id beyond the rules */
			d->rules_gen = r % 5 == 0 ? 3 : r % 5 == 1 ? 2 : 0;
			d->rule_id = r % 7 == 0 ? 9 : (uint32_t)(r >> 40) % 3;
			d->denied = (uint32_t)(r >> 16) & PM_ALL_CLASSES;
		}
		d->key = t->keys[i];
	}
	t->n = n;
}
