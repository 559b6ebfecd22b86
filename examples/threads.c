/*
 * threads.c - seed 000's thread_signal.py and seed 002's "信号和线程"
 * (signals and threads) program.
 *
 * What it shows: which thread runs a handler.  In Python only the main
 * thread runs handlers; in sigkit it is whichever thread dispatches
 * (sk_wait, sk_pause, sk_sleep, sk_dispatch).  Here the main thread
 * dispatches, so the USR1 handler prints "in MainThread", although another
 * thread ("sender") sent the signal and a third ("receiver") is waiting.
 *
 * The receiver waits on a condition variable, which no signal touches: it
 * does not dispatch, so no handler ever runs in it (Python's receiver called
 * signal.pause(), which in a thread never returns).  In the seed nothing
 * ever woke it: the program died by SIGALRM (seed 000) or hung until Ctrl-C
 * (seed 002).  Here the alarm handler releases it, so the program ends
 * normally with status 0.
 *
 * Threads are named with pthread_setname_np (on Linux naming the main
 * thread also renames the process in ps).  Python's doubled spaces
 * ("Wait for signal in  receiver") are single ones here.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sigkit.h>

#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int receiver_ready;    /* the receiver has printed its line */
static int receiver_released; /* the alarm handler let the receiver go */
static int alarm_seen;        /* only touched by the main thread */

static const char *thread_name(char buf[16])
{
    if (pthread_getname_np(pthread_self(), buf, 16) != 0)
        snprintf(buf, 16, "?");
    return buf;
}

/* Seed 002: signal_handler. */
static void signal_handler(const sk_info *info, void *arg)
{
    (void)arg;
    char name[16];
    printf("Receive signal %d in %s\n", info->signo, thread_name(name));
}

/* Seed 002's SIGALRM handler (receive_alarm, without its 1 s sleep), which
 * also lets the receiver finish. */
static void receive_alarm(const sk_info *info, void *arg)
{
    (void)arg;
    char buf[26];
    time_t t = time(NULL);
    printf("%d\n", info->signo);
    printf("Alarm : %.24s\n", ctime_r(&t, buf));
    printf("Releasing receiver from the alarm handler (the Python seed hung here until Ctrl-C)\n");
    pthread_mutex_lock(&lock);
    receiver_released = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    alarm_seen = 1;
}

/* Seed 002: wait_for_signal. */
static void *wait_for_signal(void *unused)
{
    (void)unused;
    char name[16];
    pthread_setname_np(pthread_self(), "receiver");
    printf("Wait for signal in %s\n", thread_name(name));

    pthread_mutex_lock(&lock);
    receiver_ready = 1;
    pthread_cond_broadcast(&cond);
    while (!receiver_released)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);

    printf("Done waiting\n");
    return NULL;
}

/* Seed 002: send_signal.  The signal goes to the process, not to a thread. */
static void *send_signal(void *unused)
{
    (void)unused;
    char name[16];
    pthread_setname_np(pthread_self(), "sender");
    printf("Sending signal in %s\n", thread_name(name));
    int r = sk_kill(getpid(), SIGUSR1);
    if (r < 0)
        fprintf(stderr, "sk_kill: %s\n", sk_strerror(r));
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_setname_np(pthread_self(), "MainThread");

    int r = sk_signal(SIGUSR1, signal_handler, NULL);
    if (r >= 0)
        r = sk_signal(SIGALRM, receive_alarm, NULL);
    if (r < 0) {
        fprintf(stderr, "sk_signal: %s\n", sk_strerror(r));
        return 1;
    }

    /* Start the receiver and wait until it has printed its line (the seed
     * slept 0.1 s for that). */
    pthread_t receiver, sender;
    pthread_create(&receiver, NULL, wait_for_signal, NULL);
    pthread_mutex_lock(&lock);
    while (!receiver_ready)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);

    pthread_create(&sender, NULL, send_signal, NULL);
    pthread_join(sender, NULL);

    /* The USR1 is recorded; its handler runs here, in the main thread. */
    r = sk_wait(10000);
    if (r <= 0) {
        fprintf(stderr, "sk_wait: %s\n", r < 0 ? sk_strerror(r) : "no signal in 10 s");
        return 1;
    }

    printf("Waiting for receiver\n");
    sk_alarm(2);
    while (!alarm_seen) { /* dispatch until the alarm handler has run */
        r = sk_wait(-1);
        if (r < 0) {
            fprintf(stderr, "sk_wait: %s\n", sk_strerror(r));
            return 1;
        }
    }
    pthread_join(receiver, NULL);
    return 0;
}
