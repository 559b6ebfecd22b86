/*
 * pp_peers.c - the ping-pong mechanisms of the libraries a user would pick
 * instead of sigkit: libuv's uv_signal_t, libevent's evsignal and GLib's
 * g_unix_signal_add.  Each runs its own loop and answers from the
 * library's callback (see common.h).  A library that was not found at
 * configure time is left out of the list.
 */
#include "common.h"

#include <signal.h>
#include <stddef.h>

#ifdef HAVE_LIBUV
#include <uv.h>

static void uv_cb(uv_signal_t *h, int signo)
{
    (void)signo;
    if (pp_on_signal())
        uv_signal_stop(h);
}

static int run_libuv(void)
{
    uv_loop_t *loop = uv_default_loop();
    uv_signal_t h;
    uv_signal_init(loop, &h);
    if (uv_signal_start(&h, uv_cb, SIGUSR1) < 0)
        return -1;
    pp_ready();
    uv_run(loop, UV_RUN_DEFAULT); /* returns once the handle is stopped */
    return 0;
}
#endif

#ifdef HAVE_LIBEVENT
#include <event2/event.h>

static void ev_cb(evutil_socket_t signo, short what, void *base)
{
    (void)signo;
    (void)what;
    if (pp_on_signal())
        event_base_loopbreak(base);
}

static int run_libevent(void)
{
    struct event_base *base = event_base_new();
    struct event *ev = evsignal_new(base, SIGUSR1, ev_cb, base);
    if (!ev || evsignal_add(ev, NULL) < 0)
        return -1;
    pp_ready();
    event_base_dispatch(base);
    event_free(ev);
    event_base_free(base);
    return 0;
}
#endif

#ifdef HAVE_GLIB
#include <glib-unix.h>
#include <glib.h>

static gboolean glib_cb(gpointer loop)
{
    if (pp_on_signal()) {
        g_main_loop_quit(loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static int run_glib(void)
{
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGUSR1, glib_cb, loop);
    pp_ready();
    g_main_loop_run(loop);
    g_main_loop_unref(loop);
    return 0;
}
#endif

const struct mechanism peer_mechanisms[] = {
#ifdef HAVE_LIBUV
    {"libuv", run_libuv},
#endif
#ifdef HAVE_LIBEVENT
    {"libevent", run_libevent},
#endif
#ifdef HAVE_GLIB
    {"glib", run_glib},
#endif
    {NULL, NULL},
};
