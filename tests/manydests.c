// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * manydests: fill a watch's map quickly. One TCP frame (Ethernet, IPv4,
 * TCP to port 80, 54 bytes) to each of COUNT consecutive IPv4 addresses
 * from BASE, out of IFACE through an AF_PACKET socket. For the CPU
 * figure of the terminal view with 100,000 destinations
 * (tests/top_test.sh --cpu), where sendframes, one destination per run,
 * would take minutes.
 *
 *   manydests IFACE COUNT --dst-mac MAC [--src-mac MAC] [--base A.B.C.D]
 *
 * Frames go in bursts of BURST; when the interface's tx_dropped grew
 * during a burst (a veth peer's backlog was full), the burst is sent
 * again after a pause, so every address arrives at least once (some
 * twice). Prints nothing on success; exit 2 on bad usage, 1 on failure,
 * with one line on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#define BURST		64
#define FRAME_LEN	54
#define MAX_COUNT	(1L << 24)
#define MAX_RETRIES	1000

static void die(int rc, const char *fmt, const char *what)
{
	fprintf(stderr, "manydests: ");
	fprintf(stderr, fmt, what);
	if (rc == 2)
		fprintf(stderr, " (usage: manydests IFACE COUNT --dst-mac MAC [--src-mac MAC] [--base A.B.C.D])");
	fprintf(stderr, "\n");
	exit(rc);
}

static void parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &end) != 6)
		die(2, "invalid MAC '%s'", s);
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			die(2, "invalid MAC '%s'", s);
		mac[i] = b[i];
	}
}

static uint16_t csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += b[i] << 8 | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static void build(uint8_t *f, const uint8_t dst_mac[6], const uint8_t src_mac[6],
		  uint32_t dst)
{
	uint8_t *ip = f + 14, *tcp = ip + 20;
	uint16_t c;

	memset(f, 0, FRAME_LEN);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08;				/* IPv4 */
	ip[0] = 0x45;
	ip[3] = 40;				/* total length */
	ip[8] = 64;				/* ttl */
	ip[9] = 6;				/* TCP */
	ip[12] = 10, ip[13] = 10, ip[14] = 1, ip[15] = 10;	/* 10.10.1.10 */
	dst = htonl(dst);
	memcpy(ip + 16, &dst, 4);
	c = htons(csum(ip, 20));
	memcpy(ip + 10, &c, 2);
	tcp[0] = 0xc3, tcp[1] = 0x50;		/* 50000 */
	tcp[3] = 80;
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;				/* SYN */
	tcp[14] = 0xff, tcp[15] = 0xff;
}

static unsigned long long tx_dropped(const char *ifname)
{
	unsigned long long v = 0;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_dropped", ifname);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dst-mac", required_argument, NULL, 'd' },
		{ "src-mac", required_argument, NULL, 's' },
		{ "base", required_argument, NULL, 'b' },
		{}
	};
	uint8_t dst_mac[6], src_mac[6] = { 0x02, 0, 0, 0, 0, 1 }, frame[FRAME_LEN];
	struct in_addr base = { .s_addr = htonl(0x0a400000) };	/* 10.64.0.0 */
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	bool have_dst = false;
	unsigned long long before;
	long count, sent = 0;
	char *end;
	int c, fd, retries = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			parse_mac(optarg, dst_mac);
			have_dst = true;
			break;
		case 's':
			parse_mac(optarg, src_mac);
			break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &base) != 1)
				die(2, "invalid --base '%s'", optarg);
			break;
		default:
			die(2, "%s", "unknown option");
		}
	}
	if (argc - optind != 2 || !have_dst)
		die(2, "%s", "IFACE, COUNT and --dst-mac are needed");
	errno = 0;
	count = strtol(argv[optind + 1], &end, 10);
	if (errno || *end || count < 1 || count > MAX_COUNT)
		die(2, "invalid COUNT '%s'", argv[optind + 1]);
	sll.sll_ifindex = if_nametoindex(argv[optind]);
	if (!sll.sll_ifindex)
		die(1, "no interface '%s'", argv[optind]);
	sll.sll_protocol = htons(ETH_P_IP);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		die(1, "cannot open an AF_PACKET socket: %s", strerror(errno));

	while (sent < count) {
		long n = count - sent < BURST ? count - sent : BURST;

		before = tx_dropped(argv[optind]);
		for (long i = 0; i < n; i++) {
			build(frame, dst_mac, src_mac, ntohl(base.s_addr) + sent + i);
			while (send(fd, frame, FRAME_LEN, 0) < 0) {
				if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
					die(1, "send: %s", strerror(errno));
				pause_ms(1);
			}
		}
		if (tx_dropped(argv[optind]) != before) {
			if (++retries > MAX_RETRIES)
				die(1, "%s: the peer drops nearly everything", argv[optind]);
			pause_ms(2);
			continue;		/* the same burst again */
		}
		sent += n;
	}
	close(fd);
	return 0;
}
