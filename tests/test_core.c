/* The delivery path and the handler table: DESIGN section 1's rules. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sigkit.h"

static _Atomic int calls;
static sk_info last;
static uint64_t total_count;

static void record(const sk_info *info, void *arg)
{
    (void)arg;
    last = *info;
    total_count += info->count;
    atomic_fetch_add(&calls, 1);
}

TEST(handler_is_deferred_until_dispatch)
{
    CHECK_EQ(sk_signal(SIGUSR1, record, NULL), SK_DEFAULT);
    CHECK_EQ(sk_raise(SIGUSR1), 0);
    CHECK_EQ(calls, 0); /* recorded, not run */
    CHECK_EQ(sk_dispatch(), 1);
    CHECK_EQ(calls, 1);
    CHECK_EQ(last.signo, SIGUSR1);
    CHECK_EQ(last.pid, getpid());
    CHECK_EQ(last.uid, getuid());
    CHECK_EQ(last.count, 1);
    CHECK_EQ(sk_dispatch(), 0);
}

TEST(sigqueue_payload_and_code)
{
    CHECK_EQ(sk_signal(SIGUSR2, record, NULL), SK_DEFAULT);
    CHECK_EQ(sk_sigqueue(getpid(), SIGUSR2, 4242), 0);
    CHECK_EQ(sk_wait(5000), 1);
    CHECK_EQ(last.code, SI_QUEUE);
    CHECK_EQ(last.value, 4242);
    CHECK_EQ(last.pid, getpid());
}

TEST(errno_is_preserved)
{
    CHECK_EQ(sk_signal(SIGUSR1, record, NULL), SK_DEFAULT);
    for (int i = 0; i < 100; i++) {
        errno = 1234 + i;
        kill(getpid(), SIGUSR1);
        CHECK_EQ(errno, 1234 + i);
    }
    CHECK(sk_dispatch() >= 1);
}

TEST(bad_signals_are_refused_and_nothing_installed)
{
    int bad[] = {0, -1, SIGKILL, SIGSTOP, NSIG, 1000};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(sk_signal(bad[i], record, NULL), -EINVAL);
        CHECK_EQ(sk_connect(bad[i], record, NULL), -EINVAL);
    }
    CHECK_EQ(sk_signal(SIGKILL, SK_IGN, NULL), -EINVAL);
    CHECK_EQ(sk_signal(SIGSTOP, SK_DFL, NULL), -EINVAL);
#ifdef __GLIBC__
    CHECK_EQ(sk_signal(32, record, NULL), -EINVAL);
    CHECK_EQ(sk_signal(33, record, NULL), -EINVAL);
#endif
    int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
    for (unsigned i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        CHECK_EQ(sk_signal(faults[i], record, NULL), -ENOTSUP);
        CHECK_EQ(sk_connect(faults[i], record, NULL), -ENOTSUP);
        CHECK_EQ(sk_getsignal(faults[i], NULL, NULL), SK_DEFAULT);
    }
    /* SK_DFL/SK_IGN are fine for faults */
    CHECK_EQ(sk_signal(SIGTRAP, SK_IGN, NULL), SK_DEFAULT);
    CHECK_EQ(sk_getsignal(SIGTRAP, NULL, NULL), SK_IGNORED);
    CHECK_EQ(sk_connect(SIGUSR1, SK_DFL, NULL), -EINVAL);
    CHECK_EQ(sk_connect(SIGUSR1, SK_IGN, NULL), -EINVAL);
    CHECK_EQ(sk_disconnect(0), -EINVAL);
    CHECK_EQ(sk_disconnect(12345), -ENOENT);
    CHECK_EQ(sk_getsignal(0, NULL, NULL), -EINVAL);
    CHECK_EQ(sk_siginterrupt(SIGKILL, 1), -EINVAL);
    CHECK_EQ(sk_siginterrupt(SIGUSR1, 7), -EINVAL);
}

static void other(const sk_info *info, void *arg)
{
    (void)info;
    (void)arg;
}

static void plain_handler(int s)
{
    (void)s;
}

