/*
 * sigkit.h - Python's signal module for C, done right.
 *
 * Handlers are ordinary C functions.  The kernel's delivery is recorded by a
 * tiny async-signal-safe trampoline; the handlers run later, in normal
 * context, in whichever thread calls sk_dispatch(), sk_wait(), sk_pause() or
 * sk_sleep() (or in sigkit's own thread after sk_thread_start()).  Handlers
 * of one process never run concurrently.
 *
 * Every function that can fail returns a negative errno value (-EINVAL, ...),
 * never a bare -1; sk_strerror() names it.
 */
#ifndef SIGKIT_H
#define SIGKIT_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define SIGKIT_VERSION_MAJOR 0
#define SIGKIT_VERSION_MINOR 1
#define SIGKIT_VERSION_PATCH 0
#define SIGKIT_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Handlers                                                            */
/* ------------------------------------------------------------------ */

/* What a handler learns about the arrival (or arrivals) it stands for. */
typedef struct sk_info {
    int      signo;   /* signal number */
    int      code;    /* si_code: SI_USER, SI_QUEUE, SI_TIMER, SI_KERNEL, CLD_EXITED, ... */
    pid_t    pid;     /* sender (0 when the kernel sent it) */
    uid_t    uid;     /* sender's real uid */
    int      status;  /* SIGCHLD: exit status or signal */
    intptr_t value;   /* sigqueue()/timer payload */
    uint64_t count;   /* arrivals this call stands for: 1, or more where arrivals were folded */
} sk_info;

/* A deferred handler: runs in normal context, may call anything. */
typedef void (*sk_handler)(const sk_info *info, void *arg);

#define SK_DFL ((sk_handler)0) /* like signal.SIG_DFL */
#define SK_IGN ((sk_handler)1) /* like signal.SIG_IGN */

/* FOREIGN = a handler set outside sigkit (Python's None). */
enum sk_disposition { SK_DEFAULT, SK_IGNORED, SK_HANDLED, SK_FOREIGN };

/*
 * Set THE handler of signo (replacing every connected one), or SK_DFL /
 * SK_IGN.  Returns the previous enum sk_disposition.
 * -EINVAL: 0, out of range, SIGKILL, SIGSTOP, a C-library-reserved signal.
 * -ENOTSUP: a handler for SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS
 *           (returning from the fault would fault again); SK_DFL/SK_IGN are fine.
 */
int sk_signal(int signo, sk_handler fn, void *arg);

/* The current enum sk_disposition of signo; *fn and *arg (either may be NULL)
 * receive the first sigkit handler when SK_HANDLED, else SK_DFL/SK_IGN/NULL. */
int sk_getsignal(int signo, sk_handler *fn, void **arg);

/* Add one more handler for signo (they run in connection order).
 * Returns an id > 0 for sk_disconnect(), or a negative errno as sk_signal(). */
int sk_connect(int signo, sk_handler fn, void *arg);

/* Remove a handler.  Removing the last one restores exactly what was
 * installed before sigkit (foreign handler with its flags and mask, SIG_IGN
 * or SIG_DFL); arrivals still queued for it are dropped.  -ENOENT: no such id. */
int sk_disconnect(int id);

/* flag 1: blocking calls interrupted by signo fail with EINTR; 0 (the
 * default): they restart (SA_RESTART). */
int sk_siginterrupt(int signo, int flag);

