/*
 * fuzz_args.c - libFuzzer target: the whole sigkit command line.
 *
 * The input is split at NUL bytes into words after "sigkit".  Whatever
 * skc_parse() accepts must keep the promises the runtime relies on: no
 * group or broadcast pid without the option that allows it, signals that
 * exist, a --then with every --timeout; for trace, single pids and a
 * command after "--".
 */
#include "cli.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 64

static void check_send(const skc_opts *o)
{
    if (o->npids <= 0 || (o->signo != 0 && !sk_signame(o->signo)))
        abort();
    if ((o->timeout_ms >= 0) != (o->then_signo > 0))
        abort();
    for (int k = 0; k < o->npids; k++) {
        if (o->pids[k] == -1 && !o->all)
            abort();
        if ((o->pids[k] == 0 || o->pids[k] < -1) && !o->group)
            abort();
        if (o->pids[k] <= 0 && (o->has_value || o->timeout_ms >= 0))
            abort();
    }
}

/* trace: single processes only, real signals, a command when "--" was given. */
static void check_trace(const skc_opts *o)
{
    for (int k = 0; k < o->npids; k++)
        if (o->pids[k] <= 0)
            abort();
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&o->trace_signals, s) == 1 && !sk_signame(s))
            abort();
    if (o->cmd_argv && (o->cmd_argc < 1 || !o->cmd_argv[0]))
        abort();
    if (o->from_pid < 0 || o->duration_ms < -1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    char *argv[MAX_WORDS + 2];
    int argc = 0;
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    argv[argc++] = (char *)"sigkit";
    for (size_t at = 0; at <= size && argc <= MAX_WORDS; at += strlen(copy + at) + 1)
        argv[argc++] = copy + at;
    argv[argc] = NULL;

    skc_opts o;
    char err[256];
    int rc = skc_parse(argc, argv, &o, err, sizeof err);
    if (rc != SKC_OK && (rc != SKC_USAGE || err[0] == '\0' || strchr(err, '\n')))
        abort(); /* a usage error is one line, never empty */
    if (rc == SKC_OK && !o.sub_help && o.cmd == SKC_SEND)
        check_send(&o);
    if (rc == SKC_OK && !o.sub_help && o.cmd == SKC_TRACE)
        check_trace(&o);
    skc_opts_free(&o);
    free(copy);
    return 0;
}
