/*
 * pingpong - two processes bounce SIGUSR1; each side catches it with the
 * mechanism under test and answers from that mechanism's normal-context
 * callback (see common.h for the protocol).
 *
 *   pingpong MECHANISM [-n rounds] [-w warmup] [-H handlers] [-T timers]
 *
 * Prints one line: round trips per second over the measured rounds, and the
 * one-way latency (half of each round trip, CLOCK_MONOTONIC stamps taken by
 * the pinger) at the median and the 99th percentile.  Pin both processes to
 * one CPU with `taskset -c 0` to see the mechanism's own cost.
 *
 * -H and -T (sigkit mechanisms only) load sigkit: H handlers connected in
 * all (SIGUSR1 keeps exactly one, the answering one; the others sit on 15
 * other signals), and T sigkit timers armed 100 s out, so none fires.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sigkit.h>

static sigset_t usr1_set(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    return s;
}

/* ---- the floor: sigwaitinfo with SIGUSR1 blocked --------------------- */
static int run_sigwaitinfo(void)
{
    sigset_t s = usr1_set();
    sigprocmask(SIG_BLOCK, &s, NULL);
    pp_ready();
    siginfo_t si;
    for (;;)
        if (sigwaitinfo(&s, &si) == SIGUSR1 && pp_on_signal())
            return 0;
}

/* The same with a far timeout, as a waiter with a deadline does: shows what
 * arming the kernel's timer on every wait costs (not in the main table). */
static int run_sigtimedwait_far(void)
{
    sigset_t s = usr1_set();
    sigprocmask(SIG_BLOCK, &s, NULL);
    pp_ready();
    siginfo_t si;
    for (;;) {
        struct timespec far = {365 * 86400, 0};
        if (sigtimedwait(&s, &si, &far) == SIGUSR1 && pp_on_signal())
            return 0;
    }
}

/* ---- a raw handler sets a flag; sigsuspend waits for it --------------- */
static volatile sig_atomic_t got_usr1;
static void flag_handler(int signo)
{
    (void)signo;
    got_usr1 = 1;
}

static int run_sigsuspend(void)
{
    struct sigaction sa = {.sa_handler = flag_handler};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t s = usr1_set(), old;
    sigprocmask(SIG_BLOCK, &s, &old);
    pp_ready();
    for (;;) {
        while (!got_usr1)
            sigsuspend(&old);
        got_usr1 = 0;
        if (pp_on_signal())
            return 0;
    }
}

/* ---- signalfd in epoll ------------------------------------------------ */
static int run_signalfd(void)
{
    sigset_t s = usr1_set();
    sigprocmask(SIG_BLOCK, &s, NULL);
    int sfd = signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    pp_ready();
    for (;;) {
        if (epoll_wait(ep, &ev, 1, -1) < 1)
            continue;
        struct signalfd_siginfo buf[16];
        ssize_t n = read(sfd, buf, sizeof buf);
        for (ssize_t i = 0; i < n / (ssize_t)sizeof buf[0]; i++)
            if (pp_on_signal())
                return 0;
    }
}

/* ---- a raw handler writes to a self-pipe; poll wakes the loop -------- */
static int pipe_w;
static void pipe_handler(int signo)
{
    int saved = errno;
    char c = (char)signo;
    ssize_t r = write(pipe_w, &c, 1);
    (void)r;
    errno = saved;
}