/*
 * Trusted senders.  Who may send signo: trust is per signal, so it applies
 * to every handler of it.  Arrivals from anyone else are counted and
 * dropped: no handler runs, no info->count includes them, no wakeup-fd
 * byte is written, and they never take room in the arrival queue.  The
 * flags OR together; any match admits.
 *
 * What is checked is what the kernel vouches for.  The kernel itself fills
 * si_pid/si_uid only for kill() (SI_USER), tgkill()/raise() (SI_TKILL) and
 * the signals it generates (si_code > 0).  For sigqueue(),
 * rt_sigqueueinfo(), pidfd_send_signal() with a siginfo (SI_QUEUE, and every
 * other si_code < 0: SI_TIMER, SI_MESGQ, SI_ASYNCIO, ...) pid and uid are
 * whatever the sender wrote: anyone allowed to signal us (same uid, or
 * CAP_KILL) can claim to be our parent.  So by default such a claimed
 * identity matches nothing; SK_FROM_QUEUED believes claims.  That holds
 * for our own sk_sigqueue() to ourselves, and for our own POSIX timers
 * (SI_TIMER): neither can be told from a forgery, so they need
 * SK_FROM_SELF | SK_FROM_QUEUED.  An arrival with pid 0 matches no flag:
 * its sender is outside our pid namespace, or the kernel left the sender
 * out because the user's pending signals reached RLIMIT_SIGPENDING (kill()
 * of a standard signal is exempt from that limit; tgkill(), sigqueue() and
 * kill() of a real-time signal are not).
 *
 *   SK_FROM_ANY     the default: everyone the kernel lets signal us.
 *   SK_FROM_SELF    this process (si_pid == getpid()): kill(getpid()),
 *                   raise(), sk_raise(), pthread_kill() from any thread.
 *   SK_FROM_PARENT  our parent at arrival time (getppid()).  After fork()
 *                   the child keeps the setting, so for it this means the
 *                   child's parent; once the parent dies it is whoever
 *                   adopted us (init or a subreaper).
 *   SK_FROM_KERNEL  the kernel: si_code > 0 (SI_KERNEL, terminal ^C/^\ and
 *                   hangups, alarm()/setitimer(), SIGCHLD's CLD_*, SIGIO's
 *                   POLL_*, ...).  Kernel-made arrivals match only this
 *                   flag, even when si_pid names a process (SIGCHLD).
 *   SK_FROM_QUEUED  also believe the pid and uid a sigqueue() claims, and
 *                   take SI_TIMER as SELF.  Alone it admits nothing.
 *   SK_FROM_UID(u)  a sender whose real uid is u (one uid per signal).
 *
 * sk_trust() works before or after sk_signal()/sk_connect() and applies to
 * arrivals taken from the kernel from then on (those already admitted
 * still run).  The setting stays until changed: sk_signal(SK_DFL/SK_IGN),
 * sk_disconnect() and sk_child_reset() leave it, as there is then nothing
 * of sigkit's to filter (a signal at its default action is not filtered:
 * to keep a stranger's TERM from killing you, handle TERM).  A forked child
 * keeps it.  Doorbells (sigkit's own wake-ups) are never subject to it.
 * Returns 0, or -EINVAL for a signal that cannot be caught or unknown bits.
 */
#define SK_FROM_ANY     0ull        /* the default: everyone the kernel lets signal us */
#define SK_FROM_SELF    (1ull << 0) /* this process (si_pid == getpid()) */
#define SK_FROM_PARENT  (1ull << 1) /* our parent at arrival time (getppid()) */
#define SK_FROM_KERNEL  (1ull << 2) /* the kernel: si_code > 0 (SI_KERNEL, CLD_*, faults, ...) */
#define SK_FROM_QUEUED  (1ull << 3) /* also believe the pid/uid a sigqueue() claims (above) */
#define SK_FROM_UID(uid) ((1ull << 4) | ((uint64_t)(uint32_t)(uid) << 32)) /* that real uid */
int sk_trust(int signo, uint64_t from);

/* Arrivals of signo dropped by sk_trust() so far (in this process: a forked
 * child starts from 0).  The count survives re-trusting and disconnecting.
 * Returns 0, or -EINVAL for a signal that cannot be caught or dropped NULL. */
int sk_untrusted(int signo, uint64_t *dropped);

/* ------------------------------------------------------------------ */
/* Running handlers                                                    */
/* ------------------------------------------------------------------ */

/* A file descriptor that is readable while handler calls (timers' included)
 * are pending: put it in epoll/poll/libuv/libevent and call sk_dispatch()
 * when it is readable.  Owned by sigkit; do not close it. */
int sk_fd(void);

/* Run what is pending now, in this thread.  Returns how many handler calls
 * ran (0 if none).  -EDEADLK when called from inside a handler. */
int sk_dispatch(void);

