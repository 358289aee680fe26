/*
 * probe.c - the shared part of every probe in flight (see probe.h).
 */
#include "probe/probe.h"

#include "core/clock.h"

void ys_probe_base_init(struct ys_probe *p, const struct ys_probe_type *type,
                        const struct ys_check *check, ys_probe_done_cb done, void *arg)
{
    p->type = type;
    p->check = check;
    p->done = done;
    p->done_arg = arg;
    ys_result_init(&p->result);
    p->result.check_id = check->store_id;
    p->result.ts_ms = ys_wall_ms();
    p->start_mono_us = ys_mono_us();
}

void ys_probe_base_finish(struct ys_probe *p)
{
    p->result.duration_us = ys_mono_us() - p->start_mono_us;
    ys_probe_done_cb done = p->done;
    p->done = NULL;
    if (done)
        done(p, &p->result, p->done_arg);
}
