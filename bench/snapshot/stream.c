// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * build/bench/snapshot_stream: how long snapshot_stream
 * (user/snapshot_stream.c) takes to write the snapshot of a big table, and how much the writer's
 * memory grows (bench/snapshot_big.sh measures the same end to end,
 * through a watch and `protomix snapshot`), against the goal of issue
 * 12: 1,000,000 destinations in < 2 s with the RSS growing < 100 MB. The
 * table is generated (tests/snapgen.c: a gateway's kind of destinations,
 * mostly IPv4) with 1024 alerts and their evidence, as a watch answers
 * `protomix snapshot`.
 *
 *   snapshot_stream [--dests N] [--rounds R] [--old-dests M]
 *
 * Each round writes the document (the socket's form: one line of
 * JSON_C_TO_STRING_PLAIN) into /dev/null, into a pipe read by another
 * process, and the file's form (PRETTY, as watch -o) into /dev/null.
 * The RSS growth is the peak RSS during the call (VmHWM, reset through
 * /proc/self/clear_refs) minus the RSS before it. For comparison, the
 * old way (snapshot_json, then json-c's text of it) with M destinations
 * (default 200,000, the figure; 0: skip it).
 *
 * Prints a readable account on stderr (PASS or MISS against the goal:
 * a figure, never an exit status) and one JSON object on stdout. Exit 0,
 * 1 on a runtime failure, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "snapgen.h"
#include "snapshot.h"
#include "util.h"

#define GOAL_S		2.0
#define GOAL_MB		100.0
#define SOCKET_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define FILE_FLAGS	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* VmRSS or VmHWM of this process, in MB (0 if unreadable). */
static double status_mb(const char *field)
{
	char line[256];
	double kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)) && line[strlen(field)] == ':')
			kb = strtod(line + strlen(field) + 1, NULL);
	if (f)
		fclose(f);
	return kb / 1024;
}

/* The peak RSS from now on starts at the current RSS. */
static void reset_peak(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "5", 1) != 1)
			fprintf(stderr, "snapshot_stream: cannot reset the peak RSS\n");
		close(fd);
	}
}

/* CPU seconds of this process so far (the writer; not the reader). */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

struct run {
	double secs, cpu, growth_mb;
	long long bytes;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One write of the document into f; the reader (a pid, or 0) drains a
 * pipe and is waited for, its byte count read from `back`. */
static int one(const struct pm_view *v, const struct alert_log *ev, int flags,
	       bool piped, struct run *r)
{
	int fds[2], back[2], err;
	double rss0, t0, c0;
	pid_t pid = 0;
	FILE *f;

	r->bytes = -1;
	if (!piped) {
		f = fopen("/dev/null", "w");
	} else {
		if (pipe(fds) || pipe(back))
			return -errno;
		pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0) {	/* the client: read everything, say how much */
			char buf[65536];
			long long total = 0;
			ssize_t n;

			close(fds[1]);
			close(back[0]);
			while ((n = read(fds[0], buf, sizeof(buf))) > 0)
				total += n;
			if (write(back[1], &total, sizeof(total)) != sizeof(total))
				_exit(1);
			_exit(0);
		}
		close(fds[0]);
		close(back[1]);
		f = fdopen(fds[1], "w");
	}
	if (!f)
		return -errno;
	reset_peak();
	rss0 = status_mb("VmRSS");
	t0 = now_s();
	c0 = cpu_s();
	err = snapshot_stream(f, v, ev, flags);
	if (fclose(f) && !err)
		err = -errno;
	r->secs = now_s() - t0;
	r->cpu = cpu_s() - c0;
	r->growth_mb = status_mb("VmHWM") - rss0;
	if (pid > 0) {
		if (read(back[0], &r->bytes, sizeof(r->bytes)) != sizeof(r->bytes))
			r->bytes = -1;
		close(back[0]);
		waitpid(pid, NULL, 0);
	}
	return err;
}

/* The old way: the whole document as json-c objects, then its text. */
static int old_way(const struct pm_view *v, const struct alert_log *ev,
		   struct run *r)
{
	double rss0, t0, c0;
	json_object *o;
	const char *s;
	FILE *f = fopen("/dev/null", "w");

	if (!f)
		return -errno;
	reset_peak();
	rss0 = status_mb("VmRSS");
	t0 = now_s();
	c0 = cpu_s();
	o = snapshot_json(v);
	json_object_object_add(o, "evidence", evidence_json(ev));
	s = json_object_to_json_string_ext(o, SOCKET_FLAGS);
	r->bytes = strlen(s) + 1;
	fputs(s, f);
	fputc('\n', f);
	fclose(f);
	r->growth_mb = status_mb("VmHWM") - rss0;
	json_object_put(o);
	r->secs = now_s() - t0;
	r->cpu = cpu_s() - c0;
	return 0;
}

