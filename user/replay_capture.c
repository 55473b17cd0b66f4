// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading a capture for `protomix replay` (replay.h), apart from running
 * it so that it can be tested and fuzzed without BPF: a pcap or pcapng
 * file opened through libpcap with nanosecond timestamps (a folder, an
 * empty file, another format or an unsupported link type refused with
 * the reason), read frame by frame, each turned into the Ethernet frame
 * the classifier takes (raw IP, Linux cooked and BSD loopback headers
 * replaced, a link-layer header cut short marked, at most REPLAY_RUN_MAX
 * bytes kept).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
/* libpcap's classic-BPF header clashes with linux/bpf.h: only the DLTs. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <pcap/dlt.h>
#include "replay.h"

/* ---- reading a capture -------------------------------------------- */

bool replay_dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
		return true;
	default:
		return false;
	}
}

const char *replay_dlt_name(int dlt, char *buf, size_t len)
{
	const char *name = pcap_datalink_val_to_name(dlt);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "DLT %d", dlt);
	return buf;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* BSD loopback: the address family, in the writer's byte order (DLT_NULL)
 * or in network order (DLT_LOOP). */
static uint16_t family_ethertype(int dlt, const uint8_t *p)
{
	uint32_t be = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
	uint32_t le = (uint32_t)p[3] << 24 | p[2] << 16 | p[1] << 8 | p[0];
	uint32_t fam = dlt == DLT_LOOP || be <= 0xffff ? be : le;

	switch (fam) {
	case 2:				/* AF_INET everywhere */
		return 0x0800;
	case 10:			/* AF_INET6: Linux */
	case 24:			/* NetBSD, OpenBSD */
	case 28:			/* FreeBSD */
	case 30:			/* macOS */
		return 0x86dd;
	default:
		return 0;		/* non_ip */
	}
}

/* A raw IP frame gains 14 bytes: a record of 4 GB stays at 4 GB. */
static uint32_t clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int replay_to_eth(int dlt, const uint8_t *pkt, uint32_t caplen,
		  uint32_t wire_len, struct replay_frame *fr)
{
	uint8_t *eth = fr->data;
	uint32_t skip;		/* link-layer bytes replaced by Ethernet */
	uint16_t type;

	if (wire_len < caplen)
		wire_len = caplen;
	fr->link_trunc = false;
	memset(eth, 0, ETH_HDR_LEN);
	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < ETH_HDR_LEN)
			goto trunc;
		fr->wire_len = wire_len;
		fr->cap_len = caplen;
		fr->len = caplen < REPLAY_RUN_MAX ? caplen : REPLAY_RUN_MAX;
		memcpy(fr->data, pkt, fr->len);
		return 0;
	case DLT_RAW:
		skip = 0;
		type = caplen && pkt[0] >> 4 == 6 ? 0x86dd : 0x0800;
		break;
	case DLT_IPV4:
		skip = 0;
		type = 0x0800;
		break;
	case DLT_IPV6:
		skip = 0;
		type = 0x86dd;
		break;
	case DLT_LINUX_SLL:	/* type, ARPHRD, addr len, addr[8], protocol */
		skip = 16;
		if (caplen < skip)
			goto trunc;
		type = get16(pkt + 14);
		if (get16(pkt + 4) == 6)
			memcpy(eth + 6, pkt + 6, 6);
		break;
	case DLT_LINUX_SLL2:	/* protocol, 0, ifindex, ARPHRD, type, addr len, addr[8] */
		skip = 20;
		if (caplen < skip)
			goto trunc;
		type = get16(pkt);
		if (pkt[11] == 6)
			memcpy(eth + 6, pkt + 12, 6);
		break;
	case DLT_NULL:
	case DLT_LOOP:
		skip = 4;
		if (caplen < skip)
			goto trunc;
		type = family_ethertype(dlt, pkt);
		break;
	default:
		return -1;
	}
	eth[12] = type >> 8;
	eth[13] = type & 0xff;
	fr->cap_len = clamp32((uint64_t)caplen - skip + ETH_HDR_LEN);
	fr->wire_len = clamp32((uint64_t)wire_len - skip + ETH_HDR_LEN);
	fr->len = fr->cap_len < REPLAY_RUN_MAX ? fr->cap_len : REPLAY_RUN_MAX;
	memcpy(eth + ETH_HDR_LEN, pkt + skip, fr->len - ETH_HDR_LEN);
	return 0;
trunc:
	fr->link_trunc = true;
	fr->len = 0;
	fr->cap_len = caplen;
	fr->wire_len = wire_len;
	return 0;
}

int capture_fopen(struct capture *c, FILE *f, const char *name)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "", dlt[64];
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->name = name;
	if (fstat(fileno(f), &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(c->err, sizeof(c->err), "is a directory, not a capture file");
			fclose(f);
			return -1;
		}
		if (S_ISREG(st.st_mode) && st.st_size == 0) {
			snprintf(c->err, sizeof(c->err),
				 "empty file (0 bytes): not a pcap or pcapng capture");
			fclose(f);
			return -1;
		}
	}
	c->pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO,
							    errbuf);
	if (!c->pcap) {
		snprintf(c->err, sizeof(c->err), "not a pcap or pcapng capture (%s)",
			 errbuf);
		fclose(f);
		return -1;
	}
	c->dlt = pcap_datalink(c->pcap);
	if (!replay_dlt_supported(c->dlt)) {
		snprintf(c->err, sizeof(c->err),
			 "unsupported link type %s (%d): replay reads Ethernet, raw IP, Linux cooked (SLL, SLL2) and BSD loopback captures",
			 replay_dlt_name(c->dlt, dlt, sizeof(dlt)), c->dlt);
		capture_close(c);
		return -1;
	}
	return 0;
}

int capture_open(struct capture *c, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;

	if (!f) {
		memset(c, 0, sizeof(*c));
		c->name = path;
		snprintf(c->err, sizeof(c->err), "cannot open: %s", strerror(errno));
		return -1;
	}
	return capture_fopen(c, f, path);
}

int capture_next(struct capture *c, struct replay_frame *fr)
{
	struct pcap_pkthdr *h;
	const u_char *pkt;
	int rc;

	rc = pcap_next_ex(c->pcap, &h, &pkt);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		snprintf(c->err, sizeof(c->err), "frame %llu: %s",
			 (unsigned long long)c->frames + 1, pcap_geterr(c->pcap));
		return -1;
	}
	/* ts.tv_usec holds nanoseconds: opened with PCAP_TSTAMP_PRECISION_NANO */
	fr->ts_ns = (uint64_t)(int64_t)h->ts.tv_sec * 1000000000ull +
		    (uint64_t)h->ts.tv_usec;
	if (replay_to_eth(c->dlt, pkt, h->caplen, h->len, fr)) {
		snprintf(c->err, sizeof(c->err), "frame %llu: unsupported link type",
			 (unsigned long long)c->frames + 1);
		return -1;
	}
	c->frames++;
	return 1;
}

void capture_close(struct capture *c)
{
	if (c->pcap)
		pcap_close(c->pcap);	/* closes the stream */
	c->pcap = NULL;
}
