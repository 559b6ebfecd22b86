/*
 * args.c - the whole command line, parsed before anything happens.
 *
 * Every word is checked here, so that `sigkit send TERM 1234 oops` signals
 * nobody: the runtime code only ever sees a command line that is valid as
 * a whole.  No I/O, no global state: the fuzzer calls skc_parse() directly.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Where a parse is: the options of one subcommand and its error buffer. */
typedef struct parser {
    int argc, i;
    char *const *argv;
    bool no_more_options; /* after "--" */
    skc_opts *o;
    char *err;
    size_t errlen;
    const char *cmd; /* subcommand name, for messages */
} parser;

static int fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *p, const char *fmt, ...)
{
    int n = snprintf(p->err, p->errlen, "%s%s", p->cmd, p->cmd[0] ? ": " : "");
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->errlen)
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    /* The bad word is quoted as typed, but a newline or escape in it must
     * not break the one line or drive the terminal. */
    for (char *c = p->err; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return SKC_USAGE;
}

bool skc_parse_long(const char *s, long min, long max, long *out)
{
    bool negative = (*s == '-');
    const char *d = negative ? s + 1 : s;
    long value = 0;

    if (*d == '\0' || (d[0] == '0' && d[1] != '\0') || (negative && d[0] == '0'))
        return false;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return false;
        int digit = *d - '0';
        /* Accumulate towards the sign so LONG_MIN is reachable and no
         * step can overflow. */
        if (negative) {
            if (value < (LONG_MIN + digit) / 10)
                return false;
            value = value * 10 - digit;
        } else {
            if (value > (LONG_MAX - digit) / 10)
                return false;
            value = value * 10 + digit;
        }
    }
    if (value < min || value > max)
        return false;
    *out = value;
    return true;
}

/* Seconds with up to three decimals ("2", "0.5", "1.25") to milliseconds.
 * No exponent, sign or hex: a timeout typed wrong must not mean "forever". */
static bool parse_seconds(const char *s, int *ms)
{
    const char *dot = strchr(s, '.');
    size_t whole_len = dot ? (size_t)(dot - s) : strlen(s);
    char whole[16];
    long sec, frac = 0;

    if (whole_len == 0 || whole_len >= sizeof whole)
        return false;
    memcpy(whole, s, whole_len);
    whole[whole_len] = '\0';
    if (!skc_parse_long(whole, 0, INT_MAX / 1000, &sec))
        return false;
    if (dot) {
        const char *f = dot + 1;
        size_t n = strlen(f);
        if (n == 0 || n > 3)
            return false;
        for (size_t k = 0; k < 3; k++) {
            if (k < n && (f[k] < '0' || f[k] > '9'))
                return false;
            frac = frac * 10 + (k < n ? f[k] - '0' : 0);
        }
    }
    long total = sec * 1000 + frac;
    if (total > INT_MAX)
        return false;
    *ms = (int)total;
    return true;
}

/* ------------------------------------------------------------------ */
/* Walking the words                                                   */
/* ------------------------------------------------------------------ */

/* An option is "-x" or "--xx", but "-5" is a number (a process group)
 * and "-" alone is a word. */
static bool looks_like_option(const char *w)
{
    return w[0] == '-' && w[1] != '\0' && !(w[1] >= '0' && w[1] <= '9');
}

/* The value of an option: "--opt=V" or "--opt V".  NULL when missing. */
static const char *option_value(parser *p, const char *word, const char *eq)
{
    if (eq)
        return eq + 1;
    if (p->i + 1 < p->argc)
        return p->argv[++p->i];
    fail(p, "option '%s' needs a value", word);
    return NULL;
}

/* Does word name option `name` (with or without "=value")? */
static bool is_option(const char *word, const char *name, const char **eq)
{
    size_t n = strlen(name);
    if (strncmp(word, name, n) != 0)
        return false;
    if (word[n] == '\0') {
        *eq = NULL;
        return true;
    }
    if (word[n] == '=') {
        *eq = word + n;
        return true;
    }
    return false;
}

/* A flag takes no value: "--json=yes" is a mistake worth naming. */
static int flag(parser *p, const char *word, const char *eq, bool *dest)
{
    if (eq)
        return fail(p, "option '%s' takes no value", word);
    *dest = true;
    return SKC_OK;
}

/* ------------------------------------------------------------------ */
/* Per subcommand: one option or one positional word                   */
/* ------------------------------------------------------------------ */

