/*
 * out.c - words and formats shared by the subcommands' output.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

const char *skc_action_name(int action)
{
    switch (action) {
    case SK_ACT_TERM: return "term";
    case SK_ACT_CORE: return "core";
    case SK_ACT_IGN: return "ign";
    case SK_ACT_STOP: return "stop";
    case SK_ACT_CONT: return "cont";
    default: return "?";
    }
}

const char *skc_short_name(int signo)
{
    const char *n = sk_signame(signo);
    if (!n)
        return "?";
    return strncmp(n, "SIG", 3) == 0 ? n + 3 : n;
}

typedef struct code_name {
    int code;
    const char *name;
} code_name;

#define CODE(c) {c, #c}

/* Codes any signal may carry (negative ones come from user space). */
static const code_name generic_codes[] = {
    CODE(SI_USER), CODE(SI_QUEUE), CODE(SI_TIMER), CODE(SI_MESGQ), CODE(SI_ASYNCIO),
#ifdef SI_SIGIO
    CODE(SI_SIGIO),
#endif
#ifdef SI_TKILL
    CODE(SI_TKILL),
#endif
#ifdef SI_KERNEL
    CODE(SI_KERNEL),
#endif
};

/* Positive codes mean something only for their own signal. */
static const code_name child_codes[] = {
    CODE(CLD_EXITED), CODE(CLD_KILLED), CODE(CLD_DUMPED),
    CODE(CLD_TRAPPED), CODE(CLD_STOPPED), CODE(CLD_CONTINUED),
};

static const code_name poll_codes[] = {
    CODE(POLL_IN), CODE(POLL_OUT), CODE(POLL_MSG), CODE(POLL_ERR), CODE(POLL_PRI), CODE(POLL_HUP),
};

static const char *find_code(const code_name *table, size_t n, int code)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].code == code)
            return table[i].name;
    return NULL;
}

#define FIND(table, code) find_code(table, sizeof table / sizeof table[0], code)

const char *skc_code_name(int signo, int code, char *buf, size_t len)
{
    const char *name = FIND(generic_codes, code);
    if (!name && signo == SIGCHLD)
        name = FIND(child_codes, code);
    if (!name && signo == SIGIO)
        name = FIND(poll_codes, code);
    if (name)
        return name;
    snprintf(buf, len, "%d", code); /* a code this table does not know: its number */
    return buf;
}

void skc_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(f, "\\u%04x", *c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

void skc_error(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout); /* keep stdout and stderr lines in their order on a terminal */
    fputs("sigkit: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int skc_announce_ready(const char *cmd, int fd)
{
    static const char line[] = "ready\n";
    ssize_t n;
    do
        n = write(fd, line, sizeof line - 1);
    while (n < 0 && errno == EINTR);
    int err = n < 0 ? errno : 0;
    close(fd);
    if (err) {
        skc_error("%s: --ready-fd %d: %s", cmd, fd, strerror(err));
        return SKC_FAILED;
    }
    return SKC_OK;
}
