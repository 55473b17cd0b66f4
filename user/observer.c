// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <getopt.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attach.h"
#include "observer.h"
#include "probe.h"
#include "protomix.skel.h"	/* after protomix.h: its rodata holds a struct pm_dest */
#include "util.h"

/* The end of the verifier's log of the last program the kernel refused,
 * taken from libbpf's messages while the programs load (libbpf asks the
 * kernel for the log when a load fails and passes it to its print
 * callback): what to tell the user instead of a bare errno. */
static struct {
	libbpf_print_fn_t prev;
	char prog[64];
	char tail[4096];	/* the last bytes of the log */
} vlog;

static int capture_print(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	const char *begin, *end, *name;
	char *msg = NULL;
	size_t n;
	va_list cp;
	int ret = 0;

	va_copy(cp, ap);
	if (vasprintf(&msg, fmt, cp) < 0)
		msg = NULL;
	va_end(cp);
	if (msg && (begin = strstr(msg, "-- BEGIN PROG LOAD LOG --"))) {
		/* "prog 'NAME': -- BEGIN PROG LOAD LOG --\n...-- END PROG LOAD LOG --" */
		name = strstr(msg, "prog '");
		if (name && name < begin) {
			name += 6;
			n = strcspn(name, "'");
			snprintf(vlog.prog, sizeof(vlog.prog), "%.*s", (int)n, name);
		}
		begin = strchr(begin, '\n');
		begin = begin ? begin + 1 : msg + strlen(msg);
		end = strstr(begin, "-- END PROG LOAD LOG --");
		n = end ? (size_t)(end - begin) : strlen(begin);
		if (n >= sizeof(vlog.tail)) {
			begin += n - (sizeof(vlog.tail) - 1);
			n = sizeof(vlog.tail) - 1;
		}
		memcpy(vlog.tail, begin, n);
		vlog.tail[n] = 0;
	}
	free(msg);
	if (vlog.prev)
		ret = vlog.prev(level, fmt, ap);
	return ret;
}

/* The verifier's statistics at the end of its log, not its reason. */
static bool log_trailer(const char *line, size_t n)
{
	static const char *const skip[] = {
		"processed ", "verification time", "stack depth", "max_states_per_insn",
		"-- END", "Func#", "func#", "Validating ",
	};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (n >= strlen(skip[i]) && !strncmp(line, skip[i], strlen(skip[i])))
			return true;
	return false;
}

/* The line of the captured log that says why (its length in *len), or
 * NULL when no program was refused. */
static const char *verifier_cause(size_t *len)
{
	const char *t = vlog.tail, *e = t + strlen(t), *line;

	if (!*t)
		return NULL;
	/* backwards over the lines: the last that is not a statistic */
	while (e > t) {
		const char *stop = e;

		while (stop > t && (stop[-1] == '\n' || stop[-1] == ' '))
			stop--;
		line = stop;
		while (line > t && line[-1] != '\n')
			line--;
		if (stop > line && !log_trailer(line, stop - line)) {
			*len = stop - line;
			return line;
		}
		e = line;
	}
	*len = strlen("(the verifier gave no reason)");
	return "(the verifier gave no reason)";
}

/* -v: the end of the verifier's log, the instructions that led there. */
static void verifier_last_lines(void)
{
	const char *t = vlog.tail, *line;
	int lines = 0;

	for (line = t + strlen(t); line > t && lines <= 12; line--)
		if (line[-1] == '\n')
			lines++;
	while (*line == '\n')
		line++;
	fprintf(stderr, "protomix: the verifier's last lines:\n%s", line);
}

/* Whether this process has what loading takes: CAP_SYS_ADMIN, or
 * CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (5.8 and later). Without
 * CAP_PERFMON the verifier applies the rules of unprivileged programs
 * and refuses ours (on 6.1: "attempt to corrupt spilled pointer on
 * stack"): a matter of permissions, not of the kernel. */
static bool have_bpf_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	const int need[] = { 39 /* CAP_BPF */, 38 /* CAP_PERFMON */, CAP_NET_ADMIN };

	if (syscall(SYS_capget, &h, d))
		return true;	/* cannot tell: do not blame permissions */
