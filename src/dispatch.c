/*
 * Dispatch: the handler table, the calls in normal context, waiting, and
 * sigkit's own thread.
 *
 * Two locks, always taken in this order when both are held:
 *   dispatch_lock  serialises handler calls (handlers never run at once);
 *   cfg_lock       guards the handler table and the dispositions.
 * Handlers run with dispatch_lock held and cfg_lock free, so they may
 * connect, disconnect and start timers.
 *
 * Waiting.  A waiter first dispatches what is pending, then sleeps in one
 * of two ways:
 *   fast  (Linux) one thread at a time, "the sleeper", takes the handled
 *         signals straight from the kernel with sigtimedwait(): no signal
 *         frame, no doorbell, the same two system calls per round trip as a
 *         raw sigwaitinfo() loop.  A thread that waits this way keeps the
 *         handled signals blocked from then on (sync_thread_mask), as a
 *         sigwait() loop does: what arrives while it runs handlers waits
 *         in the kernel for its next wait instead of costing a signal
 *         frame.  sk_fd() and the last disconnect unblock them again.
 *         Signals caught elsewhere by the trampoline wake the sleeper with
 *         a doorbell (a siginfo of ours queued to its thread) or, when they
 *         interrupt the sleeper's own thread just before it sleeps, by
 *         zeroing its timeout.
 *   poll  every other waiter, and every waiter of the portable build,
 *         polls the doorbell fd, which the trampoline rings while anyone
 *         polls it (or sk_fd() was handed out).
 * The sleeper announces itself (seq_cst) before its last look at the queue
 * and the trampoline publishes before it looks for a sleeper: one of the
 * two always sees the other, so no wakeup is lost.
 */
#include "core.h"
#include "platform.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct handler {
    int id;
    sk_handler fn;
    void *arg;
} handler;

typedef struct sigslot {
    handler *v;
    int n, cap;
    bool installed;         /* the trampoline is the kernel's action */
    bool interrupt;         /* sk_siginterrupt(s, 1): no SA_RESTART */
    struct sigaction saved; /* what was there before sigkit */
} sigslot;

static sigslot slots[SK_NSIG];
static int next_id = 1;
static skp_mutex cfg_lock = SKP_MUTEX_INIT;

/* The handled signals the fast path may take with sigtimedwait() and keep
 * blocked: all but those of sk_graceful(), whose second arrival must reach
 * the trampoline (and kill) even while the dispatcher is stuck. */
static _Atomic uint64_t fast_mask;

static void update_fast_mask(void) /* cfg_lock held */
{
    uint64_t graceful = 0;
    for (int s = 1; s <= 64 && s < SK_NSIG; s++)
        if (atomic_load(&sk__sig[s].graceful) == SK_GRACE_ARMED)
            graceful |= sk__bit(s);
    atomic_store(&fast_mask, atomic_load(&sk__handled_mask) & ~graceful);
}
static skp_mutex dispatch_lock = SKP_MUTEX_INIT;
static _Atomic pid_t dispatch_owner; /* tid running handlers, 0 if none */

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int initialised;
static int child_init_error;
static bool fd_exported;

static pthread_t worker;
static bool worker_running;
static _Atomic int worker_stop;
static _Atomic pid_t worker_tid;

static __thread pid_t my_tid __attribute__((tls_model("initial-exec")));
static __thread bool is_worker; /* this thread is sigkit's own */
/* Handled signals this thread has looked at for blocking, and those that
 * sigkit blocked in it (a bit the application had blocked is not ours). */
static __thread uint64_t mask_seen, mask_blocked;
static __thread sigset_t fork_saved_mask;

static pid_t self_tid(void)
{
    if (my_tid == 0)
        my_tid = skp_gettid();
    return my_tid;
}

/* ---------------------------------------------------------------- */
/* fork                                                              */
/* ---------------------------------------------------------------- */

/* No signal may run the trampoline between fork() and the child's new
 * doorbell, or the child would ring the parent's. */
static void before_fork(void)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &fork_saved_mask);
    skp_mutex_lock(&cfg_lock);
}

static void after_fork_parent(void)
{
    skp_mutex_unlock(&cfg_lock);
    pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
}

/* The child: its own doorbell, an empty queue, no sleeper, no thread;
 * the handlers stay installed, as POSIX keeps dispositions. */