typedef int (*option_fn)(parser *p, const char *word);
typedef int (*word_fn)(parser *p, const char *word, int position);

/* -h/--help is an option of every subcommand. */
static bool help_option(parser *p, const char *word)
{
    if (strcmp(word, "-h") != 0 && strcmp(word, "--help") != 0)
        return false;
    p->o->sub_help = true;
    return true;
}

static int list_option(parser *p, const char *word)
{
    const char *eq = NULL, *v;
    long n;
    if (is_option(word, "--json", &eq))
        return flag(p, word, eq, &p->o->json);
    if (is_option(word, "--thread", &eq)) {
        if (!(v = option_value(p, word, eq)))
            return SKC_USAGE;
        if (p->o->tid != 0)
            return fail(p, "option '--thread' given twice");
        if (!skc_parse_long(v, 1, INT_MAX, &n))
            return fail(p, "bad thread id '%s'", v);
        p->o->tid = (pid_t)n;
        return SKC_OK;
    }
    return fail(p, "unknown option '%s'", word);
}

static int list_word(parser *p, const char *word, int position)
{
    long n;
    if (position > 0)
        return fail(p, "unexpected argument '%s'", word);
    if (!skc_parse_long(word, 1, INT_MAX, &n))
        return fail(p, "bad process id '%s'", word);
    p->o->pid = (pid_t)n;
    return SKC_OK;
}

static int names_option(parser *p, const char *word)
{
    const char *eq = NULL;
    if (is_option(word, "--json", &eq))
        return flag(p, word, eq, &p->o->json);
    return fail(p, "unknown option '%s'", word);
}

static int names_word(parser *p, const char *word, int position)
{
    (void)position;
    return fail(p, "unexpected argument '%s'", word);
}

/* A signal to send: any spelling sk_signum() takes; "0" (kill -0) only
 * where probing makes sense. */
static int parse_signal(parser *p, const char *word, bool zero_ok, int *signo)
{
    if (zero_ok && strcmp(word, "0") == 0) {
        *signo = 0;
        return SKC_OK;
    }
    int s = sk_signum(word);
    if (s <= 0)
        return fail(p, "bad signal '%s'", word);
    *signo = s;
    return SKC_OK;
}

static int send_option(parser *p, const char *word)
{
    const char *eq = NULL, *v;
    long n;
    skc_opts *o = p->o;
    if (is_option(word, "--group", &eq))
        return flag(p, word, eq, &o->group);
    if (is_option(word, "--all", &eq))
        return flag(p, word, eq, &o->all);
    if (strcmp(word, "-q") == 0 || is_option(word, "--quiet", &eq))
        return flag(p, word, word[1] == 'q' ? NULL : eq, &o->quiet);
    if (is_option(word, "--value", &eq)) {
        if (!(v = option_value(p, word, eq)))
            return SKC_USAGE;
        if (o->has_value)
            return fail(p, "option '--value' given twice");
        if (!skc_parse_long(v, INTPTR_MIN, INTPTR_MAX, &n))
            return fail(p, "bad value '%s'", v);
        o->has_value = true;
        o->value = (intptr_t)n;
        return SKC_OK;
    }
    if (is_option(word, "--timeout", &eq)) {
        if (!(v = option_value(p, word, eq)))
            return SKC_USAGE;
        if (o->timeout_ms >= 0)
            return fail(p, "option '--timeout' given twice");
        if (!skc_parse_long(v, 0, INT_MAX, &n))
            return fail(p, "bad timeout '%s' (milliseconds)", v);
        o->timeout_ms = (int)n;
        return SKC_OK;
    }
    if (is_option(word, "--then", &eq)) {
        if (!(v = option_value(p, word, eq)))
            return SKC_USAGE;
        if (o->then_signo > 0)
            return fail(p, "option '--then' given twice");
        return parse_signal(p, v, false, &o->then_signo);
    }
    return fail(p, "unknown option '%s'", word);
}

static int send_word(parser *p, const char *word, int position)
{
    long n;
    if (position == 0)
        return parse_signal(p, word, true, &p->o->signo);
    if (!skc_parse_long(word, INT_MIN + 1, INT_MAX, &n))
        return fail(p, "bad process id '%s'", word);
    p->o->pids[p->o->npids++] = (pid_t)n;
    return SKC_OK;
}

