/* Trusted senders (sk_trust, sk_untrusted) and the arrival count testing
 * hook (sk__arrivals): who the kernel vouches for, what is only claimed,
 * and that an untrusted arrival is counted and dropped on every path. */
#include "harness.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h" /* sk__arrivals */
#include "sigkit.h"

#define RT (SIGRTMIN + 1)

static _Atomic int calls;
static sk_info last;

static void record(const sk_info *info, void *arg)
{
    (void)arg;
    last = *info;
    atomic_fetch_add(&calls, (int)info->count);
}

static uint64_t dropped(int signo)
{
    uint64_t d = 12345;
    CHECK_EQ(sk_untrusted(signo, &d), 0);
    return d;
}

/* A siginfo that claims to come from pid/uid (SI_QUEUE unless code says
 * otherwise): what any process allowed to signal us may write. */
static int forge(pid_t to, int signo, int code, pid_t pid, uid_t uid, int value)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = signo;
    si.si_code = code;
    si.si_pid = pid;
    si.si_uid = uid;
    si.si_value.sival_int = value;
    int r;
    while ((r = (int)syscall(SYS_rt_sigqueueinfo, to, signo, &si)) != 0 && errno == EAGAIN)
        sched_yield(); /* RLIMIT_SIGPENDING is per user: other tests' floods count */
    return r;
}

/* sigqueue() and tgkill() of a real-time signal meet RLIMIT_SIGPENDING
 * (kill() does not); the limit is per user, shared with other tests. */
static int queue_to(pid_t pid, int signo, intptr_t value)
{
    int r;
    while ((r = sk_sigqueue(pid, signo, value)) == -EAGAIN)
        sched_yield();
    return r;
}

static int raise_rt(int signo)
{
    int r;
    while ((r = sk_raise(signo)) == -EAGAIN)
        sched_yield();
    return r;
}

/* When a user's pending signals reach RLIMIT_SIGPENDING, the kernel
 * delivers a tgkill()/sigqueue(), and a kill() of a real-time signal,
 * without its sender (SI_USER, pid 0), which trust must refuse.  The count
 * is per receiving user, and other suites flood root's: a case that
 * counts exactly receives as a uid of its own. */
static void private_uid(void)
{
    if (getuid() != 0)
        return;
    uid_t u = 50000 + (uid_t)(getpid() % 10000);
    CHECK_EQ(setgroups(0, NULL), 0);
    CHECK_EQ(setresgid(u, u, u), 0);
    CHECK_EQ(setresuid(u, u, u), 0);
}

/* ---- children that send to the test process (argument: its pid) ---- */

static pid_t claim_pid;
static int send_signo;

static void kill_parent(void *arg) { kill(*(pid_t *)arg, send_signo); }
static void forge_to_parent(void *arg)
{
    if (forge(*(pid_t *)arg, send_signo, SI_QUEUE, claim_pid, getuid(), 7) != 0)
        _exit(3);
}
static void forge_uid0_to_parent(void *arg)
{
    if (forge(*(pid_t *)arg, send_signo, SI_QUEUE, getpid(), 0, 7) != 0)
        _exit(3);
}

/* Run a sender child to completion: what it sent is then pending for us
 * (or already caught: the kernel wakes us before waitpid returns). */
static void from_child(void (*fn)(void *), int signo)
{
    pid_t me = getpid();
    send_signo = signo;
    CHECK_EQ(sk_test_reap(sk_test_fork(fn, &me), 10), 0);
}

/* ---------------------------------------------------------------- */

