/*
 * names.c - `sigkit names`: every signal this system has (kill -L).
 */
#include "cli.h"

#include <string.h>

/* Width of the widest name, for aligned columns whatever SIGRTMAX is. */
static int name_width(void)
{
    int w = 4;
    for (int s = 1; s < NSIG; s++) {
        const char *n = sk_signame(s);
        if (n && (int)strlen(n) > w)
            w = (int)strlen(n);
    }
    return w;
}

static void print_json(void)
{
    int first = 1;
    fputs("{\"signals\":[", stdout);
    for (int s = 1; s < NSIG; s++) {
        if (!sk_signame(s))
            continue;
        printf("%s\n{\"number\":%d,\"name\":", first ? "" : ",", s);
        skc_json_string(stdout, sk_signame(s));
        printf(",\"default_action\":\"%s\",\"catchable\":%s,\"description\":",
               skc_action_name(sk_default_action(s)),
               (s == SIGKILL || s == SIGSTOP) ? "false" : "true");
        skc_json_string(stdout, sk_strsignal(s));
        fputc('}', stdout);
        first = 0;
    }
    fputs("\n]}\n", stdout);
}

int skc_names(const skc_opts *o)
{
    if (o->json) {
        print_json();
        return SKC_OK;
    }
    int w = name_width();
    printf("%3s  %-*s  %-6s  %s\n", "NUM", w, "NAME", "ACTION", "DESCRIPTION");
    for (int s = 1; s < NSIG; s++)
        if (sk_signame(s))
            printf("%3d  %-*s  %-6s  %s\n", s, w, sk_signame(s),
                   skc_action_name(sk_default_action(s)), sk_strsignal(s));
    return SKC_OK;
}