static int run_selfpipe(void)
{
    int p[2];
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    pipe_w = p[1];
    struct sigaction sa = {.sa_handler = pipe_handler, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pp_ready();
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    for (;;) {
        if (poll(&pf, 1, -1) < 1)
            continue;
        char buf[64];
        ssize_t n = read(p[0], buf, sizeof buf);
        for (ssize_t i = 0; i < n; i++)
            if (pp_on_signal())
                return 0;
    }
}

/* ---- sigkit ------------------------------------------------------------ */
static int extra_handlers = 1, timers;
static volatile int sk_done;
static int done_pipe[2];

static void sk_answer(const sk_info *info, void *arg)
{
    (void)info;
    (void)arg;
    if (pp_on_signal()) {
        sk_done = 1;
        if (done_pipe[1] > 0 && write(done_pipe[1], "d", 1) != 1)
            _exit(2);
    }
}

static void sk_idle(const sk_info *info, void *arg)
{
    (void)info;
    (void)arg;
}

static int sk_setup(void)
{
    if (sk_connect(SIGUSR1, sk_answer, NULL) < 0)
        return -1;
    int others[15] = {SIGUSR2};
    for (int i = 1; i < 15; i++)
        others[i] = SIGRTMIN + i;
    for (int i = 1; i < extra_handlers; i++)
        if (sk_connect(others[(i - 1) % 15], sk_idle, NULL) < 0)
            return -1;
    for (int i = 0; i < timers; i++)
        if (sk_timer_start(NULL, 100.0, 100.0, sk_idle, NULL) < 0)
            return -1;
    return 0;
}

static int run_sk_wait(void)
{
    if (sk_setup() < 0)
        return -1;
    pp_ready();
    while (!sk_done)
        sk_wait(-1);
    return 0;
}

static int run_sk_fd(void)
{
    if (sk_setup() < 0)
        return -1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, sk_fd(), &ev);
    pp_ready();
    while (!sk_done)
        if (epoll_wait(ep, &ev, 1, -1) == 1)
            sk_dispatch();
    return 0;
}

static int run_sk_thread(void)
{
    if (pipe2(done_pipe, O_CLOEXEC) < 0 || sk_setup() < 0 || sk_thread_start() < 0)
        return -1;
    pp_ready();
    char c;
    while (read(done_pipe[0], &c, 1) < 0 && errno == EINTR)
        ;
    sk_thread_stop();
    return 0;
}

static const struct mechanism mechanisms[] = {
    {"sigwaitinfo", run_sigwaitinfo}, {"sigsuspend", run_sigsuspend},
    {"signalfd", run_signalfd},       {"selfpipe", run_selfpipe},
    {"sk_wait", run_sk_wait},         {"sk_fd", run_sk_fd},
    {"sk_thread", run_sk_thread},     {"sigtimedwait_far", run_sigtimedwait_far},
    {NULL, NULL},
};

static const struct mechanism *find(const char *name)
{
    for (const struct mechanism *m = mechanisms; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    for (const struct mechanism *m = peer_mechanisms; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

int main(int argc, char **argv)
{
    pp.rounds = 20000;
    pp.warmup = 1000;
    int opt;
    while ((opt = getopt(argc, argv, "n:w:H:T:")) != -1) {
        switch (opt) {
        case 'n': pp.rounds = atol(optarg); break;
        case 'w': pp.warmup = atol(optarg); break;
        case 'H': extra_handlers = atoi(optarg); break;
        case 'T': timers = atoi(optarg); break;
        default: goto usage;
        }
    }
    const struct mechanism *m = optind < argc ? find(argv[optind]) : NULL;
    if (!m || pp.rounds < 1 || pp.warmup < 0 || extra_handlers < 1 || timers < 0)
        goto usage;

    int p[2];
    if (pipe(p) < 0)
        return 1;
    pp.ready_r = p[0];
    pp.ready_w = p[1];
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        pp.peer = parent;
        _exit(m->run() == 0 ? 0 : 1);
    }
    pp.is_pinger = 1;
    pp.peer = child;
    pp.rtt = calloc((size_t)pp.rounds, sizeof *pp.rtt);
    if (!pp.rtt || m->run() < 0) {
        printf("%s unavailable\n", m->name);
        kill(child, SIGKILL);
        return 1;
    }
    int status;
    waitpid(child, &status, 0);
    sort_i64(pp.rtt, pp.rounds);
    double secs = (double)(pp.t_end - pp.t_start) / 1e9;
    printf("%s rt_per_s=%.0f oneway_p50_ns=%lld oneway_p99_ns=%lld rounds=%ld\n", m->name,
           (double)pp.rounds / secs, (long long)pp.rtt[pp.rounds / 2] / 2,
           (long long)pp.rtt[pp.rounds * 99 / 100] / 2, pp.rounds);
    return 0;

usage:
    fprintf(stderr, "usage: pingpong MECHANISM [-n rounds] [-w warmup] [-H handlers] [-T timers]\n"
                    "mechanisms:");
    for (const struct mechanism *x = mechanisms; x->name; x++)
        fprintf(stderr, " %s", x->name);
    for (const struct mechanism *x = peer_mechanisms; x->name; x++)
        fprintf(stderr, " %s", x->name);
    fprintf(stderr, "\n");
    return 2;
}
