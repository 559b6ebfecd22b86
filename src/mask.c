/*
 * mask.c - signal masks, synchronous waiting, the wakeup fd and the reset
 * of a child between fork and exec.
 */
#include "internal.h"
#include "platform.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

int sk_pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    /* Checked even when set is NULL: a bad `how` is a caller's bug worth
     * reporting, and pthread_sigmask() itself would let it pass. */
    if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
        return -EINVAL;
    return -pthread_sigmask(how, set, old);
}

int sk_sigpending(sigset_t *set)
{
    if (!set)
        return -EINVAL;
    return sigpending(set) < 0 ? -errno : 0;
}

/* ------------------------------------------------------------------ */
/* sk_sigwait                                                          */
/* ------------------------------------------------------------------ */

/* Time left until deadline_ns as a timespec; 0 once it has passed. */
static struct timespec time_left(int64_t deadline_ns)
{
    int64_t left = deadline_ns - sk__now_ns();
    if (left < 0)
        left = 0;
    struct timespec ts = {
        .tv_sec = (time_t)(left / 1000000000),
        .tv_nsec = (long)(left % 1000000000),
    };
    return ts;
}

/* One wait: forever when timeout_ms is -1, else until the deadline.
 * Returns the signal or -errno (-EAGAIN on timeout, -EINTR). */
static int wait_once(const sigset_t *set, siginfo_t *si, int timeout_ms, int64_t deadline_ns)
{
    int r;
    if (timeout_ms < 0) {
        r = sigwaitinfo(set, si);
    } else {
        struct timespec ts = time_left(deadline_ns);
        r = sigtimedwait(set, si, &ts);
    }
    return r < 0 ? -errno : r;
}

int sk_sigwait(const sigset_t *set, sk_info *info, int timeout_ms)
{
    if (!set || timeout_ms < -1)
        return -EINVAL;
    /* A deadline, not a duration: a wait interrupted by another signal's
     * handler resumes for the time left (PEP 475), not for a fresh timeout. */
    int64_t deadline_ns = timeout_ms < 0 ? INT64_MAX : sk__deadline_from_ms(timeout_ms);
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        int r = wait_once(set, &si, timeout_ms, deadline_ns);
        if (r == -EINTR)
            continue;
        if (r > 0 && info)
            sk__info_from_siginfo(info, &si);
        return r;
    }
}

/* ------------------------------------------------------------------ */
/* sk_child_reset                                                      */
/* ------------------------------------------------------------------ */

/* Async-signal-safe: it calls only sigaction, sigemptyset, sigprocmask,
 * memset and sk__check_catchable (arithmetic and a table scan).  The order
 * matters: dispositions first, so that a signal still pending when the mask
 * opens meets its default action instead of an inherited handler; a signal
 * is never lost and never runs code of the parent. */
int sk_child_reset(void)
{
    int first_error = 0;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);

    for (int s = 1; s < SK_NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP)
            continue;
        if (sk__check_signal(s) < 0) {
            /* The C library's own (glibc's 32 and 33): its sigaction refuses
             * them, yet a parent may have left them ignored (posix_spawn
             * does) and the ignore survives exec.  The program to come gets
             * them at their default. */
            skp_default_action_raw(s);
            continue;
        }
        /* EINVAL: the system keeps this one for itself (valgrind takes
         * SIGRTMAX, for one); nobody else can have set it, so nothing to undo. */
        if (sigaction(s, &dfl, NULL) < 0 && errno != EINVAL && first_error == 0)
            first_error = -errno;
    }
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 && first_error == 0)
        first_error = -errno;
    return first_error;
}

/* ------------------------------------------------------------------ */
/* sk_set_wakeup_fd                                                    */
/* ------------------------------------------------------------------ */

int sk_set_wakeup_fd(int fd)
{
    if (fd < -1)
        return -EBADF;
    if (fd >= 0) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0)
            return -EBADF;
        /* The trampoline writes from signal context: a full pipe must make
         * the write fail, never block the interrupted thread. */
        if (!(flags & O_NONBLOCK))
            return -EINVAL;
    }
    return atomic_exchange(&sk__wakeup_fd, fd);
}
