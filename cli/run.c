/*
 * run.c - `sigkit run`: the pre-fork supervisor and container init.
 *
 * Only the command line lives here; the master itself is the library's
 * sk_supervisor (src/supervise.c), which C servers can embed.
 * The command's main() calls sk_cli_run(argc, argv) with argv[0] = "run".
 */
#include <sigkit.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sk_cli_run(int argc, char **argv);

#define MAX_LISTEN 64

static const char usage_text[] =
    "usage: sigkit run [-w N] [--listen ADDR]... [--graceful-timeout S] [--ready-timeout S]\n"
    "                  [--init] [-g] [--pidfile F] [--notify] [-q] -- CMD [ARG...]\n"
    "\n"
    "  -w, --workers N        workers to keep running (default 1)\n"
    "  --listen ADDR          tcp://HOST:PORT, tcp6://[HOST]:PORT or unix:PATH, opened once and\n"
    "                         passed to every worker as fds 3.. with LISTEN_FDS, LISTEN_PID,\n"
    "                         LISTEN_FDNAMES (repeatable)\n"
    "  --graceful-timeout S   seconds from TERM to KILL (default 30)\n"
    "  --ready-timeout S      a worker that never sends READY=1 to its NOTIFY_SOCKET counts\n"
    "                         as ready after S seconds (default 1)\n"
    "  --init                 child subreaper: reap every zombie, orphans included\n"
    "                         (automatic as PID 1 and in init mode)\n"
    "  -g, --group            init mode: signal the child's whole process group\n"
    "  --pidfile F            write the master's pid to F (atomically); removed at exit\n"
    "  --notify               sd_notify on $NOTIFY_SOCKET: MAINPID, READY, RELOADING, STOPPING\n"
    "  -q, --quiet            no log lines on stderr\n"
    "\n"
    "Init mode (-w 1 and no --listen): CMD is run as by a container init; every catchable\n"
    "signal is forwarded to it (real-time ones with their sigqueue value); on TERM/INT/QUIT\n"
    "all descendants get up to --graceful-timeout, then KILL.  Exit status: CMD's k,\n"
    "128+N when signal N killed it, 127 not found, 126 not executable.\n"
    "\n"
    "Signals to the master in workers mode (gunicorn's map; nginx and unicorn use QUIT for\n"
    "graceful and TERM for fast: do not send QUIT expecting a graceful stop):\n"
    "  TERM         graceful stop: TERM workers, KILL after --graceful-timeout, exit 0\n"
    "  INT          as TERM; a second INT (or a QUIT) during the stop: fast stop\n"
    "  QUIT         fast stop: TERM workers, KILL after 1 s\n"
    "  HUP          rolling reload: new workers; each old one gets TERM once its\n"
    "               replacement is ready; if new ones die before ready, the old keep serving\n"
    "  TTIN/TTOU    one worker more/fewer (never below 1); with a sigqueue value k, k of them\n"
    "               (standard signals coalesce: ten quick TTINs may count as one)\n"
    "  USR1 USR2 WINCH  forwarded to every worker\n"
    "  CHLD         reap; respawn, backing off 0.1 s doubling to 30 s when workers die young\n";

static int usage(int code)
{
    fputs(usage_text, code ? stderr : stdout);
    return code;
}

/* "3", "0.5" -> seconds; -1 when not a non-negative finite number. */
static double parse_seconds(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e6)
        return -1;
    return v;
}

static int parse_count(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 4096)
        return -1;
    return (int)v;
}

typedef struct cli {
    sk_supervise_opts o;
    const char *listen[MAX_LISTEN];
    int nlisten;
    int init;
} cli;

/* The value of option `name` at argv[*i]: "--name=V" or "--name V". */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (*i + 1 < argc)
        return argv[++*i];
    fprintf(stderr, "sigkit run: %s needs a value\n", name);
    return NULL;
}

