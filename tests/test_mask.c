/*
 * Masks and synchronous waiting (sk_pthread_sigmask, sk_sigpending,
 * sk_sigwait), sk_child_reset and sk_set_wakeup_fd.  Raw sigaction handlers
 * stand in for other signals' handlers: these functions do not need the
 * delivery path.
 */
#include "harness.h"
#include "internal.h"
#include "sigkit.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static sigset_t set_of(int signo)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    return set;
}

/* tgkill() is SI_TKILL on most kernels; some (6.18 here) report SI_USER. */
static bool is_thread_kill_code(int code)
{
    return code == SI_TKILL || code == SI_USER;
}

static void block_signal(int signo)
{
    sigset_t set = set_of(signo);
    CHECK_EQ(sk_pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
}

TEST(pthread_sigmask_roundtrip)
{
    sigset_t usr1 = set_of(SIGUSR1), old, now;
    CHECK_EQ(sk_pthread_sigmask(SIG_BLOCK, &usr1, &old), 0);
    CHECK_EQ(sigismember(&old, SIGUSR1), 0);
    CHECK_EQ(sk_pthread_sigmask(SIG_BLOCK, NULL, &now), 0);
    CHECK_EQ(sigismember(&now, SIGUSR1), 1);
    CHECK_EQ(sk_pthread_sigmask(SIG_UNBLOCK, &usr1, &old), 0);
    CHECK_EQ(sigismember(&old, SIGUSR1), 1);
    CHECK_EQ(sk_pthread_sigmask(SIG_SETMASK, &usr1, NULL), 0);
    CHECK_EQ(sk_pthread_sigmask(SIG_SETMASK, NULL, &now), 0);
    CHECK_EQ(sigismember(&now, SIGUSR1), 1);
    CHECK_EQ(sigismember(&now, SIGUSR2), 0);
}

TEST(pthread_sigmask_bad_how)
{
    sigset_t usr1 = set_of(SIGUSR1), now;
    int bad[] = {-1, 3, 42, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bad[i] == SIG_BLOCK || bad[i] == SIG_UNBLOCK || bad[i] == SIG_SETMASK)
            continue;
        CHECK_EQ(sk_pthread_sigmask(bad[i], &usr1, NULL), -EINVAL);
        CHECK_EQ(sk_pthread_sigmask(bad[i], NULL, &now), -EINVAL);
    }
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &now), 0);
    CHECK_EQ(sigismember(&now, SIGUSR1), 0); /* nothing changed */
}

TEST(sigpending_shows_blocked)
{
    sigset_t pending;
    CHECK_EQ(sk_sigpending(NULL), -EINVAL);
    block_signal(SIGUSR2);
    CHECK_EQ(sk_sigpending(&pending), 0);
    CHECK_EQ(sigismember(&pending, SIGUSR2), 0);
    CHECK_EQ(raise(SIGUSR2), 0);
    CHECK_EQ(sk_sigpending(&pending), 0);
    CHECK_EQ(sigismember(&pending, SIGUSR2), 1);
}

TEST(sigwait_bad_arguments)
{
    sigset_t set = set_of(SIGUSR1);
    sk_info info;
    CHECK_EQ(sk_sigwait(NULL, &info, 0), -EINVAL);
    CHECK_EQ(sk_sigwait(NULL, NULL, -1), -EINVAL);
    CHECK_EQ(sk_sigwait(&set, &info, -2), -EINVAL);
    CHECK_EQ(sk_sigwait(&set, &info, INT_MIN), -EINVAL);
}

TEST(sigwait_poll)
{
    sigset_t set = set_of(SIGUSR1);
    block_signal(SIGUSR1);
    double t0 = sk_test_now();
    CHECK_EQ(sk_sigwait(&set, NULL, 0), -EAGAIN);
    CHECK(sk_test_now() - t0 < 1.0);
}

TEST(sigwait_timeout)
{
    sigset_t set = set_of(SIGUSR1);
    block_signal(SIGUSR1);
    double t0 = sk_test_now();
    CHECK_EQ(sk_sigwait(&set, NULL, 200), -EAGAIN);
    double elapsed = sk_test_now() - t0;
    CHECK(elapsed >= 0.199);
    CHECK(elapsed < 2.0);
}

TEST(sigwait_pending_signal_and_info)
{
    sigset_t set = set_of(SIGUSR1);
    block_signal(SIGUSR1);
    CHECK_EQ(raise(SIGUSR1), 0);
    sk_info info;
    memset(&info, 0xa5, sizeof info);
    CHECK_EQ(sk_sigwait(&set, &info, 0), SIGUSR1);
    CHECK_EQ(info.signo, SIGUSR1);
    CHECK(is_thread_kill_code(info.code));
    CHECK_EQ(info.pid, getpid());
    CHECK_EQ(info.uid, getuid());
    CHECK_EQ(info.count, 1);
    /* Taken: the next poll finds nothing. */
    CHECK_EQ(sk_sigwait(&set, &info, 0), -EAGAIN);
}

