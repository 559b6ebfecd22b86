/*
 * sk_alarm, sk_setitimer, sk_getitimer.  Expiries are taken with
 * sk_sigwait() on a blocked SIGALRM: no handler, no delivery path.
 */
#include "harness.h"
#include "internal.h"
#include "sigkit.h"

#include <float.h>
#include <limits.h>
#include <math.h> /* NAN, INFINITY; the tests do not link libm */
#include <signal.h>
#include <sys/time.h>

static bool near(double a, double b, double tolerance)
{
    return a - b < tolerance && b - a < tolerance;
}

static sigset_t block_alarm(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    CHECK_EQ(sk_pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
    return set;
}

TEST(alarm_returns_remaining)
{
    CHECK_EQ(sk_alarm(100), 0);
    unsigned left = sk_alarm(50);
    CHECK(left >= 99 && left <= 100);
    left = sk_alarm(0); /* cancels */
    CHECK(left >= 49 && left <= 50);
    CHECK_EQ(sk_alarm(0), 0);
    double value = -1;
    CHECK_EQ(sk_getitimer(ITIMER_REAL, &value, NULL), 0);
    CHECK(value == 0);
}

TEST(alarm_fires)
{
    sigset_t set = block_alarm();
    CHECK_EQ(sk_alarm(1), 0);
    CHECK_EQ(sk_sigwait(&set, NULL, 10000), SIGALRM);
}

/* A positive value never rounds to 0, which would disarm the timer. */
TEST(setitimer_tiny_value_fires)
{
    sigset_t set = block_alarm();
    double tiny[] = {1e-6, 1e-7, 4e-7, 1e-12, DBL_MIN, 5e-324};
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
        CHECK_EQ(sk_setitimer(ITIMER_REAL, tiny[i], 0, NULL, NULL), 0);
        CHECK_EQ(sk_sigwait(&set, NULL, 10000), SIGALRM);
    }
}

TEST(setitimer_tiny_interval_kept)
{
    double value, interval;
    CHECK_EQ(sk_setitimer(ITIMER_REAL, 1000, 1e-9, NULL, NULL), 0);
    CHECK_EQ(sk_getitimer(ITIMER_REAL, &value, &interval), 0);
    CHECK(interval > 0); /* 0 would have made the timer one-shot */
    CHECK(interval <= 2e-6);
    CHECK_EQ(sk_setitimer(ITIMER_REAL, 0, 0, NULL, NULL), 0);
}

TEST(itimer_roundtrip_real)
{
    double value = -1, interval = -1, old_value = -1, old_interval = -1;
    CHECK_EQ(sk_getitimer(ITIMER_REAL, &value, &interval), 0);
    CHECK(value == 0 && interval == 0);
    CHECK_EQ(sk_setitimer(ITIMER_REAL, 100.0, 0.25, &old_value, &old_interval), 0);
    CHECK(old_value == 0 && old_interval == 0);
    CHECK_EQ(sk_getitimer(ITIMER_REAL, &value, &interval), 0);
    CHECK(value > 99.0 && value <= 100.0);
    CHECK(near(interval, 0.25, 1e-9));
    CHECK_EQ(sk_setitimer(ITIMER_REAL, 0, 0, &old_value, &old_interval), 0);
    CHECK(old_value > 99.0 && old_value <= 100.0);
    CHECK(near(old_interval, 0.25, 1e-9));
    CHECK_EQ(sk_getitimer(ITIMER_REAL, &value, &interval), 0);
    CHECK(value == 0 && interval == 0);
}

TEST(itimer_roundtrip_cpu_timers)
{
    int which[] = {ITIMER_VIRTUAL, ITIMER_PROF};
    for (int i = 0; i < 2; i++) {
        double value, interval, old_value, old_interval;
        CHECK_EQ(sk_setitimer(which[i], 50.5, 1.5, NULL, NULL), 0);
        CHECK_EQ(sk_getitimer(which[i], &value, &interval), 0);
        /* CPU timers count in ticks: the kernel may round up by one. */
        CHECK(value > 49.0 && value <= 50.6);
        CHECK(near(interval, 1.5, 1e-3));
        CHECK_EQ(sk_setitimer(which[i], 0, 0, &old_value, &old_interval), 0);
        CHECK(old_value > 49.0 && old_value <= 50.6);
        CHECK(near(old_interval, 1.5, 1e-3));
    }
}

/* 2.9999999 rounds to 3 s, not to 2 s + 1000000 µs (which setitimer
 * would refuse). */
TEST(setitimer_rounding_carries)
{
    sigset_t set = block_alarm();
    double value;
    CHECK_EQ(sk_setitimer(ITIMER_REAL, 2.9999999999, 0, NULL, NULL), 0);
    CHECK_EQ(sk_getitimer(ITIMER_REAL, &value, NULL), 0);
    CHECK(value > 2.0 && value <= 3.0);
    CHECK_EQ(sk_setitimer(ITIMER_REAL, 0.9999996, 0, NULL, NULL), 0); /* 1 s, not 0 s + 1e6 µs */
    CHECK_EQ(sk_getitimer(ITIMER_REAL, &value, NULL), 0);
    CHECK(value > 0.5 && value <= 1.0);
    CHECK_EQ(sk_setitimer(ITIMER_REAL, 0.0000004, 0, NULL, NULL), 0); /* 0.4 us: 1 us */
    CHECK_EQ(sk_sigwait(&set, NULL, 10000), SIGALRM);
}

TEST(itimer_bad_arguments)
{
    double v, i;
    int bad_which[] = {-1, 3, 42, INT_MAX, INT_MIN};
    for (size_t k = 0; k < sizeof bad_which / sizeof bad_which[0]; k++) {
        CHECK_EQ(sk_setitimer(bad_which[k], 1, 0, NULL, NULL), -EINVAL);
        CHECK_EQ(sk_getitimer(bad_which[k], &v, &i), -EINVAL);
    }
    double bad[] = {-1, -1e-9, -0.5, NAN, -NAN, INFINITY, -INFINITY, 1e300, DBL_MAX};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        CHECK_EQ(sk_setitimer(ITIMER_REAL, bad[k], 0, NULL, NULL), -EINVAL);
        CHECK_EQ(sk_setitimer(ITIMER_REAL, 1, bad[k], NULL, NULL), -EINVAL);
        CHECK_EQ(sk_setitimer(ITIMER_PROF, bad[k], 1, NULL, NULL), -EINVAL);
    }
    /* Nothing was armed by the refused calls. */
    CHECK_EQ(sk_getitimer(ITIMER_REAL, &v, &i), 0);
    CHECK(v == 0 && i == 0);
    CHECK_EQ(sk_getitimer(ITIMER_PROF, &v, &i), 0);
    CHECK(v == 0 && i == 0);
    /* -0.0 is zero, not negative. */
    CHECK_EQ(sk_setitimer(ITIMER_REAL, -0.0, -0.0, NULL, NULL), 0);
    /* NULL outputs are allowed. */
    CHECK_EQ(sk_getitimer(ITIMER_REAL, NULL, NULL), 0);
}