/* --ready-fd FD (wait, trace): where to say "ready" once signals are watched. */
static int ready_fd_option(parser *p, const char *word, const char *eq)
{
    const char *v = option_value(p, word, eq);
    long n;
    if (!v)
        return SKC_USAGE;
    if (!skc_parse_long(v, 0, INT_MAX, &n))
        return fail(p, "bad file descriptor '%s'", v);
    p->o->ready_fd = (int)n;
    return SKC_OK;
}

static int wait_option(parser *p, const char *word)
{
    const char *eq = NULL, *v;
    long n;
    skc_opts *o = p->o;
    if (is_option(word, "--json", &eq))
        return flag(p, word, eq, &o->json);
    if (is_option(word, "--timeout", &eq)) {
        if (!(v = option_value(p, word, eq)))
            return SKC_USAGE;
        if (o->timeout_ms >= 0)
            return fail(p, "option '--timeout' given twice");
        if (!parse_seconds(v, &o->timeout_ms))
            return fail(p, "bad timeout '%s' (seconds)", v);
        return SKC_OK;
    }
    if (is_option(word, "--count", &eq)) {
        if (!(v = option_value(p, word, eq)))
            return SKC_USAGE;
        if (!skc_parse_long(v, 0, LONG_MAX, &n))
            return fail(p, "bad count '%s'", v);
        o->count = n;
        return SKC_OK;
    }
    if (is_option(word, "--ready-fd", &eq))
        return ready_fd_option(p, word, eq);
    return fail(p, "unknown option '%s'", word);
}

static int wait_word(parser *p, const char *word, int position)
{
    int s = 0;
    (void)position;
    if (parse_signal(p, word, false, &s) != SKC_OK)
        return SKC_USAGE;
    if (s == SIGKILL || s == SIGSTOP)
        return fail(p, "'%s': %s cannot be caught or waited for", word, sk_signame(s));
    sigaddset(&p->o->waitset, s);
    return SKC_OK;
}

static int trace_option(parser *p, const char *word)
{
    const char *eq = NULL, *v;
    long n;
    skc_opts *o = p->o;
    if (is_option(word, "--json", &eq))
        return flag(p, word, eq, &o->json);
    if (is_option(word, "--signal", &eq)) {
        int s = 0;
        if (!(v = option_value(p, word, eq)))
            return SKC_USAGE;
        if (parse_signal(p, v, false, &s) != SKC_OK)
            return SKC_USAGE;
        sigaddset(&o->trace_signals, s);
        return SKC_OK;
    }
    if (is_option(word, "--from", &eq)) {
        if (!(v = option_value(p, word, eq)))
            return SKC_USAGE;
        if (o->from_pid != 0)
            return fail(p, "option '--from' given twice");
        if (!skc_parse_long(v, 1, INT_MAX, &n))
            return fail(p, "bad process id '%s'", v);
        o->from_pid = (pid_t)n;
        return SKC_OK;
    }
    if (is_option(word, "--duration", &eq)) {
        if (!(v = option_value(p, word, eq)))
            return SKC_USAGE;
        if (o->duration_ms >= 0)
            return fail(p, "option '--duration' given twice");
        if (!parse_seconds(v, &o->duration_ms))
            return fail(p, "bad duration '%s' (seconds)", v);
        return SKC_OK;
    }
    if (is_option(word, "--ready-fd", &eq))
        return ready_fd_option(p, word, eq);
    return fail(p, "unknown option '%s'", word);
}

/* A target: one process (its threads included); no groups, no -1. */
static int trace_word(parser *p, const char *word, int position)
{
    long n;
    (void)position;
    if (!skc_parse_long(word, 1, INT_MAX, &n))
        return fail(p, "bad process id '%s'", word);
    p->o->pids[p->o->npids++] = (pid_t)n;
    return SKC_OK;
}

/* Walk the words after the subcommand: options anywhere, "--" ends them
 * (for trace, the words after it are the command to run). */
static int walk(parser *p, option_fn on_option, word_fn on_word)
{
    int position = 0;
    for (p->i = 2; p->i < p->argc; p->i++) {
        const char *w = p->argv[p->i];
        if (!p->no_more_options && strcmp(w, "--") == 0) {
            p->no_more_options = true;
            if (p->o->cmd == SKC_TRACE) {
                if (p->i + 1 >= p->argc)
                    return fail(p, "'--' needs a command to run");
                p->o->cmd_argv = p->argv + p->i + 1;
                p->o->cmd_argc = p->argc - p->i - 1;
                return SKC_OK;
            }
            continue;
        }
        if (!p->no_more_options && looks_like_option(w)) {
            int rc = help_option(p, w) ? SKC_OK : on_option(p, w);
            if (rc != SKC_OK)
                return rc;
            continue;
        }
        int rc = on_word(p, w, position++);
        if (rc != SKC_OK)
            return rc;
    }
    return SKC_OK;
}

