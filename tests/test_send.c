/*
 * Sending: sk_kill, sk_sigqueue, sk_raise, sk_pthread_kill, sk_pidfd_open,
 * sk_pidfd_send.  Receivers are children (or threads) that block the signal
 * before it can be sent (the mask is inherited across fork) and take it with
 * sigwaitinfo(), so there is no race and no sleep.  CHECK works in a child
 * too: it prints and exits 1, which the parent sees in the wait status.
 */
#include "harness.h"
#include "internal.h"
#include "sigkit.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* tgkill() is SI_TKILL on most kernels; some (6.18 here) report SI_USER. */
static bool is_thread_kill_code(int code)
{
    return code == SI_TKILL || code == SI_USER;
}

static void block_signal(int signo)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
}

/* Take signo (already blocked) and return its siginfo. */
static siginfo_t take_signal(int signo)
{
    sigset_t set;
    siginfo_t si;
    sigemptyset(&set);
    sigaddset(&set, signo);
    int r;
    do
        r = sigwaitinfo(&set, &si);
    while (r < 0 && errno == EINTR);
    CHECK_EQ(r, signo);
    return si;
}

static void check_exited_zero(int pid)
{
    int st = sk_test_reap(pid, 20);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        sk_test_fail(__FILE__, __LINE__, "child %d: wait status %#x", pid, st);
}

static void exit_at_once(void *arg)
{
    (void)arg;
}

/* A pid that certainly names no process: a child already reaped. */
static pid_t reaped_pid(void)
{
    int pid = sk_test_fork(exit_at_once, NULL);
    check_exited_zero(pid);
    return pid;
}

/* Numbers that must never reach the kernel. */
static const int bad_signals[] = {-1, -SIGUSR1, NSIG, NSIG + 1, 128, INT_MAX, INT_MIN, 32, 33};

/* 32 and 33 are bad where they are the C library's, below SIGRTMIN. */
static bool is_bad_here(int s)
{
    return !(s >= SIGRTMIN && s <= SIGRTMAX);
}

TEST(kill_probe)
{
    CHECK_EQ(sk_kill(getpid(), 0), 0);
    CHECK_EQ(sk_sigqueue(getpid(), 0, 7), 0);
    CHECK_EQ(sk_pthread_kill(pthread_self(), 0), 0);
}

TEST(bad_signal_sends_nothing)
{
    sigset_t all, pending;
    sigfillset(&all);
    CHECK_EQ(pthread_sigmask(SIG_SETMASK, &all, NULL), 0);
    for (size_t i = 0; i < sizeof bad_signals / sizeof bad_signals[0]; i++) {
        int s = bad_signals[i];
        if (!is_bad_here(s))
            continue;
        CHECK_EQ(sk_kill(getpid(), s), -EINVAL);
        CHECK_EQ(sk_sigqueue(getpid(), s, 1), -EINVAL);
        CHECK_EQ(sk_raise(s), -EINVAL);
        CHECK_EQ(sk_pthread_kill(pthread_self(), s), -EINVAL);
    }
    CHECK_EQ(sk_raise(0), -EINVAL); /* nothing to probe in one's own thread */
    CHECK_EQ(sigpending(&pending), 0);
    for (int s = 1; s < NSIG; s++)
        CHECK_EQ(sigismember(&pending, s), 0);
}

TEST(kill_reaped_child_esrch)
{
    pid_t pid = reaped_pid();
    CHECK_EQ(sk_kill(pid, 0), -ESRCH);
    CHECK_EQ(sk_kill(pid, SIGTERM), -ESRCH);
    CHECK_EQ(sk_sigqueue(pid, SIGUSR1, 3), -ESRCH);
}

/* As an unprivileged user, signalling root's processes is refused. */
static void send_as_nobody(void *arg)
{
    pid_t root_owned = *(pid_t *)arg;
    if (getuid() == 0)
        CHECK_EQ(setuid(65534), 0);
    CHECK_EQ(sk_kill(1, 0), -EPERM); /* signal 0: nothing reaches init even if allowed */
    CHECK_EQ(sk_sigqueue(1, 0, 1), -EPERM);
    CHECK_EQ(sk_kill(root_owned, SIGUSR1), -EPERM);
    CHECK_EQ(sk_sigqueue(root_owned, SIGUSR1, 5), -EPERM);
}

TEST(kill_eperm)
{
    if (getuid() != 0) {
        CHECK_EQ(sk_kill(1, 0), -EPERM);
        return;
    }
    /* The parent (root) is the other target; had USR1 gone through, it
     * would be pending here. */
    block_signal(SIGUSR1);
    pid_t self = getpid();
    check_exited_zero(sk_test_fork(send_as_nobody, &self));
    sigset_t pending;
    CHECK_EQ(sigpending(&pending), 0);
    CHECK_EQ(sigismember(&pending, SIGUSR1), 0);
}

