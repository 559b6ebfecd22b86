/*
 * State shared by the trampoline (signal context) and dispatch (normal
 * context).  Everything the trampoline touches is a lock-free atomic or
 * memory that only its own thread reads back.
 */
#ifndef SK_CORE_H
#define SK_CORE_H

#include "internal.h"

#include <limits.h>
#include <stdint.h>

#ifndef SK_QUEUE_CAP
#define SK_QUEUE_CAP 1024
#endif
#if SK_QUEUE_CAP < 2 || (SK_QUEUE_CAP & (SK_QUEUE_CAP - 1)) != 0
#error "SK_QUEUE_CAP must be a power of two >= 2"
#endif

/* ThreadSanitizer runs signal handlers late, from its own frames, so a
 * change to the interrupted context's signal mask has no effect there:
 * the hand-back (trampoline.c) is off in that build. */
#if defined(__SANITIZE_THREAD__)
#define SK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SK_TSAN 1
#endif
#endif
#ifndef SK_TSAN
#define SK_TSAN 0
#endif

/* One arrival, as plain data (never a pointer that could be forged). */
typedef struct sk_arrival {
    int signo;
    unsigned gen; /* the signal's generation when it arrived */
    int code;
    pid_t pid;
    uid_t uid;
    int status;
    intptr_t value;
} sk_arrival;

/* Per-signal state the trampoline reads or writes. */
typedef struct sk_sigstate {
    _Atomic unsigned gen;       /* bumped when the last handler goes: queued arrivals die */
    _Atomic uint64_t folded;    /* arrivals that did not fit the queue */
    _Atomic int fold_code;      /* sender of the latest folded arrival */
    _Atomic pid_t fold_pid;
    _Atomic uid_t fold_uid;
    _Atomic int graceful;       /* SK_GRACE_* */
    _Atomic uint64_t trust;     /* SK_FROM_* (sk_trust); SK_FROM_ANY (0): no check */
    _Atomic uint64_t untrusted; /* arrivals dropped because of trust (sk_untrusted) */
    _Atomic uint64_t arrivals;  /* arrivals the kernel delivered (sk__arrivals) */
} sk_sigstate;

/* The trampoline updates these words: they must be lock-free, as the
 * other _Atomic uint64_t of the trampoline already are. */
#if UINT64_MAX == ULONG_MAX ? ATOMIC_LONG_LOCK_FREE != 2 : ATOMIC_LLONG_LOCK_FREE != 2
#error "sigkit needs lock-free 64-bit atomics"
#endif

enum { SK_GRACE_OFF, SK_GRACE_ARMED, SK_GRACE_FIRED };

extern sk_sigstate sk__sig[SK_NSIG];
extern _Atomic int sk__folds_pending;    /* some sk__sig[].folded may be non-zero */
extern _Atomic int sk__interrupted;      /* sk_interrupt() was called */
extern _Atomic int sk__bell_wanted;      /* > 0: someone sleeps on, or exported, the poll fd */
extern _Atomic int sk__bell_rung;        /* the bell holds a ring not yet cleared */
extern _Atomic uint64_t sk__handled_mask; /* bit s-1: signal s has the trampoline */

/*
 * The sleeper: at most one thread at a time waits in sigtimedwait() for the
 * handled signals (the fast path).  Packed in one word so that a waker's
 * compare-and-swap names exactly the sleep it interrupts.
 *   bits 0..31: tid, 32..39: doorbell signal, 40..42: phase
 * CLAIMED: the slot is taken and sk__sleeper_set is being written; only
 * from SLEEPING on is the set valid, and only SLEEPING is kicked.
 */
enum { SK_AWAKE = 0, SK_CLAIMED = 1, SK_SLEEPING = 2, SK_KICKED = 3, SK_DRAINING = 4 };
extern _Atomic uint64_t sk__sleeper;
extern _Atomic uint64_t sk__sleeper_set;  /* the signals its sigtimedwait takes */
extern _Atomic int sk__kicking;          /* wakers between their look and their send */
/* The sleeper's timeout, per thread: a trampoline in the sleeper's own
 * thread zeroes it to cut the coming sigtimedwait() short. */