/* ------------------------------------------------------------------ */
/* Whole-command checks, once every word is known                      */
/* ------------------------------------------------------------------ */

/* Pids that reach more than one process need the option that says so. */
static int check_send_targets(parser *p)
{
    skc_opts *o = p->o;
    for (int k = 0; k < o->npids; k++) {
        pid_t pid = o->pids[k];
        if (pid == -1 && !o->all)
            return fail(p, "pid '-1' means every process you may signal: add --all");
        if ((pid == 0 || pid < -1) && !o->group)
            return fail(p, "pid '%d' means a process group: add --group", (int)pid);
        if (pid <= 0 && o->has_value)
            return fail(p, "pid '%d': --value needs single processes (sigqueue has no group form)",
                        (int)pid);
        if (pid <= 0 && o->timeout_ms >= 0)
            return fail(p, "pid '%d': --timeout needs single processes", (int)pid);
    }
    return SKC_OK;
}

static int check_send(parser *p)
{
    skc_opts *o = p->o;
    if (o->signo < 0)
        return fail(p, "missing signal (try 'sigkit send --help')");
    if (o->npids == 0)
        return fail(p, "missing process id (try 'sigkit send --help')");
    if (o->timeout_ms >= 0 && o->then_signo == 0)
        return fail(p, "option '--timeout' needs '--then SIGNAL'");
    if (o->timeout_ms < 0 && o->then_signo != 0)
        return fail(p, "option '--then' needs '--timeout MS'");
    if (o->has_value && o->signo == 0)
        return fail(p, "signal '0' sends nothing: '--value' makes no sense with it");
    return check_send_targets(p);
}

static int check_wait(parser *p)
{
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&p->o->waitset, s) == 1)
            return SKC_OK;
    return fail(p, "missing signal (try 'sigkit wait --help')");
}

/* ------------------------------------------------------------------ */

static void init_opts(skc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->signo = -1;
    o->timeout_ms = -1;
    o->count = 1;
    o->ready_fd = -1;
    o->duration_ms = -1;
    sigemptyset(&o->waitset);
    sigemptyset(&o->trace_signals);
}

void skc_opts_free(skc_opts *o)
{
    free(o->pids);
    o->pids = NULL;
}

static const struct {
    const char *name;
    enum skc_command cmd;
    option_fn on_option;
    word_fn on_word;
} commands[] = {
    {"list", SKC_LIST, list_option, list_word},
    {"names", SKC_NAMES, names_option, names_word},
    {"send", SKC_SEND, send_option, send_word},
    {"wait", SKC_WAIT, wait_option, wait_word},
    {"trace", SKC_TRACE, trace_option, trace_word},
};

int skc_parse(int argc, char *const argv[], skc_opts *o, char *err, size_t errlen)
{
    parser p = {.argc = argc, .argv = argv, .o = o, .err = err, .errlen = errlen, .cmd = ""};
    init_opts(o);
    if (errlen > 0)
        err[0] = '\0';
    if (argc < 2)
        return fail(&p, "missing command (try 'sigkit --help')");

    const char *w = argv[1];
    if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0 || strcmp(w, "help") == 0) {
        o->cmd = SKC_HELP;
        return SKC_OK;
    }
    if (strcmp(w, "-V") == 0 || strcmp(w, "--version") == 0) {
        o->cmd = SKC_VERSION;
        return SKC_OK;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        if (strcmp(w, commands[k].name) != 0)
            continue;
        o->cmd = commands[k].cmd;
        p.cmd = commands[k].name;
        /* Room for every word as a pid: no count can overflow it. */
        if ((o->cmd == SKC_SEND || o->cmd == SKC_TRACE) &&
            !(o->pids = calloc((size_t)argc, sizeof *o->pids)))
            return fail(&p, "out of memory");
        int rc = walk(&p, commands[k].on_option, commands[k].on_word);
        if (rc != SKC_OK || o->sub_help)
            return o->sub_help && rc == SKC_OK ? SKC_OK : rc;
        if (o->cmd == SKC_SEND)
            return check_send(&p);
        if (o->cmd == SKC_WAIT)
            return check_wait(&p);
        return SKC_OK;
    }
    return fail(&p, "unknown command '%s' (try 'sigkit --help')", w);
}
