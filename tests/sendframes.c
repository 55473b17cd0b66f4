// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sendframes: send copies of a named case (tests/frames.c) out of an
 * interface, through an AF_PACKET socket, for the end-to-end tests.
 *
 *   sendframes IFACE CASE COUNT [--dst-mac MAC] [--src-mac MAC]
 *              [--src IP] [--dst IP]
 *   sendframes --list
 *
 * --src and --dst take an IPv4 or an IPv6 address and may be given once
 * per family: an IPv4 address aims the IPv4 cases, an IPv6 one the IPv6
 * cases; --inner-dst aims the packet inside a tunnel case the same way.
 * --list prints every case as
 * "name<TAB>class-or-reason<TAB>bytes<TAB>family<TAB>inner<TAB>inner-bytes<TAB>inner-dst"
 * (family 4, 6, or - for a frame without IP), bytes being what one frame
 * counts (0 for a reason); for a tunnel case, what --decap makes of the
 * packet inside (its class or reason), the bytes it counts (0 for a
 * reason) and the destination it counts under ("-" for a reason); "-", 0
 * and "-" for any other case.
 *
 * Prints nothing on success. Exit 2 on bad usage, 1 on a runtime failure,
 * with one line on stderr.
 *
 * Every frame is handed to the kernel: a send that finds no buffer
 * (ENOBUFS, EAGAIN) is retried after a pause. Frames go through the
 * qdisc layer (PACKET_QDISC_BYPASS stays off). On a veth pair a frame the
 * peer cannot take (its backlog or XDP ring full, or it is down) is lost
 * inside the send, before any program on the peer sees it, and counted in
 * the sender's tx_dropped: so frames go out in bursts of BURST, and after
 * each burst the frames tx_dropped grew by are sent again after a short
 * pause (the copies are identical). Nothing else should send on IFACE
 * meanwhile, or its drops are made up for too. A peer that drops nearly
 * everything is a runtime failure.
 */
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include "frames.h"
#include "classes.h"

#define ETH_HLEN	14
#define MAX_COUNT	100000000L
#define BURST		64		/* frames between two looks at tx_dropped */
#define STALL_SEC	10		/* give up when nothing goes for this long */

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sendframes: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (usage: sendframes IFACE CASE COUNT [--dst-mac MAC] "
		"[--src-mac MAC] [--src IP] [--dst IP] | sendframes --list)\n");
	exit(2);
}

static void list_cases(void)
{
	for (size_t i = 0; i < frame_ncases; i++) {
		const struct frame_case *c = &frame_cases[i];

		char dst[INET6_ADDRSTRLEN] = "-";
		uint8_t key[16];

		if (frame_case_inner_dst(c, NULL, key)) {
			if (c->spec.inner->l3 == FRAME_L3_IPV4)
				inet_ntop(AF_INET, key + 12, dst, sizeof(dst));
			else
				inet_ntop(AF_INET6, key, dst, sizeof(dst));
		}
		printf("%s\t%s\t%u\t%s\t%s\t%u\t%s\n", c->name, frame_case_outcome(c),
		       c->bytes, c->spec.l3 == FRAME_L3_IPV4 ? "4" :
		       c->spec.l3 == FRAME_L3_IPV6 ? "6" : "-",
		       !c->decap ? "-" : c->inner_class >= 0 ? class_name(c->inner_class) :
		       reason_name(c->inner_reason), c->decap ? c->inner_bytes : 0, dst);
	}
}

/* An IPv4 or IPv6 address for --src or --dst. */
static void parse_ip(const char *opt, const char *s, bool *has4, uint8_t a4[4],
		     bool *has6, uint8_t a6[16])
{
	if (inet_pton(AF_INET, s, a4) == 1) {
		if (*has4)
			usage_error("%s given twice for IPv4", opt);
		*has4 = true;
	} else if (inet_pton(AF_INET6, s, a6) == 1) {
		if (*has6)
			usage_error("%s given twice for IPv6", opt);
		*has6 = true;
	} else {
		usage_error("%s '%s' is not an IPv4 or IPv6 address", opt, s);
	}
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000 };

	nanosleep(&ts, NULL);
}