/* Block (timeout_ms -1 = forever) until at least one handler call ran.
 * Returns that number, 0 on timeout, -EINTR after sk_interrupt(). */
int sk_wait(int timeout_ms);

/* signal.pause(): wait for a signal and run its handlers.  Unlike
 * pause(2) it cannot miss a signal that arrives just before it sleeps.
 * Returns the number of handler calls, or -EINTR after sk_interrupt(). */
int sk_pause(void);

/* PEP 475 sleep: handlers run during the sleep, which then resumes for the
 * time left.  0 after the full time; -EINTR early only if sk_interrupt() was
 * called; -EINVAL for a negative or non-finite duration. */
int sk_sleep(double seconds);

/* Make the current (or next) sk_wait/sk_pause/sk_sleep return -EINTR.
 * Safe from a handler, from another thread and from a raw signal handler. */
int sk_interrupt(void);

/* Start sigkit's own thread, which runs handlers as signals arrive (Go's
 * os/signal style).  -EALREADY if it runs. */
int sk_thread_start(void);

/* Stop sigkit's thread and join it.  -EDEADLK from inside a handler run by
 * that thread; -ESRCH when it is not running. */
int sk_thread_stop(void);

/* ------------------------------------------------------------------ */
/* Alarms and timers                                                   */
/* ------------------------------------------------------------------ */

/* signal.alarm(): SIGALRM after seconds (0 cancels); returns the seconds
 * left of the previous alarm. */
unsigned sk_alarm(unsigned seconds);

/* signal.setitimer(): which is ITIMER_REAL, ITIMER_VIRTUAL or ITIMER_PROF.
 * Times in seconds; a tiny positive value is never rounded down to 0.
 * old_value/old_interval may be NULL. */
int sk_setitimer(int which, double value, double interval, double *old_value,
                 double *old_interval);

/* signal.getitimer(). */
int sk_getitimer(int which, double *value, double *interval);

typedef struct sk_timer sk_timer;

/* Start a timer that calls fn through dispatch after `after` seconds, then
 * every `interval` seconds (0: once).  Any number may run at once; they use
 * no signal.  info->signo is 0, info->code SI_TIMER, info->count the number
 * of expirations this call stands for (more than 1 when dispatch was late).
 * With out != NULL the caller owns the timer and frees it with
 * sk_timer_stop(), also after a one-shot fired; with out == NULL a one-shot
 * frees itself after its call.  Timers do not survive fork(). */
int sk_timer_start(sk_timer **out, double after, double interval, sk_handler fn, void *arg);

/* Stop a timer and free it.  It never fires after this returns. */
int sk_timer_stop(sk_timer *t);

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

/* kill(2).  signo 0 checks existence.  -ESRCH, -EPERM, -EINVAL. */
int sk_kill(pid_t pid, int signo);

/* sigqueue(3) with an integer payload.  -EAGAIN when the receiver's queue
 * limit (RLIMIT_SIGPENDING) is reached. */
int sk_sigqueue(pid_t pid, int signo, intptr_t value);

/* signal.raise_signal(): to the calling thread; a sigkit handler runs at
 * the next dispatch. */
int sk_raise(int signo);

/* pthread_kill(3) with a negative errno result. */
int sk_pthread_kill(pthread_t thread, int signo);

/* A pidfd for pid (close it with close(2)); -ENOSYS where the kernel or the
 * portable build has none. */
int sk_pidfd_open(pid_t pid);

/* signal.pidfd_send_signal(): immune to pid reuse.  value 0 sends like
 * kill(2) (SI_USER); another value sends like sigqueue(3) (SI_QUEUE). */
int sk_pidfd_send(int pidfd, int signo, intptr_t value);

/* Like sk_pidfd_send(), but always as sigqueue(3) does (SI_QUEUE), so that
 * a value of 0 arrives as a value.  (A sigkit addition to DESIGN.) */
int sk_pidfd_sigqueue(int pidfd, int signo, intptr_t value);

/* ------------------------------------------------------------------ */
/* Names and facts                                                     */
/* ------------------------------------------------------------------ */