#define HAS(c) (d[(c) / 32].effective & (1u << ((c) % 32)))
	if (HAS(CAP_SYS_ADMIN))
		return true;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!HAS(need[i]))
			return false;
#undef HAS
	return true;
}

#define NEED_CAPS "run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON"

static int load_error(int err)
{
	size_t len = 0;
	const char *cause = verifier_cause(&len);

	if (cause && !have_bpf_caps()) {
		pm_err("permission denied loading the BPF programs: " NEED_CAPS
		       " (without them the verifier refused %s: %.*s)",
		       vlog.prog[0] ? vlog.prog : "?", (int)len, cause);
	} else if (cause) {
		/* -EACCES or -EINVAL from the verifier, even as root */
		pm_err("the kernel's verifier refused the BPF program %s: %.*s%s",
		       vlog.prog[0] ? vlog.prog : "?", (int)len, cause,
		       pm_verbose ? "" : " (run with -v for the verifier's log)");
		if (pm_verbose)
			verifier_last_lines();
	} else if (err == -EPERM || err == -EACCES) {
		pm_err("permission denied loading the BPF programs: " NEED_CAPS);
	} else if (err == -ENOSYS) {
		pm_err("this kernel has no BPF support (bpf() returned ENOSYS)");
	} else {
		pm_err("cannot load the BPF programs: %s (run with -v for libbpf's log)",
		       strerror(-err));
	}
	return EXIT_RUNTIME;
}

void observer_alert(struct observer *ob, const struct alert *a)
{
	alert_log_add(&ob->alerts, a);
	if (ob->on_alert)
		ob->on_alert(a, ob->ctx);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct alert a;

	if (size < sizeof(struct pm_event))
		return 0;
	alert_from_event(&a, data);
	observer_alert(ctx, &a);
	return 0;
}

/* A new trie filled with rs, put in the rules slot in one step (the old
 * one is freed by the kernel once no program holds it). 0 or -errno. */
static int rules_install(struct observer *ob, const struct ruleset *rs)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	__u32 zero = 0;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "rules_trie",
			    sizeof(struct pm_rule_key), sizeof(struct pm_rule),
			    RULES_MAX, &o);
	if (fd < 0)
		return -errno;
	err = ruleset_sync(fd, NULL, rs);
	if (!err && bpf_map_update_elem(bpf_map__fd(ob->skel->maps.rules), &zero,
					&fd, BPF_ANY))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	if (ob->rules_fd > 0)
		close(ob->rules_fd);
	ob->rules_fd = fd;
	return 0;
}

int observer_open(struct observer *ob, const struct observer_cfg *cfg,
		  struct ruleset *rules)
{
	uint64_t seed;
	int err;