static void after_fork_child(void)
{
    my_tid = 0;
    skp_mutex_unlock(&cfg_lock);
    if (atomic_load(&dispatch_owner) != self_tid()) {
        skp_mutex fresh = SKP_MUTEX_INIT;
        dispatch_lock = fresh; /* a holder in another thread does not exist here */
        atomic_store(&dispatch_owner, 0);
    } else {
        atomic_store(&dispatch_owner, self_tid()); /* forked from a handler */
    }
    skp_bell_close();
    child_init_error = skp_bell_open();
    sk__queue_reset();
    for (int s = 1; s < SK_NSIG; s++) {
        atomic_store(&sk__sig[s].folded, 0);
        /* the child keeps its trust, and counts its own arrivals */
        atomic_store(&sk__sig[s].untrusted, 0);
        atomic_store(&sk__sig[s].arrivals, 0);
    }
    atomic_store(&sk__folds_pending, 0);
    atomic_store(&sk__sleeper, 0);
    atomic_store(&sk__kicking, 0);
    atomic_store(&sk__bell_wanted, fd_exported ? 1 : 0);
    atomic_store(&sk__bell_rung, 0);
    atomic_store(&sk__interrupted, 0);
    worker_running = false;
    atomic_store(&worker_stop, 0);
    atomic_store(&worker_tid, 0);
    sk__timers_after_fork();
    sk__holders_after_fork();
    pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
}

int sk__init(void)
{
    if (atomic_load_explicit(&initialised, memory_order_acquire))
        return child_init_error;
    pthread_mutex_lock(&init_lock);
    int err = 0;
    if (!atomic_load(&initialised)) {
        err = skp_bell_open(); /* -EMFILE etc.: nothing installed, retry later */
        if (err == 0) {
            static bool atfork_done;
            if (!atfork_done && pthread_atfork(before_fork, after_fork_parent, after_fork_child) == 0)
                atfork_done = true;
            atomic_store_explicit(&initialised, 1, memory_order_release);
        }
    }
    pthread_mutex_unlock(&init_lock);
    return err ? err : child_init_error;
}

/* ---------------------------------------------------------------- */
/* The handler table                                                 */
/* ---------------------------------------------------------------- */

static void unblock_stale(void);
static void pull_blocked(void);
static bool maybe_pending(void);

static bool is_special(sk_handler fn)
{
    return fn == SK_DFL || fn == SK_IGN;
}

static int disposition_of(int signo)
{
    if (slots[signo].n > 0)
        return SK_HANDLED;
    struct sigaction cur;
    if (sigaction(signo, NULL, &cur) < 0)
        return -errno;
    if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL)
        return SK_DEFAULT;
    if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_IGN)
        return SK_IGNORED;
    return SK_FOREIGN;
}

/* Make the trampoline the kernel's action for signo (cfg_lock held). */
static int install(int signo)
{
    sigslot *sl = &slots[signo];
    struct sigaction sa, old;
    sk__trampoline_action(&sa, !sl->interrupt);
    if (sl->installed)
        return sigaction(signo, &sa, NULL) < 0 ? -errno : 0;
    if (sigaction(signo, &sa, &old) < 0)
        return -errno;
    sl->saved = old;
    sl->installed = true;
    atomic_fetch_or(&sk__handled_mask, sk__bit(signo));
    update_fast_mask();
    if (worker_running)
        sk__wake(); /* without a fast path, it lets the new signal in */
    return 0;
}

/* Kick the fast-path sleeper if its sigtimedwait() takes signo, and wait
 * until it has left that call and consumed any doorbell: after this, no
 * sigtimedwait() of ours steals signo and no doorbell of ours carries it,
 * so its old action may come back.  cfg_lock held; signo is already out of
 * sk__handled_mask, so a new sleeper sees the change and does not sleep. */
static void evict_sleeper(int signo)
{
    for (;;) {
        uint64_t w = atomic_load(&sk__sleeper);
        bool takes = sk__sleeper_phase(w) >= SK_SLEEPING &&
                     (atomic_load(&sk__sleeper_set) & sk__bit(signo));
        if (!takes && atomic_load(&sk__kicking) == 0)
            return;
        sk__kick();
        struct timespec pause = {0, 20000};
        nanosleep(&pause, NULL);
    }
}

/* The last handler of signo is gone (cfg_lock held): queued arrivals die
 * with this generation, and the kernel gets `action` back. */
static int retire(int signo, const struct sigaction *action)
{
    sigslot *sl = &slots[signo];
    sk_sigstate *st = &sk__sig[signo];
    atomic_fetch_and(&sk__handled_mask, ~sk__bit(signo));
    atomic_fetch_add(&st->gen, 1);
    atomic_store(&st->folded, 0);
    atomic_store(&st->graceful, SK_GRACE_OFF);
    update_fast_mask();
    evict_sleeper(signo);
    sl->installed = false;
    sl->n = 0;
    return sigaction(signo, action, NULL) < 0 ? -errno : 0;
}