/* "SIGUSR1", "SIGRTMIN+3"; NULL if signo is not a signal of this system. */
const char *sk_signame(int signo);

/* "SIGUSR1" "USR1" "usr1" "10" "RTMIN+3" "SIGRTMAX-1" -> number, else -EINVAL. */
int sk_signum(const char *name);

/* "User defined signal 1"; NULL if signo is not a signal. */
const char *sk_strsignal(int signo);

/* Fill set with every valid signal number (signal.valid_signals()). */
int sk_valid_signals(sigset_t *set);

enum sk_action { SK_ACT_TERM, SK_ACT_CORE, SK_ACT_IGN, SK_ACT_STOP, SK_ACT_CONT };

/* The signal(7) default action of signo, or -EINVAL. */
int sk_default_action(int signo);

/* Text for a negative errno returned by sigkit ("Invalid argument"). */
const char *sk_strerror(int err);

/* ------------------------------------------------------------------ */
/* Masks and synchronous waiting (EINTR-safe)                          */
/* ------------------------------------------------------------------ */

int sk_pthread_sigmask(int how, const sigset_t *set, sigset_t *old);
int sk_sigpending(sigset_t *set);

/* sigwait + sigwaitinfo + sigtimedwait: wait for one signal of set
 * (which the caller should block).  timeout_ms -1 waits forever, 0 polls.
 * Returns the signal number (info filled if not NULL, count 1), -EAGAIN on
 * timeout; EINTR is retried with the time left. */
int sk_sigwait(const sigset_t *set, sk_info *info, int timeout_ms);

/* ------------------------------------------------------------------ */
/* asyncio-style wakeup fd                                             */
/* ------------------------------------------------------------------ */

/* Each arrival of a sigkit-handled signal also writes its number as one byte
 * to fd (which must be non-blocking; -EINVAL otherwise).  -1 disables.
 * Returns the previous fd or -1. */
int sk_set_wakeup_fd(int fd);

/* ------------------------------------------------------------------ */
/* Shutdown the way users expect from CLIs                             */
/* ------------------------------------------------------------------ */

/* First SIGINT/SIGTERM: on_stop runs (deferred).  A second one: the process
 * dies by that signal at once (default action re-raised in the trampoline),
 * even if the dispatcher is stuck. */
int sk_graceful(sk_handler on_stop, void *arg);

/* ------------------------------------------------------------------ */
/* Other processes                                                     */
/* ------------------------------------------------------------------ */

typedef struct sk_procsig {
    sigset_t blocked, ignored, caught, pending, shared_pending;
} sk_procsig;

/* Dispositions and masks of a process (tid 0) or one of its threads, read
 * from /proc/PID/status or /proc/PID/task/TID/status.  -ESRCH, -EACCES,
 * -ENOENT (/proc not mounted), -EPROTO (unreadable format). */
int sk_proc_signals(pid_t pid, pid_t tid, sk_procsig *out);

/* ------------------------------------------------------------------ */
/* fork / exec                                                         */
/* ------------------------------------------------------------------ */

/* Async-signal-safe; for a child between fork and exec: every signal to its
 * default, then an empty mask (in that order, so a pending blocked signal
 * takes its default action and is never lost). */
int sk_child_reset(void);

/* ------------------------------------------------------------------ */
/* Supervisor: a pre-fork master and container init (`sigkit run`)     */
/* ------------------------------------------------------------------ */

/* What the children are (docs/supervisor.md has the whole contract). */
enum sk_supervise_mode {
    SK_SUPERVISE_WORKERS, /* N workers, the signal map of `sigkit run` */
    SK_SUPERVISE_INIT     /* one child; every catchable signal forwarded; exit with its status */
};

/* A worker run in-process (after fork, instead of exec): its return value
 * is the worker's exit status.  It starts with default dispositions, an
 * empty mask, the listeners on fds 3.., LISTEN_* / NOTIFY_SOCKET set, in a
 * process group of its own (like every worker: ^C reaches the master only). */
typedef int (*sk_worker_fn)(void *arg);

