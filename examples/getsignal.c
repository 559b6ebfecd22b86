/*
 * getsignal.c - seed 000's getsignal_handler.py and seed 002's
 * "检索注册的信号处理器" (look up the registered handlers) program.
 *
 * What it shows: sk_getsignal() (signal.getsignal) for every signal of this
 * system, in seed 002's format:
 *
 *     SIGHUP     ( 1) : <function handle_hup at 0x...>
 *     SIGINT     ( 2) : <built-in function default_int_handler>
 *     SIGKILL    ( 9) : None
 *     SIGPIPE    (13) : SIG_IGN
 *     SIGUSR1    (10) : SIG_DFL
 *
 * The handler column is SIG_DFL, SIG_IGN, the name of a sigkit handler, or
 * None where Python says None: a signal that cannot be caught (KILL, STOP)
 * or a handler installed outside sigkit (SK_FOREIGN).
 *
 * Names and numbers come from the platform (sk_valid_signals, sk_signame):
 * run it on another system and the table changes, as the seeds' (macOS)
 * table differs from Linux's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sigkit.h>

#include <stdint.h>
#include <stdio.h>

/* Seed 000: the HUP handler. */
static void handle_hup(const sk_info *info, void *arg)
{
    (void)arg;
    printf("get signal: %d\n", info->signo);
}

/* Seed 002: the ALRM handler, which does nothing. */
static void alarm_received(const sk_info *info, void *arg)
{
    (void)info;
    (void)arg;
}

/*
 * Python installs default_int_handler for SIGINT when the interpreter starts;
 * it raises KeyboardInterrupt.  The C equivalent is sk_graceful(): the first
 * INT runs this (deferred) handler, a second INT kills the process at once.
 * Like an uncaught KeyboardInterrupt in Python 3.8+, it reports and then
 * dies by SIGINT, so the shell sees "interrupted".  (This program never
 * dispatches, so a Ctrl-C during its few milliseconds only takes effect at
 * the second one.)
 */
static void default_int_handler(const sk_info *info, void *arg)
{
    (void)arg;
    fprintf(stderr, "KeyboardInterrupt\n");
    sk_signal(info->signo, SK_DFL, NULL);
    sk_raise(info->signo);
}

/* C has no way to ask a function pointer for its name, so the program keeps
 * a list of the handlers it installs.  "builtin" marks the one Python itself
 * installs (<built-in function ...>). */
static const struct {
    sk_handler fn;
    const char *name;
    int builtin;
} known[] = {
    {handle_hup, "handle_hup", 0},
    {alarm_received, "alarm_received", 0},
    {default_int_handler, "default_int_handler", 1},
};

static void print_handler(int signo)
{
    sk_handler fn = SK_DFL;
    int r = sk_getsignal(signo, &fn, NULL);

    /* KILL and STOP are at their default, always: nothing can catch or
     * ignore them.  The seeds' Python (on macOS) shows None for them. */
    if (signo == SIGKILL || signo == SIGSTOP) {
        printf("None\n");
    } else if (r == SK_DEFAULT) {
        printf("SIG_DFL\n");
    } else if (r == SK_IGNORED) {
        printf("SIG_IGN\n");
    } else if (r == SK_HANDLED) {
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
            if (known[i].fn != fn)
                continue;
            if (known[i].builtin)
                printf("<built-in function %s>\n", known[i].name);
            else
                printf("<function %s at %#jx>\n", known[i].name, (uintmax_t)(uintptr_t)fn);
            return;
        }
        printf("<function at %#jx>\n", (uintmax_t)(uintptr_t)fn);
    } else {
        /* SK_FOREIGN: a handler set outside sigkit (or an error). */
        printf("None\n");
    }
}

static int install(int signo, sk_handler fn)
{
    int r = sk_signal(signo, fn, NULL);
    if (r < 0)
        fprintf(stderr, "sk_signal(%s): %s\n", sk_signame(signo), sk_strerror(r));
    return r;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* What the Python interpreter does before running a script: SIGINT gets
     * default_int_handler (unless it starts ignored, as in a script's `cmd &`),
     * SIGPIPE and SIGXFSZ are ignored so that writes fail with EPIPE/EFBIG
     * instead of killing the process. */
    if (sk_getsignal(SIGINT, NULL, NULL) == SK_DEFAULT) {
        int r = sk_graceful(default_int_handler, NULL);
        if (r < 0) {
            fprintf(stderr, "sk_graceful: %s\n", sk_strerror(r));
            return 1;
        }
        /* sk_graceful also takes SIGTERM; Python leaves TERM alone. */
        if (install(SIGTERM, SK_DFL) < 0)
            return 1;
    }
    if (install(SIGPIPE, SK_IGN) < 0 || install(SIGXFSZ, SK_IGN) < 0)
        return 1;

    /* What the seeds' scripts do. */
    if (install(SIGHUP, handle_hup) < 0 || install(SIGALRM, alarm_received) < 0)
        return 1;

    /* Seed 000's header: the values of the two special handlers. */
    printf("SIG_IGN %d\n", (int)(intptr_t)SK_IGN);
    printf("SIG_DFL %d\n", (int)(intptr_t)SK_DFL);
    printf("****************************************\n");

    /* Seed 002's table, one row per signal of this system, by number. */
    sigset_t valid;
    int r = sk_valid_signals(&valid);
    if (r < 0) {
        fprintf(stderr, "sk_valid_signals: %s\n", sk_strerror(r));
        return 1;
    }
    for (int signo = 1; signo < NSIG; signo++) {
        if (sigismember(&valid, signo) != 1)
            continue;
        const char *name = sk_signame(signo);
        printf("%-10s (%2d) : ", name ? name : "?", signo);
        print_handler(signo);
    }
    return 0;
}