TEST(bad_arguments)
{
    uint64_t d;
    CHECK_EQ(sk_trust(0, SK_FROM_SELF), -EINVAL);
    CHECK_EQ(sk_trust(-1, SK_FROM_SELF), -EINVAL);
    CHECK_EQ(sk_trust(NSIG, SK_FROM_SELF), -EINVAL);
    CHECK_EQ(sk_trust(SIGKILL, SK_FROM_SELF), -EINVAL);
    CHECK_EQ(sk_trust(SIGSTOP, SK_FROM_SELF), -EINVAL);
    CHECK_EQ(sk_trust(SIGUSR1, 1ull << 5), -EINVAL);
    CHECK_EQ(sk_trust(SIGUSR1, 1ull << 31), -EINVAL);
    CHECK_EQ(sk_trust(SIGUSR1, 1ull << 40), -EINVAL); /* a uid without SK_FROM_UID's bit */
    CHECK_EQ(sk_trust(SIGUSR1, SK_FROM_UID(1000) | (1ull << 6)), -EINVAL);
    CHECK_EQ(sk_untrusted(SIGUSR1, NULL), -EINVAL);
    CHECK_EQ(sk_untrusted(0, &d), -EINVAL);
    CHECK_EQ(sk_untrusted(SIGKILL, &d), -EINVAL);
    CHECK_EQ(sk_trust(SIGUSR1, SK_FROM_SELF | SK_FROM_PARENT | SK_FROM_KERNEL | SK_FROM_QUEUED |
                                   SK_FROM_UID(4294967295u)),
             0);
    CHECK_EQ(sk_trust(SIGUSR1, SK_FROM_UID(0)), 0);
    CHECK_EQ(sk_trust(SIGUSR1, SK_FROM_ANY), 0);
    CHECK_EQ(dropped(SIGUSR1), 0);
}

TEST(self_accepts_kill_and_tgkill_not_its_own_sigqueue)
{
    if (sk_test_under_valgrind())
        SK_SKIP("valgrind delivers a sigqueue() to ourselves later, not before it returns");
    private_uid();
    CHECK_EQ(sk_trust(SIGUSR1, SK_FROM_SELF), 0); /* before the handler: fine */
    CHECK_EQ(sk_signal(SIGUSR1, record, NULL), SK_DEFAULT);
    CHECK_EQ(sk_raise(SIGUSR1), 0); /* tgkill: SI_TKILL */
    CHECK_EQ(sk_dispatch(), 1);
    CHECK_EQ(last.code, SI_TKILL);
    CHECK_EQ(kill(getpid(), SIGUSR1), 0); /* SI_USER */
    CHECK_EQ(sk_dispatch(), 1);
    CHECK_EQ(last.code, SI_USER);
    /* Our own sigqueue is a claim like any other. */
    CHECK_EQ(queue_to(getpid(), SIGUSR1, 5), 0);
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(dropped(SIGUSR1), 1);
    from_child(kill_parent, SIGUSR1);
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(dropped(SIGUSR1), 2);
    CHECK_EQ(sk__arrivals(SIGUSR1), 4);
    /* QUEUED believes the claim; the count survives re-trusting. */
    CHECK_EQ(sk_trust(SIGUSR1, SK_FROM_SELF | SK_FROM_QUEUED), 0);
    CHECK_EQ(queue_to(getpid(), SIGUSR1, 5), 0);
    CHECK_EQ(sk_dispatch(), 1);
    CHECK_EQ(last.value, 5);
    CHECK_EQ(dropped(SIGUSR1), 2);
    CHECK_EQ(calls, 3);
}

static void *pthread_kill_main(void *arg)
{
    sk_pthread_kill(*(pthread_t *)arg, SIGUSR2);
    kill(getpid(), SIGUSR2);
    return NULL;
}

TEST(self_from_another_thread)
{
    if (SK_UNDER_TSAN)
        SK_SKIP("ThreadSanitizer merges deferred signals of one number: one call, not two");
    private_uid();
    CHECK_EQ(sk_signal(SIGUSR2, record, NULL), SK_DEFAULT);
    CHECK_EQ(sk_trust(SIGUSR2, SK_FROM_SELF), 0);
    pthread_t me = pthread_self(), t;
    CHECK_EQ(pthread_create(&t, NULL, pthread_kill_main, &me), 0);
    pthread_join(t, NULL);
    double end = sk_test_now() + 10;
    while (calls < 2 && sk_test_now() < end) /* a thread's and the process's: two */
        sk_wait(100);
    CHECK_EQ(calls, 2);
    CHECK_EQ(dropped(SIGUSR2), 0);
}

TEST(forged_parent_claim_needs_queued)
{
    private_uid();
    claim_pid = getppid(); /* the child claims to be our parent */
    CHECK_EQ(sk_signal(RT, record, NULL), SK_DEFAULT);
    CHECK_EQ(sk_trust(RT, SK_FROM_PARENT), 0);
    from_child(forge_to_parent, RT);
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(calls, 0);
    CHECK_EQ(dropped(RT), 1);
    CHECK_EQ(sk_trust(RT, SK_FROM_PARENT | SK_FROM_QUEUED), 0);
    from_child(forge_to_parent, RT);
    CHECK_EQ(sk_wait(5000), 1);
    CHECK_EQ(last.code, SI_QUEUE);
    CHECK_EQ(last.pid, claim_pid);
    CHECK_EQ(last.value, 7);
    CHECK_EQ(dropped(RT), 1);
    CHECK_EQ(sk__arrivals(RT), 2);
}

