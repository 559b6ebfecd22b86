/*
 * queue - real-time signal throughput.  The child sigqueue()s N SIGRTMIN
 * values 0..N-1 to the parent as fast as it can (retrying on EAGAIN, when
 * the kernel's queue for the receiver is full); the parent consumes them
 * with the mechanism under test and checks that every value comes, once
 * and in order.
 *
 *   queue sigwaitinfo|signalfd|sigkit [-n N]
 *
 * Prints values per second (from "ready" to the last value) and the counts
 * of lost, reordered and folded values, which must all be 0.  A value that
 * never comes ends the run after 2 s of silence.
 */
#include "common.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sigkit.h>

static long n_values = 1000000;
static long received, reordered, folded, expected;

static void check(long value)
{
    if (value != expected)
        reordered++;
    expected = value + 1;
    received++;
}

static sigset_t rt_set(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN);
    return s;
}

static void recv_sigwaitinfo(void)
{
    sigset_t s = rt_set();
    struct timespec idle = {2, 0};
    siginfo_t si;
    while (received < n_values && sigtimedwait(&s, &si, &idle) == SIGRTMIN)
        check(si.si_value.sival_int);
}

static void recv_signalfd(void)
{
    sigset_t s = rt_set();
    int fd = signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK);
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    struct signalfd_siginfo buf[256];
    while (received < n_values && poll(&pf, 1, 2000) == 1) {
        ssize_t n = read(fd, buf, sizeof buf);
        for (ssize_t i = 0; i < n / (ssize_t)sizeof buf[0]; i++)
            check(buf[i].ssi_int);
    }
}

static void on_value(const sk_info *info, void *arg)
{
    (void)arg;
    folded += (long)info->count - 1;
    check((long)info->value);
}

static void recv_sigkit(void)
{
    while (received < n_values && sk_wait(2000) > 0)
        ;
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "n:")) != -1) {
        if (opt != 'n')
            goto usage;
        n_values = atol(optarg);
    }
    if (optind >= argc || n_values < 1)
        goto usage;
    const char *mech = argv[optind];
    void (*receive)(void);
    sigset_t s = rt_set();
    if (strcmp(mech, "sigwaitinfo") == 0) {
        receive = recv_sigwaitinfo;
        sigprocmask(SIG_BLOCK, &s, NULL);
    } else if (strcmp(mech, "signalfd") == 0) {
        receive = recv_signalfd;
        sigprocmask(SIG_BLOCK, &s, NULL);
    } else if (strcmp(mech, "sigkit") == 0) {
        receive = recv_sigkit;
        if (sk_connect(SIGRTMIN, on_value, NULL) < 0)
            return 1;
    } else {
        goto usage;
    }

    int p[2];
    if (pipe(p) < 0)
        return 1;
    pid_t receiver = getpid();
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char c;
        if (read(p[0], &c, 1) != 1)
            _exit(1);
        for (long i = 0; i < n_values; i++) {
            union sigval v = {.sival_int = (int)i};
            while (sigqueue(receiver, SIGRTMIN, v) < 0) {
                if (errno != EAGAIN)
                    _exit(1);
                sched_yield();
            }
        }
        _exit(0);
    }
    int64_t t0 = now_ns();
    if (write(p[1], "g", 1) != 1)
        return 1;
    receive();
    int64_t t1 = now_ns();
    waitpid(child, NULL, 0);
    printf("%s msgs_per_s=%.0f lost=%ld reordered=%ld folded=%ld\n", mech,
           (double)received / ((double)(t1 - t0) / 1e9), n_values - received - folded, reordered,
           folded);
    return 0;
usage:
    fprintf(stderr, "usage: queue sigwaitinfo|signalfd|sigkit [-n N]\n");
    return 2;
}
