/*
 * Platform layer, Linux: the doorbell is an eventfd, the timer a timerfd,
 * both in one epoll set whose fd is sk_fd().  The fast path waits with
 * sigtimedwait(2), so a signal that finds the dispatcher asleep costs no
 * signal frame and no doorbell write.
 */
#include "internal.h"
#include "platform.h"

#include <linux/futex.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

const bool skp_have_sigwait = true;

#if !SK_TSAN
/* Contended: mark the word 2 so the holder wakes us, and sleep while it
 * stays taken. */
void skp_mutex_lock_slow(skp_mutex *m)
{
    int c = atomic_exchange_explicit(&m->state, 2, memory_order_acquire);
    while (c != 0) {
        syscall(SYS_futex, &m->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        c = atomic_exchange_explicit(&m->state, 2, memory_order_acquire);
    }
}

void skp_mutex_wake(skp_mutex *m)
{
    syscall(SYS_futex, &m->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
#endif
const bool skp_have_requeue = true;

static int bell_fd = -1, timer_fd = -1, epoll_fd = -1;

static void close_all(void)
{
    int *fds[] = {&bell_fd, &timer_fd, &epoll_fd};
    for (unsigned i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

static int add_to_epoll(int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int skp_bell_open(void)
{
    bell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (bell_fd < 0 || timer_fd < 0 || epoll_fd < 0 || add_to_epoll(bell_fd) < 0 ||
        add_to_epoll(timer_fd) < 0) {
        int err = errno;
        close_all();
        return -err;
    }
    return 0;
}

void skp_bell_close(void)
{
    close_all();
}

SK_SIGNAL_CONTEXT void skp_bell_ring(void)
{
    uint64_t one = 1;
    /* EAGAIN only when the counter is at its maximum: it is rung anyway. */
    ssize_t r = write(bell_fd, &one, sizeof one);
    (void)r;
}

void skp_bell_clear(void)
{
    uint64_t n;
    ssize_t r = read(bell_fd, &n, sizeof n);
    (void)r;
}

int skp_poll_fd(void)
{
    return epoll_fd;
}

int skp_timer_arm(int64_t deadline_ns)
{
    struct itimerspec its = {0};
    if (deadline_ns != INT64_MAX) {
        if (deadline_ns <= 0)
            deadline_ns = 1; /* 0 would disarm */
        its.it_value.tv_sec = deadline_ns / 1000000000;
        its.it_value.tv_nsec = deadline_ns % 1000000000;
    }
    if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
        return -errno;
    return 0;
}

void skp_timer_clear(void)
{
    uint64_t n;
    ssize_t r = read(timer_fd, &n, sizeof n);
    (void)r;
}

int skp_wait_fd(int timeout_ms, const sigset_t *mask)
{
    struct pollfd p = {.fd = epoll_fd, .events = POLLIN};
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
    int r = ppoll(&p, 1, timeout_ms < 0 ? NULL : &ts, mask);
    return r < 0 ? 1 : r; /* EINTR: a handler ran; the caller looks again */
}

int skp_sigtimedwait(const sigset_t *set, siginfo_t *si, const struct timespec *ts)
{
    int r = sigtimedwait(set, si, ts);
    return r < 0 ? -errno : r;
}

SK_SIGNAL_CONTEXT pid_t skp_gettid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

SK_SIGNAL_CONTEXT int skp_queue_to_thread(pid_t tid, int signo, siginfo_t *si)
{
    if (syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, signo, si) < 0)
        return -errno;
    return 0;
}

/* The kernel's struct sigaction (not the C library's): handler, flags,
 * restorer, mask of _NSIG bits. */
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask[(_NSIG + 8 * sizeof(unsigned long) - 2) / (8 * sizeof(unsigned long))];
};

SK_SIGNAL_CONTEXT int skp_default_action_raw(int signo)
{
    struct kernel_sigaction ksa = {.handler = SIG_DFL};
    if (syscall(SYS_rt_sigaction, signo, &ksa, NULL, (_NSIG - 1) / 8) < 0)
        return -errno;
    return 0;
}

int skp_pidfd_open(pid_t pid)
{
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -errno : (int)fd;
}

int skp_pidfd_send_signal(int pidfd, int signo, siginfo_t *info)
{
    if (syscall(SYS_pidfd_send_signal, pidfd, signo, info, 0) < 0)
        return -errno;
    return 0;
}