static void forge_timer(void *arg)
{
    if (forge(*(pid_t *)arg, send_signo, SI_TIMER, 0, 0, 0) != 0)
        _exit(3);
}

/* SI_TIMER is forgeable (the kernel refuses only si_code >= 0 and
 * SI_TKILL to another process), so a timer of ours needs QUEUED too. */
TEST(timer_is_self_only_with_queued)
{
    private_uid();
    CHECK_EQ(sk_signal(RT, record, NULL), SK_DEFAULT);
    CHECK_EQ(sk_trust(RT, SK_FROM_SELF), 0);
    from_child(forge_timer, RT); /* a stranger's SI_TIMER */
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(dropped(RT), 1);
    timer_t tm;
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = RT};
    CHECK_EQ(timer_create(CLOCK_MONOTONIC, &ev, &tm), 0);
    struct itimerspec its = {.it_value = {0, 1000000}};
    CHECK_EQ(timer_settime(tm, 0, &its, NULL), 0);
    double end = sk_test_now() + 10;
    while (dropped(RT) < 2 && sk_test_now() < end)
        sk_wait(20);
    CHECK_EQ(dropped(RT), 2); /* our own timer, but SELF alone refuses SI_TIMER */
    CHECK_EQ(calls, 0);
    CHECK_EQ(sk_trust(RT, SK_FROM_SELF | SK_FROM_QUEUED), 0);
    CHECK_EQ(timer_settime(tm, 0, &its, NULL), 0);
    CHECK_EQ(sk_wait(5000), 1);
    CHECK_EQ(last.code, SI_TIMER);
    timer_delete(tm);
}

static void exit_now(void *arg) { (void)arg; }

TEST(kernel_accepts_sigchld_of_a_real_exit_only)
{
    CHECK_EQ(sk_signal(SIGCHLD, record, NULL), SK_DEFAULT);
    CHECK_EQ(sk_trust(SIGCHLD, SK_FROM_KERNEL), 0);
    int pid = sk_test_fork(exit_now, NULL);
    CHECK_EQ(sk_wait(5000), 1);
    CHECK_EQ(last.code, CLD_EXITED);
    CHECK_EQ(last.pid, pid);
    CHECK_EQ(sk_test_reap(pid, 10), 0);
    CHECK_EQ(kill(getpid(), SIGCHLD), 0); /* a forged `kill -CHLD` */
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(dropped(SIGCHLD), 1);
    sk_signal(SIGCHLD, SK_DFL, NULL);
    from_child(kill_parent, SIGCHLD); /* no handler: nothing to filter, nothing counted */
    CHECK_EQ(dropped(SIGCHLD), 1);
    CHECK_EQ(calls, 1);
}

TEST(kernel_accepts_itimer_alarm)
{
    CHECK_EQ(sk_signal(SIGALRM, record, NULL), SK_DEFAULT);
    CHECK_EQ(sk_trust(SIGALRM, SK_FROM_KERNEL), 0);
    CHECK_EQ(sk_setitimer(ITIMER_REAL, 0.001, 0, NULL, NULL), 0);
    CHECK_EQ(sk_wait(5000), 1);
    CHECK_EQ(last.code, SI_KERNEL);
    CHECK_EQ(kill(getpid(), SIGALRM), 0);
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(dropped(SIGALRM), 1);
}

static void setuid_then_kill(void *arg)
{
    if (setuid(65534) != 0)
        _exit(4);
    /* the kernel's own check: a stranger cannot signal root at all */
    if (kill(*(pid_t *)arg, send_signo) == 0 || errno != EPERM)
        _exit(5);
}

