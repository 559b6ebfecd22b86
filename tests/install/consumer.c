/*
 * A program written only from DESIGN.md section 2, built against an
 * installed sigkit (pkg-config, find_package or the static library): a
 * deferred handler for SIGUSR1 runs in normal context, from sk_wait, with
 * the sender's pid.
 */
#include <sigkit.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static int calls;
static sk_info seen;

static void on_usr1(const sk_info *info, void *arg)
{
    calls++;
    seen = *info;
    *(int *)arg = 42;
}

#define EXPECT(cond)                                                      \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "consumer: failed: %s\n", #cond);             \
            return 1;                                                     \
        }                                                                 \
    } while (0)

int main(void)
{
    int token = 0;
    EXPECT(sk_signal(SIGUSR1, on_usr1, &token) == SK_DEFAULT);
    EXPECT(sk_getsignal(SIGUSR1, NULL, NULL) == SK_HANDLED);
    EXPECT(sk_raise(SIGUSR1) == 0);
    EXPECT(calls == 0); /* deferred: nothing runs before dispatch */
    EXPECT(sk_wait(1000) >= 1);
    EXPECT(calls == 1);
    EXPECT(token == 42);
    EXPECT(seen.signo == SIGUSR1);
    EXPECT(seen.pid == getpid());
    EXPECT(seen.count == 1);
    EXPECT(sk_signal(SIGKILL, on_usr1, NULL) == -EINVAL);
    EXPECT(sk_signal(SIGUSR1, SK_DFL, NULL) == SK_HANDLED);
    printf("ok\n");
    return 0;
}