static int is_opt(const char *a, const char *name)
{
    size_t n = strlen(name);
    return strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

/* Returns the index of CMD in argv, or -(exit status) on a usage error or --help. */
static int parse(cli *c, int argc, char **argv)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--") == 0)
            return ++i < argc ? i : -usage(2);
        if (a[0] != '-')
            return i;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return -usage(0) - 1000; /* distinguishes help from errors */
        if (strcmp(a, "-w") == 0 || is_opt(a, "--workers")) {
            if (!(v = option_value(argc, argv, &i, a[1] == 'w' ? "-w" : "--workers")) ||
                (c->o.workers = parse_count(v)) < 0) {
                fprintf(stderr, "sigkit run: -w needs a count from 1 to 4096\n");
                return -2;
            }
        } else if (is_opt(a, "--listen")) {
            if (!(v = option_value(argc, argv, &i, "--listen")))
                return -2;
            if (c->nlisten >= MAX_LISTEN) {
                fprintf(stderr, "sigkit run: at most %d --listen\n", MAX_LISTEN);
                return -2;
            }
            c->listen[c->nlisten++] = v;
        } else if (is_opt(a, "--graceful-timeout") || is_opt(a, "--ready-timeout")) {
            int graceful = a[2] == 'g';
            const char *name = graceful ? "--graceful-timeout" : "--ready-timeout";
            double sec;
            if (!(v = option_value(argc, argv, &i, name)) || (sec = parse_seconds(v)) < 0) {
                fprintf(stderr, "sigkit run: %s needs seconds (a number >= 0)\n", name);
                return -2;
            }
            *(graceful ? &c->o.graceful_timeout : &c->o.ready_timeout) = sec;
        } else if (is_opt(a, "--pidfile")) {
            if (!(c->o.pidfile = option_value(argc, argv, &i, "--pidfile")))
                return -2;
        } else if (strcmp(a, "--init") == 0) {
            c->init = 1;
        } else if (strcmp(a, "-g") == 0 || strcmp(a, "--group") == 0) {
            c->o.group = 1;
        } else if (strcmp(a, "--notify") == 0) {
            c->o.notify = 1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            c->o.quiet = 1;
        } else {
            fprintf(stderr, "sigkit run: unknown option %s\n", a);
            return -usage(2);
        }
    }
    fprintf(stderr, "sigkit run: no command given\n");
    return -usage(2);
}

static int open_listeners(sk_supervisor *s, cli *c)
{
    for (int i = 0; i < c->nlisten; i++) {
        int err = sk_supervisor_listen(s, c->listen[i]);
        if (err == -EINVAL) {
            fprintf(stderr, "sigkit run: bad address '%s': expected tcp://IPV4:PORT, "
                            "tcp6://[IPV6]:PORT or unix:PATH\n", c->listen[i]);
            return 2;
        }
        if (err < 0) {
            fprintf(stderr, "sigkit run: cannot listen on %s: %s\n", c->listen[i],
                    sk_strerror(err));
            return 1;
        }
    }
    return 0;
}

int sk_cli_run(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    sk_supervise_defaults(&c.o);
    int cmd = parse(&c, argc, argv);
    if (cmd < 0)
        return cmd <= -1000 ? 0 : -cmd;
    c.o.argv = argv + cmd;
    /* -w 1 without listeners is exactly the container init. */
    int init_mode = c.o.workers == 1 && c.nlisten == 0;
    c.o.mode = init_mode ? SK_SUPERVISE_INIT : SK_SUPERVISE_WORKERS;
    c.o.subreaper = init_mode || c.init || getpid() == 1;
    if (c.o.group && !init_mode)
        fprintf(stderr, "sigkit run: -g only applies in init mode; ignored\n");
    if (!init_mode)
        c.o.group = 0;

    /* A log line to a closed pipe must not kill a master (workers reset it).
     * In init mode SIGPIPE is forwarded instead, except our own. */
    if (!init_mode)
        signal(SIGPIPE, SIG_IGN);

    sk_supervisor *s;
    int err = sk_supervisor_new(&s, &c.o);
    if (err == -ENOENT || err == -EACCES || err == -ENOTDIR) {
        fprintf(stderr, "sigkit run: %s: %s\n", argv[cmd], sk_strerror(err));
        return err == -EACCES ? 126 : 127;
    }
    if (err < 0) {
        fprintf(stderr, "sigkit run: %s\n", sk_strerror(err));
        return 1;
    }
    int rc = open_listeners(s, &c);
    if (rc == 0) {
        rc = sk_supervisor_run(s);
        if (rc < 0) {
            fprintf(stderr, "sigkit run: %s\n", sk_strerror(rc));
            rc = 1;
        }
    }
    sk_supervisor_free(s);
    return rc;
}