TEST(sigwait_queued_value)
{
    int signo = SIGRTMIN + 5;
    sigset_t set = set_of(signo);
    block_signal(signo);
    CHECK_EQ(sk_sigqueue(getpid(), signo, 4242), 0);
    sk_info info;
    CHECK_EQ(sk_sigwait(&set, &info, -1), signo); /* forever, but it is pending */
    CHECK_EQ(info.code, SI_QUEUE);
    CHECK_EQ(info.value, 4242);
    CHECK_EQ(info.pid, getpid());
}

TEST(sigwait_gets_alarm)
{
    sigset_t set = set_of(SIGALRM);
    block_signal(SIGALRM);
    double t0 = sk_test_now();
    CHECK_EQ(sk_alarm(1), 0);
    sk_info info;
    CHECK_EQ(sk_sigwait(&set, &info, 10000), SIGALRM);
    CHECK_EQ(info.signo, SIGALRM);
    double elapsed = sk_test_now() - t0;
    CHECK(elapsed > 0.9);
    CHECK(elapsed < 5.0);
}

/* ------------------------------------------------------------------ */
/* EINTR: another signal's handler interrupts the wait                 */
/* ------------------------------------------------------------------ */

static int handler_pipe[2];
static volatile sig_atomic_t usr2_count;

/* A plain handler without SA_RESTART: it makes sigtimedwait() fail with
 * EINTR, and tells the child it ran. */
static void on_usr2(int signo)
{
    (void)signo;
    int saved = errno;
    usr2_count++;
    char b = 'h';
    ssize_t r = write(handler_pipe[1], &b, 1);
    (void)r;
    errno = saved;
}

static void install_interrupting_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2; /* no SA_SIGINFO, no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR2, &sa, NULL), 0);
    CHECK_EQ(pipe(handler_pipe), 0);
}

/* Is process pid asleep (state S in /proc/PID/stat)?  The parent sleeps
 * only inside sk_sigwait, so this tells the child the wait has begun. */
static bool is_sleeping(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close_paren = strrchr(buf, ')');
    return close_paren && close_paren[1] == ' ' && close_paren[2] == 'S';
}

static void wait_until_sleeping(pid_t pid)
{
    double end = sk_test_now() + 20;
    while (!is_sleeping(pid)) {
        CHECK(sk_test_now() < end);
        usleep(1000);
    }
}

struct interrupter {
    int go_fd;        /* parent writes one byte when it is about to wait */
    int handled_fd;   /* the parent's handler writes one byte per call */
    double delay_s;   /* pause between the wait starting and the interruption */
    int then_signal;  /* sent after the handler ran (0: none) */
};

/* Child: once the parent sleeps in its wait, interrupt it with USR2; when
 * its handler has run, send then_signal. */
static void interrupt_parent(void *arg)
{
    const struct interrupter *it = arg;
    pid_t parent = getppid();
    char b;
    CHECK_EQ(read(it->go_fd, &b, 1), 1);
    wait_until_sleeping(parent);
    if (it->delay_s > 0)
        usleep((useconds_t)(it->delay_s * 1e6)); /* the scenario's timing, not a handshake */
    CHECK_EQ(kill(parent, SIGUSR2), 0);
    CHECK_EQ(read(it->handled_fd, &b, 1), 1);
    if (it->then_signal)
        CHECK_EQ(kill(parent, it->then_signal), 0);
}

static int start_interrupter(struct interrupter *it, int go_pipe[2])
{
    CHECK_EQ(pipe(go_pipe), 0);
    it->go_fd = go_pipe[0];
    it->handled_fd = handler_pipe[0];
    int pid = sk_test_fork(interrupt_parent, it);
    CHECK_EQ(write(go_pipe[1], "g", 1), 1);
    return pid;
}

static void check_child_ok(int pid)
{
    int st = sk_test_reap(pid, 30);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        sk_test_fail(__FILE__, __LINE__, "child: wait status %#x", st);
}

TEST(sigwait_retries_eintr)
{
    install_interrupting_handler();
    block_signal(SIGUSR1);
    sigset_t set = set_of(SIGUSR1);
    struct interrupter it = {.then_signal = SIGUSR1};
    int go[2];
    int pid = start_interrupter(&it, go);
    sk_info info;
    CHECK_EQ(sk_sigwait(&set, &info, -1), SIGUSR1);
    CHECK_EQ(usr2_count, 1); /* the handler did interrupt the wait */
    CHECK_EQ(info.signo, SIGUSR1);
    CHECK_EQ(info.pid, pid);
    check_child_ok(pid);
}

/* After EINTR the wait resumes for the time left, not a fresh timeout. */
TEST(sigwait_eintr_keeps_deadline)
{
    install_interrupting_handler();
    block_signal(SIGUSR1);
    sigset_t set = set_of(SIGUSR1);
    struct interrupter it = {.delay_s = 0.6};
    int go[2];
    double t0 = sk_test_now();
    int pid = start_interrupter(&it, go);
    CHECK_EQ(sk_sigwait(&set, NULL, 1000), -EAGAIN);
    double elapsed = sk_test_now() - t0;
    CHECK_EQ(usr2_count, 1);
    CHECK(elapsed >= 0.999);
    CHECK(elapsed < 1.45); /* a restarted timeout would end near 1.6 s */
    check_child_ok(pid);
}