static int add_handler(int signo, sk_handler fn, void *arg)
{
    sigslot *sl = &slots[signo];
    if (sl->n == sl->cap) {
        int cap = sl->cap ? sl->cap * 2 : 4;
        handler *v = realloc(sl->v, (size_t)cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        sl->v = v;
        sl->cap = cap;
    }
    int id = next_id++;
    sl->v[sl->n++] = (handler){id, fn, arg};
    return id;
}

static int check_handler_args(int signo, sk_handler fn)
{
    return is_special(fn) ? sk__check_catchable(signo) : sk__check_handleable(signo);
}

int sk_signal(int signo, sk_handler fn, void *arg)
{
    int err = check_handler_args(signo, fn);
    if (err < 0 || (err = sk__init()) < 0)
        return err;
    skp_mutex_lock(&cfg_lock);
    int prev = disposition_of(signo);
    sigslot *sl = &slots[signo];
    if (prev < 0) {
        err = prev;
    } else if (is_special(fn)) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = fn == SK_IGN ? SIG_IGN : SIG_DFL;
        if (sl->installed)
            err = retire(signo, &sa);
        else
            err = sigaction(signo, &sa, NULL) < 0 ? -errno : 0;
    } else if ((err = install(signo)) == 0) {
        bool had = sl->n > 0;
        int keep = sl->n;
        err = add_handler(signo, fn, arg);
        if (err > 0) {
            /* THE handler: the new one replaces every connected one. */
            sl->v[0] = sl->v[keep];
            sl->n = 1;
            atomic_store(&sk__sig[signo].graceful, SK_GRACE_OFF);
            update_fast_mask();
            err = 0;
        } else if (!had) {
            retire(signo, &sl->saved);
        }
    }
    skp_mutex_unlock(&cfg_lock);
    unblock_stale(); /* the restored action applies in this thread too */
    return err < 0 ? err : prev;
}

int sk_getsignal(int signo, sk_handler *fn, void **arg)
{
    int err = sk__check_signal(signo);
    if (err < 0)
        return err;
    skp_mutex_lock(&cfg_lock);
    int d = disposition_of(signo);
    sk_handler f = d == SK_IGNORED ? SK_IGN : SK_DFL;
    void *a = NULL;
    if (d == SK_HANDLED) {
        f = slots[signo].v[0].fn;
        a = slots[signo].v[0].arg;
    }
    skp_mutex_unlock(&cfg_lock);
    if (fn)
        *fn = d == SK_FOREIGN ? NULL : f;
    if (arg)
        *arg = a;
    return d;
}

int sk_connect(int signo, sk_handler fn, void *arg)
{
    int err = is_special(fn) ? -EINVAL : sk__check_handleable(signo);
    if (err < 0 || (err = sk__init()) < 0)
        return err;
    skp_mutex_lock(&cfg_lock);
    sigslot *sl = &slots[signo];
    bool had = sl->installed;
    int id = install(signo);
    if (id == 0) {
        id = add_handler(signo, fn, arg);
        if (id < 0 && !had)
            retire(signo, &sl->saved);
    }
    skp_mutex_unlock(&cfg_lock);
    return id;
}

int sk_disconnect(int id)
{
    if (id <= 0)
        return -EINVAL;
    int err = -ENOENT;
    skp_mutex_lock(&cfg_lock);
    for (int s = 1; s < SK_NSIG && err == -ENOENT; s++) {
        sigslot *sl = &slots[s];
        for (int i = 0; i < sl->n; i++) {
            if (sl->v[i].id != id)
                continue;
            memmove(&sl->v[i], &sl->v[i + 1], (size_t)(sl->n - i - 1) * sizeof sl->v[0]);
            sl->n--;
            err = sl->n == 0 ? retire(s, &sl->saved) : 0;
            break;
        }
    }
    skp_mutex_unlock(&cfg_lock);
    unblock_stale();
    return err;
}

int sk_siginterrupt(int signo, int flag)
{
    int err = sk__check_catchable(signo);
    if (err < 0)
        return err;
    if (flag != 0 && flag != 1)
        return -EINVAL;
    skp_mutex_lock(&cfg_lock);
    sigslot *sl = &slots[signo];
    sl->interrupt = flag;
    if (sl->installed) {
        err = install(signo);
    } else {
        /* Like Python: a foreign handler gets the flag too. */
        struct sigaction cur;
        if (sigaction(signo, NULL, &cur) == 0 && disposition_of(signo) == SK_FOREIGN) {
            cur.sa_flags = flag ? cur.sa_flags & ~SA_RESTART : cur.sa_flags | SA_RESTART;
            if (sigaction(signo, &cur, NULL) < 0)
                err = -errno;
        }
    }
    skp_mutex_unlock(&cfg_lock);
    return err;
}

