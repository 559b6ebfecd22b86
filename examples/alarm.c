/*
 * alarm.c - seed 002's "警报" (alarm) program.
 *
 * What it shows: sk_alarm(2) asks the kernel for SIGALRM in 2 s while the
 * program sleeps 6 s in sk_sleep().  The handler runs during that sleep, in
 * the sleeping thread; it prints the signal number, sleeps 1 s itself (a
 * sigkit handler runs in normal context, so it may block) and prints the
 * time.  Then sk_sleep() resumes for the time left (PEP 475), so "After" is
 * 6 s after "Before", not 6 s after the handler:
 *
 *     Before: Wed Sep 26 11:07:15 2018
 *     14
 *     Alarm : Wed Sep 26 11:07:18 2018
 *     After: Wed Sep 26 11:07:21 2018
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sigkit.h>

#include <errno.h>
#include <stdio.h>
#include <time.h>

/* time.ctime(): "Wed Sep 26 11:07:15 2018" (ctime_r adds a '\n' we drop). */
static const char *now_ctime(char buf[26])
{
    time_t t = time(NULL);
    ctime_r(&t, buf);
    buf[24] = '\0';
    return buf;
}

/* A plain sleep that finishes even if a signal interrupts it (EINTR). */
static void plain_sleep(double seconds)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += (time_t)seconds;
    end.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) == EINTR)
        ;
}

/* Seed 002: receive_alarm. */
static void receive_alarm(const sk_info *info, void *arg)
{
    (void)arg;
    char buf[26];
    printf("%d\n", info->signo);
    plain_sleep(1);
    printf("Alarm : %s\n", now_ctime(buf));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    int r = sk_signal(SIGALRM, receive_alarm, NULL);
    if (r < 0) {
        fprintf(stderr, "sk_signal: %s\n", sk_strerror(r));
        return 1;
    }
    sk_alarm(2);

    char buf[26];
    printf("Before: %s\n", now_ctime(buf));
    r = sk_sleep(6); /* the handler runs in here */
    if (r < 0) {
        fprintf(stderr, "sk_sleep: %s\n", sk_strerror(r));
        return 1;
    }
    printf("After: %s\n", now_ctime(buf));
    return 0;
}
