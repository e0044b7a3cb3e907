/* report-console.c — the table for people; `-` where nothing was measured. */
#include "run.h"

#include <math.h>
#include <string.h>

static void fmt_num(char *buf, size_t len, double v)
{
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else if (v >= 1e9)
        snprintf(buf, len, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.2f", v);
}

static void fmt_kib(char *buf, size_t len, int64_t kib)
{
    if (kib < 0)
        snprintf(buf, len, "-");
    else if (kib >= 1024 * 1024)
        snprintf(buf, len, "%.2f GiB", (double)kib / (1024.0 * 1024.0));
    else if (kib >= 1024)
        snprintf(buf, len, "%.1f MiB", (double)kib / 1024.0);
    else
        snprintf(buf, len, "%lld KiB", (long long)kib);
}

/* The workload's own figures: each metric's median over the measured trials. */
static void print_metrics(const struct ab_run *run, FILE *out)
{
    const struct ab_run_config *cfg = run->cfg;
    bool any = false;
    for (size_t i = 0; i < run->naggs && !any; i++)
        any = run->aggs[i].nmetrics > 0;
    if (!any)
        return;
    fprintf(out, "\n%s figures (median over measured trials; - not measured)%s%s\n",
            cfg->wl->name, cfg->wl->merit ? "; figure of merit: " : "",
            cfg->wl->merit ? cfg->wl->merit : "");
    for (size_t i = 0; i < run->naggs; i++) {
        const struct ab_aggregate *a = &run->aggs[i];
        if (!a->nmetrics)
            continue;
        fprintf(out, "%-16s %-12s %7u ", cfg->wl->variants[a->variant],
                cfg->subjects[a->subject].name, a->threads);
        for (unsigned k = 0; k < a->nmetrics; k++) {
            char v[32];
            double x = a->metrics[k].s.n ? a->metrics[k].s.median : NAN;
            if (isfinite(x) && fabs(x) < 1e4 && x == (double)(int64_t)x)
                snprintf(v, sizeof v, "%lld", (long long)x);
            else
                fmt_num(v, sizeof v, x);
            fprintf(out, " %s=%s%s%s", a->metrics[k].name, v, a->metrics[k].s.n ? " " : "",
                    a->metrics[k].s.n ? a->metrics[k].unit : "");
        }
        fputc('\n', out);
    }
}

/* Under --pin: where each trial's threads ran (the first trial per subject
 * and thread count; the plan is the same for every repetition). */
static void print_placement(const struct ab_run *run, FILE *out)
{
    const struct ab_run_config *cfg = run->cfg;
    if (!cfg->pin)
        return;
    fprintf(out, "\nplacement (--pin): PU (OS index) per thread\n");
    for (size_t i = 0; i < run->ntrials; i++) {
        const struct ab_trial_record *r = &run->trials[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = run->trials[j].subject == r->subject && run->trials[j].threads == r->threads &&
                   run->trials[j].pin_method[0];
        if (seen || !r->pin_method[0])
            continue;
        fprintf(out, "%-12s threads=%-4u %s:", cfg->subjects[r->subject].name, r->threads,
                r->pin_method);
        for (size_t k = 0; k < r->nplaced; k++)
            if (r->placement[k] >= 0)
                fprintf(out, " %d", r->placement[k]);
            else
                fprintf(out, " -");
        fputc('\n', out);
    }
}

void ab_report_console(const struct ab_run *run, FILE *out)
{
    const struct ab_run_config *cfg = run->cfg;
    fprintf(out, "%s: ns per %s per thread (median of %u trials, 95%% CI of the median), "
                 "throughput of all threads, peak RSS\n",
            cfg->wl->name, cfg->wl->unit, cfg->repetitions);
    fprintf(out, "%-16s %-12s %7s %10s %23s %8s %10s %10s  %s\n", "variant", "allocator",
            "threads", "median", "95% CI", "MAD", "ops/s", "peak RSS", "status");
    for (size_t i = 0; i < run->naggs; i++) {
        const struct ab_aggregate *a = &run->aggs[i];
        char med[32], lo[32], hi[32], mad[32], ops[32], rss[32], ci[80];
        bool m = a->measured > 0;
        fmt_num(med, sizeof med, m ? a->ns_per_op.median : NAN);
        fmt_num(mad, sizeof mad, m ? a->ns_per_op.mad : NAN);
        fmt_num(ops, sizeof ops, m ? a->ops_per_s.median : NAN);
        fmt_kib(rss, sizeof rss, a->peak_rss_kib);
        if (a->ns_per_op.ci_valid) {
            fmt_num(lo, sizeof lo, a->ns_per_op.ci_low);
            fmt_num(hi, sizeof hi, a->ns_per_op.ci_high);
            snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
        } else {
            snprintf(ci, sizeof ci, "-");
        }
        char status[96];
        if (a->status == AB_TRIAL_OK && a->measured == a->trials)
            snprintf(status, sizeof status, "ok");
        else
            snprintf(status, sizeof status, "%s (%zu/%zu measured)",
                     ab_trial_status_name(a->status), a->measured, a->trials);
        fprintf(out, "%-16s %-12s %7u %10s %23s %8s %10s %10s  %s\n",
                cfg->wl->variants[a->variant], cfg->subjects[a->subject].name, a->threads, med,
                ci, mad, ops, rss, status);
    }
    print_metrics(run, out);
    print_placement(run, out);
    if (cfg->counter) {
        fprintf(out, "\ncounted with %s (%s), the measured phase only: per %s, median over "
                     "trials (times taken under it are not reported)\n",
                cfg->counter->name, cfg->counter_version, cfg->wl->unit);
        fprintf(out, "%-16s %-12s %7s %14s %14s\n", "variant", "allocator", "threads",
                "instructions", "conditional");
        for (size_t i = 0; i < run->naggs; i++) {
            const struct ab_aggregate *a = &run->aggs[i];
            char in[32], co[32];
            fmt_num(in, sizeof in, a->instructions_per_op);
            fmt_num(co, sizeof co, a->conditional_per_op);
            fprintf(out, "%-16s %-12s %7u %14s %14s\n", cfg->wl->variants[a->variant],
                    cfg->subjects[a->subject].name, a->threads, in, co);
        }
    }
    if (cfg->nsubjects > 1 && !cfg->counter) {
        fprintf(out, "\nrelative median ns per %s (base 1.00: the first allocator measured in "
                     "the row; below 1.00 is faster)\n",
                cfg->wl->unit);
        fprintf(out, "%-16s %7s", "variant", "threads");
        for (size_t s = 0; s < cfg->nsubjects; s++)
            fprintf(out, " %12s", cfg->subjects[s].name);
        fputc('\n', out);
        for (size_t i = 0; i < run->naggs; i++) {
            const struct ab_aggregate *row = &run->aggs[i];
            if (row->subject != 0)
                continue;
            fprintf(out, "%-16s %7u", cfg->wl->variants[row->variant], row->threads);
            for (size_t j = 0; j < run->naggs; j++) {
                const struct ab_aggregate *a = &run->aggs[j];
                if (a->variant != row->variant || a->threads != row->threads)
                    continue;
                const struct ab_aggregate *base = ab_aggregate_base(run, a);
                char cell[32] = "-";
                if (a->ns_per_op.n && base && base->ns_per_op.n)
                    snprintf(cell, sizeof cell, "%.2f",
                             a->ns_per_op.median / base->ns_per_op.median);
                fprintf(out, " %12s", cell);
            }
            fputc('\n', out);
        }
    }
    bool first = true;
    for (size_t i = 0; i < run->ntrials; i++) {
        const struct ab_trial_record *r = &run->trials[i];
        for (unsigned k = 0; k < r->ndiags; k++) {
            if (first)
                fputc('\n', out);
            first = false;
            fprintf(out, "%s %s %s:%s threads=%u repetition=%u %s\n",
                    ab_code_name(r->diags[k].code), cfg->subjects[r->subject].name,
                    cfg->wl->name, cfg->wl->variants[r->variant], r->threads, r->repetition,
                    r->diags[k].detail);
        }
    }
    for (size_t i = 0; i < run->naggs; i++) {
        const struct ab_aggregate *a = &run->aggs[i];
        if (a->status != AB_TRIAL_UNAVAILABLE)
            continue;
        /* Once per variant and allocator, not per thread count. */
        bool said = false;
        for (size_t j = 0; j < i && !said; j++)
            said = run->aggs[j].status == AB_TRIAL_UNAVAILABLE &&
                   run->aggs[j].variant == a->variant && run->aggs[j].subject == a->subject;
        if (said)
            continue;
        for (size_t t = 0; t < run->ntrials; t++) {
            const struct ab_trial_record *r = &run->trials[t];
            if (r->variant == a->variant && r->subject == a->subject &&
                r->threads == a->threads) {
                fprintf(out, "note: %s on %s: not available: %s\n",
                        cfg->wl->variants[a->variant], cfg->subjects[a->subject].name,
                        r->reason);
                break;
            }
        }
    }
}
