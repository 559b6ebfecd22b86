/*
 * The trampoline and the arrival queue: everything here may run in
 * async-signal context, in any thread, at any moment.
 *
 * The queue is a bounded multi-producer, single-consumer ring (each cell
 * carries a sequence number, after D. Vyukov's bounded queue).
 * Invariants:
 *   Q1  A producer owns cell `pos` once it has moved `tail` from pos to
 *       pos+1; it publishes the cell by storing seq = pos+1 (release).
 *   Q2  The consumer (the one holder of the dispatch lock) reads cell `head`
 *       only when seq == head+1 (acquire), and frees it with
 *       seq = head + CAP.  A claimed but unpublished cell stops the consumer;
 *       its producer publishes and then wakes, so no arrival is stranded.
 *   Q3  The trampoline blocks every signal while it runs (sa_mask full), so
 *       a producer is never interrupted by another producer in its own
 *       thread; producers in other threads only ever race on `tail` (CAS).
 *   Q4  No lock and no allocation: a full ring folds a standard signal into
 *       sk__sig[s].folded, and hands a real-time one back to the kernel.
 */
#include "core.h"
#include "platform.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

/* A cell's sequence number is stored minus the cell's index, so that the
 * zeroed memory of a static object is already the empty ring (seq[i] = i):
 * no constructor, which another library's constructor could run before. */
typedef struct sk_cell {
    _Atomic uint64_t seq_minus_index;
    sk_arrival a;
} sk_cell;

static inline uint64_t cell_seq(sk_cell *c, uint64_t index)
{
    return atomic_load_explicit(&c->seq_minus_index, memory_order_acquire) + index;
}

static inline void set_cell_seq(sk_cell *c, uint64_t index, uint64_t seq)
{
    atomic_store_explicit(&c->seq_minus_index, seq - index, memory_order_release);
}

static struct {
    _Alignas(64) _Atomic uint64_t tail;
    _Alignas(64) _Atomic uint64_t head; /* written by the consumer only */
    sk_cell cells[SK_QUEUE_CAP];
} ring;

sk_sigstate sk__sig[SK_NSIG];
_Atomic int sk__folds_pending;
_Atomic int sk__interrupted;
_Atomic int sk__bell_wanted;
_Atomic int sk__bell_rung;
_Atomic uint64_t sk__handled_mask;
_Atomic uint64_t sk__sleeper;
_Atomic uint64_t sk__sleeper_set;
_Atomic int sk__kicking;
__thread struct timespec sk__sleep_ts __attribute__((tls_model("initial-exec")));
__thread bool sk__sleep_forever __attribute__((tls_model("initial-exec")));
_Atomic int sk__wakeup_fd = -1;
_Atomic int sk__hand_back_works = 1;

/* RT signals this thread handed back to the kernel (Q4); initial-exec so
 * the trampoline never calls into the dynamic linker to find it. */
static __thread uint64_t requeued __attribute__((tls_model("initial-exec")));

/*
 * Holders (Q5).  A thread that hands back an arrival because the ring is
 * full keeps it in its own kernel queue, blocked there, until it runs
 * dispatch again -- which a thread that never calls sigkit (a worker, while
 * sigkit's thread or an event loop dispatches) would never do.  So it
 * registers here; dispatch, once it has made room, rings a doorbell in
 * each holder (sk__release_holders), and the trampoline that doorbell runs
 * unblocks the held signals through its context: the kernel then delivers
 * them, oldest first, before the thread's own code runs again.
 *   Q5  A slot is claimed (tid 0 -> tid) and released only by its own
 *       thread, in the trampoline or in dispatch; others only read it.
 */
#define SK_HOLDERS 64
static _Atomic pid_t holder_tid[SK_HOLDERS];
static _Atomic uint64_t holder_mask[SK_HOLDERS]; /* the signals it holds */
static _Atomic int holder_kicked[SK_HOLDERS];    /* a doorbell is on its way */
_Atomic int sk__holders;                         /* slots in use */
static __thread int held_slot __attribute__((tls_model("initial-exec"))); /* slot + 1 */

