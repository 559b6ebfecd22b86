/*
 * A minimal test harness.  Each TEST(name) is run as its own process by
 * ctest (`test_x name`); main() resets the signal state first, so a case
 * starts with every disposition at its default and an empty mask.
 * CHECK* print where they failed and exit 1.  Waits use handshakes and
 * generous deadlines (the deadline is a failure, never a synchronisation).
 */
#ifndef SK_TEST_HARNESS_H
#define SK_TEST_HARNESS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*sk_test_fn)(void);
void sk_test_register(const char *name, sk_test_fn fn);

#define TEST(name)                                                                   \
    static void test_##name(void);                                                   \
    __attribute__((constructor)) static void register_##name(void)                   \
    {                                                                                \
        sk_test_register(#name, test_##name);                                        \
    }                                                                                \
    static void test_##name(void)

void sk_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond))                                                                 \
            sk_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                    \
    } while (0)

#define CHECK_EQ(a, b)                                                               \
    do {                                                                             \
        long long _a = (long long)(a), _b = (long long)(b);                          \
        if (_a != _b)                                                                \
            sk_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, _a, _b); \
    } while (0)

#define CHECK_STR(a, b)                                                              \
    do {                                                                             \
        const char *_a = (a), *_b = (b);                                             \
        if (!_a || !_b || strcmp(_a, _b) != 0)                                       \
            sk_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,   \
                         _a ? _a : "(null)", _b ? _b : "(null)");                    \
    } while (0)

/* A case that cannot run here says why and exits 77 (ctest: skipped). */
#define SK_SKIP(why)                                                                 \
    do {                                                                             \
        printf("skipped: %s\n", why);                                                \
        exit(77);                                                                    \
    } while (0)

/* ThreadSanitizer delivers signals itself, late and merged per signal
 * number: real-time order and counts cannot be checked under it. */
#if defined(__SANITIZE_THREAD__)
#define SK_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SK_UNDER_TSAN 1
#endif
#endif
#ifndef SK_UNDER_TSAN
#define SK_UNDER_TSAN 0
#endif

/* valgrind runs signal handlers itself and ignores a handler's change to
 * the mask in its context, which the queue-full path relies on. */
int sk_test_under_valgrind(void);

/* Monotonic seconds. */
double sk_test_now(void);

/* Fork a child that runs fn(arg) and _exit(0)s; returns its pid. */
int sk_test_fork(void (*fn)(void *), void *arg);

/* Wait for pid; returns its wait status; fails the test after timeout_s. */
int sk_test_reap(int pid, double timeout_s);

/* The shell's number for a wait status: k for exit k, 128+N for signal N. */
int sk_test_exit_code(int status);

/* All of f (from its start) into buf, NUL-terminated, at most len-1
 * bytes; closes f. */
void sk_test_slurp(FILE *f, char *buf, size_t len);

#endif
