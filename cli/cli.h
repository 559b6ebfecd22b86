/*
 * cli.h - the pieces of the sigkit command shared between its files.
 *
 * The command line is parsed completely, by skc_parse(), before anything
 * is done: a bad word anywhere means exit 2 and nothing signalled.  The
 * parser has no side effects (no I/O, no signals), so it can be fuzzed.
 */
#ifndef SKC_CLI_H
#define SKC_CLI_H

#include <sigkit.h>

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit statuses: timeout(1)'s 124 for `wait`. */
enum { SKC_OK = 0, SKC_FAILED = 1, SKC_USAGE = 2, SKC_TIMEOUT = 124 };

enum skc_command { SKC_HELP, SKC_VERSION, SKC_LIST, SKC_NAMES, SKC_SEND, SKC_WAIT, SKC_TRACE };

typedef struct skc_opts {
    enum skc_command cmd;
    bool sub_help; /* `sigkit CMD --help` */
    bool json;
    /* list */
    pid_t pid; /* 0: sigkit itself */
    pid_t tid; /* 0: the process as a whole */
    /* send */
    int signo;    /* 0: only check that each pid may be signalled */
    pid_t *pids;  /* npids entries, owned (skc_opts_free) */
    int npids;
    bool has_value;
    intptr_t value;
    int timeout_ms; /* send --timeout MS, wait --timeout S; -1: none */
    int then_signo; /* send --then; 0: none */
    bool group, all, quiet;
    /* wait */
    sigset_t waitset;
    long count; /* signals to wait for; 0: no limit */
    int ready_fd; /* -1: none (wait, trace) */
    /* trace: target pids in pids/npids */
    sigset_t trace_signals; /* --signal; empty: every signal */
    pid_t from_pid;         /* --from; 0: any sender */
    int duration_ms;        /* --duration S; -1: until INT/TERM (or CMD's exit) */
    char *const *cmd_argv;  /* after "--": CMD [ARG...] (points into argv), or NULL */
    int cmd_argc;
} skc_opts;

/* Parse argv (argv[0] is the program).  Returns SKC_OK and fills *o, or
 * SKC_USAGE with one line naming the bad word in err (no newline). */
int skc_parse(int argc, char *const argv[], skc_opts *o, char *err, size_t errlen);
void skc_opts_free(skc_opts *o);

/* Strict numbers: decimal digits with an optional leading '-', no space,
 * no '+', no base prefix, no leading zero, within [min, max]. */
bool skc_parse_long(const char *s, long min, long max, long *out);

/* The subcommands; each returns the exit status. */
int skc_list(const skc_opts *o);
int skc_names(const skc_opts *o);
int skc_send(const skc_opts *o);
int skc_wait(const skc_opts *o);
int skc_trace(const skc_opts *o); /* trace.c */

/* Help texts (main.c). */
void skc_usage(FILE *f);
void skc_sub_usage(FILE *f, enum skc_command cmd);

/* Output helpers (out.c). */
const char *skc_action_name(int action);          /* "term", "core", ... */
const char *skc_short_name(int signo);            /* "USR1" for SIGUSR1 */
const char *skc_code_name(int signo, int code, char *buf, size_t len); /* "SI_USER" */
void skc_json_string(FILE *f, const char *s);
/* --ready-fd: write "ready\n" to fd and close it (EOF says as much to a
 * reader).  SKC_OK, or SKC_FAILED after an error naming cmd and fd. */
int skc_announce_ready(const char *cmd, int fd);
/* "sigkit: " + message on stderr, as one line. */
void skc_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
