/*
 * sigkit's own timers: a binary min-heap of deadlines on CLOCK_MONOTONIC,
 * run by dispatch like signal handlers.  They use no signal at all: a
 * waiter sleeps no longer than the earliest deadline, and sk_fd() is made
 * readable at that deadline by the platform's timer (timerfd on Linux).
 *
 * Invariant: next_deadline equals the heap top's deadline (INT64_MAX when
 * empty) whenever timer_lock is free, so waiters read it without the lock.
 */
#include "core.h"
#include "platform.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct sk_timer {
    int64_t deadline;
    int64_t interval; /* ns; 0: one-shot */
    sk_handler fn;
    void *arg;
    int slot;         /* index in the heap, -1 when not in it */
    bool running;     /* its handler is being called */
    bool stopped;     /* sk_timer_stop() came while it ran: free after */
    bool owned;       /* the caller holds the pointer and must stop it */
};

static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static sk_timer **heap;
static int heap_len, heap_cap;
static _Atomic int64_t next_deadline = INT64_MAX;

int64_t sk__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sk__deadline_from_ms(int timeout_ms)
{
    return timeout_ms < 0 ? INT64_MAX : sk__now_ns() + (int64_t)timeout_ms * 1000000;
}

int sk__ms_left(int64_t deadline_ns)
{
    if (deadline_ns == INT64_MAX)
        return -1;
    int64_t left = deadline_ns - sk__now_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + 999999) / 1000000;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void heap_swap(int i, int j)
{
    sk_timer *t = heap[i];
    heap[i] = heap[j];
    heap[j] = t;
    heap[i]->slot = i;
    heap[j]->slot = j;
}

static void sift_up(int i)
{
    while (i > 0 && heap[(i - 1) / 2]->deadline > heap[i]->deadline) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void sift_down(int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < heap_len && heap[l]->deadline < heap[m]->deadline)
            m = l;
        if (r < heap_len && heap[r]->deadline < heap[m]->deadline)
            m = r;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

static int heap_insert(sk_timer *t)
{
    if (heap_len == heap_cap) {
        int cap = heap_cap ? heap_cap * 2 : 16;
        sk_timer **h = realloc(heap, (size_t)cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        heap = h;
        heap_cap = cap;
    }
    t->slot = heap_len;
    heap[heap_len++] = t;
    sift_up(t->slot);
    return 0;
}

static void heap_remove(sk_timer *t)
{
    int i = t->slot;
    heap_len--;
    if (i != heap_len) {
        heap_swap(i, heap_len);
        sift_down(i);
        sift_up(i);
    }
    t->slot = -1;
}

/* Publish the top (timer_lock held); true if it moved earlier. */
static bool publish_next(void)
{
    int64_t next = heap_len ? heap[0]->deadline : INT64_MAX;
    return atomic_exchange(&next_deadline, next) > next;
}

int64_t sk__timers_next(void)
{
    return atomic_load_explicit(&next_deadline, memory_order_acquire);
}

static int64_t seconds_to_ns(double s)
{
    double x = s * 1e9;
    int64_t ns = (int64_t)x;
    return (double)ns < x ? ns + 1 : ns; /* round up: a tiny timeout is never 0 */
}

int sk_timer_start(sk_timer **out, double after, double interval, sk_handler fn, void *arg)
{
    if (!(after >= 0) || !(interval >= 0) || after > 1e9 || interval > 1e9 || fn == SK_DFL ||
        fn == SK_IGN)
        return -EINVAL;
    int err = sk__init();
    if (err < 0)
        return err;
    sk_timer *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    *t = (sk_timer){.deadline = sk__now_ns() + seconds_to_ns(after),
                    .interval = seconds_to_ns(interval), .fn = fn, .arg = arg,
                    .slot = -1, .owned = out != NULL};
    pthread_mutex_lock(&timer_lock);
    err = heap_insert(t);
    bool earlier = err == 0 && publish_next();
    pthread_mutex_unlock(&timer_lock);
    if (err < 0) {
        free(t);
        return err;
    }
    if (out)
        *out = t;
    if (earlier)
        sk__timers_changed();
    return 0;
}

int sk_timer_stop(sk_timer *t)
{
    if (!t)
        return -EINVAL;
    pthread_mutex_lock(&timer_lock);
    if (t->slot >= 0) {
        heap_remove(t);
        publish_next();
    }
    bool running = t->running;
    t->stopped = true;
    pthread_mutex_unlock(&timer_lock);
    if (!running)
        free(t); /* else run_one frees it once its call returns */
    return 0;
}

/* Call one due timer (timer_lock held on entry and exit). */
static void run_one(sk_timer *t, int64_t now)
{
    uint64_t count = 1;
    heap_remove(t);
    if (t->interval > 0) {
        int64_t late = now - t->deadline;
        count += (uint64_t)(late / t->interval);
        t->deadline += (int64_t)count * t->interval;
        heap_insert(t); /* cannot fail: the slot was just freed */
    }
    publish_next();
    t->running = true;
    pthread_mutex_unlock(&timer_lock);
    sk_info info = {.signo = 0, .code = SI_TIMER, .count = count};
    t->fn(&info, t->arg);
    pthread_mutex_lock(&timer_lock);
    t->running = false;
    bool done = t->stopped || (t->interval == 0 && !t->owned);
    if (done && t->slot >= 0) {
        heap_remove(t);
        publish_next();
    }
    if (done)
        free(t);
}

int sk__timers_run_due(void)
{
    if (sk__timers_next() == INT64_MAX)
        return 0;
    int64_t now = sk__now_ns();
    if (sk__timers_next() > now)
        return 0;
    int calls = 0;
    pthread_mutex_lock(&timer_lock);
    while (heap_len > 0 && heap[0]->deadline <= now) {
        run_one(heap[0], now);
        calls++;
    }
    int64_t next = heap_len ? heap[0]->deadline : INT64_MAX;
    pthread_mutex_unlock(&timer_lock);
    skp_timer_clear();
    skp_timer_arm(next);
    return calls;
}

/* Timers do not survive fork(), as POSIX timers do not: the child's heap
 * is empty; pointers the caller holds stay valid for sk_timer_stop(). */
void sk__timers_after_fork(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    timer_lock = fresh;
    for (int i = 0; i < heap_len; i++) {
        heap[i]->slot = -1;
        if (!heap[i]->owned)
            free(heap[i]);
    }
    heap_len = 0;
    atomic_store(&next_deadline, INT64_MAX);
}