void sk__queue_reset(void)
{
    atomic_store(&ring.head, 0);
    atomic_store(&ring.tail, 0);
    for (uint64_t i = 0; i < SK_QUEUE_CAP; i++)
        atomic_store(&ring.cells[i].seq_minus_index, 0);
}

SK_SIGNAL_CONTEXT bool sk__queue_push(const sk_arrival *a)
{
    uint64_t pos = atomic_load_explicit(&ring.tail, memory_order_relaxed);
    for (;;) {
        uint64_t idx = pos & (SK_QUEUE_CAP - 1);
        sk_cell *c = &ring.cells[idx];
        int64_t dif = (int64_t)(cell_seq(c, idx) - pos);
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&ring.tail, &pos, pos + 1,
                                                      memory_order_relaxed,
                                                      memory_order_relaxed)) {
                c->a = *a;
                set_cell_seq(c, idx, pos + 1);
                return true;
            }
        } else if (dif < 0) {
            return false; /* full: the cell still holds an unconsumed lap */
        } else {
            pos = atomic_load_explicit(&ring.tail, memory_order_relaxed);
        }
    }
}

bool sk__queue_ready(void)
{
    uint64_t head = atomic_load_explicit(&ring.head, memory_order_relaxed);
    uint64_t idx = head & (SK_QUEUE_CAP - 1);
    return cell_seq(&ring.cells[idx], idx) == head + 1;
}

bool sk__queue_pop(sk_arrival *out)
{
    uint64_t head = atomic_load_explicit(&ring.head, memory_order_relaxed);
    uint64_t idx = head & (SK_QUEUE_CAP - 1);
    sk_cell *c = &ring.cells[idx];
    if (cell_seq(c, idx) != head + 1)
        return false;
    *out = c->a;
    set_cell_seq(c, idx, head + SK_QUEUE_CAP);
    atomic_store_explicit(&ring.head, head + 1, memory_order_relaxed);
    return true;
}

/* Cells left before the ring is full (a snapshot: producers race). */
SK_SIGNAL_CONTEXT uint64_t sk__queue_room(void)
{
    uint64_t used = atomic_load_explicit(&ring.tail, memory_order_relaxed) -
                    atomic_load_explicit(&ring.head, memory_order_relaxed);
    return used >= SK_QUEUE_CAP ? 0 : SK_QUEUE_CAP - used;
}

SK_SIGNAL_CONTEXT int sk__is_doorbell(const siginfo_t *si)
{
    return (si->si_code == SK_DOORBELL_CODE || si->si_code == SK_SELF_DOORBELL_CODE) &&
           si->si_pid == getpid();
}

SK_SIGNAL_CONTEXT int sk__ring_doorbell(pid_t tid, int db)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = db;
    si.si_code = tid == skp_gettid() ? SK_SELF_DOORBELL_CODE : SK_DOORBELL_CODE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    return skp_queue_to_thread(tid, db, &si);
}

/* Does the sender of si match `from` (SK_FROM_*)?  Only what the kernel
 * vouches for counts: it fills si_pid/si_uid itself for kill() (SI_USER),
 * tgkill() (SI_TKILL) and what it generates (si_code > 0); every other
 * si_code <= 0 comes from rt_sigqueueinfo() and friends, whose caller
 * writes pid, uid and code as it likes (the kernel refuses it only
 * si_code >= 0 and SI_TKILL), so those are claims, believed with
 * SK_FROM_QUEUED only.  SI_TIMER has no pid: the claim is "our timer". */
