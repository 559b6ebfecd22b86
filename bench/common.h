/*
 * common.h - what the benchmark programs share: a monotonic clock in
 * nanoseconds, sorting for medians and percentiles, and the ping-pong
 * protocol that every mechanism drives from its normal-context callback.
 *
 * The protocol.  The pinger (the parent) and the ponger (its child) bounce
 * SIGUSR1.  Each mechanism installs its way of catching SIGUSR1, calls
 * pp_ready() once it can receive, then calls pp_on_signal() from its
 * callback, in normal context, for every SIGUSR1 it is handed, until that
 * returns 1.  pp_on_signal() answers: the ponger sends SIGUSR1 back at
 * once; the pinger stamps the round trip (CLOCK_MONOTONIC) and sends the
 * next.  The first `warmup` round trips are not measured.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <sys/types.h>

int64_t now_ns(void);
void sort_i64(int64_t *v, long n);

struct pp {
    int is_pinger;
    pid_t peer;
    long warmup, rounds, done;
    int64_t t_send, t_start, t_end;
    int64_t *rtt;     /* rounds entries (pinger only) */
    int ready_r, ready_w; /* the ponger says "ready" through this pipe */
};
extern struct pp pp;

/* The mechanism can receive now: the ponger says so, the pinger waits for
 * that and sends the first SIGUSR1. */
void pp_ready(void);

/* One SIGUSR1 was handed to this side's callback: answer it.  Returns 1
 * when this side has seen all its round trips. */
int pp_on_signal(void);

/* A mechanism: sets up, calls pp_ready(), loops until pp_on_signal()
 * returns 1, and returns 0 (or -1 when it cannot run here). */
struct mechanism {
    const char *name;
    int (*run)(void);
};

/* The peers' mechanisms (pp_peers.c); a NULL name ends the list. */
extern const struct mechanism peer_mechanisms[];

#endif
