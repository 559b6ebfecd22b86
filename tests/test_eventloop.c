/* sk_fd() inside real event loops: a raw epoll loop and libuv. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sigkit.h"

#ifdef SK_HAVE_LIBUV
#include <uv.h>
#endif

static int calls, ticks;
static void count(const sk_info *info, void *arg)
{
    (void)arg;
    CHECK_EQ(info->signo, SIGUSR1);
    calls++;
}

static void tick(const sk_info *info, void *arg)
{
    (void)info;
    (void)arg;
    ticks++;
}

static void send_usr1s(void *arg)
{
    pid_t parent = *(pid_t *)arg;
    for (int i = 0; i < 200; i++) {
        kill(parent, SIGUSR1);
        usleep(200); /* spaced, so the kernel does not coalesce them all */
    }
}

TEST(epoll_loop_runs_handlers_and_timers)
{
    CHECK_EQ(sk_signal(SIGUSR1, count, NULL), SK_DEFAULT);
    CHECK_EQ(sk_timer_start(NULL, 0.05, 0, tick, NULL), 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, sk_fd(), &ev), 0);
    pid_t me = getpid();
    int child = sk_test_fork(send_usr1s, &me);
    double end = sk_test_now() + 20;
    while ((calls < 1 || ticks < 1 || waitpid(child, NULL, WNOHANG) == 0) && sk_test_now() < end)
        if (epoll_wait(ep, &ev, 1, 100) == 1)
            CHECK(sk_dispatch() >= 0);
    sk_dispatch();
    CHECK(calls >= 1);
    CHECK_EQ(ticks, 1);
}

#ifdef SK_HAVE_LIBUV
static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)events;
    CHECK_EQ(status, 0);
    sk_dispatch();
    if (calls >= 3)
        uv_close((uv_handle_t *)h, NULL);
}

static void raise_later(uv_timer_t *t)
{
    sk_raise(SIGUSR1);
    if (calls >= 3)
        uv_close((uv_handle_t *)t, NULL);
}
#endif

TEST(libuv_loop_dispatches_through_uv_poll)
{
#ifdef SK_HAVE_LIBUV
    CHECK_EQ(sk_signal(SIGUSR1, count, NULL), SK_DEFAULT);
    uv_loop_t loop;
    CHECK_EQ(uv_loop_init(&loop), 0);
    uv_poll_t poll;
    CHECK_EQ(uv_poll_init(&loop, &poll, sk_fd()), 0);
    CHECK_EQ(uv_poll_start(&poll, UV_READABLE, on_readable), 0);
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    uv_timer_start(&timer, raise_later, 10, 10);
    double t0 = sk_test_now();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(calls >= 3);
    CHECK(sk_test_now() - t0 < 10);
    uv_loop_close(&loop);
#else
    SK_SKIP("libuv1-dev is not installed (scripts/install-deps.sh installs it)");
#endif
}