SK_SIGNAL_CONTEXT static bool trusted(const siginfo_t *si, uint64_t from)
{
    int code = si->si_code;
    if (code > 0)
        return from & SK_FROM_KERNEL; /* si_pid, if any, is not the sender */
    if (code != SI_USER && code != SI_TKILL) {
        if (!(from & SK_FROM_QUEUED))
            return false;
        if (code == SI_TIMER)
            return from & SK_FROM_SELF;
    }
    /* pid 0: a sender outside our pid namespace, or one the kernel left out
     * (no queue space: RLIMIT_SIGPENDING), whose uid then reads 0 too. */
    pid_t pid = si->si_pid;
    if (pid == 0)
        return false;
    if ((from & SK_FROM_SELF) && pid == getpid())
        return true;
    if ((from & SK_FROM_PARENT) && pid == getppid())
        return true;
    return (from & SK_FROM_UID(0)) && si->si_uid == (uid_t)(from >> 32);
}

SK_SIGNAL_CONTEXT bool sk__admit_sender(int signo, const siginfo_t *si, uint64_t from)
{
    if (trusted(si, from))
        return true;
    atomic_fetch_add_explicit(&sk__sig[signo].untrusted, 1, memory_order_relaxed);
    return false;
}

uint64_t sk__arrivals(int signo)
{
    if (signo <= 0 || signo >= SK_NSIG)
        return 0;
    return atomic_load_explicit(&sk__sig[signo].arrivals, memory_order_relaxed);
}

SK_SIGNAL_CONTEXT void sk__arrival_from_siginfo(sk_arrival *a, int signo, const siginfo_t *si)
{
    a->signo = signo;
    a->gen = atomic_load_explicit(&sk__sig[signo].gen, memory_order_acquire);
    a->code = si->si_code;
    a->pid = 0;
    a->uid = 0;
    a->status = 0;
    a->value = 0;
    /* si_pid/si_uid mean a sender only for user sends, timers, queues and
     * SIGCHLD; for faults and I/O the union holds other things. */
    if (si->si_code <= 0 || signo == SIGCHLD) {
        a->pid = si->si_pid;
        a->uid = si->si_uid;
    }
    if (signo == SIGCHLD && si->si_code > 0)
        a->status = si->si_status; /* same union slot as si_value */
    else if (si->si_code == SI_QUEUE || si->si_code == SI_TIMER || si->si_code == SI_MESGQ)
        a->value = (intptr_t)si->si_value.sival_ptr;
}

void sk__info_from_siginfo(sk_info *out, const siginfo_t *si)
{
    sk_arrival a;
    sk__arrival_from_siginfo(&a, si->si_signo, si);
    *out = (sk_info){.signo = a.signo, .code = a.code, .pid = a.pid, .uid = a.uid,
                     .status = a.status, .value = a.value, .count = 1};
}

/* Kick the fast-path sleeper.  The caller has published what it wakes it
 * for; the seq_cst load here pairs with the sleeper's seq_cst store
 * before its last look, so either it sees the news or we see it asleep. */
SK_SIGNAL_CONTEXT void sk__kick(void)
{
    uint64_t w = atomic_load(&sk__sleeper);
    if (sk__sleeper_phase(w) != SK_SLEEPING)
        return;
    pid_t tid = sk__sleeper_tid(w);
    if (tid == skp_gettid() && !sk__sleep_forever) {
        /* We interrupted the sleeper itself before its sigtimedwait():
         * make that call return at once instead of sleeping. */
        sk__sleep_ts.tv_sec = 0;
        sk__sleep_ts.tv_nsec = 0;
        return;
    }
    /* Another thread's sleeper, or our own with no timeout to cut: a
     * doorbell on a signal its wait takes (blocked in its thread, so it
     * stays pending for that wait). */
    /* Counted before the sleeper can see KICKED: it drains doorbells only
     * once no kicker is between its compare-and-swap and its send. */
    atomic_fetch_add(&sk__kicking, 1);
    uint64_t kicked = sk__sleeper_pack(tid, sk__sleeper_db(w), SK_KICKED);
    if (atomic_compare_exchange_strong(&sk__sleeper, &w, kicked)) {
        sk__ring_doorbell(tid, sk__sleeper_db(w)); /* ESRCH: it is gone */
    }
    atomic_fetch_sub(&sk__kicking, 1);
}

