/*
 * recv_signal.c - seed 000's recv_signal.py together with seed 002's
 * "接收信号" (receive signal) program.
 *
 * What it shows: ordinary C functions as signal handlers.  HUP prints
 * "get signal: 1", USR1/USR2 print "Received: N", INT prints
 * "get signal: 2, I will quit" and exits 0.  The main loop prints
 * "waiting..." and sleeps 3 s with sk_sleep(): handlers run during the
 * sleep, which then resumes for the time left (PEP 475), so a signal never
 * makes an extra "waiting..." line appear.
 *
 * Try it:   ./recv_signal            (in one terminal)
 *           kill -HUP PID; kill -USR1 PID; kill -INT PID   (in another)
 *
 * Output wording: the seeds' lines, except that the typo "wating..." of
 * seed 002 is fixed to "waiting..." and Python's doubled space in
 * print('My pid is ', pid) is a single one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sigkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Seed 000: handle_hup.  It runs in normal context (never inside the kernel's
 * signal delivery), so printf() is fine. */
static void handle_hup(const sk_info *info, void *arg)
{
    (void)arg;
    printf("get signal: %d\n", info->signo);
}

/* Seed 000: handle_int calls sys.exit(0).  A sigkit handler may call exit()
 * too: stdout is flushed and the process ends with status 0. */
static void handle_int(const sk_info *info, void *arg)
{
    (void)arg;
    printf("get signal: %d, I will quit\n", info->signo);
    exit(0);
}

/* Seed 002: receive_signal, for USR1 and USR2. */
static void receive_signal(const sk_info *info, void *arg)
{
    (void)arg;
    printf("Received: %d\n", info->signo);
}

int main(void)
{
    /* Line-buffered, so each line shows up at once even through a pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    const struct { int signo; sk_handler fn; } table[] = {
        {SIGINT, handle_int},
        {SIGHUP, handle_hup},
        {SIGUSR1, receive_signal},
        {SIGUSR2, receive_signal},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int r = sk_signal(table[i].signo, table[i].fn, NULL);
        if (r < 0) {
            fprintf(stderr, "sk_signal(%s): %s\n", sk_signame(table[i].signo),
                    sk_strerror(r));
            return 1;
        }
    }

    printf("My pid is %d\n", (int)getpid());
    for (;;) {
        printf("waiting...\n");
        /* Handlers run inside this call; it returns after the full 3 s. */
        int r = sk_sleep(3);
        if (r < 0) {
            fprintf(stderr, "sk_sleep: %s\n", sk_strerror(r));
            return 1;
        }
    }
}