/* Trusted senders: plain atomics, read by sk__admit (trampoline.c) at
 * each arrival, so no lock and no sk__init. */
#define SK_FROM_KNOWN (SK_FROM_SELF | SK_FROM_PARENT | SK_FROM_KERNEL | SK_FROM_QUEUED)

int sk_trust(int signo, uint64_t from)
{
    int err = sk__check_catchable(signo);
    if (err < 0)
        return err;
    uint64_t uid_bit = SK_FROM_UID(0);
    uint64_t rest = from & ~(SK_FROM_KNOWN | uid_bit);
    if ((from & uid_bit) ? (rest & 0xffffffffu) != 0 : rest != 0)
        return -EINVAL;
    atomic_store_explicit(&sk__sig[signo].trust, from, memory_order_relaxed);
    return 0;
}

int sk_untrusted(int signo, uint64_t *dropped)
{
    int err = sk__check_catchable(signo);
    if (err < 0)
        return err;
    if (!dropped)
        return -EINVAL;
    *dropped = atomic_load_explicit(&sk__sig[signo].untrusted, memory_order_relaxed);
    return 0;
}

int sk_graceful(sk_handler on_stop, void *arg)
{
    if (is_special(on_stop))
        return -EINVAL;
    int ids[2], sigs[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        ids[i] = sk_connect(sigs[i], on_stop, arg);
        if (ids[i] < 0) {
            if (i == 1)
                sk_disconnect(ids[0]);
            return ids[i];
        }
    }
    sk__graceful_reset();
    skp_mutex_lock(&cfg_lock);
    atomic_store(&sk__sig[SIGINT].graceful, SK_GRACE_ARMED);
    atomic_store(&sk__sig[SIGTERM].graceful, SK_GRACE_ARMED);
    update_fast_mask();
    skp_mutex_unlock(&cfg_lock);
    unblock_stale();
    sk__kick(); /* a sleeper takes INT/TERM no more */
    return 0;
}

/* ---------------------------------------------------------------- */
/* Calling handlers (dispatch_lock held)                             */
/* ---------------------------------------------------------------- */

/* Run every handler of a.signo connected now, in connection order.  A
 * handler may disconnect itself or others: each step looks the table up
 * again, so a removed handler is never called. */
static int run_handlers(const sk_arrival *a, uint64_t count)
{
    sk_info info = {.signo = a->signo, .code = a->code, .pid = a->pid, .uid = a->uid,
                    .status = a->status, .value = a->value, .count = count};
    int calls = 0, last = 0;
    for (bool more = true; more;) {
        handler h = {0};
        more = false;
        skp_mutex_lock(&cfg_lock);
        sigslot *sl = &slots[a->signo];
        if (a->gen == atomic_load(&sk__sig[a->signo].gen)) {
            for (int i = 0; i < sl->n; i++) {
                if (sl->v[i].id > last) {
                    h = sl->v[i];
                    more = i + 1 < sl->n; /* ids grow along the array */
                    break;
                }
            }
        }
        skp_mutex_unlock(&cfg_lock);
        if (h.id == 0)
            break;
        h.fn(&info, h.arg);
        last = h.id;
        calls++;
    }
    return calls;
}

static int run_folds(void)
{
    if (!atomic_load(&sk__folds_pending) || !atomic_exchange(&sk__folds_pending, 0))
        return 0;
    int calls = 0;
    for (int s = 1; s < SK_NSIG; s++) {
        sk_sigstate *st = &sk__sig[s];
        uint64_t n = atomic_exchange(&st->folded, 0);
        if (n == 0)
            continue;
        sk_arrival a = {.signo = s, .gen = atomic_load(&st->gen),
                        .code = atomic_load(&st->fold_code), .pid = atomic_load(&st->fold_pid),
                        .uid = atomic_load(&st->fold_uid)};
        calls += run_handlers(&a, n);
    }
    return calls;
}

/* RT signals this thread handed back to the kernel while the queue was
 * full: now that dispatch has made room, let them in again (the kernel
 * delivers them to the trampoline before pthread_sigmask returns). */