static void receive_kill(void *arg)
{
    (void)arg;
    siginfo_t si = take_signal(SIGUSR1);
    CHECK_EQ(si.si_code, SI_USER);
    CHECK_EQ(si.si_pid, getppid());
    CHECK_EQ(si.si_uid, getuid());
}

TEST(kill_delivers)
{
    block_signal(SIGUSR1);
    int pid = sk_test_fork(receive_kill, NULL);
    CHECK_EQ(sk_kill(pid, SIGUSR1), 0);
    check_exited_zero(pid);
}

/* Wider than 32 bits where intptr_t is: the whole value must travel. */
static const intptr_t big_value = (intptr_t)(sizeof(intptr_t) > 4 ? 0x123456789abcdefLL : 0x12345678);

static void receive_queued(void *arg)
{
    (void)arg;
    int signo = SIGRTMIN + 2;
    siginfo_t first = take_signal(signo);
    siginfo_t second = take_signal(signo);
    CHECK_EQ(first.si_code, SI_QUEUE);
    CHECK_EQ(first.si_pid, getppid());
    CHECK_EQ(first.si_uid, getuid());
    CHECK_EQ((intptr_t)first.si_value.sival_ptr, big_value);
    CHECK_EQ(second.si_code, SI_QUEUE);
    CHECK_EQ((intptr_t)second.si_value.sival_ptr, -42); /* RT signals keep their order */
}

TEST(sigqueue_value)
{
    block_signal(SIGRTMIN + 2);
    int pid = sk_test_fork(receive_queued, NULL);
    CHECK_EQ(sk_sigqueue(pid, SIGRTMIN + 2, big_value), 0);
    CHECK_EQ(sk_sigqueue(pid, SIGRTMIN + 2, -42), 0);
    check_exited_zero(pid);
}

/* The receiver's RLIMIT_SIGPENDING bounds queued signals: the sender sees
 * EAGAIN (DESIGN: the kernel's limit, not silent loss). */
TEST(sigqueue_eagain_at_limit)
{
    block_signal(SIGRTMIN);
    struct rlimit small = {8, 8};
    CHECK_EQ(setrlimit(RLIMIT_SIGPENDING, &small), 0);
    int rc = 0, sent = 0;
    while (sent < 1000 && (rc = sk_sigqueue(getpid(), SIGRTMIN, sent + 1)) == 0)
        sent++;
    CHECK_EQ(rc, -EAGAIN);
    CHECK(sent <= 8);
}

/* Runs in a new thread: raise, then see the signal pending for this thread
 * alone.  The main thread must not see it. */
static void *raise_in_thread(void *arg)
{
    (void)arg;
    sigset_t pending;
    if (sk_raise(SIGUSR2) != 0 || sigpending(&pending) != 0)
        return (void *)1;
    return sigismember(&pending, SIGUSR2) == 1 ? NULL : (void *)2;
}

TEST(raise_to_calling_thread)
{
    block_signal(SIGUSR2); /* inherited by the thread */
    pthread_t t;
    void *result;
    CHECK_EQ(pthread_create(&t, NULL, raise_in_thread, NULL), 0);
    CHECK_EQ(pthread_join(t, &result), 0);
    CHECK(result == NULL);
    sigset_t pending;
    CHECK_EQ(sigpending(&pending), 0);
    CHECK_EQ(sigismember(&pending, SIGUSR2), 0);

    /* In this thread, it is this thread's, with raise's thread-kill code. */
    CHECK_EQ(sk_raise(SIGUSR2), 0);
    siginfo_t si = take_signal(SIGUSR2);
    CHECK(is_thread_kill_code(si.si_code));
    CHECK_EQ(si.si_pid, getpid());
}

static void *wait_for_usr1(void *arg)
{
    siginfo_t *si = arg;
    *si = take_signal(SIGUSR1);
    return NULL;
}

TEST(pthread_kill_thread)
{
    block_signal(SIGUSR1);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, wait_for_usr1, &si), 0);
    CHECK_EQ(sk_pthread_kill(t, 0), 0);
    CHECK_EQ(sk_pthread_kill(t, SIGUSR1), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(si.si_signo, SIGUSR1);
    CHECK(is_thread_kill_code(si.si_code));
    CHECK_EQ(si.si_pid, getpid());
    CHECK_EQ(sk_pthread_kill(t, SIGKILL + NSIG), -EINVAL);
}

/* Does this system have pidfds at all?  Asked of the kernel directly, so
 * that sigkit's answer can be checked against it: -ENOSYS in the portable
 * build, and where the kernel (or valgrind) lacks pidfd_open. */
static bool kernel_has_pidfd(void)
{
#ifndef SYS_pidfd_open
    return false;
#else
    long fd = syscall(SYS_pidfd_open, getpid(), 0);
    if (fd < 0)
        return errno != ENOSYS;
    close((int)fd);
    return true;
#endif
}

