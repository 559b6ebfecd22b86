/*
 * wait.c - `sigkit wait`: a shell script's way to receive signals.
 *
 * The signals are blocked first and only then is readiness announced, so
 * a sender that waits for the announcement can never be early: a signal
 * sent after it stays pending until sk_sigwait() takes it, with its
 * sender's pid, uid, code and value.
 */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A background job of a non-interactive shell starts with INT and QUIT
 * ignored, and an ignored signal may be dropped when it is sent: put the
 * waited ones back to their default (they are blocked, so the default
 * action cannot strike). */
static void unignore(const sigset_t *set)
{
    for (int s = 1; s < NSIG; s++) {
        struct sigaction sa;
        if (sigismember(set, s) != 1 || sigaction(s, NULL, &sa) < 0)
            continue;
        if (sa.sa_handler == SIG_IGN) {
            sa.sa_handler = SIG_DFL;
            sigaction(s, &sa, NULL);
        }
    }
}


static void print_arrival(const skc_opts *o, const sk_info *in)
{
    char codebuf[16];
    const char *code = skc_code_name(in->signo, in->code, codebuf, sizeof codebuf);
    if (o->json) {
        printf("{\"signal\":\"%s\",\"number\":%d,\"pid\":%d,\"uid\":%u,\"code\":\"%s\","
               "\"code_number\":%d,\"value\":%ld",
               sk_signame(in->signo), in->signo, (int)in->pid, (unsigned)in->uid, code,
               in->code, (long)in->value);
        if (in->signo == SIGCHLD)
            printf(",\"status\":%d", in->status);
        fputs("}\n", stdout);
    } else {
        printf("%s pid=%d uid=%u code=%s value=%ld", sk_signame(in->signo), (int)in->pid,
               (unsigned)in->uid, code, (long)in->value);
        if (in->signo == SIGCHLD)
            printf(" status=%d", in->status);
        fputc('\n', stdout);
    }
    fflush(stdout); /* a script reads each line as it comes */
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int skc_wait(const skc_opts *o)
{
    int rc = sk_pthread_sigmask(SIG_BLOCK, &o->waitset, NULL);
    if (rc < 0) {
        skc_error("wait: %s", sk_strerror(rc));
        return SKC_FAILED;
    }
    unignore(&o->waitset);
    if (o->ready_fd >= 0 && skc_announce_ready("wait", o->ready_fd) != SKC_OK)
        return SKC_FAILED;

    long long deadline = o->timeout_ms >= 0 ? now_ms() + o->timeout_ms : -1;
    for (long got = 0; o->count == 0 || got < o->count; got++) {
        long long left = deadline < 0 ? -1 : deadline - now_ms();
        if (deadline >= 0 && left < 0)
            left = 0;
        sk_info info;
        rc = sk_sigwait(&o->waitset, &info, (int)left);
        if (rc == -EAGAIN)
            return SKC_TIMEOUT;
        if (rc < 0) {
            skc_error("wait: %s", sk_strerror(rc));
            return SKC_FAILED;
        }
        print_arrival(o, &info);
        if (ferror(stdout))
            return SKC_FAILED;
    }
    return SKC_OK;
}
