/*
 * proc.c - another process's signal state, read from /proc.
 *
 * The kernel prints five masks in /proc/PID/status (and in
 * /proc/PID/task/TID/status for one thread), e.g.
 *     SigPnd:\t0000000000000000
 *     ShdPnd:\t0000000000000100
 *     SigBlk:\t0000000000000001
 * where bit n-1 stands for signal n.  The parser works on a buffer of
 * untrusted bytes and never assumes a line length or a terminating NUL.
 */
#include "internal.h"
#include "proc.h"

#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The parser                                                          */
/* ------------------------------------------------------------------ */

/* The five lines and where each lands in sk_procsig. */
static const struct {
    const char *key; /* six characters, followed by ':' in the file */
    size_t offset;
} mask_fields[] = {
    {"SigPnd", offsetof(sk_procsig, pending)},
    {"ShdPnd", offsetof(sk_procsig, shared_pending)},
    {"SigBlk", offsetof(sk_procsig, blocked)},
    {"SigIgn", offsetof(sk_procsig, ignored)},
    {"SigCgt", offsetof(sk_procsig, caught)},
};
#define N_FIELDS (sizeof mask_fields / sizeof mask_fields[0])
#define KEY_LEN 6

static int hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Add the four signals one hex digit stands for; `position` counts digits
 * from the right (0 = signals 1..4).  Numbers that are not user signals
 * here (reserved, or beyond NSIG) are left out: sigset_t cannot hold them
 * and no sigkit caller could name them. */
static void add_digit_signals(sigset_t *set, int digit, size_t position)
{
    if (position >= (size_t)SK_NSIG / 4 + 1)
        return;
    for (int bit = 0; bit < 4; bit++) {
        int signo = (int)position * 4 + bit + 1;
        if ((digit & (1 << bit)) && sk__check_signal(signo) == 0)
            sigaddset(set, signo);
    }
}

/* The value of one mask line: [blanks] hexdigits [blanks], exactly up to
 * end.  Any length of digits is accepted (leading zeros are harmless). */
static int parse_mask(const char *p, const char *end, sigset_t *set)
{
    while (p < end && is_blank(*p))
        p++;
    const char *digits = p;
    while (p < end && hex_digit_value(*p) >= 0)
        p++;
    const char *digits_end = p;
    while (p < end && is_blank(*p))
        p++;
    if (digits == digits_end || p != end)
        return -EPROTO;

    sigemptyset(set);
    size_t position = 0;
    for (const char *d = digits_end; d > digits; position++) {
        d--;
        add_digit_signals(set, hex_digit_value(*d), position);
    }
    return 0;
}

/* Which of mask_fields this line is, or -1. */
static int field_of_line(const char *line, const char *end)
{
    if (end - line < KEY_LEN + 1 || line[KEY_LEN] != ':')
        return -1;
    for (size_t i = 0; i < N_FIELDS; i++)
        if (memcmp(line, mask_fields[i].key, KEY_LEN) == 0)
            return (int)i;
    return -1;
}

int sk__parse_proc_status(const char *buf, size_t len, sk_procsig *out)
{
    if (!buf || !out)
        return -EINVAL;

    sk_procsig result;
    bool seen[N_FIELDS] = {false};
    const char *p = buf, *end = buf + len;

    while (p < end) {
        const char *newline = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = newline ? newline : end;
        int f = field_of_line(p, line_end);
        if (f >= 0) {
            if (seen[f])
                return -EPROTO; /* two answers to one question: not a status file */
            sigset_t *set = (sigset_t *)((char *)&result + mask_fields[f].offset);
            if (parse_mask(p + KEY_LEN + 1, line_end, set) < 0)
                return -EPROTO;
            seen[f] = true;
        }
        p = newline ? newline + 1 : end;
    }
    for (size_t i = 0; i < N_FIELDS; i++)
        if (!seen[i])
            return -EPROTO;
    *out = result;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reading the file                                                    */
/* ------------------------------------------------------------------ */

/* A status file is about 1.5 KiB; anything past this is not one. */
#define STATUS_MAX_BYTES (1u << 20)

/* open() failed with ENOENT: either the process or thread is gone, or
 * there is no /proc at all. */
static int explain_missing(void)
{
    return access("/proc/self", F_OK) == 0 ? -ESRCH : -ENOENT;
}

static int open_status(pid_t pid, pid_t tid)
{
    char path[64];
    if (tid == 0)
        snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    else
        snprintf(path, sizeof path, "/proc/%ld/task/%ld/status", (long)pid, (long)tid);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    if (errno == ENOENT || errno == ENOTDIR)
        return explain_missing();
    return -errno;
}

/* Read all of fd into a malloc'd buffer (*out, *out_len).  procfs returns
 * ESRCH from read() when the task died after open(). */
static int read_all(int fd, char **out, size_t *out_len)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len == cap) {
            if (cap >= STATUS_MAX_BYTES) {
                free(buf);
                return -EPROTO;
            }
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                return -ENOMEM;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = -errno;
            free(buf);
            return err;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int sk_proc_signals(pid_t pid, pid_t tid, sk_procsig *out)
{
    if (pid <= 0 || tid < 0 || !out)
        return -EINVAL;

    int fd = open_status(pid, tid);
    if (fd < 0)
        return fd;
    char *buf = NULL;
    size_t len = 0;
    int rc = read_all(fd, &buf, &len);
    close(fd);
    if (rc < 0)
        return rc;
    rc = sk__parse_proc_status(buf, len, out);
    free(buf);
    return rc;
}