	memset(ob, 0, sizeof(*ob));
	ob->on_alert = cfg->on_alert;
	ob->ctx = cfg->ctx;
	ob->nbase = cfg->base ? cfg->base->n : 0;
	if (alert_log_init(&ob->alerts, OBSERVER_ALERTS_KEPT)) {
		pm_err("out of memory");
		return EXIT_RUNTIME;
	}
	pm_libbpf_quiet();
	/* a kernel without what the programs need: named in one line */
	err = probe_require();
	if (err)
		goto fail;
	ob->skel = protomix__open();
	if (!ob->skel) {
		err = load_error(-errno);
		goto fail;
	}
	/* The seed keeps anyone who sends traffic from choosing addresses
	 * that all fall into the same buckets. */
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
		pm_err("cannot read random bytes: %s", strerror(errno));
		err = EXIT_RUNTIME;
		goto fail;
	}
	ob->max_dests = dest_maps_size(ob->skel, cfg->max_dests, seed);
	bpf_map__set_max_entries(ob->skel->maps.baseline, ob->nbase ? ob->nbase : 1);
	ob->skel->rodata->cfg_sample_rate = cfg->sample_rate;
	ob->skel->rodata->cfg_replay = cfg->replay;
	ob->skel->rodata->cfg_baseline = ob->nbase > 0;
	ob->agg4 = cfg->agg4 ? cfg->agg4 : PM_AGG4_NONE;
	ob->agg6 = cfg->agg6 ? cfg->agg6 : PM_AGG6_NONE;
	ob->skel->rodata->cfg_agg4 = ob->agg4;
	ob->skel->rodata->cfg_agg6 = ob->agg6;
	ob->skel->rodata->cfg_decap = !cfg->no_decap;
	memset(&vlog, 0, sizeof(vlog));
	vlog.prev = libbpf_set_print(capture_print);
	err = protomix__load(ob->skel);
	libbpf_set_print(vlog.prev);
	if (err) {
		err = load_error(err);
		goto fail;
	}
	err = rules_install(ob, rules);
	if (!err && cfg->base)
		err = baseline_fill(bpf_map__fd(ob->skel->maps.baseline), cfg->base);
	if (err) {
		pm_err("cannot fill the rules and baseline maps: %s", strerror(-err));
		err = EXIT_RUNTIME;
		goto fail;
	}
	ob->rules = *rules;
	memset(rules, 0, sizeof(*rules));
	ob->skel->bss->rules_gen = ob->rules.n ? 1 : 0;
	err = dest_maps_open_skel(&ob->dm, ob->skel, false);
	if (err) {
		pm_err("cannot map the destination table: %s", strerror(-err));
		err = EXIT_RUNTIME;
		goto fail;
	}
	ob->rb = ring_buffer__new(bpf_map__fd(ob->skel->maps.events), on_event, ob, NULL);
	if (!ob->rb) {
		pm_err("cannot open the ring buffer: %s", strerror(errno));
		err = EXIT_RUNTIME;
		goto fail;
	}
	return 0;
fail:
	observer_close(ob);
	return err;
}

void observer_close(struct observer *ob)
{
	dest_maps_close(&ob->dm);
	ring_buffer__free(ob->rb);
	protomix__destroy(ob->skel);
	if (ob->rules_fd > 0)
		close(ob->rules_fd);
	ruleset_free(&ob->rules);
	alert_log_free(&ob->alerts);
	memset(ob, 0, sizeof(*ob));
}

int observer_set_rules(struct observer *ob, struct ruleset *now)
{
	int err = rules_install(ob, now);

	if (err)
		return err;
	ruleset_free(&ob->rules);
	ob->rules = *now;
	memset(now, 0, sizeof(*now));
	ob->skel->bss->rules_gen++;
	return 0;
}

uint32_t observer_rules_gen(const struct observer *ob)
{
	return ob->skel->bss->rules_gen;
}

void observer_poll(struct observer *ob)
{
	ring_buffer__consume(ob->rb);
}

int observer_read(struct observer *ob, struct dest_table *t, struct pm_view *v)
{
	int err;

	v->taken_ns = now_mono_ns();
	err = dests_read(&ob->dm, t);
	if (!err)
		err = stats_read(bpf_map__fd(ob->skel->maps.stats), v->hooks, &v->total);
	if (err) {
		pm_err("cannot read the kernel maps: %s", strerror(-err));
		return err;
	}
	v->dests = t;
	v->max_dests = ob->max_dests;
	v->rules = &ob->rules;
	v->rules_gen = observer_rules_gen(ob);
	v->alerts = &ob->alerts;
	v->agg4 = ob->agg4;
	v->agg6 = ob->agg6;
	return 0;
}

void observer_opts_init(struct observer_opts *o)
{
	*o = (struct observer_opts){ .max_dests = OBSERVER_MAX_DESTS,
				     .sample_rate = OBSERVER_SAMPLE_RATE,
				     .oneway_window = OBSERVER_ONEWAY_WINDOW };
}

void observer_opts_free(struct observer_opts *o)
{
	ruleset_free(&o->cli_rules);
}

/* "24" or "24,64" */
static int parse_aggregate(const char *s, uint8_t *agg4, uint8_t *agg6)
{
	char v4[16], *comma;
	uint64_t a, b = 128;

	if (strlen(s) >= sizeof(v4))
		return -1;
	strcpy(v4, s);
	comma = strchr(v4, ',');
	if (comma)
		*comma++ = 0;
	if (!parse_u64(v4, 1, 32, &a) || (comma && !parse_u64(comma, 1, 128, &b)))
		return -1;
	*agg4 = a;
	*agg6 = b;
	return 0;
}