TEST(getsignal_reports_every_disposition)
{
    sk_handler fn = other;
    void *arg = &fn;
    CHECK_EQ(sk_getsignal(SIGUSR1, &fn, &arg), SK_DEFAULT);
    CHECK(fn == SK_DFL && arg == NULL);
    CHECK_EQ(sk_signal(SIGUSR1, SK_IGN, NULL), SK_DEFAULT);
    CHECK_EQ(sk_getsignal(SIGUSR1, &fn, NULL), SK_IGNORED);
    CHECK(fn == SK_IGN);
    int tag = 7;
    CHECK_EQ(sk_signal(SIGUSR1, record, &tag), SK_IGNORED);
    CHECK_EQ(sk_getsignal(SIGUSR1, &fn, &arg), SK_HANDLED);
    CHECK(fn == record && arg == &tag);
    CHECK_EQ(sk_signal(SIGUSR1, SK_DFL, NULL), SK_HANDLED);
    CHECK_EQ(sk_getsignal(SIGUSR1, NULL, NULL), SK_DEFAULT);
    signal(SIGUSR2, plain_handler);
    CHECK_EQ(sk_getsignal(SIGUSR2, &fn, NULL), SK_FOREIGN);
    CHECK(fn == NULL);
    CHECK_EQ(sk_getsignal(SIGKILL, NULL, NULL), SK_DEFAULT);
}

TEST(signal_replaces_every_connected_handler)
{
    CHECK(sk_connect(SIGUSR1, other, NULL) > 0);
    CHECK(sk_connect(SIGUSR1, other, NULL) > 0);
    CHECK_EQ(sk_signal(SIGUSR1, record, NULL), SK_HANDLED);
    sk_raise(SIGUSR1);
    CHECK_EQ(sk_dispatch(), 1);
    CHECK_EQ(calls, 1);
}

static int order[8], norder;
static void first(const sk_info *i, void *a) { (void)i; (void)a; order[norder++] = 1; }
static void second(const sk_info *i, void *a) { (void)i; (void)a; order[norder++] = 2; }

TEST(connected_handlers_run_in_order)
{
    int a = sk_connect(SIGHUP, first, NULL), b = sk_connect(SIGHUP, second, NULL);
    CHECK(a > 0 && b > a);
    sk_raise(SIGHUP);
    CHECK_EQ(sk_dispatch(), 2);
    CHECK_EQ(norder, 2);
    CHECK(order[0] == 1 && order[1] == 2);
    CHECK_EQ(sk_disconnect(a), 0);
    CHECK_EQ(sk_disconnect(a), -ENOENT);
    sk_raise(SIGHUP);
    CHECK_EQ(sk_dispatch(), 1);
    CHECK_EQ(order[2], 2);
    CHECK_EQ(sk_disconnect(b), 0);
    CHECK_EQ(sk_getsignal(SIGHUP, NULL, NULL), SK_DEFAULT);
}

static void foreign_action(int s, siginfo_t *si, void *uc)
{
    (void)s;
    (void)si;
    (void)uc;
}

TEST(last_disconnect_restores_the_foreign_action_exactly)
{
    struct sigaction mine, now;
    memset(&mine, 0, sizeof mine);
    mine.sa_sigaction = foreign_action;
    mine.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&mine.sa_mask);
    sigaddset(&mine.sa_mask, SIGWINCH);
    sigaddset(&mine.sa_mask, SIGRTMIN + 2);
    CHECK_EQ(sigaction(SIGUSR1, &mine, NULL), 0);
    CHECK_EQ(sk_getsignal(SIGUSR1, NULL, NULL), SK_FOREIGN);
    int a = sk_connect(SIGUSR1, record, NULL), b = sk_connect(SIGUSR1, other, NULL);
    CHECK_EQ(sk_getsignal(SIGUSR1, NULL, NULL), SK_HANDLED);
    CHECK_EQ(sk_disconnect(b), 0);
    CHECK_EQ(sk_disconnect(a), 0);
    CHECK_EQ(sigaction(SIGUSR1, NULL, &now), 0);
    CHECK(now.sa_sigaction == foreign_action);
    CHECK_EQ(now.sa_flags & (SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART),
             SA_SIGINFO | SA_NODEFER | SA_ONSTACK);
    for (int s = 1; s < NSIG; s++)
        if (s != 32 && s != 33)
            CHECK_EQ(sigismember(&now.sa_mask, s), sigismember(&mine.sa_mask, s));
}

