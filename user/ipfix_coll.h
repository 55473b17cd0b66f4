/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the IPFIX exporter (ipfix.h): a collector's state, shared by
 * ipfix.c (libfixbuf sessions, templates, messages), ipfix_records.c
 * (the elements, the mix and alert records) and ipfix_transport.c (UDP
 * sends, the TCP connection and its bounded queue). Nothing outside
 * these three files includes it.
 */
#ifndef PM_IPFIX_COLL_H
#define PM_IPFIX_COLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <fixbuf/public.h>
#include "ipfix_target.h"

/* Bytes queued per TCP collector before records are dropped. */
#define IPFIX_TCP_QUEUE		(32u << 20)

/* The external templates of a session: mix records by family, alert
 * records by family, with or without the IPsec SPI and sequence. */
enum { T_MIX4, T_MIX6, T_AL4, T_AL4_SPI, T_AL6, T_AL6_SPI, T_NEXT };

/* Spec flags: which external template an element goes into. The internal
 * templates (ipfix_records.c's structs, byte for byte) take every element. */
#define F_V4	0x01u
#define F_V6	0x02u
#define F_AGG	0x04u
#define F_SPI	0x08u
#define F_INT	0x10u		/* padding: internal only */
#define F_ALL	UINT32_MAX

enum conn_state { C_DOWN, C_CONNECTING, C_UP };

/* A message waiting in a TCP queue: its length and records. */
struct qmsg {
	uint32_t len, records;
};
#define QMSG_MAX 65536

struct coll {
	struct ipfix *x;
	struct ipfix_target t;
	struct sockaddr_storage addr;
	socklen_t alen;
	fbSession_t *session;	/* owned by fbuf */
	fbExporter_t *exp;	/* owned by fbuf */
	fBuf_t *fbuf;
	uint8_t *msg;		/* what the exporter writes a message into */
	size_t msgsize;
	uint16_t itid_mix, itid_alert, etid[T_NEXT];
	uint16_t cur_itid, cur_etid;
	uint32_t in_msg;	/* records in the message being built */
	bool msg_open;		/* something (records, templates) in it */
	int fd;
	enum conn_state state;
	uint32_t events;	/* in the exporter's epoll */
	uint64_t next_try_ns, backoff_ns;
	uint64_t tmpl_ns;	/* templates last sent (UDP) */
	bool tmpl_due;
	/* TCP: bytes queued, and the messages they make */
	uint8_t *q;
	size_t qhead, qlen;
	struct qmsg *qm;
	size_t qm_head, qm_n;
	size_t qm_sent;		/* bytes of the head message already sent */
	uint64_t sent, dropped;
	uint64_t tmpl_sent;	/* times the templates went out */
	uint32_t connects;	/* TCP: transport sessions started */
	bool said_down;		/* told stderr; told again when it is back */
	bool said_slow;		/* TCP: told stderr the queue is full */
	bool round_failed;	/* UDP: a send failed in this interval */
	bool round_sent;	/* UDP: a send went out in this interval */
};

struct ipfix {
	fbInfoModel_t *model;
	struct coll c[IPFIX_MAX_COLLECTORS];
	int n;
	int ep, tfd;
	uint8_t agg4, agg6;
	uint32_t domain;
	uint64_t tmpl_every_ns;	/* UDP template refresh */
};

/* ipfix_transport.c */

/* A message of LEN bytes and RECORDS records to the collector: sent
 * (UDP), queued (TCP, up), or dropped and counted. */
void coll_send(struct coll *c, const uint8_t *m, size_t len, uint32_t records);
/* TCP: send from the head of the queue until it is empty or the socket
 * full. */
void tcp_flush(struct coll *c);
/* TCP: the connection down (queue dropped, counted), said once on
 * stderr with why, tried again after a backoff. */
void tcp_down(struct coll *c, const char *why);
/* TCP: a new connection started (non-blocking), its queue empty. */
void tcp_connect(struct coll *c);
/* TCP: EV (epoll events) on the collector's socket. */
void coll_event(struct coll *c, uint32_t ev);
/* UDP, at the start of an interval: the last interval's errors said. */
void udp_round(struct coll *c);
/* TCP: every queued message dropped, counted. */
void queue_drop_all(struct coll *c);

/* ipfix.c: the encoder, for ipfix_records.c (false: failed, said on
 * stderr). */

/* The message built so far, out to the transport. */
bool coll_emit(struct coll *c);
/* The internal and export templates of the records appended next. */
bool coll_set_tmpl(struct coll *c, uint16_t itid, uint16_t etid);
/* UDP: the templates first if due. */
void coll_templates_if_due(struct coll *c);
/* One record of size bytes; a full message goes out first. */
bool coll_append(struct coll *c, void *rec, size_t size);

/* ipfix_records.c: protomix's elements, for the information model, and
 * the specs of the mix and alert templates, for ipfix.c's sessions. */
extern fbInfoElement_t pm_elements[];
extern fbInfoElementSpec_t ipfix_mix_spec[];
extern fbInfoElementSpec_t ipfix_alert_spec[];

/* The transport calls nothing of ipfix.c: what a new connection needs
 * of the encoder (a session, the templates) ipfix.c's coll_connect does
 * around tcp_connect. */

#endif