static void fill_alerts(struct alert_log *log)
{
	uint64_t s = 99;

	for (int i = 0; i < 1024; i++) {
		struct alert a = { .kind = PM_K_SHIFT, .class = PM_C_ESP,
				   .hook = PM_HOOK_TC_INGRESS, .iface = "lan0",
				   .spi = 0xd7ca145d, .len = 100, .wire_len = 148,
				   .cap_len = PM_SNAP_LEN, .expected = 1 };

		a.real_ns = 1700000000000000000ull + i * 1000000ull;
		a.src[10] = a.src[11] = a.dst[10] = a.dst[11] = 0xff;
		a.src[12] = 10, a.src[15] = i;
		a.dst[12] = 10, a.dst[13] = 20, a.dst[15] = 80;
		a.seq = i;
		for (int b = 0; b < PM_SNAP_LEN; b++)
			a.frame[b] = snapgen_rand(&s);
		alert_log_add(log, &a);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: snapshot_stream [--dests N] [--rounds R] [--old-dests M]\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t n = 1000000, rounds = 3, old_n = 200000;
	static const char *what[3] = { "devnull", "pipe", "file_devnull" };
	double secs[3][32], cpu[3][32], growth = 0, worst = 0, med[3], cmed[3];
	struct alert_log log;
	struct dest_table t;
	struct pm_view v = { 0 };
	struct run r;
	bool ok;
	int err;

	for (int i = 1; i < argc; i++) {
		uint64_t *to = !strcmp(argv[i], "--dests") ? &n :
			       !strcmp(argv[i], "--rounds") ? &rounds :
			       !strcmp(argv[i], "--old-dests") ? &old_n : NULL;

		if (!to || i + 1 >= argc ||
		    !parse_u64(argv[++i], to == &rounds ? 1 : to == &n ? 1 : 0,
			       to == &rounds ? 32 : 10000000, to))
			return usage();
	}
	signal(SIGPIPE, SIG_IGN);
	if (dest_table_init(&t, n > old_n ? n : old_n) || alert_log_init(&log, 1024)) {
		fprintf(stderr, "snapshot_stream: out of memory\n");
		return 1;
	}
	fill_alerts(&log);
	snapgen_fill(&t, n, 1, false);
	v.started_ns = 1000000000ull;
	v.taken_ns = 4 * 86400ull * 1000000000ull;
	v.dests = &t;
	v.alerts = &log;
	v.max_dests = n;
	v.total.new_dests = n;

	fprintf(stderr, "snapshot_stream: %lu destinations, 1024 alerts with evidence, %lu rounds\n",
		(unsigned long)n, (unsigned long)rounds);
	for (uint64_t k = 0; k < rounds; k++) {
		for (int m = 0; m < 3; m++) {
			err = one(&v, &log, m == 2 ? FILE_FLAGS : SOCKET_FLAGS, m == 1, &r);
			if (err) {
				fprintf(stderr, "snapshot_stream: %s: %s\n", what[m], strerror(-err));
				return 1;
			}
			secs[m][k] = r.secs;
			cpu[m][k] = r.cpu;
			worst = r.secs > worst ? r.secs : worst;
			growth = r.growth_mb > growth ? r.growth_mb : growth;
			fprintf(stderr, "  round %lu %-13s %6.3f s (CPU %6.3f s)  RSS %+6.1f MB",
				(unsigned long)k + 1, what[m], r.secs, r.cpu, r.growth_mb);
			if (m == 1)
				fprintf(stderr, "  the reader got %lld bytes", r.bytes);
			fputc('\n', stderr);
		}
	}
	for (int m = 0; m < 3; m++) {
		med[m] = median_of(secs[m], rounds);
		cmed[m] = median_of(cpu[m], rounds);
	}
	/* the goal on the medians: other work on the machine slows a round */
	ok = med[0] < GOAL_S && med[1] < GOAL_S && med[2] < GOAL_S && growth < GOAL_MB;
	fprintf(stderr, "snapshot_stream %lu dests, median of %lu rounds: %.3f s (/dev/null), "
		"%.3f s (pipe), %.3f s (pretty file form); CPU %.3f / %.3f / %.3f s; "
		"slowest round %.3f s; RSS growth at most %.1f MB: %s (goal < %.0f s, < %.0f MB)\n",
		(unsigned long)n, (unsigned long)rounds, med[0], med[1], med[2],
		cmed[0], cmed[1], cmed[2], worst, growth, ok ? "PASS" : "MISS",
		GOAL_S, GOAL_MB);

	printf("{\"snapshot_dests\":%lu,\"snapshot_stream_s\":{\"devnull\":%.4f,"
	       "\"pipe\":%.4f,\"file_devnull\":%.4f,\"slowest\":%.4f},"
	       "\"snapshot_stream_cpu_s\":{\"devnull\":%.4f,\"pipe\":%.4f,"
	       "\"file_devnull\":%.4f},"
	       "\"snapshot_rss_growth_mb\":%.1f,\"snapshot_goal_met\":%s",
	       (unsigned long)n, med[0], med[1], med[2], worst, cmed[0], cmed[1],
	       cmed[2], growth, ok ? "true" : "false");
	if (old_n) {
		snapgen_fill(&t, old_n, 1, false);
		v.max_dests = v.total.new_dests = old_n;
		if (old_way(&v, &log, &r)) {
			fprintf(stderr, "snapshot_stream: old way failed\n");
			return 1;
		}
		fprintf(stderr, "old way (snapshot_json + json-c text) %lu dests: %.3f s (CPU %.3f s), "
			"RSS %+.1f MB, %lld bytes\n", (unsigned long)old_n, r.secs, r.cpu,
			r.growth_mb, r.bytes);
		printf(",\"old_dests\":%lu,\"old_s\":%.4f,\"old_cpu_s\":%.4f,"
		       "\"old_rss_growth_mb\":%.1f", (unsigned long)old_n, r.secs, r.cpu,
		       r.growth_mb);
	}
	printf("}\n");
	dest_table_free(&t);
	alert_log_free(&log);
	return 0;
}