TEST(last_disconnect_restores_ignore)
{
    signal(SIGUSR2, SIG_IGN);
    int id = sk_connect(SIGUSR2, record, NULL);
    CHECK(id > 0);
    CHECK_EQ(sk_disconnect(id), 0);
    CHECK_EQ(sk_getsignal(SIGUSR2, NULL, NULL), SK_IGNORED);
    raise(SIGUSR2); /* still ignored: we live */
}

TEST(queued_arrivals_die_with_the_last_handler)
{
    int id = sk_connect(SIGUSR1, record, NULL);
    signal(SIGUSR2, SIG_IGN);
    sk_raise(SIGUSR1);
    CHECK_EQ(sk_disconnect(id), 0);
    CHECK(sk_connect(SIGUSR1, record, NULL) > 0);
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(calls, 0);
}

/* More arrivals than the queue holds: standard signals fold into count,
 * and no arrival is lost. */
TEST(full_queue_folds_standard_signals_into_count)
{
    CHECK_EQ(sk_signal(SIGUSR1, record, NULL), SK_DEFAULT);
    const int n = SK_QUEUE_CAP + 50;
    for (int i = 0; i < n; i++)
        sk_raise(SIGUSR1); /* unblocked: each is delivered before raise returns */
    CHECK(sk_dispatch() >= 2);
    CHECK_EQ(total_count, n);
}

static intptr_t rt_values[4096];
static int rt_n;
static void rt_record(const sk_info *info, void *arg)
{
    (void)arg;
    CHECK_EQ(info->count, 1);
    rt_values[rt_n++] = info->value;
}

/* More real-time arrivals than the queue holds: none is folded or lost,
 * and they come in order with their values. */
TEST(full_queue_keeps_realtime_signals_in_the_kernel)
{
    if (SK_UNDER_TSAN)
        SK_SKIP("ThreadSanitizer merges deferred signals of one number");
    if (sk_test_under_valgrind())
        SK_SKIP("valgrind ignores a handler's change to its context's mask");
    CHECK_EQ(sk_signal(SIGRTMIN + 1, rt_record, NULL), SK_DEFAULT);
    const int n = SK_QUEUE_CAP + 200 < 4000 ? SK_QUEUE_CAP + 200 : 4000;
    for (int i = 0; i < n; i++)
        CHECK_EQ(sk_sigqueue(getpid(), SIGRTMIN + 1, i), 0);
    while (rt_n < n)
        CHECK(sk_wait(5000) > 0);
    for (int i = 0; i < n; i++)
        CHECK_EQ(rt_values[i], i);
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, NULL, &mask);
    CHECK(!sigismember(&mask, SIGRTMIN + 1)); /* readmitted */
}

static void flood_rt(void *arg)
{
    pid_t parent = *(pid_t *)arg;
    for (int i = 0; i < 1000; i++) {
        while (sk_sigqueue(parent, SIGRTMIN, i) == -EAGAIN)
            usleep(100);
    }
}

TEST(realtime_flood_from_another_process_in_order)
{
    if (SK_UNDER_TSAN)
        SK_SKIP("ThreadSanitizer merges deferred signals of one number");
    CHECK_EQ(sk_signal(SIGRTMIN, rt_record, NULL), SK_DEFAULT);
    pid_t me = getpid();
    int child = sk_test_fork(flood_rt, &me);
    double end = sk_test_now() + 30;
    while (rt_n < 1000 && sk_test_now() < end)
        sk_wait(1000);
    CHECK_EQ(rt_n, 1000);
    for (int i = 0; i < 1000; i++)
        CHECK_EQ(rt_values[i], i);
    CHECK_EQ(sk_test_reap(child, 10), 0);
}

static _Atomic int inside, overlaps;
static void exclusive(const sk_info *info, void *arg)
{
    (void)arg;
    if (atomic_fetch_add(&inside, 1) != 0)
        atomic_fetch_add(&overlaps, 1);
    for (volatile int i = 0; i < 200; i++)
        ;
    total_count += info->count; /* unsynchronised on purpose: TSan sees overlaps */
    atomic_fetch_sub(&inside, 1);
}

static _Atomic int stop_dispatchers;
static void *dispatcher(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_dispatchers))
        sk_wait(50);
    return NULL;
}

static void flood_std(void *arg)
{
    pid_t parent = *(pid_t *)arg;
    for (int i = 0; i < 5000; i++)
        kill(parent, i % 2 ? SIGUSR1 : SIGUSR2);
}