/* The interface's tx_dropped counter, read over netlink so that it is
 * the one of this network namespace whatever /sys shows; -1 if none. */
static long long tx_dropped(const char *iface)
{
	struct ifaddrs *ifa, *i;
	long long v = -1;

	if (getifaddrs(&ifa))
		return -1;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_PACKET && i->ifa_data &&
		    strcmp(i->ifa_name, iface) == 0) {
			v = ((const struct rtnl_link_stats *)i->ifa_data)->tx_dropped;
			break;
		}
	freeifaddrs(ifa);
	return v;
}

/* Sends one frame, waiting out a full queue. Returns 0 or an errno. */
static int send_one(int fd, const uint8_t *frame, int len)
{
	double stalled = 0;
	long wait = 20;		/* microseconds, doubled up to 10 ms */

	for (;;) {
		ssize_t n = send(fd, frame, len, 0);

		if (n == len)
			return 0;
		if (n >= 0)
			return EMSGSIZE;
		if (errno == EINTR)
			continue;
		if (errno != ENOBUFS && errno != EAGAIN)
			return errno;
		if (!stalled)
			stalled = now_sec();
		else if (now_sec() - stalled > STALL_SEC)
			return errno;
		/* EAGAIN: wait until the socket may send; ENOBUFS: the
		 * device's queue is full, which poll does not tell. */
		if (errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, 10);
		} else {
			pause_us(wait);
			if (wait < 10000)
				wait *= 2;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst-mac", required_argument, NULL, 'D' },
		{ "src-mac", required_argument, NULL, 'S' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "inner-dst", required_argument, NULL, 'i' },
		{ "list", no_argument, NULL, 'l' },
		{ "seq-step", required_argument, NULL, 'q' },
		{ "seq-start", required_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct frame_addrs addrs = { 0 };
	uint8_t frame[FRAME_MAX_LEN];
	const struct frame_case *c;
	struct sockaddr_ll sll = { 0 };
	long long tx0, drop0, drop;
	const char *iface;
	bool list = false;
	long count, sent, owed, seq_step = 0;
	long long seq_start = -1;
	struct frame_case cc;
	char *end;
	int opt, fd, len, err;
	unsigned int ifindex;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'D':
			if (frame_parse_mac(optarg, addrs.dst_mac))
				usage_error("--dst-mac '%s' is not a MAC address", optarg);
			addrs.has_dst_mac = true;
			break;
		case 'S':
			if (frame_parse_mac(optarg, addrs.src_mac))
				usage_error("--src-mac '%s' is not a MAC address", optarg);
			addrs.has_src_mac = true;
			break;
		case 's':
			parse_ip("--src", optarg, &addrs.has_src4, addrs.src4,
				 &addrs.has_src6, addrs.src6);
			break;
		case 'd':
			parse_ip("--dst", optarg, &addrs.has_dst4, addrs.dst4,
				 &addrs.has_dst6, addrs.dst6);
			break;
		case 'i':
			parse_ip("--inner-dst", optarg, &addrs.has_inner_dst4, addrs.inner_dst4,
				 &addrs.has_inner_dst6, addrs.inner_dst6);
			break;
		case 'l':
			list = true;
			break;
		case 'Q':
			errno = 0;
			seq_start = strtoll(optarg, &end, 0);
			if (errno || end == optarg || *end || seq_start < 0 || seq_start > 0xffffffffLL)
				usage_error("--seq-start '%s' is not a 32-bit sequence number", optarg);
			break;
		case 'q':
			errno = 0;
			seq_step = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || seq_step < 0 || seq_step > 1000000)
				usage_error("--seq-step '%s' is not a number from 0 to 1000000", optarg);
			break;
		case 'h':
			printf("usage: sendframes IFACE CASE COUNT [--dst-mac MAC] [--src-mac MAC]\n"
			       "                  [--src IP] [--dst IP] [--inner-dst IP]\n"
			       "                  [--seq-step N] [--seq-start S]\n"
			       "  --inner-dst IP: the destination of the packet inside a tunnel\n"
			       "  --seq-step N: the ESP/AH sequence number grows by N a frame\n"
			       "  --seq-start S: from S (default: the case's own)\n"
			       "       sendframes --list\n");
			return 0;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (list) {
		if (optind != argc)
			usage_error("--list takes no other arguments");
		list_cases();
		return 0;
	}
	if (argc - optind != 3)
		usage_error("wants IFACE CASE COUNT");
	iface = argv[optind];
	c = frame_case_find(argv[optind + 1]);
	if (!c)
		usage_error("no case '%s' (sendframes --list shows them)", argv[optind + 1]);
	errno = 0;
	count = strtol(argv[optind + 2], &end, 10);
	if (errno || end == argv[optind + 2] || *end || count < 0 || count > MAX_COUNT)
		usage_error("COUNT '%s' is not a number from 0 to %ld",
			    argv[optind + 2], MAX_COUNT);
	if (strlen(iface) >= IFNAMSIZ)
		usage_error("interface name '%s' is too long", iface);

	len = frame_case_build(c, &addrs, frame, sizeof(frame));
	if (len < 0) {
		fprintf(stderr, "sendframes: case '%s' does not build\n", c->name);
		return 1;
	}
	if (len < ETH_HLEN) {
		fprintf(stderr, "sendframes: case '%s' is %d bytes, shorter than an Ethernet "
			"header: AF_PACKET will not send it\n", c->name, len);
		return 1;
	}
	ifindex = if_nametoindex(iface);
	if (!ifindex) {
		fprintf(stderr, "sendframes: interface '%s': %s\n", iface, strerror(errno));
		return 1;
	}
	/* Protocol 0: this socket sends and receives nothing. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		fprintf(stderr, "sendframes: AF_PACKET socket: %s%s\n", strerror(errno),
			errno == EPERM ? " (needs CAP_NET_RAW)" : "");
		return 1;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "sendframes: binding to '%s': %s\n", iface, strerror(errno));
		close(fd);
		return 1;
	}

	/* Bursts of BURST frames. After each, the frames tx_dropped says
	 * were lost are owed and sent again (the copies are identical). */
	drop0 = tx0 = tx_dropped(iface);
	for (sent = 0, owed = count; owed > 0;) {
		long burst = owed < BURST ? owed : BURST;

		for (long i = 0; i < burst; i++) {
			if (seq_step || seq_start >= 0) {
				/* as an IPsec peer numbers its packets */
				uint32_t add = (uint32_t)(sent * seq_step);

				cc = *c;
				cc.spec.seq = (seq_start >= 0 ? (uint32_t)seq_start : c->spec.seq) + add;
				for (int k = 0; k < cc.spec.next; k++)
					if (cc.spec.ext[k].type == 51)
						cc.spec.ext[k].seq = (seq_start >= 0 ? (uint32_t)seq_start :
								      c->spec.ext[k].seq) + add;
				len = frame_case_build(&cc, &addrs, frame, sizeof(frame));
			}
			err = send_one(fd, frame, len);
			if (err) {
				fprintf(stderr, "sendframes: sending '%s' on '%s' after %ld frames: %s\n",
					c->name, iface, sent, strerror(err));
				close(fd);
				return 1;
			}
			sent++;
		}
		owed -= burst;
		if (drop0 < 0)
			continue;
		drop = tx_dropped(iface);
		if (drop >= 0 && (uint32_t)(drop - drop0)) {
			/* The receiver fell behind: let it drain, then make
			 * up for what it lost (a 32-bit counter). */
			owed += (uint32_t)(drop - drop0);
			drop0 = drop;
			pause_us(1000);
			if (sent > 4 * count + 1000) {
				fprintf(stderr, "sendframes: '%s' dropped %lld of %ld frames "
					"sent (is its peer up?)\n", iface, (long long)(uint32_t)(drop - tx0), sent);
				close(fd);
				return 1;
			}
		}
	}
	close(fd);
	return 0;
}