/* ------------------------------------------------------------------ */
/* sk_child_reset                                                      */
/* ------------------------------------------------------------------ */

static void must_not_run(int signo)
{
    (void)signo;
    _exit(3);
}

/* Block USR1, give it a handler, make it pending, reset: the signal must
 * meet its default action (death), neither the handler nor oblivion. */
static void reset_with_pending(void *arg)
{
    (void)arg;
    prctl(PR_SET_DUMPABLE, 0);
    block_signal(SIGUSR1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = must_not_run;
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    CHECK_EQ(raise(SIGUSR1), 0);
    sk_child_reset();
    _exit(4); /* the pending signal was lost */
}

TEST(child_reset_pending_takes_default)
{
    int pid = sk_test_fork(reset_with_pending, NULL);
    int st = sk_test_reap(pid, 20);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGUSR1)
        sk_test_fail(__FILE__, __LINE__, "wait status %#x (exit 3: handler ran, 4: lost)", st);
}

static void plain_handler(int signo)
{
    (void)signo;
}

/* Ignored, handled and blocked signals all come back to default, open. */
static void reset_everything(void *arg)
{
    (void)arg;
    struct sigaction ign, handle;
    memset(&ign, 0, sizeof ign);
    memset(&handle, 0, sizeof handle);
    ign.sa_handler = SIG_IGN;
    handle.sa_handler = plain_handler;
    handle.sa_flags = SA_RESTART;
    CHECK_EQ(sigaction(SIGPIPE, &ign, NULL), 0);
    CHECK_EQ(sigaction(SIGINT, &ign, NULL), 0);
    CHECK_EQ(sigaction(SIGHUP, &handle, NULL), 0);
    CHECK_EQ(sigaction(SIGRTMAX - 1, &handle, NULL), 0); /* valgrind keeps SIGRTMAX */
    CHECK_EQ(sigaction(SIGSEGV, &handle, NULL), 0);
    sigset_t all;
    sigfillset(&all);
    CHECK_EQ(sigprocmask(SIG_SETMASK, &all, NULL), 0);

    CHECK_EQ(sk_child_reset(), 0);

    for (int s = 1; s < NSIG; s++) {
        struct sigaction now;
        if (sigaction(s, NULL, &now) < 0)
            continue; /* the C library's reserved numbers */
        if (now.sa_handler != SIG_DFL)
            sk_test_fail(__FILE__, __LINE__, "signal %d not at default", s);
    }
    sigset_t mask;
    CHECK_EQ(sigprocmask(SIG_SETMASK, NULL, &mask), 0);
    for (int s = 1; s < NSIG; s++)
        CHECK_EQ(sigismember(&mask, s), 0);
}

TEST(child_reset_everything)
{
    check_child_ok(sk_test_fork(reset_everything, NULL));
}

/* ------------------------------------------------------------------ */
/* sk_set_wakeup_fd                                                    */
/* ------------------------------------------------------------------ */

TEST(wakeup_fd_set_and_restore)
{
    int a[2], b[2];
    CHECK_EQ(pipe2(a, O_NONBLOCK | O_CLOEXEC), 0);
    CHECK_EQ(pipe2(b, O_NONBLOCK | O_CLOEXEC), 0);
    CHECK_EQ(sk_set_wakeup_fd(a[1]), -1); /* none before */
    CHECK_EQ(atomic_load(&sk__wakeup_fd), a[1]);
    CHECK_EQ(sk_set_wakeup_fd(b[1]), a[1]);
    CHECK_EQ(sk_set_wakeup_fd(-1), b[1]);
    CHECK_EQ(atomic_load(&sk__wakeup_fd), -1);
    CHECK_EQ(sk_set_wakeup_fd(-1), -1);
}

TEST(wakeup_fd_rejects)
{
    int p[2];
    CHECK_EQ(pipe(p), 0); /* blocking */
    int good[2];
    CHECK_EQ(pipe2(good, O_NONBLOCK), 0);
    CHECK_EQ(sk_set_wakeup_fd(good[1]), -1);

    CHECK_EQ(sk_set_wakeup_fd(p[1]), -EINVAL);
    int closed = dup(p[1]);
    CHECK(closed >= 0);
    close(closed);
    CHECK_EQ(sk_set_wakeup_fd(closed), -EBADF);
    CHECK_EQ(sk_set_wakeup_fd(-2), -EBADF);
    CHECK_EQ(sk_set_wakeup_fd(INT_MIN), -EBADF);
    /* A refused fd leaves the previous one in place. */
    CHECK_EQ(atomic_load(&sk__wakeup_fd), good[1]);
    CHECK_EQ(sk_set_wakeup_fd(-1), good[1]);
}