/* Ring the bell for poll-mode sleepers and sk_fd() users, and kick the
 * fast-path sleeper. */
SK_SIGNAL_CONTEXT void sk__wake(void)
{
    if (atomic_load(&sk__bell_wanted) > 0 && !atomic_exchange(&sk__bell_rung, 1))
        skp_bell_ring();
    sk__kick();
}

SK_SIGNAL_CONTEXT void sk__write_wakeup_byte(int signo, const siginfo_t *si)
{
    if (si->si_errno == SK_READMIT_MARK)
        return;
    int fd = atomic_load_explicit(&sk__wakeup_fd, memory_order_relaxed);
    if (fd >= 0) {
        unsigned char b = (unsigned char)signo;
        ssize_t r = write(fd, &b, 1); /* non-blocking; a full pipe loses only the byte */
        (void)r;
    }
}

/* sk_graceful(): the second INT or TERM kills at once, whatever dispatch
 * is doing.  Returns false when this arrival is not such a second one. */
static _Atomic int graceful_fired;

SK_SIGNAL_CONTEXT bool sk__graceful_second(int signo)
{
    if (atomic_load(&sk__sig[signo].graceful) != SK_GRACE_ARMED)
        return false;
    if (!atomic_exchange(&graceful_fired, 1))
        return false;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(signo, &dfl, NULL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, signo);
    pthread_sigmask(SIG_UNBLOCK, &only, NULL);
    raise(signo);
    return true; /* not reached for a default action that terminates */
}

void sk__graceful_reset(void)
{
    atomic_store(&graceful_fired, 0);
}

/* Give an arrival back to the kernel: at the head of this thread's own
 * queue (dequeued before the process queue, so the order holds), blocked
 * here until dispatch readmits it (sk__take_requeued).  Used when
 *  - the ring is full and signo is real-time: it must not be dropped or
 *    merged, so it waits in the kernel, whose limit then stops senders;
 *  - this thread is the fast-path sleeper and its sigtimedwait() takes
 *    signo: on its way in or out of that call the sleeper must not see
 *    a newer arrival in the ring before the one the call returns. */
SK_SIGNAL_CONTEXT static bool hand_back(int signo, siginfo_t *si, ucontext_t *uc)
{
    if (SK_TSAN || !atomic_load_explicit(&sk__hand_back_works, memory_order_relaxed))
        return false;
    si->si_errno = SK_READMIT_MARK; /* its wakeup byte is written already */
    if (skp_queue_to_thread(skp_gettid(), signo, si) < 0)
        return false;
    sigaddset(&uc->uc_sigmask, signo);
    requeued |= sk__bit(signo);
    return true;
}

/* Register this thread as holding signo (Q5).  No free slot: it holds it
 * until it dispatches, as before there were holders. */
SK_SIGNAL_CONTEXT static void hold(int signo)
{
    int k = held_slot - 1;
    pid_t self = skp_gettid();
    for (int i = 0; k < 0 && i < SK_HOLDERS; i++) {
        pid_t none = 0;
        if (atomic_compare_exchange_strong(&holder_tid[i], &none, self)) {
            k = i;
            held_slot = i + 1;
            /* A dispatcher that saw the slot's last holder may have marked
             * it kicked after that holder left; its doorbell may have come
             * before we held anything.  Ask afresh. */
            atomic_store(&holder_kicked[i], 0);
            atomic_fetch_add(&sk__holders, 1);
        }
    }
    if (k >= 0)
        atomic_fetch_or(&holder_mask[k], sk__bit(signo));
}

