/*
 * tracebench - what `sigkit trace` costs and whether it keeps up.
 *
 *   tracebench SIGKIT [-r RATE] [-d SECONDS] [--json] [--nice N]
 *
 * A target process handles SIGUSR1; a sender fires kill(target, SIGUSR1)
 * at RATE signals per second (default 100000, in a burst each millisecond,
 * sleeping in between) for
 * SECONDS (default 3) while `SIGKIT trace TARGET --signal USR1` runs
 * (output to a file, human or --json).  Prints one line:
 *
 *   sent=N rate=N/s records=N lost=N shown=N tracer_cpu_s=X ns_per_record=N
 *
 * --nice N runs the tracer at that nice value (as root, -10 shows what it
 * can do when a loaded machine does not starve it).
 * records and lost come from the tracer's own summary; the
 * tracer's CPU time from wait4()'s rusage.  The ping-pong overhead on a
 * traced process is measured by run.py with the pingpong program.
 */
#include "common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_usr1(int sig)
{
    (void)sig;
}

/* Handles SIGUSR1 until killed. */
static pid_t start_target(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NAME, "tb-target");
        struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
        sigaction(SIGUSR1, &sa, NULL);
        for (;;)
            pause();
    }
    return pid;
}

/* `SIGKIT trace PID --json --ready-fd 3 > out`; returns once it traces. */
static pid_t start_tracer(const char *sigkit, pid_t target, const char *out, int json, int nice)
{
    int rp[2];
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)target);
    if (pipe(rp) < 0)
        return -1;
    pid_t t = fork();
    if (t == 0) {
        close(rp[0]);
        if (nice && setpriority(PRIO_PROCESS, 0, nice) < 0)
            _exit(125);
        dup2(rp[1], 3);
        FILE *f = freopen(out, "w", stdout);
        (void)f;
        /* --signal USR1: the kernel filter keeps other processes' signal
         * floods (a shared machine) out of the rings and the figures */
        execl(sigkit, "sigkit", "trace", pid, "--signal", "USR1", "--ready-fd", "3",
              json ? "--json" : NULL, (char *)NULL);
        _exit(126);
    }
    close(rp[1]);
    char c;
    ssize_t n = read(rp[0], &c, 1);
    close(rp[0]);
    return n == 1 ? t : -1;
}

/* kill() at `rate` per second, paced each millisecond, for `ns`. */
static long fire(pid_t target, long rate, int64_t ns)
{
    long sent = 0;
    int64_t t0 = now_ns();
    for (int64_t tick = 0;; tick++) {
        int64_t due = t0 + tick * 1000000;
        if (due - t0 >= ns)
            break;
        if (now_ns() < due) { /* sleep, not spin: the tracer needs a CPU too */
            struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
        long goal = (long)((tick + 1) * rate / 1000);
        while (sent < goal && kill(target, SIGUSR1) == 0)
            sent++;
    }
    return sent;
}

/* The last line of the tracer's output: its summary. */
static int read_summary(const char *path, long *records, long *lost, long *shown)
{
    FILE *f = fopen(path, "r");
    char line[4096], last[4096] = "";
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        memcpy(last, line, sizeof last);
    fclose(f);
    char *r = strstr(last, "\"records\":"), *l = strstr(last, "\"lost\":"),
         *s = strstr(last, "\"shown\":");
    if (r && l && s) { /* --json */
        *records = atol(r + 10);
        *lost = atol(l + 7);
        *shown = atol(s + 8);
        return 0;
    }
    /* human: "sigkit trace: N signals sent (...) in S s; R records read, L dropped ..." */
    if (sscanf(last, "sigkit trace: %ld signal", shown) != 1)
        return -1;
    char *d = strstr(last, " s; ");
    if (!d || sscanf(d, " s; %ld records read, %ld dropped", records, lost) != 2)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    long rate = 100000;
    double seconds = 3;
    int json = 0, nice = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: tracebench SIGKIT [-r RATE] [-d SECONDS] [--json] [--nice N]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
            rate = atol(argv[++i]);
        else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--nice") == 0 && i + 1 < argc)
            nice = atoi(argv[++i]);
    }
    /* tmpfs when there is one: the disk's write-back must not be measured */
    char out[64];
    snprintf(out, sizeof out, "%s/tracebench-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    int fd = mkstemp(out);
    if (fd < 0)
        return 1;
    close(fd);
    pid_t target = start_target();
    pid_t tracer = start_tracer(argv[1], target, out, json, nice);
    if (tracer < 0) {
        fprintf(stderr, "tracebench: the tracer did not start\n");
        kill(target, SIGKILL);
        return 1;
    }
    int64_t t0 = now_ns();
    long sent = fire(target, rate, (int64_t)(seconds * 1e9));
    double took = (double)(now_ns() - t0) / 1e9;
    kill(tracer, SIGINT);
    int st;
    struct rusage ru;
    wait4(tracer, &st, 0, &ru);
    kill(target, SIGKILL);
    waitpid(target, NULL, 0);
    long records = -1, lost = -1, shown = -1;
    int rc = read_summary(out, &records, &lost, &shown);
    unlink(out);
    if (rc < 0) {
        fprintf(stderr, "tracebench: no summary from the tracer\n");
        return 1;
    }
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    long per = records > 0 ? records : shown;
    printf("sent=%ld rate=%.0f records=%ld lost=%ld shown=%ld tracer_cpu_s=%.3f "
           "ns_per_record=%.0f\n",
           sent, sent / took, records, lost, shown, cpu, per > 0 ? cpu * 1e9 / (double)per : 0.0);
    return 0;
}