typedef struct sk_supervise_opts {
    int mode;                /* enum sk_supervise_mode */
    int workers;             /* workers wanted (>= 1); init mode: 1 */
    double graceful_timeout; /* seconds from TERM to KILL (default 30) */
    double ready_timeout;    /* seconds after which a silent worker counts as ready (default 1) */
    int subreaper;           /* become a child subreaper and reap every zombie (init duties) */
    int group;               /* init mode: put the child in its own process group and signal the group */
    int notify;              /* speak sd_notify on $NOTIFY_SOCKET (MAINPID, READY, RELOADING, STOPPING) */
    int quiet;               /* no log lines on stderr */
    const char *pidfile;     /* written atomically at start, removed at exit; NULL: none */
    char *const *argv;       /* command of the children (execvp-like PATH search), or NULL... */
    sk_worker_fn worker_fn;  /* ...and then this runs in each forked worker */
    void *worker_arg;
} sk_supervise_opts;

typedef struct sk_supervisor sk_supervisor;

/* Fill o with the defaults (workers mode, 1 worker, 30 s, 1 s, all else off). */
void sk_supervise_defaults(sk_supervise_opts *o);

/* Create a supervisor (nothing is started yet; o is copied, the strings it
 * points to must live until sk_supervisor_free).  -EINVAL: no command, bad
 * counts or timeouts; -ENOENT / -EACCES: argv[0] not found / not executable
 * (the CLI turns them into exit 127 / 126); -ENOMEM. */
int sk_supervisor_new(sk_supervisor **out, const sk_supervise_opts *o);

/* Open a listener once, in the master, to hand to every worker (call before
 * sk_supervisor_run): "tcp://HOST:PORT", "tcp6://[HOST]:PORT", "unix:PATH".
 * Port 0 picks a free port (sk_supervisor_address tells which).  Returns
 * the fd number the workers will see it on (3, 4, ...).  -EINVAL: bad
 * address; -EADDRINUSE; -EMFILE (at most 64); other bind/listen errors. */
int sk_supervisor_listen(sk_supervisor *s, const char *addr);

/* The bound address of listener i ("tcp://127.0.0.1:40123") into buf.
 * -ENOENT: no such listener; -ENOSPC: buf too small. */
int sk_supervisor_address(sk_supervisor *s, int i, char *buf, size_t size);

/* Run the master in the calling thread until it stops: installs its signal
 * handlers (deferred; released again before returning), starts the
 * children and sleeps in sk_wait() with no timeout unless a deadline is
 * pending.  Returns the exit status for the process: workers mode 0 after a
 * stop; init mode the child's k, or 128+N if signal N killed it.  Negative
 * errno if it could not start. */
int sk_supervisor_run(sk_supervisor *s);

/* Close the listeners (unlinking unix: paths it created) and free s. */
void sk_supervisor_free(sk_supervisor *s);

/* For workers: send one sd_notify message ("READY=1", "STATUS=...") to
 * $NOTIFY_SOCKET (a path or "@abstract").  0 when sent, 0 also when
 * NOTIFY_SOCKET is unset (nobody listens: nothing to do), else -errno. */
int sk_notify(const char *state);

/* For workers: sd_listen_fds(). The number of listeners passed on fds 3..
 * when LISTEN_PID is this process, else 0. */
int sk_listen_fds(void);

/* ------------------------------------------------------------------ */
/* Tracing: who sends which signal to whom (Linux)                     */
/* ------------------------------------------------------------------ */

/*
 * The kernel's signal:signal_generate and signal:signal_deliver
 * tracepoints, read system-wide through perf_event_open(2): one ring per
 * CPU, merged by time (CLOCK_MONOTONIC) with a short reorder window, and
 * the sender's name and uid kept from the kernel's fork/comm records and a
 * /proc scan at open.  Needs root or CAP_PERFMON (and read access to
 * tracefs for the event ids).  The portable build and other systems:
 * sk_trace_open() fails with -ENOSYS.
 */
typedef struct sk_trace sk_trace;

typedef struct sk_trace_opts {
    sigset_t signals; /* only these signals (also filtered in the kernel); empty: all */
    int ring_pages;   /* data pages per CPU ring, a power of two; 0: 256 (1 MiB), or
                         64 where locked memory is short (no CAP_IPC_LOCK) */
    int may_mount;    /* mount tracefs on /sys/kernel/tracing if it is absent */
} sk_trace_opts;