static void readmit_requeued(void)
{
    uint64_t rq = sk__take_requeued();
    if (rq == 0)
        return;
    sigset_t set;
    sigemptyset(&set);
    for (int s = 1; s <= 64 && s < SK_NSIG; s++)
        if (rq & sk__bit(s))
            sigaddset(&set, s);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* Everything pending, oldest first: `extra` (taken from the kernel by
 * the fast path: the queue held nothing of this thread's when it slept,
 * and what this thread caught since was handed back), the queue, folded
 * arrivals, what was handed back (readmitted, it comes through the queue
 * again), and due timers. */
static int run_pending(const sk_arrival *extra)
{
    int calls = 0;
    if (atomic_load(&sk__bell_rung) && atomic_exchange(&sk__bell_rung, 0))
        skp_bell_clear(); /* before reading the queue: a later ring is not lost */
    if (extra) {
        calls += run_handlers(extra, 1);
        if (!maybe_pending()) {
            sk__release_holders();
            return calls; /* the fast path's usual case: nothing else came */
        }
    }
    for (int round = 0; round < 2; round++) {
        sk_arrival a;
        while (sk__queue_pop(&a))
            calls += run_handlers(&a, 1);
        calls += run_folds();
        if (round == 0) {
            readmit_requeued();
            sk__release_holders(); /* Q5: other threads' hand-backs */
        }
    }
    calls += sk__timers_run_due();
    return calls;
}

static bool in_handler(void)
{
    return atomic_load_explicit(&dispatch_owner, memory_order_relaxed) == self_tid();
}

/* Could run_pending() find anything?  Lets a waiter skip the lock. */
static bool maybe_pending(void)
{
    int64_t next = sk__timers_next();
    return sk__queue_ready() || atomic_load(&sk__folds_pending) ||
           atomic_load(&sk__bell_rung) || sk__take_requeued_peek() || sk__holders_waiting() ||
           (next != INT64_MAX && next <= sk__now_ns());
}

static int dispatch_locked(const sk_arrival *extra)
{
    if (in_handler())
        return -EDEADLK;
    if (!extra && !maybe_pending())
        return 0;
    if (!skp_mutex_trylock(&dispatch_lock)) {
        /* Another thread dispatches.  An arrival the fast path took waits
         * in the ring, where that thread runs it in its place, rather than
         * here until it has run everything that came after it. */
        if (extra && sk__queue_push(extra))
            extra = NULL;
        skp_mutex_lock(&dispatch_lock);
    }
    /* only this thread compares the owner with itself: relaxed is enough */
    atomic_store_explicit(&dispatch_owner, self_tid(), memory_order_relaxed);
    int n = run_pending(extra);
    atomic_store_explicit(&dispatch_owner, 0, memory_order_relaxed);
    skp_mutex_unlock(&dispatch_lock);
    return n;
}

int sk_dispatch(void)
{
    int err = sk__init();
    if (err < 0)
        return err;
    if (in_handler())
        return -EDEADLK;
    pull_blocked();
    return dispatch_locked(NULL);
}

/* ---------------------------------------------------------------- */
/* Waiting                                                           */
/* ---------------------------------------------------------------- */

/* Is there a reason not to sleep?  Read after announcing the sleep. */
static bool wake_reason(int64_t until)
{
    if (sk__queue_ready() || atomic_load(&sk__folds_pending) || sk__holders_waiting() ||
        sk__timers_next() < until)
        return true;
    return atomic_load(is_worker ? &worker_stop : &sk__interrupted);
}

static void set_from_mask(sigset_t *set, uint64_t mask)
{
    sigemptyset(set);
    for (int s = 1; s <= 64 && s < SK_NSIG; s++)
        if (mask & sk__bit(s))
            sigaddset(set, s);
}

static struct timespec timespec_until(int64_t until)
{
    if (until == INT64_MAX)
        return (struct timespec){.tv_sec = 365 * 86400}; /* a year; the loop sleeps again */
    int64_t left = until - sk__now_ns();
    if (left < 0)
        left = 0;
    return (struct timespec){.tv_sec = left / 1000000000, .tv_nsec = left % 1000000000};
}

/* The ring is full and this thread took signo from the kernel itself,
 * with signo blocked here (the fast path, the drains): a real-time arrival
 * goes back to this thread's own queue, which the next take reads before
 * the process queue; a standard one is folded. */
static void keep_in_kernel(int signo, const siginfo_t *si)
{
    if (signo >= SIGRTMIN) {
        siginfo_t back = *si;
        back.si_errno = SK_READMIT_MARK; /* counted, and its byte written, already */
        if (skp_queue_to_thread(skp_gettid(), signo, &back) == 0)
            return;
    }
    sk__fold(signo, si);
}

/* A real signal that came when only a doorbell was expected: keep it. */
static void keep_arrival(int signo, const siginfo_t *si, sk_arrival *got, bool *have)
{
    if (!sk__admit(signo, si))
        return; /* an untrusted sender: counted and dropped */
    if (sk__graceful_second(signo))
        return; /* not reached: the second INT/TERM kills */
    sk_arrival a;
    sk__arrival_from_siginfo(&a, signo, si);
    sk__write_wakeup_byte(signo, si);
    if (!*have) {
        *got = a;
        *have = true;
    } else if (!sk__queue_push(&a)) {
        keep_in_kernel(signo, si);
    }
}

/* We were kicked: a doorbell is queued to this thread, or merged into a
 * real instance of its (standard) signal.  Once no kicker is mid-send,
 * take every instance with the signal blocked; real ones are kept. */
static void drain_doorbells(int db, sk_arrival *got, bool *have)
{
    atomic_store(&sk__sleeper, sk__sleeper_pack(self_tid(), db, SK_DRAINING));
    while (atomic_load(&sk__kicking) > 0)
        sched_yield();
    sigset_t only, old;
    sigemptyset(&only);
    sigaddset(&only, db);
    pthread_sigmask(SIG_BLOCK, &only, &old);
    struct timespec zero = {0, 0};
    siginfo_t si;
    /* With the ring full, what is left stays queued in order (a doorbell
     * left behind is a spurious wake later, nothing more). */
    while ((!*have || sk__queue_room() > 0) && sigtimedwait(&only, &si, &zero) == db)
        if (!sk__is_doorbell(&si) && !sk__lost_doorbell(&si, db))
            keep_arrival(db, &si, got, have);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    atomic_store(&sk__sleeper, 0);
}

static void change_mask(int how, uint64_t bits, sigset_t *old)
{
    sigset_t set;
    set_from_mask(&set, bits);
    pthread_sigmask(how, &set, old);
}

/* Keep the handled signals blocked in a fast-path waiter, and let go of
 * those no longer handled, so that their restored action applies here.
 * A system call only when the handled set changed. */
static void unblock_stale(void)
{
    uint64_t stale = mask_seen & ~atomic_load(&fast_mask);
    if (stale) {
        if (mask_blocked & stale)
            change_mask(SIG_UNBLOCK, mask_blocked & stale, NULL);
        mask_blocked &= ~stale;
        mask_seen &= ~stale;
    }
}

static void sync_thread_mask(void)
{
    if (mask_seen == atomic_load_explicit(&fast_mask, memory_order_relaxed))
        return; /* the usual case: nothing changed since the last wait */
    unblock_stale();
    uint64_t fresh = atomic_load(&fast_mask) & ~mask_seen;
    if (fresh) {
        sigset_t old;
        change_mask(SIG_BLOCK, fresh, &old);
        for (int s = 1; s <= 64 && s < SK_NSIG; s++)
            if ((fresh & sk__bit(s)) && !sigismember(&old, s))
                mask_blocked |= sk__bit(s);
        mask_seen |= fresh;
    }
}

/* This thread turns to the doorbell fd (an event loop): unblock. */
static void release_thread_mask(void)
{
    if (mask_blocked)
        change_mask(SIG_UNBLOCK, mask_blocked, NULL);
    mask_blocked = mask_seen = 0;
}

/* Arrivals waiting in the kernel for this thread, which blocks them:
 * into the queue while it has room (the rest stay in the kernel). */
static void pull_blocked(void)
{
    if (!mask_blocked)
        return;
    sigset_t set;
    set_from_mask(&set, mask_blocked & atomic_load(&fast_mask));
    struct timespec zero = {0, 0};
    siginfo_t si;
    int r;
    while (sk__queue_room() > SK_QUEUE_CAP / 2 && (r = sigtimedwait(&set, &si, &zero)) > 0) {
        if (sk__is_doorbell(&si) || !sk__admit(r, &si))
            continue;
        sk_arrival a;
        sk__arrival_from_siginfo(&a, r, &si);
        sk__write_wakeup_byte(r, &si);
        if (!sk__queue_push(&a)) /* other threads filled it since the test */
            keep_in_kernel(r, &si);
    }
}

/* The doorbell: a standard signal of the set if there is one (see
 * SK_DOORBELL_CODE: the kernel does not refuse it; it may merge with a real
 * arrival of that signal, which the drain then keeps), else a real-time one. */
static int doorbell_of(uint64_t set)
{
    for (int s = 1; s < SIGRTMIN; s++)
        if (set & sk__bit(s))
            return s;
    for (int s = SIGRTMAX; s >= SIGRTMIN; s--)
        if (set & sk__bit(s))
            return s;
    return __builtin_ctzll(set) + 1;
}

/* The sigset and doorbell of the set this thread slept on last: the set
 * rarely changes, and building them is most of the fast path's own work. */
static __thread struct {
    uint64_t mask;
    int db;
    sigset_t sigs;
} last_set;

/* The fast path.  Returns false if another thread is the sleeper. */
static bool sleep_fast(uint64_t set, int64_t until, sk_arrival *got, bool *have)
{
    if (last_set.mask != set) {
        last_set.db = doorbell_of(set);
        set_from_mask(&last_set.sigs, set);
        last_set.mask = set;
    }
    int db = last_set.db;
    uint64_t idle = 0;
    sync_thread_mask();
    if (!atomic_compare_exchange_strong(&sk__sleeper, &idle,
                                        sk__sleeper_pack(self_tid(), db, SK_CLAIMED)))
        return false;
    /* released by the seq_cst store of SLEEPING below */
    atomic_store_explicit(&sk__sleeper_set, set, memory_order_relaxed);
    /* No timeout at all when waiting for ever and every handled signal is
     * in the set (blocked here): then only a rare trampoline of ours in this
     * thread (a signal connected since, sk_interrupt from a raw handler)
     * can need to cut the wait short, and it rings a doorbell to do so. */
    if (db >= SIGRTMIN) { /* its doorbell may be refused: look again now and then */
        int64_t nap = sk__now_ns() + SK_RT_DOORBELL_NAP_NS;
        if (until > nap)
            until = nap;
    }
    sk__sleep_forever = until == INT64_MAX && set == atomic_load(&sk__handled_mask);
    sk__sleep_ts = timespec_until(until);
    atomic_store(&sk__sleeper, sk__sleeper_pack(self_tid(), db, SK_SLEEPING));
    int r = 0;
    siginfo_t si;
    if (atomic_load(&fast_mask) == set && !wake_reason(until))
        r = skp_sigtimedwait(&last_set.sigs, &si, sk__sleep_forever ? NULL : &sk__sleep_ts);
    uint64_t prev = atomic_load(&sk__sleeper);
    if (sk__sleeper_phase(prev) == SK_SLEEPING &&
        atomic_compare_exchange_strong(&sk__sleeper, &prev, 0))
        prev = 0;
    bool kicked = sk__sleeper_phase(prev) == SK_KICKED;
    if (r > 0 && !sk__is_doorbell(&si) && !(kicked && sk__lost_doorbell(&si, db)))
        keep_arrival(r, &si, got, have);
    if (kicked)
        drain_doorbells(db, got, have);
    /* What this thread's trampoline handed back around the call is
     * readmitted by dispatch, after *got. */
    return true;
}

/* Can this process take signals with sigtimedwait()?  Not in the portable
 * build, and not where handlers are run for us (TSan, valgrind). */
static bool fast_path_possible(void)
{
    return skp_have_sigwait && !SK_TSAN && atomic_load(&sk__hand_back_works);
}

/* sigkit's thread blocks every signal and, on the fast path, takes the
 * handled ones with sigtimedwait().  Without a fast path it must let them
 * in to its trampoline, or a program whose other threads block them all
 * (Go's model) would never see one: keep the handled ones unblocked here. */
static uint64_t worker_open;
static void worker_sync_mask(void)
{
    uint64_t h = atomic_load(&sk__handled_mask);
    if (h == worker_open)
        return;
    if (h & ~worker_open)
        change_mask(SIG_UNBLOCK, h & ~worker_open, NULL);
    if (worker_open & ~h)
        change_mask(SIG_BLOCK, worker_open & ~h, NULL);
    worker_open = h;
}

static void sleep_poll(int64_t until)
{
    if (is_worker && !fast_path_possible())
        worker_sync_mask();
    atomic_fetch_add(&sk__bell_wanted, 1);
    if (!wake_reason(until)) {
        int ms = sk__ms_left(until);
        sigset_t during, *mask = NULL;
        if (mask_blocked) {
            /* let this thread's own signals in while it polls */
            pthread_sigmask(SIG_SETMASK, NULL, &during);
            for (int s = 1; s <= 64 && s < SK_NSIG; s++)
                if (mask_blocked & sk__bit(s))
                    sigdelset(&during, s);
            mask = &during;
        }
        skp_wait_fd(ms, mask);
    }
    atomic_fetch_sub(&sk__bell_wanted, 1);
}

/* Sleep once, until something may be pending or `until`.  A signal the
 * fast path took from the kernel comes back in *got. */
static void sleep_once(int64_t until, sk_arrival *got, bool *have)
{
    uint64_t set = atomic_load(&fast_mask);
    /* Under ThreadSanitizer the handler of a signal that arrives just
     * before sigtimedwait() runs only after it: wait by the doorbell. */
    if (fast_path_possible() && set != 0 && sleep_fast(set, until, got, have))
        return;
    sleep_poll(until);
}

/* Dispatch until at least one call ran (stop_early) or `deadline`.
 * Returns calls, 0 at the deadline, -EINTR after sk_interrupt(). */
static int wait_core(int64_t deadline, bool stop_early)
{
    int total = 0;
    sk_arrival got;
    bool have = false;
    for (;;) {
        /* Straight to sleep when nothing can be pending: a fast-path wake
         * brings its arrival back in `got`, dispatched on the next turn. */
        if (have || maybe_pending()) {
            int n = dispatch_locked(have ? &got : NULL);
            have = false;
            if (n < 0)
                return n;
            total += n;
        }
        if (is_worker && atomic_load(&worker_stop))
            return total;
        if (!is_worker && atomic_load(&sk__interrupted) && atomic_exchange(&sk__interrupted, 0))
            return -EINTR; /* sk_interrupt() is for the application's waits */
        if (stop_early && total > 0)
            return total;
        if (deadline != INT64_MAX && sk__now_ns() >= deadline)
            return stop_early ? 0 : total;
        int64_t until = sk__timers_next();
        sleep_once(until < deadline ? until : deadline, &got, &have);
    }
}

int sk_wait(int timeout_ms)
{
    if (timeout_ms < -1)
        return -EINVAL;
    int err = sk__init();
    if (err < 0)
        return err;
    if (in_handler())
        return -EDEADLK;
    return wait_core(sk__deadline_from_ms(timeout_ms), true);
}

int sk_pause(void)
{
    return sk_wait(-1);
}

int sk_sleep(double seconds)
{
    if (!(seconds >= 0) || seconds > 1e9)
        return -EINVAL;
    int err = sk__init();
    if (err < 0)
        return err;
    int64_t deadline = sk__now_ns() + (int64_t)(seconds * 1e9);
    if (in_handler()) {
        /* Handlers never nest: inside one, a sleep is only a sleep. */
        int64_t left;
        while ((left = deadline - sk__now_ns()) > 0) {
            struct timespec ts = {left / 1000000000, left % 1000000000};
            nanosleep(&ts, NULL);
        }
        return 0;
    }
    int r = wait_core(deadline, false);
    return r < 0 ? r : 0;
}

SK_SIGNAL_CONTEXT int sk_interrupt(void)
{
    atomic_store(&sk__interrupted, 1);
    sk__wake();
    return 0;
}

int sk_fd(void)
{
    int err = sk__init();
    if (err < 0)
        return err;
    release_thread_mask();
    skp_mutex_lock(&cfg_lock);
    if (!fd_exported) {
        fd_exported = true;
        atomic_fetch_add(&sk__bell_wanted, 1);
        sk__timers_changed();
    }
    skp_mutex_unlock(&cfg_lock);
    /* Arrivals queued before the fd was handed out must show on it too. */
    if (sk__queue_ready() || atomic_load(&sk__folds_pending)) {
        atomic_store(&sk__bell_rung, 1);
        skp_bell_ring();
    }
    return skp_poll_fd();
}

/* The fd's timer follows the earliest deadline; a poll-mode sleeper
 * wakes by it, the fast-path sleeper by a kick. */
void sk__timers_changed(void)
{
    skp_timer_arm(sk__timers_next());
    sk__kick();
}

/* ---------------------------------------------------------------- */
/* sigkit's own thread                                               */
/* ---------------------------------------------------------------- */

static void *worker_main(void *unused)
{
    (void)unused;
    is_worker = true;
    worker_open = 0; /* a new thread: everything blocked (sk_thread_start) */
    atomic_store(&worker_tid, self_tid());
    while (!atomic_load(&worker_stop))
        wait_core(INT64_MAX, true);
    return NULL;
}

int sk_thread_start(void)
{
    int err = sk__init();
    if (err < 0)
        return err;
    skp_mutex_lock(&cfg_lock);
    if (worker_running) {
        skp_mutex_unlock(&cfg_lock);
        return -EALREADY;
    }
    /* The thread blocks every signal: it takes the handled ones with
     * sigtimedwait(), and the others stay for the application's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    atomic_store(&worker_stop, 0);
    err = -pthread_create(&worker, NULL, worker_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    worker_running = err == 0;
    skp_mutex_unlock(&cfg_lock);
    return err;
}

int sk_thread_stop(void)
{
    skp_mutex_lock(&cfg_lock);
    if (!worker_running) {
        skp_mutex_unlock(&cfg_lock);
        return -ESRCH;
    }
    if (pthread_equal(pthread_self(), worker)) {
        skp_mutex_unlock(&cfg_lock);
        return -EDEADLK;
    }
    worker_running = false;
    pthread_t t = worker;
    atomic_store(&worker_stop, 1);
    skp_mutex_unlock(&cfg_lock);
    sk__wake();
    while (atomic_load(&worker_tid) == 0) /* it may not have started yet */
        sched_yield();
    sk__wake();
    pthread_join(t, NULL);
    atomic_store(&worker_tid, 0);
    atomic_store(&worker_stop, 0);
    return 0;
}
