/*
 * main.c - sigkit(1): list, names, send, wait, trace.
 *
 * The whole command line is parsed first (args.c); only a valid one
 * reaches a subcommand.  Usage errors: stderr, exit 2.  Runtime errors:
 * stderr with the errno text, exit 1.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

void skc_usage(FILE *f)
{
    fputs("usage: sigkit COMMAND [ARG...]\n"
          "\n"
          "  sigkit list [PID] [--thread TID] [--json]\n"
          "      every signal of PID (default: sigkit itself): disposition, blocked, pending,\n"
          "      default action, description\n"
          "  sigkit names [--json]\n"
          "      every signal of this system, with its default action\n"
          "  sigkit send SIGNAL PID... [--value N] [--timeout MS --then SIGNAL] [--group] [--all] [-q]\n"
          "      send through a pidfd (no pid-reuse race); SIGNAL 0 only checks\n"
          "  sigkit wait SIGNAL... [--timeout S] [--count N] [--json] [--ready-fd FD]\n"
          "      block until the signals come; exit 124 on timeout\n"
          "  sigkit trace [PID...] [--signal SIG]... [--from PID] [--duration S] [--json]\n"
          "               [-- CMD [ARG...]]\n"
          "      who sends which signal to whom, live, and what the target did with it\n"
#ifdef SKC_HAVE_RUN
          "  sigkit run [OPTIONS] -- CMD [ARG...]\n"
          "      the pre-fork supervisor and container init ('sigkit run --help')\n"
#endif
          "  sigkit --help | --version\n"
          "\n"
          "SIGNAL: TERM, SIGTERM, term, 15, RTMIN+2, SIGRTMAX-1 ...\n"
          "'sigkit COMMAND --help' tells more; man sigkit tells everything.\n",
          f);
}

static const char list_help[] =
    "usage: sigkit list [PID] [--thread TID] [--json]\n"
    "One row per signal: number, name, disposition (default/ignored/caught), blocked,\n"
    "pending (thread, process or both), default action, description; then a summary.\n"
    "Read from /proc/PID/status (/proc/PID/task/TID/status with --thread).\n"
    "  --thread TID  one thread's mask and pending signals\n"
    "  --json        one JSON object (schema in sigkit(1))\n";

static const char names_help[] =
    "usage: sigkit names [--json]\n"
    "Every signal of this system: number, name, default action, description.\n";

static const char send_help[] =
    "usage: sigkit send SIGNAL PID... [OPTIONS]\n"
    "Send SIGNAL to each PID through a pidfd opened first (no pid-reuse race).\n"
    "SIGNAL 0 sends nothing and checks that each PID exists and may be signalled.\n"
    "Each PID is reported on its own; exit 1 if any failed.\n"
    "  --value N          send with sigqueue semantics (SI_QUEUE) carrying N\n"
    "  --timeout MS       then wait up to MS milliseconds for each PID to exit ...\n"
    "  --then SIGNAL      ... and send SIGNAL to those still running\n"
    "  --group            allow 0 (own process group) and -PGID (process group PGID)\n"
    "  --all              allow -1 (every process you may signal)\n"
    "  -q, --quiet        report failures only\n";

static const char wait_help[] =
    "usage: sigkit wait SIGNAL... [OPTIONS]\n"
    "Block the SIGNALs, then print one line per arrival:\n"
    "  SIGUSR1 pid=PID uid=UID code=SI_USER value=N\n"
    "Exit 0 after COUNT signals, 124 on timeout.\n"
    "  --timeout S     give up after S seconds (decimals allowed: 0.5)\n"
    "  --count N       signals to wait for (default 1; 0: no limit)\n"
    "  --json          one JSON object per line instead\n"
    "  --ready-fd FD   write \"ready\\n\" to FD and close it once the signals are\n"
    "                  blocked: from then on none is lost\n";

static const char trace_help[] =
    "usage: sigkit trace [PID...] [OPTIONS] [-- CMD [ARG...]]\n"
    "One line per signal as it happens, from the kernel's signal tracepoints:\n"
    "  TIME  send     SENDER (pid, name, uid)  TARGET (pid[/tid], name)  SIGNAL  CODE  RESULT\n"
    "  TIME  deliver  SENDER (matched)         TARGET (pid/tid, name)    SIGNAL  CODE  FATE\n"
    "RESULT: delivered (queued), ignored, already-pending, overflow-fail, lose-info.\n"
    "FATE: handler 0x..., ignored, killed, core dump, stopped (default actions).\n"
    "No PID and no CMD: every signal on the machine.  Needs root or CAP_PERFMON.\n"
    "  PID...          signals to these processes (and their threads)\n"
    "  --signal SIG    only this signal (repeatable)\n"
    "  --from PID      only signals sent by PID\n"
    "  --duration S    stop after S seconds (decimals allowed)\n"
    "  --json          one JSON object per line (keys in sigkit(1))\n"
    "  --ready-fd FD   write \"ready\\n\" to FD and close it once tracing is on\n"
    "  -- CMD [ARG...] run CMD once tracing is on; trace it and its descendants (what\n"
    "                  they receive and what they send); stop when it exits, with its status\n"
    "Ends on INT, TERM, --duration or CMD's exit with a one-line summary.\n";

void skc_sub_usage(FILE *f, enum skc_command cmd)
{
    switch (cmd) {
    case SKC_LIST: fputs(list_help, f); break;
    case SKC_NAMES: fputs(names_help, f); break;
    case SKC_SEND: fputs(send_help, f); break;
    case SKC_WAIT: fputs(wait_help, f); break;
    case SKC_TRACE: fputs(trace_help, f); break;
    default: skc_usage(f); break;
    }
}

static int run(const skc_opts *o)
{
    if (o->sub_help) {
        skc_sub_usage(stdout, o->cmd);
        return SKC_OK;
    }
    switch (o->cmd) {
    case SKC_HELP: skc_usage(stdout); return SKC_OK;
    case SKC_VERSION: printf("sigkit %s\n", SIGKIT_VERSION); return SKC_OK;
    case SKC_LIST: return skc_list(o);
    case SKC_NAMES: return skc_names(o);
    case SKC_SEND: return skc_send(o);
    case SKC_WAIT: return skc_wait(o);
    case SKC_TRACE: return skc_trace(o);
    }
    return SKC_USAGE;
}

/* stdout closed or full (sigkit names >/dev/full) is a failure to report. */
static int finish(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        skc_error("write error on standard output");
        return rc == SKC_OK ? SKC_FAILED : rc;
    }
    return rc;
}

#ifdef SKC_HAVE_RUN
/* `sigkit run` (run.c, issue 5) has its own parser: it sees argv from "run". */
int sk_cli_run(int argc, char **argv);
#endif

int main(int argc, char *argv[])
{
    skc_opts o;
    char err[512];

#ifdef SKC_HAVE_RUN
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return sk_cli_run(argc - 1, argv + 1);
#endif

    int rc = skc_parse(argc, argv, &o, err, sizeof err);
    if (rc != SKC_OK) {
        skc_error("%s", err);
        skc_opts_free(&o);
        return SKC_USAGE;
    }
    rc = finish(run(&o));
    skc_opts_free(&o);
    return rc;
}