/* Fill o with the defaults: every signal, ring_pages 0, may_mount 1. */
void sk_trace_defaults(sk_trace_opts *o);

enum sk_trace_kind {
    SK_TRACE_GENERATE, /* a signal was sent (signal_generate, in the sender) */
    SK_TRACE_DELIVER,  /* a thread took a signal on its way to user space (signal_deliver) */
    SK_TRACE_LOST,     /* the kernel dropped `lost` records on `cpu` (its ring was full) */
    SK_TRACE_FORK,     /* a process or thread was created: target is the child */
    SK_TRACE_EXIT      /* a thread exited: target is the thread */
};

/* The kernel's `result` of a signal_generate (enum trace_signal_result). */
enum sk_trace_result {
    SK_TRACE_DELIVERED,       /* queued to the target (pending; not yet handled) */
    SK_TRACE_IGNORED,         /* dropped: the target ignores it, or is exiting */
    SK_TRACE_ALREADY_PENDING, /* merged with the same standard signal already pending */
    SK_TRACE_OVERFLOW_FAIL,   /* RT queue full: the sender got EAGAIN */
    SK_TRACE_LOSE_INFO        /* queued without its siginfo (queue full) */
};

/* One task as the tracer knows it. */
typedef struct sk_trace_task {
    pid_t pid;     /* process (thread group) id; 0 when unknown */
    pid_t tid;     /* thread id */
    uid_t uid;     /* real uid; (uid_t)-1 when unknown */
    char comm[16]; /* command name; "?" when unknown, never a guess */
} sk_trace_task;

typedef struct sk_trace_event {
    enum sk_trace_kind kind;
    uint64_t time_ns;     /* CLOCK_MONOTONIC */
    int cpu;
    int signo, code, err; /* GENERATE, DELIVER: signal, si_code, si_errno */
    int result;           /* GENERATE: enum sk_trace_result (or the kernel's number) */
    int group;            /* GENERATE: 1 process-directed, 0 thread-directed */
    int interrupt;        /* GENERATE: 1 raised in interrupt context (a timer, ...): no
                             task sent it, sender is only the task that was interrupted */
    sk_trace_task sender; /* GENERATE: the task that ran (the sender); FORK: the parent */
    sk_trace_task target; /* GENERATE: the receiver; DELIVER: the thread taking it;
                             FORK: the child; EXIT: the thread */
    uintptr_t handler;    /* DELIVER: the target's sa_handler: 0 SIG_DFL, 1 SIG_IGN, else
                             the handler's address */
    unsigned long handler_flags; /* DELIVER: its sa_flags */
    uint64_t lost;        /* LOST */
} sk_trace_event;

/* Start tracing (events are on when it returns 0).  On failure returns
 * -errno and writes a one-line reason to why (may be NULL):
 * -EACCES/-EPERM no privilege, -ENOENT no tracefs or no signal events,
 * -EPROTO the events lack a needed field, -ENOSYS not supported here. */
int sk_trace_open(const sk_trace_opts *o, sk_trace **out, char *why, size_t whylen);

/* A descriptor that becomes readable when a ring is a quarter full.  Poll it
 * with a timeout of ~100 ms and call sk_trace_read() either way: a quiet
 * ring never reaches the mark. */
int sk_trace_fd(const sk_trace *t);

/* Drain every ring.  Records older than the reorder window (or all of
 * them when flush is 1, at the end) become ready for sk_trace_next().
 * Returns how many are ready, or -errno. */
int sk_trace_read(sk_trace *t, int flush);

/* The next ready event, in time order: 1, or 0 when none is ready. */
int sk_trace_next(sk_trace *t, sk_trace_event *ev);

/* Totals so far: signal records read, and records the kernel dropped. */
void sk_trace_stats(const sk_trace *t, uint64_t *records, uint64_t *lost);

/* Stop tracing and free t (NULL is fine). */
void sk_trace_close(sk_trace *t);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif /* SIGKIT_H */