extern __thread struct timespec sk__sleep_ts __attribute__((tls_model("initial-exec")));
/* The sleeper waits with no timeout at all (saving the kernel an hrtimer
 * per wait); then a trampoline in its own thread cuts the coming wait
 * short with a doorbell instead. */
extern __thread bool sk__sleep_forever __attribute__((tls_model("initial-exec")));

static inline uint64_t sk__sleeper_pack(pid_t tid, int db, int phase)
{
    return (uint64_t)(uint32_t)tid | (uint64_t)(db & 0xff) << 32 | (uint64_t)(phase & 7) << 40;
}
static inline pid_t sk__sleeper_tid(uint64_t w) { return (pid_t)(uint32_t)w; }
static inline int sk__sleeper_db(uint64_t w) { return (int)(w >> 32 & 0xff); }
static inline int sk__sleeper_phase(uint64_t w) { return (int)(w >> 40 & 7); }
static inline uint64_t sk__bit(int signo) { return signo <= 64 ? UINT64_C(1) << (signo - 1) : 0; }

/* A doorbell is a siginfo this code makes, told apart from a real arrival
 * by an si_code no sender uses and our own pid.  A thread ringing its own
 * uses a positive code, which the kernel accepts only from itself and
 * queues, for a standard signal, even past the user's RLIMIT_SIGPENDING;
 * the kernel refuses that code to other threads, so they use a negative
 * one, which the limit can refuse: a real-time doorbell fails (EAGAIN),
 * so sleepers whose doorbell is real-time never sleep longer than
 * SK_RT_DOORBELL_NAP_NS; a standard one comes without its siginfo, as
 * SI_USER from pid 0 (sk__lost_doorbell). */
#define SK_DOORBELL_CODE (-0x5e4b)
#define SK_SELF_DOORBELL_CODE 0x5e4b
#define SK_RT_DOORBELL_NAP_NS INT64_C(1000000000)

/* Ring the doorbell db in thread tid (see above). */
SK_SIGNAL_CONTEXT int sk__ring_doorbell(pid_t tid, int db);

/* Is si, taken by a sleeper that was kicked, the standard doorbell db that
 * the kernel queued without its siginfo (the user's RLIMIT_SIGPENDING was
 * full)?  It then reads SI_USER from pid 0, uid 0. */
static inline bool sk__lost_doorbell(const siginfo_t *si, int db)
{
    return si->si_signo == db && db < SIGRTMIN && si->si_code == SI_USER && si->si_pid == 0 &&
           si->si_uid == 0;
}
SK_SIGNAL_CONTEXT int sk__is_doorbell(const siginfo_t *si);

/* Every arrival the library takes from the kernel (the trampoline, the
 * fast path's sigtimedwait(), the drains) passes here once, after the
 * doorbell test and before anything else looks at it: it counts the
 * arrival (sk__arrivals; an arrival handed back and readmitted is counted
 * the first time only) and applies sk_trust().  false: dropped (counted
 * in sk_sigstate.untrusted), no handler, no wakeup byte, no graceful kill.
 * With trust SK_FROM_ANY it costs one relaxed add, one relaxed load and
 * a branch, inline (sk__admit, at the end of this file). */

/* 0 once the trampoline saw that blocking a signal through its context
 * has no effect here (valgrind): no hand-back, so no fast path either. */
extern _Atomic int sk__hand_back_works;

/* The queue (trampoline.c). */
SK_SIGNAL_CONTEXT bool sk__queue_push(const sk_arrival *a);
bool sk__queue_pop(sk_arrival *out);   /* single consumer: the dispatch lock holder */
bool sk__queue_ready(void);
SK_SIGNAL_CONTEXT uint64_t sk__queue_room(void); /* a snapshot */
void sk__queue_reset(void);            /* fork child only */

