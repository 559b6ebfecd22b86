/*
 * list.c - `sigkit list`: Python's getsignal table for any process.
 *
 * Everything comes from one read of /proc/PID/status (sk_proc_signals), so
 * the figures are one consistent snapshot and agree with ps(1), which reads
 * the same file.  Numbers glibc keeps for itself (32, 33) are not signals a
 * user can name and get no row.
 */
#include "cli.h"

#include <string.h>
#include <unistd.h>

typedef struct row {
    int signo;
    const char *disposition; /* "default", "ignored", "caught" */
    bool blocked, pending_thread, pending_process;
} row;

static row row_of(const sk_procsig *ps, int s)
{
    row r = {.signo = s};
    r.disposition = sigismember(&ps->caught, s) == 1    ? "caught"
                    : sigismember(&ps->ignored, s) == 1 ? "ignored"
                                                        : "default";
    r.blocked = sigismember(&ps->blocked, s) == 1;
    r.pending_thread = sigismember(&ps->pending, s) == 1;
    r.pending_process = sigismember(&ps->shared_pending, s) == 1;
    return r;
}

static const char *pending_word(const row *r)
{
    if (r->pending_thread && r->pending_process)
        return "both";
    if (r->pending_thread)
        return "thread";
    return r->pending_process ? "process" : "no";
}

static int name_width(void)
{
    int w = 4;
    for (int s = 1; s < NSIG; s++)
        if (sk_signame(s) && (int)strlen(sk_signame(s)) > w)
            w = (int)strlen(sk_signame(s));
    return w;
}

/* "2 caught (INT TERM)" or "0 blocked". */
static void summary_part(const char *what, const sk_procsig *ps, bool (*has)(const row *))
{
    int n = 0;
    for (int s = 1; s < NSIG; s++) {
        if (!sk_signame(s))
            continue;
        row r = row_of(ps, s);
        n += has(&r);
    }
    printf("%d %s", n, what);
    if (n == 0)
        return;
    const char *sep = " (";
    for (int s = 1; s < NSIG; s++) {
        if (!sk_signame(s))
            continue;
        row r = row_of(ps, s);
        if (has(&r)) {
            printf("%s%s", sep, skc_short_name(s));
            sep = " ";
        }
    }
    fputc(')', stdout);
}

static bool is_caught(const row *r) { return strcmp(r->disposition, "caught") == 0; }
static bool is_ignored(const row *r) { return strcmp(r->disposition, "ignored") == 0; }
static bool is_blocked(const row *r) { return r->blocked; }
static bool is_pending(const row *r) { return r->pending_thread || r->pending_process; }

static void print_table(const skc_opts *o, pid_t pid, const sk_procsig *ps)
{
    int w = name_width();
    printf("%3s  %-*s  %-11s  %-7s  %-7s  %-6s  %s\n", "NUM", w, "NAME", "DISPOSITION",
           "BLOCKED", "PENDING", "ACTION", "DESCRIPTION");
    for (int s = 1; s < NSIG; s++) {
        if (!sk_signame(s))
            continue;
        row r = row_of(ps, s);
        printf("%3d  %-*s  %-11s  %-7s  %-7s  %-6s  %s\n", s, w, sk_signame(s), r.disposition,
               r.blocked ? "yes" : "no", pending_word(&r), skc_action_name(sk_default_action(s)),
               sk_strsignal(s));
    }
    if (o->tid)
        printf("pid %d thread %d: ", (int)pid, (int)o->tid);
    else
        printf("pid %d: ", (int)pid);
    summary_part("caught", ps, is_caught);
    fputs(", ", stdout);
    summary_part("ignored", ps, is_ignored);
    fputs(", ", stdout);
    summary_part("blocked", ps, is_blocked);
    fputs(", ", stdout);
    summary_part("pending", ps, is_pending);
    fputc('\n', stdout);
}

static void print_json(const skc_opts *o, pid_t pid, const sk_procsig *ps)
{
    printf("{\"pid\":%d,\"tid\":", (int)pid);
    if (o->tid)
        printf("%d", (int)o->tid);
    else
        fputs("null", stdout);
    fputs(",\"signals\":[", stdout);
    const char *sep = "";
    for (int s = 1; s < NSIG; s++) {
        if (!sk_signame(s))
            continue;
        row r = row_of(ps, s);
        printf("%s\n{\"number\":%d,\"name\":\"%s\",\"disposition\":\"%s\",\"blocked\":%s,"
               "\"pending_thread\":%s,\"pending_process\":%s,\"default_action\":\"%s\","
               "\"description\":",
               sep, s, sk_signame(s), r.disposition, r.blocked ? "true" : "false",
               r.pending_thread ? "true" : "false", r.pending_process ? "true" : "false",
               skc_action_name(sk_default_action(s)));
        skc_json_string(stdout, sk_strsignal(s));
        fputc('}', stdout);
        sep = ",";
    }
    fputs("\n]}\n", stdout);
}

int skc_list(const skc_opts *o)
{
    pid_t pid = o->pid ? o->pid : getpid();
    sk_procsig ps;
    int rc = sk_proc_signals(pid, o->tid, &ps);
    if (rc < 0) {
        if (o->tid)
            skc_error("list: %d thread %d: %s", (int)pid, (int)o->tid, sk_strerror(rc));
        else
            skc_error("list: %d: %s", (int)pid, sk_strerror(rc));
        return SKC_FAILED;
    }
    if (o->json)
        print_json(o, pid, &ps);
    else
        print_table(o, pid, &ps);
    return SKC_OK;
}