/* true when the test may go on with pidfds; checks the -ENOSYS otherwise. */
static bool pidfd_available(void)
{
    bool have = kernel_has_pidfd();
#ifdef SK_PORTABLE
    have = false; /* the portable build has none, whatever the kernel */
#endif
    if (have)
        return true;
    CHECK_EQ(sk_pidfd_open(getpid()), -ENOSYS);
    printf("no pidfd here: checked -ENOSYS only\n");
    return false;
}

static void receive_pidfd_sends(void *arg)
{
    (void)arg;
    siginfo_t plain = take_signal(SIGUSR1);
    CHECK_EQ(plain.si_code, SI_USER);
    CHECK_EQ(plain.si_pid, getppid());
    CHECK_EQ(plain.si_uid, getuid());
    siginfo_t queued = take_signal(SIGRTMIN + 1);
    CHECK_EQ(queued.si_code, SI_QUEUE);
    CHECK_EQ(queued.si_pid, getppid());
    CHECK_EQ(queued.si_uid, getuid());
    CHECK_EQ((intptr_t)queued.si_value.sival_ptr, big_value);
}

TEST(pidfd_send_to_child)
{
    if (!pidfd_available())
        return;
    block_signal(SIGUSR1);
    block_signal(SIGRTMIN + 1);
    int pid = sk_test_fork(receive_pidfd_sends, NULL);
    int pidfd = sk_pidfd_open(pid);
    CHECK(pidfd >= 0);
    CHECK_EQ(sk_pidfd_send(pidfd, 0, 0), 0); /* alive? */
    CHECK_EQ(sk_pidfd_send(pidfd, SIGUSR1, 0), 0);
    CHECK_EQ(sk_pidfd_send(pidfd, SIGRTMIN + 1, big_value), 0);
    check_exited_zero(pid);
    close(pidfd);
}

TEST(pidfd_send_to_self_queued)
{
    if (!pidfd_available())
        return;
    block_signal(SIGRTMIN + 4);
    int pidfd = sk_pidfd_open(getpid());
    CHECK(pidfd >= 0);
    CHECK_EQ(sk_pidfd_send(pidfd, SIGRTMIN + 4, -7), 0);
    siginfo_t si = take_signal(SIGRTMIN + 4);
    CHECK_EQ(si.si_code, SI_QUEUE);
    CHECK_EQ(si.si_pid, getpid());
    CHECK_EQ((intptr_t)si.si_value.sival_ptr, -7);
    close(pidfd);
}

/* A pidfd outlives its process: once reaped, sending fails with ESRCH
 * instead of hitting whoever got the pid next. */
TEST(pidfd_reaped_child_esrch)
{
    if (!pidfd_available())
        return;
    int pid = sk_test_fork(exit_at_once, NULL);
    int pidfd = sk_pidfd_open(pid); /* alive or a zombie: both have a pidfd */
    CHECK(pidfd >= 0);
    check_exited_zero(pid);
    CHECK_EQ(sk_pidfd_send(pidfd, SIGTERM, 0), -ESRCH);
    CHECK_EQ(sk_pidfd_send(pidfd, SIGTERM, 9), -ESRCH);
    CHECK_EQ(sk_pidfd_send(pidfd, 0, 0), -ESRCH);
    CHECK_EQ(sk_pidfd_open(pid), -ESRCH);
    close(pidfd);
}

TEST(pidfd_bad_arguments)
{
    CHECK_EQ(sk_pidfd_open(0), -EINVAL);
    CHECK_EQ(sk_pidfd_open(-1), -EINVAL);
    CHECK_EQ(sk_pidfd_open(INT_MIN), -EINVAL);
    CHECK_EQ(sk_pidfd_send(-1, SIGUSR1, 0), -EBADF);
    CHECK_EQ(sk_pidfd_send(-1, SIGUSR1, 5), -EBADF);
    if (!pidfd_available())
        return;
    int pidfd = sk_pidfd_open(getpid());
    CHECK(pidfd >= 0);
    sigset_t all, pending;
    sigfillset(&all);
    CHECK_EQ(pthread_sigmask(SIG_SETMASK, &all, NULL), 0);
    for (size_t i = 0; i < sizeof bad_signals / sizeof bad_signals[0]; i++) {
        if (!is_bad_here(bad_signals[i]))
            continue;
        CHECK_EQ(sk_pidfd_send(pidfd, bad_signals[i], 0), -EINVAL);
        CHECK_EQ(sk_pidfd_send(pidfd, bad_signals[i], 1), -EINVAL);
    }
    CHECK_EQ(sigpending(&pending), 0);
    for (int s = 1; s < NSIG; s++)
        CHECK_EQ(sigismember(&pending, s), 0);
    /* Not a pidfd at all. */
    int p[2];
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(sk_pidfd_send(p[0], SIGUSR1, 0), -EBADF);
    close(p[0]);
    close(p[1]);
    close(pidfd);
}