/* Wake whoever sleeps for arrivals (trampoline.c).  Safe in both contexts.
 * sk__wake rings the bell and kicks the sleeper; sk__kick only kicks. */
SK_SIGNAL_CONTEXT void sk__wake(void);
SK_SIGNAL_CONTEXT void sk__kick(void);

/* Per-thread: RT signals this thread's trampoline put back into its own
 * kernel queue and blocked because the queue was full (trampoline.c). */
uint64_t sk__take_requeued(void);

/* Q5 (trampoline.c): once dispatch has made room in the ring, ring a
 * doorbell in every other thread that holds handed-back arrivals, so that
 * a thread which never calls sigkit lets them in again.  One relaxed load
 * when nobody holds anything. */
extern _Atomic int sk__holders; /* holder slots in use */
void sk__release_holders_slow(void);
static inline void sk__release_holders(void)
{
    if (atomic_load_explicit(&sk__holders, memory_order_relaxed) != 0)
        sk__release_holders_slow();
}

/* The child of fork: no other thread exists, so no holder either (what
 * this thread handed back is readmitted by its next dispatch, as ever). */
void sk__holders_after_fork(void);

/* Is there a holder that sk__release_holders() would ring now?  Part of
 * the sleeper's last look: a holder registers before it wakes anyone. */
bool sk__holders_waiting_slow(void);
static inline bool sk__holders_waiting(void)
{
    return atomic_load(&sk__holders) != 0 && sk__holders_waiting_slow();
}

/* Count an arrival the full ring cannot take into sk__sig[signo].folded
 * (one call, info->count arrivals, this sender's fields). */
SK_SIGNAL_CONTEXT void sk__fold(int signo, const siginfo_t *si);
bool sk__take_requeued_peek(void);

/* The trampoline (trampoline.c) and its sigaction. */
void sk__trampoline_action(struct sigaction *sa, bool restart);
SK_SIGNAL_CONTEXT void sk__arrival_from_siginfo(sk_arrival *a, int signo, const siginfo_t *si);
SK_SIGNAL_CONTEXT void sk__write_wakeup_byte(int signo, const siginfo_t *si);
void sk__graceful_reset(void);
/* si_errno of an arrival handed back to the kernel (unused by senders). */
#define SK_READMIT_MARK 0x5e4b
SK_SIGNAL_CONTEXT bool sk__graceful_second(int signo);

/* Timers (timers.c), called by dispatch with the dispatch lock held. */
int64_t sk__timers_next(void);         /* earliest deadline, INT64_MAX if none */
int sk__timers_run_due(void);          /* run due timers' handlers; how many ran */
void sk__timers_after_fork(void);

/* Dispatch (dispatch.c). */
int sk__init(void);                    /* 0 or -errno; idempotent */
void sk__timers_changed(void);         /* the earliest deadline moved */

/* The sender check behind sk__admit() (trampoline.c): counts a drop. */
SK_SIGNAL_CONTEXT bool sk__admit_sender(int signo, const siginfo_t *si, uint64_t from);

SK_SIGNAL_CONTEXT static inline bool sk__admit(int signo, const siginfo_t *si)
{
    sk_sigstate *st = &sk__sig[signo];
    /* A readmitted arrival (SK_READMIT_MARK) was counted when it first
     * came.  The mark is no proof (a sender may write any si_errno), so it
     * is judged again; a forged mark only skips the count of a claim that
     * trust judges like any other. */
    if (si->si_errno != SK_READMIT_MARK)
        atomic_fetch_add_explicit(&st->arrivals, 1, memory_order_relaxed);
    uint64_t from = atomic_load_explicit(&st->trust, memory_order_relaxed);
    return __builtin_expect(from == SK_FROM_ANY, 1) || sk__admit_sender(signo, si, from);
}

#endif
