/*
 * alarm_thread.c - seed 002's last program (an alarm set in another thread).
 *
 * What it shows: an alarm belongs to the process, not to the thread that
 * set it.  "alarm_thread" calls sk_alarm(1) and sleeps 3 s; the handler
 * runs 1 s later in the thread that dispatches, here the main thread, which
 * runs handlers with sk_wait() while it waits for alarm_thread to finish:
 *
 *     ... Setting alarm in alarm_thread
 *     ... Sleep in alarm_thread
 *     ... Wait for alarm_thread
 *     ... Alarm in MainThread              (1 s later)
 *     ... Done with sleep alarm_thread     (3 s after the start)
 *     ... Exiting normally
 *
 * alarm_thread sleeps with clock_nanosleep, not sk_sleep: sk_sleep would
 * dispatch, and the handler could then run in alarm_thread instead.
 * Wording: the seed's typo "Seting" is fixed and Python's doubled spaces
 * are single ones.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sigkit.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int thread_sleeping;       /* alarm_thread has printed "Sleep in" */
static atomic_int thread_done;    /* alarm_thread has printed its last line */

/* The calling thread's name (threading.currentThread().name). */
static const char *me(void)
{
    static _Thread_local char name[16];
    if (pthread_getname_np(pthread_self(), name, sizeof name) != 0)
        snprintf(name, sizeof name, "?");
    return name;
}

/* printf with the time in front, like the seed's print(time.ctime(), ...). */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[200], buf[26];
    time_t t = time(NULL);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("%.24s %s\n", ctime_r(&t, buf), line); /* one printf: one whole line */
}

/* A plain sleep that finishes even if a signal interrupts it (EINTR). */
static void plain_sleep(time_t seconds)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += seconds;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) == EINTR)
        ;
}

/* Seed 002: signal_handler. */
static void signal_handler(const sk_info *info, void *arg)
{
    (void)info;
    (void)arg;
    say("Alarm in %s", me());
}

/* Seed 002: use_alarm. */
static void *use_alarm(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "alarm_thread");
    say("Setting alarm in %s", me());
    sk_alarm(1);
    say("Sleep in %s", me());
    pthread_mutex_lock(&lock);
    thread_sleeping = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);

    plain_sleep(3);
    say("Done with sleep %s", me());
    atomic_store(&thread_done, 1);
    sk_interrupt(); /* wake the main thread's sk_wait() */
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_setname_np(pthread_self(), "MainThread");

    int r = sk_signal(SIGALRM, signal_handler, NULL);
    if (r < 0) {
        fprintf(stderr, "sk_signal: %s\n", sk_strerror(r));
        return 1;
    }

    pthread_t alarm_thread;
    pthread_create(&alarm_thread, NULL, use_alarm, NULL);
    /* The seed slept 0.1 s here; wait until the thread sleeps instead. */
    pthread_mutex_lock(&lock);
    while (!thread_sleeping)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);

    say("Wait for alarm_thread");
    /* Python's join() runs handlers while it waits; here: sk_wait() until the
     * thread says it is done (sk_interrupt makes sk_wait return -EINTR). */
    while (!atomic_load(&thread_done)) {
        r = sk_wait(-1);
        if (r < 0 && r != -EINTR) {
            fprintf(stderr, "sk_wait: %s\n", sk_strerror(r));
            return 1;
        }
    }
    pthread_join(alarm_thread, NULL);
    say("Exiting normally");
    return 0;
}