/* This thread holds nothing any more. */
SK_SIGNAL_CONTEXT static void unhold(void)
{
    int k = held_slot - 1;
    if (k < 0)
        return;
    atomic_store(&holder_mask[k], 0);
    atomic_store(&holder_kicked[k], 0);
    held_slot = 0;
    atomic_store(&holder_tid[k], 0);
    atomic_fetch_sub(&sk__holders, 1);
}

/* A doorbell from dispatch, or any arrival once there is room again:
 * let what this thread holds in (the kernel delivers it on our return;
 * should the ring be full again, it is handed back and held again).
 * The sleeper's own hand-backs wait for its dispatch, which orders them. */
SK_SIGNAL_CONTEXT static void release_held(ucontext_t *uc, bool doorbell)
{
    int k = held_slot - 1;
    if (k < 0)
        return;
    if (!doorbell && sk__queue_room() <= SK_QUEUE_CAP / 2)
        return;
    uint64_t held = atomic_load(&holder_mask[k]) & requeued;
    for (int s = 1; s <= 64 && s < SK_NSIG; s++)
        if (held & sk__bit(s))
            sigdelset(&uc->uc_sigmask, s);
    requeued &= ~held;
    unhold();
}

/* A handled signal to ring a holder's doorbell on: not one it holds
 * (blocked there), standard if possible (never refused, see
 * SK_DOORBELL_CODE).  0: none. */
static int holder_doorbell(uint64_t held)
{
    uint64_t free = atomic_load(&sk__handled_mask) & ~held;
    for (int s = 1; s < SIGRTMIN; s++)
        if (free & sk__bit(s))
            return s;
    for (int s = SIGRTMIN; s <= SIGRTMAX && s <= 64; s++)
        if (free & sk__bit(s))
            return s;
    return 0;
}

void sk__holders_after_fork(void)
{
    for (int i = 0; i < SK_HOLDERS; i++) {
        atomic_store(&holder_tid[i], 0);
        atomic_store(&holder_mask[i], 0);
        atomic_store(&holder_kicked[i], 0);
    }
    atomic_store(&sk__holders, 0);
    held_slot = 0;
}

bool sk__holders_waiting_slow(void)
{
    if (atomic_load(&sk__holders) == 0 || sk__queue_room() <= SK_QUEUE_CAP / 2)
        return false;
    for (int i = 0; i < SK_HOLDERS; i++)
        if (atomic_load(&holder_tid[i]) != 0 && atomic_load(&holder_mask[i]) != 0 &&
            !atomic_load(&holder_kicked[i]))
            return true;
    return false;
}

void sk__release_holders_slow(void)
{
    if (atomic_load_explicit(&sk__holders, memory_order_relaxed) == 0 ||
        sk__queue_room() <= SK_QUEUE_CAP / 2)
        return;
    pid_t self = skp_gettid();
    for (int i = 0; i < SK_HOLDERS; i++) {
        pid_t tid = atomic_load(&holder_tid[i]);
        uint64_t held = atomic_load(&holder_mask[i]);
        int db = held ? holder_doorbell(held) : 0;
        if (tid == 0 || tid == self || db == 0 || atomic_exchange(&holder_kicked[i], 1))
            continue;
        int err = sk__ring_doorbell(tid, db);
        if (err == -ESRCH && atomic_compare_exchange_strong(&holder_tid[i], &tid, 0)) {
            /* The thread exited holding arrivals: the kernel discarded them
             * with its queue (docs/design.md, "Limits").  Free the slot. */
            atomic_store(&holder_mask[i], 0);
            atomic_store(&holder_kicked[i], 0);
            atomic_fetch_sub(&sk__holders, 1);
        } else if (err < 0) {
            atomic_store(&holder_kicked[i], 0); /* EAGAIN: next time */
        }
    }
}