TEST(handlers_never_run_concurrently)
{
    CHECK(sk_connect(SIGUSR1, exclusive, NULL) > 0);
    CHECK(sk_connect(SIGUSR2, exclusive, NULL) > 0);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, dispatcher, NULL), 0);
    pid_t me = getpid();
    int kids[2];
    for (int i = 0; i < 2; i++)
        kids[i] = sk_test_fork(flood_std, &me);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(sk_test_reap(kids[i], 30), 0);
    for (int i = 0; i < 20; i++)
        sk_wait(10);
    atomic_store(&stop_dispatchers, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    sk_dispatch();
    CHECK_EQ(overlaps, 0);
    CHECK(total_count >= 2); /* standard signals coalesce in the kernel */
}

static void call_dispatch(const sk_info *info, void *arg)
{
    (void)info;
    *(int *)arg = sk_dispatch() * 100 + sk_wait(0);
}

TEST(dispatch_from_a_handler_is_refused)
{
    int r = 0;
    CHECK_EQ(sk_signal(SIGUSR1, call_dispatch, &r), SK_DEFAULT);
    sk_raise(SIGUSR1);
    CHECK_EQ(sk_dispatch(), 1);
    CHECK_EQ(r, -EDEADLK * 100 + -EDEADLK);
}

TEST(wakeup_fd_gets_one_byte_per_arrival)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(sk_set_wakeup_fd(p[1]), -EINVAL); /* blocking */
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    CHECK_EQ(sk_set_wakeup_fd(p[1]), -1);
    CHECK_EQ(sk_signal(SIGUSR1, record, NULL), SK_DEFAULT);
    CHECK_EQ(sk_signal(SIGHUP, record, NULL), SK_DEFAULT);
    sk_raise(SIGUSR1);
    sk_raise(SIGHUP);
    unsigned char b[4];
    CHECK_EQ(read(p[0], b, sizeof b), 2);
    CHECK_EQ(b[0], SIGUSR1);
    CHECK_EQ(b[1], SIGHUP);
    CHECK_EQ(sk_set_wakeup_fd(-1), p[1]);
    CHECK_EQ(sk_dispatch(), 2);
}

static void stop_once(const sk_info *info, void *arg)
{
    (void)info;
    (*(int *)arg)++;
}

static void graceful_child(void *arg)
{
    (void)arg;
    int stops = 0;
    if (sk_graceful(stop_once, &stops) != 0)
        _exit(3);
    sk_raise(SIGINT);
    if (sk_wait(5000) != 1 || stops != 1)
        _exit(4);
    /* the second arrival kills at once, even with nobody dispatching */
    sk_raise(SIGTERM);
    _exit(5);
}

TEST(graceful_first_signal_runs_handler_second_kills)
{
    int st = sk_test_reap(sk_test_fork(graceful_child, NULL), 10);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGTERM);
}

static int stuck_pipe[2];
static void stuck_stop(const sk_info *info, void *arg)
{
    (void)info;
    (void)arg;
    if (write(stuck_pipe[1], "s", 1) != 1)
        _exit(6);
    for (;;)
        pause(); /* a shutdown that hangs: the second signal must still kill */
}

static void graceful_stuck_child(void *arg)
{
    (void)arg;
    close(stuck_pipe[0]);
    if (sk_graceful(stuck_stop, NULL) != 0)
        _exit(3);
    for (;;)
        sk_wait(-1);
}

/* The dispatcher is stuck in on_stop: the second INT still kills at once,
 * and by SIGINT. */
TEST(graceful_second_signal_kills_a_stuck_dispatcher)
{
    CHECK_EQ(pipe(stuck_pipe), 0);
    int child = sk_test_fork(graceful_stuck_child, NULL);
    close(stuck_pipe[1]);
    /* the child's first wait may not have started: resend until on_stop runs */
    char c;
    struct pollfd p = {.fd = stuck_pipe[0], .events = POLLIN};
    for (int i = 0; i < 100 && poll(&p, 1, 100) == 0; i++)
        kill(child, SIGINT);
    CHECK_EQ(read(stuck_pipe[0], &c, 1), 1);
    kill(child, SIGINT);
    int st = sk_test_reap(child, 10);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGINT);
}
