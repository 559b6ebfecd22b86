/*
 * The platform layer: the only place that knows eventfd, timerfd, the
 * sigtimedwait fast path, tgkill and pidfd, and the process-management
 * facilities of the supervisor (prctl, close_range, waitid by pidfd,
 * /proc, abstract sockets, F_SETSIG).  platform_linux.c implements it
 * with Linux facilities; platform_posix.c with POSIX alone (self-pipe, a
 * timer thread, no fast path).  Build with -DSK_PORTABLE=ON to force the
 * latter.
 */
#ifndef SK_PLATFORM_H
#define SK_PLATFORM_H

#include "internal.h"
#include "core.h" /* SK_TSAN */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>

/* sigkit's own locks.  On Linux a futex word: one compare-and-swap to take
 * it and one exchange to give it back when nobody waits, which is what the
 * dispatch path pays per arrival.  Elsewhere, and under ThreadSanitizer
 * (which must see the locks to follow them), a pthread mutex. */
#if !defined(SK_PORTABLE) && !SK_TSAN
#include <stdatomic.h>
typedef struct skp_mutex {
    _Atomic int state; /* 0 free, 1 taken, 2 taken and someone may sleep on it */
} skp_mutex;
#define SKP_MUTEX_INIT {0}
void skp_mutex_lock_slow(skp_mutex *m);
void skp_mutex_wake(skp_mutex *m);
static inline void skp_mutex_lock(skp_mutex *m)
{
    int free_ = 0;
    if (!atomic_compare_exchange_strong_explicit(&m->state, &free_, 1, memory_order_acquire,
                                                 memory_order_relaxed))
        skp_mutex_lock_slow(m);
}
static inline bool skp_mutex_trylock(skp_mutex *m)
{
    int free_ = 0;
    return atomic_compare_exchange_strong_explicit(&m->state, &free_, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}
static inline void skp_mutex_unlock(skp_mutex *m)
{
    if (atomic_exchange_explicit(&m->state, 0, memory_order_release) == 2)
        skp_mutex_wake(m);
}
#else
#include <pthread.h>
typedef struct skp_mutex {
    pthread_mutex_t m;
} skp_mutex;
#define SKP_MUTEX_INIT {PTHREAD_MUTEX_INITIALIZER}
static inline void skp_mutex_lock(skp_mutex *m) { pthread_mutex_lock(&m->m); }
static inline bool skp_mutex_trylock(skp_mutex *m) { return pthread_mutex_trylock(&m->m) == 0; }
static inline void skp_mutex_unlock(skp_mutex *m) { pthread_mutex_unlock(&m->m); }
#endif

/* The doorbell: a counter that makes skp_poll_fd() readable. */
int skp_bell_open(void);          /* 0 or -errno */
void skp_bell_close(void);
SK_SIGNAL_CONTEXT void skp_bell_ring(void);
void skp_bell_clear(void);        /* consume every ring */

/* The fd of sk_fd(): readable while the bell is rung or the timer is due. */
int skp_poll_fd(void);

/* Arm the deadline (CLOCK_MONOTONIC ns) at which skp_poll_fd() becomes
 * readable; INT64_MAX disarms.  skp_timer_clear() consumes an expiry. */
int skp_timer_arm(int64_t deadline_ns);
void skp_timer_clear(void);

/* Sleep until skp_poll_fd() is readable or timeout_ms passes (-1: forever);
 * a handled signal caught by this thread also ends the sleep.  With mask
 * != NULL, the thread's signal mask is mask during the sleep (ppoll).
 * Returns >0 readable, 0 timeout. */
int skp_wait_fd(int timeout_ms, const sigset_t *mask);

/* The fast path: wait for one of `set` synchronously (sigtimedwait).  Only
 * where skp_have_sigwait; returns signo, -EAGAIN on timeout, -EINTR.  The
 * timeout is read from *ts at entry, so a trampoline running in the same
 * thread just before the call can cut the wait short by zeroing it. */
extern const bool skp_have_sigwait;
int skp_sigtimedwait(const sigset_t *set, siginfo_t *si, const struct timespec *ts);

/* Thread ids and thread-directed sends. */
SK_SIGNAL_CONTEXT pid_t skp_gettid(void);
/* Queue a siginfo to thread tid of this process (rt_tgsigqueueinfo);
 * skp_have_requeue says whether it exists. */
extern const bool skp_have_requeue;
SK_SIGNAL_CONTEXT int skp_queue_to_thread(pid_t tid, int signo, siginfo_t *si);

/* Set signo to SIG_DFL below the C library (for the numbers it reserves
 * and refuses in sigaction).  Async-signal-safe. */
SK_SIGNAL_CONTEXT int skp_default_action_raw(int signo);

/* pidfd; -ENOSYS where there is none. */
int skp_pidfd_open(pid_t pid);
int skp_pidfd_send_signal(int pidfd, int signo, siginfo_t *info);

/* The supervisor's process management (supervise.c, listen.c).  All return
 * 0 (or the value said) on success and a negative errno on failure;
 * -ENOSYS says the system has no such facility, and the supervisor then
 * does without it. */

/* Have the kernel send sig to this process when its parent dies; 0 or
 * -errno.  Async-signal-safe (a child calls it before exec). */
SK_SIGNAL_CONTEXT int skp_set_pdeathsig(int sig);

/* Become the reaper of this process's orphaned descendants; 0 or -errno. */
int skp_set_subreaper(void);

/* Close every fd >= first; no result (what cannot be closed is not open).
 * Async-signal-safe (a child calls it before exec). */
SK_SIGNAL_CONTEXT void skp_close_from(int first);

/* Reap one exited child without blocking: by pidfd if pidfd >= 0, else by
 * pid if pid > 0, else any child.  0 with *si filled (si_pid 0: none has
 * exited yet), or -errno (-ECHILD: no such child to wait for). */
int skp_reap(int pidfd, pid_t pid, siginfo_t *si);

/* Call fn(pid, arg) for each child process of this process (the children
 * of every thread, orphans adopted as subreaper included); the number of
 * children, or -errno. */
int skp_each_child(void (*fn)(pid_t pid, void *arg), void *arg);

/* Duplicate fd onto `to`, close-on-exec; `to` or -errno. */
int skp_dup_cloexec(int fd, int to);

/* Fill *sa with an sd_notify address, "/path" or "@abstract"; its length
 * for connect/sendto, or -EINVAL (-EAFNOSUPPORT: "@" where there is no
 * abstract namespace).  Async-signal-safe. */
SK_SIGNAL_CONTEXT int skp_unix_addr(struct sockaddr_un *sa, const char *name);

/* A worker's NOTIFY_SOCKET: a non-blocking, close-on-exec datagram socket
 * bound to `name` ("@abstract"), whose datagrams carry the sender's
 * credentials and each send `sig` to `owner` as they arrive; the fd or
 * -errno. */
int skp_notify_socket(const char *name, pid_t owner, int sig);

/* Receive one datagram from a skp_notify_socket() without blocking; its
 * length, or -errno (-EAGAIN: none left).  *pid and *uid get the sender's
 * credentials, or -1 and (uid_t)-1 when the kernel gave none. */
ssize_t skp_notify_recv(int fd, char *buf, size_t size, pid_t *pid, uid_t *uid);

#endif