/* Does this thread sleep, or is about to sleep, in sigtimedwait() for signo? */
SK_SIGNAL_CONTEXT static bool sleeper_takes(int signo)
{
    uint64_t w = atomic_load(&sk__sleeper);
    return sk__sleeper_phase(w) >= SK_SLEEPING && sk__sleeper_tid(w) == skp_gettid() &&
           (atomic_load(&sk__sleeper_set) & sk__bit(signo));
}

bool sk__take_requeued_peek(void)
{
    return requeued != 0;
}

uint64_t sk__take_requeued(void)
{
    uint64_t r = requeued;
    requeued = 0;
    if (held_slot) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old); /* Q5: our trampoline releases too */
        unhold();
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    return r;
}

SK_SIGNAL_CONTEXT void sk__fold(int signo, const siginfo_t *si)
{
    sk_sigstate *st = &sk__sig[signo];
    atomic_store_explicit(&st->fold_code, si->si_code, memory_order_relaxed);
    atomic_store_explicit(&st->fold_pid, si->si_pid, memory_order_relaxed);
    atomic_store_explicit(&st->fold_uid, si->si_uid, memory_order_relaxed);
    atomic_fetch_add(&st->folded, 1);
    atomic_store(&sk__folds_pending, 1);
}

/* Without a way to hand an arrival back (the portable build), real-time
 * signals are kept in the kernel before the ring can fill: past the high
 * water mark, this thread blocks them all until dispatch readmits them.
 * The reserve covers threads that each take one more before they block. */
SK_SIGNAL_CONTEXT static void throttle_realtime(ucontext_t *uc)
{
    uint64_t handled = atomic_load(&sk__handled_mask);
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++) {
        if (handled & sk__bit(s)) {
            sigaddset(&uc->uc_sigmask, s);
            requeued |= sk__bit(s);
        }
    }
}

/* Into the ring, or else back to the kernel (real-time) or folded. */
SK_SIGNAL_CONTEXT static void record(int signo, siginfo_t *si, ucontext_t *uc)
{
    if ((!skp_have_requeue || SK_TSAN || !atomic_load(&sk__hand_back_works)) && signo >= SIGRTMIN &&
        sk__queue_room() <= SK_QUEUE_CAP / 4 + 1)
        throttle_realtime(uc);
    sk_arrival a;
    sk__arrival_from_siginfo(&a, signo, si);
    if (sk__queue_push(&a))
        ; /* the common case */
    else if (signo >= SIGRTMIN && hand_back(signo, si, uc))
        hold(signo);
    else
        sk__fold(signo, si);
    sk__wake();
}

SK_SIGNAL_CONTEXT static void trampoline(int signo, siginfo_t *si, void *uc)
{
    int saved_errno = errno;
    if (requeued & sk__bit(signo)) {
        /* Handed back and blocked, yet here again: whatever runs us (an
         * emulator such as valgrind) ignored the mask in the context.
         * This copy is the arrival; stop handing back from now on. */
        atomic_store(&sk__hand_back_works, 0);
        requeued &= ~sk__bit(signo);
    }
    if (held_slot)
        release_held(uc, sk__is_doorbell(si));
    if (sk__is_doorbell(si)) {
        /* A kick that outlived its sleep, or a holder's release: it
         * carries no arrival. */
    } else if (!sk__admit(signo, si)) {
        /* An untrusted sender: counted, dropped, never run. */
    } else if (!sk__graceful_second(signo)) {
        sk__write_wakeup_byte(signo, si);
        if (!(sleeper_takes(signo) && hand_back(signo, si, uc)))
            record(signo, si, uc);
    }
    errno = saved_errno;
}

void sk__trampoline_action(struct sigaction *sa, bool restart)
{
    memset(sa, 0, sizeof *sa);
    sa->sa_sigaction = trampoline;
    sa->sa_flags = SA_SIGINFO | SA_ONSTACK | (restart ? SA_RESTART : 0);
    sigfillset(&sa->sa_mask); /* Q3 */
}