int observer_opt(struct observer_opts *o, int c, const char *arg)
{
	char esc[PM_ESC_LEN(64)];

	switch (c) {
	case 'e':
		return ruleset_add(&o->cli_rules, arg, "--expect", 0) ? EXIT_USAGE : 0;
	case 'E':
		o->expect_file = arg;
		return 0;
	case OO_BASELINE:
		o->baseline = arg;
		return 0;
	case OO_SAMPLE_RATE:
		if (parse_u64(arg, 1, 1000000, &o->sample_rate))
			return 0;
		pm_err("invalid --sample-rate '%s': a number from 1 to 1000000",
		       pm_esc(arg, esc, sizeof(esc)));
		return EXIT_USAGE;
	case OO_ONEWAY_WINDOW:
		if (parse_seconds(arg, &o->oneway_window))
			return 0;
		pm_err("invalid --oneway-window '%s': seconds > 0, at most %d (a day)",
		       pm_esc(arg, esc, sizeof(esc)), PM_SECONDS_MAX);
		return EXIT_USAGE;
	case OO_MAX_DESTS:
		if (parse_u64(arg, 1, 1 << 26, &o->max_dests))
			return 0;
		pm_err("invalid --max-dests '%s': a number from 1 to %d",
		       pm_esc(arg, esc, sizeof(esc)), 1 << 26);
		return EXIT_USAGE;
	case OO_DECAP:
	case OO_NO_DECAP:
		o->no_decap = c == OO_NO_DECAP;
		return 0;
	case OO_AGGREGATE:
		if (!parse_aggregate(arg, &o->agg4, &o->agg6))
			return 0;
		pm_err("invalid --aggregate '%s': V4LEN[,V6LEN], e.g. 24 or 24,64 (1-32, 1-128)",
		       pm_esc(arg, esc, sizeof(esc)));
		return EXIT_USAGE;
	default:
		return 1;
	}
}

void observer_progs(const struct observer *ob, struct pm_progs *progs)
{
	*progs = (struct pm_progs){ .xdp = ob->skel->progs.pm_xdp,
				    .tc_ingress = ob->skel->progs.pm_tc_ingress,
				    .tc_egress = ob->skel->progs.pm_tc_egress };
}

int observer_pairs_fd(const struct observer *ob)
{
	return bpf_map__fd(ob->skel->maps.pairs);
}

int observer_stats_fd(const struct observer *ob)
{
	return bpf_map__fd(ob->skel->maps.stats);
}

struct bpf_object *observer_bpf_object(const struct observer *ob)
{
	return ob->skel->obj;
}

json_object *observer_maps_json(const struct observer *ob, uint64_t ndests,
				uint64_t nbase)
{
	const struct protomix *skel = ob->skel;
	struct {
		const char *name;
		struct bpf_map *map;
		uint64_t entries;
	} tab[] = {
		{ "dests", skel->maps.dests, ndests },
		{ "pairs", skel->maps.pairs, 0 },
		{ "rules", skel->maps.rules, ob->rules.n },
		{ "baseline", skel->maps.baseline, nbase },
		{ "stats", skel->maps.stats, PM_NHOOK },
		{ "events", skel->maps.events, 0 },
	};
	json_object *maps = json_object_new_object(), *m;

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		m = json_object_new_object();
		if (tab[i].map != skel->maps.pairs && tab[i].map != skel->maps.events)
			json_object_object_add(m, "entries", json_object_new_uint64(tab[i].entries));
		/* the rules: the trie in the rules slot */
		json_object_object_add(m, "max_entries", json_object_new_uint64(
			tab[i].map == skel->maps.rules ? RULES_MAX :
			bpf_map__max_entries(tab[i].map)));
		/* the destination table: both of its arrays */
		json_object_object_add(m, "memlock_bytes", json_object_new_uint64(
			tab[i].map == skel->maps.dests ?
			dest_maps_memlock(&ob->dm) :
			tab[i].map == skel->maps.rules ?
			map_memlock(ob->rules_fd) :
			map_memlock(bpf_map__fd(tab[i].map))));
		json_object_object_add(maps, tab[i].name, m);
	}
	return maps;
}
