/*
 * send.c - sending signals: kill, sigqueue, raise, pthread_kill, pidfd.
 *
 * Each call validates the signal number before it reaches the kernel, so a
 * bad number never sends anything (the kernel would accept glibc's reserved
 * 32 and 33, which would confuse the receiver's C library).
 */
#include "internal.h"
#include "platform.h"

#include <string.h>
#include <unistd.h>

/* Signal 0 asks "does the receiver exist and may I signal it?" and sends
 * nothing; otherwise signo must be a signal of this system. */
static int check_signal_or_probe(int signo)
{
    return signo == 0 ? 0 : sk__check_signal(signo);
}

/* The whole intptr_t travels in the pointer member of the union, the
 * widest one; a receiver reads it back from sival_ptr. */
static union sigval value_to_sigval(intptr_t value)
{
    union sigval v;
    memset(&v, 0, sizeof v);
    v.sival_ptr = (void *)value;
    return v;
}

int sk_kill(pid_t pid, int signo)
{
    int rc = check_signal_or_probe(signo);
    if (rc < 0)
        return rc;
    return kill(pid, signo) < 0 ? -errno : 0;
}

int sk_sigqueue(pid_t pid, int signo, intptr_t value)
{
    int rc = check_signal_or_probe(signo);
    if (rc < 0)
        return rc;
    return sigqueue(pid, signo, value_to_sigval(value)) < 0 ? -errno : 0;
}

/* raise(3) semantics: the calling thread receives it.  Signal 0 is refused:
 * probing one's own thread is meaningless. */
int sk_raise(int signo)
{
    int rc = sk__check_signal(signo);
    if (rc < 0)
        return rc;
    return -pthread_kill(pthread_self(), signo);
}

/* pthread_kill(3) documents signal 0 as an error check; it is allowed here
 * as for sk_kill(). */
int sk_pthread_kill(pthread_t thread, int signo)
{
    int rc = check_signal_or_probe(signo);
    if (rc < 0)
        return rc;
    return -pthread_kill(thread, signo);
}

int sk_pidfd_open(pid_t pid)
{
    if (pid <= 0)
        return -EINVAL;
    return skp_pidfd_open(pid);
}

/* The siginfo sigqueue(3) would build.  The kernel accepts a forged
 * siginfo for another process only when si_code is negative (a user
 * code), which SI_QUEUE is; si_signo must equal the signal sent. */
static void build_queue_siginfo(siginfo_t *si, int signo, intptr_t value)
{
    memset(si, 0, sizeof *si);
    si->si_signo = signo;
    si->si_code = SI_QUEUE;
    si->si_pid = getpid();
    si->si_uid = getuid();
    si->si_value = value_to_sigval(value);
}

int sk_pidfd_sigqueue(int pidfd, int signo, intptr_t value)
{
    if (pidfd < 0)
        return -EBADF;
    int rc = check_signal_or_probe(signo);
    if (rc < 0)
        return rc;
    siginfo_t si;
    build_queue_siginfo(&si, signo, value);
    return skp_pidfd_send_signal(pidfd, signo, &si);
}

int sk_pidfd_send(int pidfd, int signo, intptr_t value)
{
    if (pidfd < 0)
        return -EBADF;
    int rc = check_signal_or_probe(signo);
    if (rc < 0)
        return rc;
    if (value == 0)
        return skp_pidfd_send_signal(pidfd, signo, NULL); /* like kill(2): SI_USER */
    siginfo_t si;
    build_queue_siginfo(&si, signo, value);
    return skp_pidfd_send_signal(pidfd, signo, &si);
}