TEST(uid)
{
    if (getuid() != 0)
        SK_SKIP("needs root (senders of two uids)");
    /* A standard signal: kill() keeps its sender even past the queue limit. */
    CHECK_EQ(sk_signal(SIGUSR1, record, NULL), SK_DEFAULT);
    CHECK_EQ(sk_trust(SIGUSR1, SK_FROM_UID(0)), 0);
    from_child(kill_parent, SIGUSR1); /* uid 0, vouched for by the kernel */
    CHECK_EQ(sk_wait(5000), 1);
    CHECK_EQ(last.uid, 0);
    from_child(forge_uid0_to_parent, SIGUSR1); /* a claim of uid 0 */
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(dropped(SIGUSR1), 1);
    from_child(setuid_then_kill, SIGUSR1);
    CHECK_EQ(sk_trust(SIGUSR1, SK_FROM_UID(65534)), 0);
    from_child(kill_parent, SIGUSR1); /* uid 0 is not 65534 */
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(dropped(SIGUSR1), 2);
    CHECK_EQ(sk_trust(SIGUSR1, SK_FROM_UID(0) | SK_FROM_QUEUED), 0);
    from_child(forge_uid0_to_parent, SIGUSR1);
    CHECK_EQ(sk_wait(5000), 1);
    CHECK_EQ(last.code, SI_QUEUE);
    CHECK_EQ(calls, 2);
}

/* ---------------------------------------------------------------- */
/* A receiver child trusting its parent (the test process), on each   */
/* of the three ways handlers run.                                    */
/* ---------------------------------------------------------------- */

enum { VIA_WAIT, VIA_FD, VIA_THREAD };

typedef struct {
    int via;
    int expect_calls;       /* trusted arrivals to come */
    uint64_t expect_drops;  /* untrusted arrivals to come */
    bool block_main;        /* VIA_THREAD: the main thread blocks every signal */
    int ready[2], report[2];
} receiver;

static _Atomic int rx_bad; /* a call whose sender is not the parent */

static void rx_handler(const sk_info *info, void *arg)
{
    (void)arg;
    if (info->pid != getppid() || (info->code != SI_USER && info->code != SI_TKILL))
        atomic_fetch_add(&rx_bad, 1);
    atomic_fetch_add(&calls, (int)info->count);
}

static bool rx_done(receiver *r)
{
    uint64_t d = 0;
    sk_untrusted(RT, &d);
    return calls >= r->expect_calls && d >= r->expect_drops;
}

/* Report: calls, drops, bad calls, arrivals; then exit. */
static void rx_main(void *arg)
{
    receiver *r = arg;
    private_uid(); /* the test process, root, can still signal us */
    close(r->ready[0]);
    close(r->report[0]);
    if (sk_trust(RT, SK_FROM_PARENT) != 0 || sk_connect(RT, rx_handler, NULL) <= 0)
        _exit(10);
    int fd = -1;
    if (r->via == VIA_FD)
        fd = sk_fd();
    else if (r->via == VIA_THREAD) {
        if (r->block_main) {
            /* Go's model: the other threads block what sigkit's thread
             * takes.  (A main thread that catches a flood itself and never
             * dispatches would keep an arrival handed back by a full queue:
             * readmission is per thread.) */
            sigset_t all;
            sigfillset(&all);
            pthread_sigmask(SIG_BLOCK, &all, NULL);
        }
        if (sk_thread_start() != 0)
            _exit(11);
    }
    if (write(r->ready[1], "r", 1) != 1)
        _exit(12);
    /* Dropped arrivals wake nobody: poll the count, bounded by a deadline. */
    double end = sk_test_now() + 30;
    while (!rx_done(r) && sk_test_now() < end) {
        if (r->via == VIA_WAIT) {
            sk_wait(20);
        } else if (r->via == VIA_FD) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, 20) > 0)
                sk_dispatch();
        } else {
            poll(NULL, 0, 5);
        }
    }
    if (r->via == VIA_THREAD)
        sk_thread_stop();
    uint64_t rep[4] = {(uint64_t)calls, 0, (uint64_t)rx_bad, sk__arrivals(RT)};
    sk_untrusted(RT, &rep[1]);
    if (write(r->report[1], rep, sizeof rep) != sizeof rep)
        _exit(13);
}

static pid_t rx_start(receiver *r, int via, int calls_, uint64_t drops, bool block_main)
{
    r->via = via;
    r->expect_calls = calls_;
    r->expect_drops = drops;
    r->block_main = block_main;
    CHECK_EQ(pipe(r->ready), 0);
    CHECK_EQ(pipe(r->report), 0);
    pid_t pid = sk_test_fork(rx_main, r);
    close(r->ready[1]);
    close(r->report[1]);
    char c;
    CHECK_EQ(read(r->ready[0], &c, 1), 1);
    return pid;
}

