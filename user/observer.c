// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "observer.h"
#include "util.h"

static int load_error(int err)
{
	if (err == -EPERM || err == -EACCES)
		pm_err("permission denied loading the BPF programs: run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON");
	else if (err == -ENOSYS)
		pm_err("this kernel has no BPF support (bpf() returned ENOSYS)");
	else
		pm_err("cannot load the BPF programs: %s (run with -v for libbpf's log)",
		       strerror(-err));
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

int observer_open(struct observer *ob, const struct observer_cfg *cfg,
		  struct ruleset *rules)
{
	int err;

	memset(ob, 0, sizeof(*ob));
	ob->max_dests = cfg->max_dests;
	ob->on_alert = cfg->on_alert;
	ob->ctx = cfg->ctx;
	ob->nbase = cfg->base ? cfg->base->n : 0;
	if (alert_log_init(&ob->alerts, OBSERVER_ALERTS_KEPT)) {
		pm_err("out of memory");
		return EXIT_RUNTIME;
	}
	pm_libbpf_quiet();
	ob->skel = protomix__open();
	if (!ob->skel) {
		err = load_error(-errno);
		goto fail;
	}
	bpf_map__set_max_entries(ob->skel->maps.dests, cfg->max_dests);
	bpf_map__set_max_entries(ob->skel->maps.baseline, ob->nbase ? ob->nbase : 1);
	ob->skel->rodata->cfg_sample_rate = cfg->sample_rate;
	ob->skel->rodata->cfg_replay = cfg->replay;
	ob->skel->rodata->cfg_baseline = ob->nbase > 0;
	ob->agg4 = cfg->agg4 ? cfg->agg4 : 32;
	ob->agg6 = cfg->agg6 ? cfg->agg6 : 128;
	ob->skel->rodata->cfg_agg4 = ob->agg4;
	ob->skel->rodata->cfg_agg6 = ob->agg6;
	err = protomix__load(ob->skel);
	if (err) {
		err = load_error(err);
		goto fail;
	}
	err = ruleset_sync(bpf_map__fd(ob->skel->maps.rules), NULL, rules);
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
	ring_buffer__free(ob->rb);
	protomix__destroy(ob->skel);
	ruleset_free(&ob->rules);
	alert_log_free(&ob->alerts);
	memset(ob, 0, sizeof(*ob));
}

int observer_set_rules(struct observer *ob, struct ruleset *now)
{
	int err = ruleset_sync(bpf_map__fd(ob->skel->maps.rules), &ob->rules, now);

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
	err = dests_read(bpf_map__fd(ob->skel->maps.dests), t);
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
