/*
 * alarm.c - alarm(2) and the interval timers, in seconds as doubles
 * (signal.alarm, signal.setitimer, signal.getitimer).
 */
#include "internal.h"

#include <math.h> /* isfinite, a macro: no libm needed */
#include <stdint.h>
#include <sys/time.h>
#include <unistd.h>

unsigned sk_alarm(unsigned seconds)
{
    return alarm(seconds);
}

static bool is_itimer(int which)
{
    return which == ITIMER_REAL || which == ITIMER_VIRTUAL || which == ITIMER_PROF;
}

/* The largest number of seconds a timeval can hold here, with room to
 * spare so the conversion below never overflows time_t. */
static double max_timer_seconds(void)
{
    return sizeof(time_t) >= 8 ? 9.0e15 : 2147483647.0;
}

/* Seconds to a timeval, to the nearest microsecond, except that a positive
 * value never becomes 0: 0 would disarm the timer (or make it one-shot)
 * instead of firing very soon.  -EINVAL for negative, NaN, infinite or
 * out-of-range values. */
static int seconds_to_timeval(double seconds, struct timeval *tv)
{
    if (!isfinite(seconds) || seconds < 0 || seconds >= max_timer_seconds())
        return -EINVAL;
    /* Plain casts rather than floor()/lround(): libsigkit does not link
     * libm.  Both values are non-negative and in range, so truncation is
     * floor and +0.5 is rounding to nearest. */
    double whole = (double)(int64_t)seconds;
    long usec = (long)((seconds - whole) * 1e6 + 0.5);
    if (usec >= 1000000) { /* 2.9999999 rounds up into the next second */
        whole += 1;
        usec -= 1000000;
    }
    if (whole == 0 && usec == 0 && seconds > 0)
        usec = 1;
    tv->tv_sec = (time_t)whole;
    tv->tv_usec = (suseconds_t)usec;
    return 0;
}

static double timeval_to_seconds(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

int sk_setitimer(int which, double value, double interval, double *old_value,
                 double *old_interval)
{
    if (!is_itimer(which))
        return -EINVAL;
    struct itimerval next, previous;
    int rc = seconds_to_timeval(value, &next.it_value);
    if (rc == 0)
        rc = seconds_to_timeval(interval, &next.it_interval);
    if (rc < 0)
        return rc;
    if (setitimer(which, &next, &previous) < 0)
        return -errno;
    if (old_value)
        *old_value = timeval_to_seconds(&previous.it_value);
    if (old_interval)
        *old_interval = timeval_to_seconds(&previous.it_interval);
    return 0;
}

int sk_getitimer(int which, double *value, double *interval)
{
    if (!is_itimer(which))
        return -EINVAL;
    struct itimerval now;
    if (getitimer(which, &now) < 0)
        return -errno;
    if (value)
        *value = timeval_to_seconds(&now.it_value);
    if (interval)
        *interval = timeval_to_seconds(&now.it_interval);
    return 0;
}
