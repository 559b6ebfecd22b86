/*
 * ignore.c - seed 002's "忽略信号" (ignore a signal) program.
 *
 * What it shows: SIGINT set to SK_IGN (signal.SIG_IGN), so Ctrl-C does
 * nothing, and a USR1 handler that ends the program the way Python's
 * `raise SystemExit('Exiting')` does: "Exiting" on stderr, exit status 1.
 * sk_pause() (signal.pause) waits for a signal and runs its handler.
 *
 * Try it:   ./ignore      then Ctrl-C (nothing happens), then
 *           kill -USR1 PID                 (prints Exiting, status 1)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sigkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Seed 002: do_exit.  Handlers run in normal context: exit() is fine. */
static void do_exit(const sk_info *info, void *arg)
{
    (void)info;
    (void)arg;
    fprintf(stderr, "Exiting\n");
    exit(1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    int r = sk_signal(SIGINT, SK_IGN, NULL);
    if (r >= 0)
        r = sk_signal(SIGUSR1, do_exit, NULL);
    if (r < 0) {
        fprintf(stderr, "sk_signal: %s\n", sk_strerror(r));
        return 1;
    }

    printf("My PID: %d\n", (int)getpid());
    r = sk_pause(); /* do_exit runs in here and never returns */
    if (r < 0) {
        fprintf(stderr, "sk_pause: %s\n", sk_strerror(r));
        return 1;
    }
    return 0;
}