static void rx_finish(receiver *r, pid_t pid, uint64_t rep[4])
{
    CHECK_EQ(read(r->report[0], rep, 4 * sizeof rep[0]), (long)(4 * sizeof rep[0]));
    CHECK_EQ(sk_test_reap(pid, 10), 0);
    close(r->ready[0]);
    close(r->report[0]);
}

/* A sibling of the receiver: neither its parent nor itself. */
static pid_t rx_pid;
static void sibling_sends(void *arg)
{
    (void)arg;
    kill(rx_pid, RT);
    while (syscall(SYS_tgkill, rx_pid, rx_pid, RT) != 0 && errno == EAGAIN)
        sched_yield();
    forge(rx_pid, RT, SI_QUEUE, getppid(), getuid(), 1); /* claims to be its parent */
}

static void parent_only(int via)
{
    if (SK_UNDER_TSAN)
        SK_SKIP("ThreadSanitizer merges deferred signals of one number: counts differ");
    receiver r;
    rx_pid = rx_start(&r, via, 2, 4, false); /* tgkill below aims at its main thread */
    CHECK_EQ(sk_test_reap(sk_test_fork(sibling_sends, NULL), 10), 0); /* 3 untrusted */
    CHECK_EQ(queue_to(rx_pid, RT, 1), 0);    /* the parent's own claim: untrusted too */
    CHECK_EQ(kill(rx_pid, RT), 0);              /* trusted: SI_USER */
    long t;
    while ((t = syscall(SYS_tgkill, rx_pid, rx_pid, RT)) != 0 && errno == EAGAIN)
        sched_yield();
    CHECK_EQ(t, 0); /* trusted: SI_TKILL */
    uint64_t rep[4];
    rx_finish(&r, rx_pid, rep);
    CHECK_EQ(rep[0], 2); /* calls */
    CHECK_EQ(rep[1], 4); /* dropped */
    CHECK_EQ(rep[2], 0); /* calls from anyone else */
    CHECK_EQ(rep[3], 6); /* arrivals */
}

TEST(parent_only_fast_path) { parent_only(VIA_WAIT); }
TEST(parent_only_ring_path) { parent_only(VIA_FD); }
TEST(parent_only_sigkit_thread) { parent_only(VIA_THREAD); }

/* An untrusted flood interleaved with trusted arrivals: every trusted one
 * runs, every untrusted one is counted, none runs. */
#define FLOOD 3000
#define TRUSTED 300

static void sibling_floods(void *arg)
{
    (void)arg;
    for (int i = 0; i < FLOOD; i++)
        if (kill(rx_pid, RT) != 0)
            _exit(3);
}

static void flood(int via)
{
    if (SK_UNDER_TSAN)
        SK_SKIP("ThreadSanitizer merges deferred signals of one number");
    receiver r;
    rx_pid = rx_start(&r, via, TRUSTED, FLOOD, true);
    int kid = sk_test_fork(sibling_floods, NULL);
    for (int i = 0; i < TRUSTED; i++)
        CHECK_EQ(kill(rx_pid, RT), 0);
    CHECK_EQ(sk_test_reap(kid, 30), 0);
    uint64_t rep[4];
    rx_finish(&r, rx_pid, rep);
    CHECK_EQ(rep[0], TRUSTED);
    CHECK_EQ(rep[1], FLOOD);
    CHECK_EQ(rep[2], 0);
    CHECK_EQ(rep[3], FLOOD + TRUSTED);
}

TEST(untrusted_flood_fast_path) { flood(VIA_WAIT); }
TEST(untrusted_flood_ring_path) { flood(VIA_FD); }
TEST(untrusted_flood_sigkit_thread) { flood(VIA_THREAD); }

/* ---------------------------------------------------------------- */

static void on_stop(const sk_info *info, void *arg)
{
    (void)info;
    (void)arg;
    atomic_fetch_add(&calls, 1);
}

/* An untrusted TERM is not the "second TERM" of sk_graceful, and writes
 * no wakeup byte. */
TEST(untrusted_cannot_fire_graceful_kill)
{
    private_uid();
    int p[2];
    CHECK_EQ(pipe(p), 0);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    CHECK_EQ(sk_set_wakeup_fd(p[1]), -1);
    CHECK_EQ(sk_graceful(on_stop, NULL), 0);
    CHECK_EQ(sk_trust(SIGTERM, SK_FROM_SELF), 0);
    from_child(kill_parent, SIGTERM);
    from_child(kill_parent, SIGTERM);
    from_child(kill_parent, SIGTERM);
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(dropped(SIGTERM), 3);
    char b;
    CHECK_EQ(read(p[0], &b, 1), -1); /* no byte */
    CHECK_EQ(sk_raise(SIGTERM), 0);
    CHECK_EQ(sk_dispatch(), 1);
    CHECK_EQ(read(p[0], &b, 1), 1);
    CHECK_EQ(b, SIGTERM);
}

