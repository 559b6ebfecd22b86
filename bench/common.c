/* common.c - clock, sorting and the ping-pong protocol (see common.h). */
#include "common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct pp pp;

int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void sort_i64(int64_t *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
}

void pp_ready(void)
{
    char c = 'r';
    if (!pp.is_pinger) {
        if (write(pp.ready_w, &c, 1) != 1)
            _exit(2);
        return;
    }
    while (read(pp.ready_r, &c, 1) < 0 && errno == EINTR)
        ;
    pp.t_send = pp.t_start = now_ns();
    kill(pp.peer, SIGUSR1);
}

int pp_on_signal(void)
{
    long total = pp.warmup + pp.rounds;
    pp.done++;
    if (!pp.is_pinger) {
        kill(pp.peer, SIGUSR1);
        return pp.done == total;
    }
    int64_t t = now_ns();
    if (pp.done == pp.warmup)
        pp.t_start = t;
    else if (pp.done > pp.warmup)
        pp.rtt[pp.done - pp.warmup - 1] = t - pp.t_send;
    if (pp.done == total) {
        pp.t_end = t;
        return 1;
    }
    pp.t_send = now_ns();
    kill(pp.peer, SIGUSR1);
    return 0;
}