static void child_inherits(void *arg)
{
    (void)arg;
    /* trust is kept, counts start again */
    if (dropped(RT) != 0 || sk__arrivals(RT) != 0)
        _exit(20);
    if (queue_to(getpid(), RT, 1) != 0 || sk_dispatch() != 0 || dropped(RT) != 1)
        _exit(21);
    if (raise_rt(RT) != 0 || sk_dispatch() != 1)
        _exit(22);
}

TEST(fork_keeps_trust_and_restarts_counts)
{
    if (sk_test_under_valgrind())
        SK_SKIP("valgrind delivers a sigqueue() to ourselves later, not before it returns");
    private_uid();
    CHECK_EQ(sk_signal(RT, record, NULL), SK_DEFAULT);
    CHECK_EQ(sk_trust(RT, SK_FROM_SELF), 0);
    from_child(kill_parent, RT);
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(dropped(RT), 1);
    CHECK_EQ(sk_test_reap(sk_test_fork(child_inherits, NULL), 10), 0);
    CHECK_EQ(dropped(RT), 1);
}

TEST(trust_survives_disconnect)
{
    private_uid();
    CHECK_EQ(sk_trust(RT, SK_FROM_SELF), 0);
    int id = sk_connect(RT, record, NULL);
    CHECK(id > 0);
    from_child(kill_parent, RT);
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(sk_disconnect(id), 0);
    CHECK(sk_connect(RT, record, NULL) > 0);
    from_child(kill_parent, RT);
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(dropped(RT), 2);
    CHECK_EQ(raise_rt(RT), 0);
    CHECK_EQ(sk_dispatch(), 1);
}

/* ---------------------------------------------------------------- */
/* sk__arrivals: one per delivery, however the arrival travelled.     */
/* ---------------------------------------------------------------- */

#define K 600
static void queue_k(void *arg)
{
    pid_t to = *(pid_t *)arg;
    for (int i = 0; i < K; i++)
        while (sk_sigqueue(to, RT, i) == -EAGAIN)
            sched_yield();
}

/* K values queued to us, each counted once by sk__arrivals.  Through the
 * trampoline (no sk_wait, whose fast path takes signals itself) the whole
 * flood can arrive between two dispatches: with a tiny queue
 * (SK_QUEUE_CAP=4) most of it is handed back to the kernel and readmitted,
 * which must not count it twice. */
static void arrivals_counted_once(bool fast_path)
{
    private_uid();
    if (SK_UNDER_TSAN)
        SK_SKIP("ThreadSanitizer merges deferred signals of one number");
    CHECK_EQ(sk_signal(RT, record, NULL), SK_DEFAULT);
    pid_t me = getpid();
    int kid = sk_test_fork(queue_k, &me);
    double end = sk_test_now() + 30;
    while (calls < K && sk_test_now() < end) {
        if (fast_path) {
            sk_wait(100);
        } else {
            poll(NULL, 0, 1);
            sk_dispatch();
        }
    }
    CHECK_EQ(sk_test_reap(kid, 10), 0);
    CHECK_EQ(calls, K);
    CHECK_EQ(sk__arrivals(RT), K);
    CHECK_EQ(dropped(RT), 0);
}

TEST(arrivals_counts_handed_back_once) { arrivals_counted_once(false); }
TEST(arrivals_counts_fast_path) { arrivals_counted_once(true); }

TEST(arrivals_counts_standard_and_untrusted)
{
    private_uid();
    CHECK_EQ(sk_signal(SIGUSR1, record, NULL), SK_DEFAULT);
    for (int i = 0; i < 50; i++) {
        CHECK_EQ(sk_raise(SIGUSR1), 0);
        CHECK_EQ(sk_wait(5000), 1);
    }
    CHECK_EQ(sk_trust(SIGUSR1, SK_FROM_PARENT), 0);
    from_child(kill_parent, SIGUSR1);
    CHECK_EQ(sk_dispatch(), 0);
    CHECK_EQ(sk__arrivals(SIGUSR1), 51);
    CHECK_EQ(dropped(SIGUSR1), 1);
}
