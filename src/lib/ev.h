/*
 * One single-threaded event loop per process: epoll for file descriptors, monotonic
 * one-shot timers, signals through signalfd, a before-sleep hook, and deferred frees so
 * that an object closed inside its own callback is released only after the callback
 * returns.
 */
#ifndef VENEER_EV_H
#define VENEER_EV_H

#include <stdint.h>
#include <sys/epoll.h>

struct ev_loop;
struct ev_io;
struct ev_timer;

typedef void (*ev_io_cb)(struct ev_io *io, uint32_t events, void *arg);
typedef void (*ev_timer_cb)(struct ev_timer *t, void *arg);
typedef void (*ev_signal_cb)(int signo, void *arg);
typedef void (*ev_hook_cb)(void *arg);

/* ev.c */
/* Returns NULL with errno set if epoll or signalfd cannot be created. */
struct ev_loop *ev_loop_new(void);
/* Frees the loop and every io and timer still registered with it. */
void ev_loop_free(struct ev_loop *loop);
/* Runs until ev_stop(); returns 0, or -1 if epoll_wait fails for a reason other than EINTR. */
int ev_run(struct ev_loop *loop);
void ev_stop(struct ev_loop *loop);
/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t ev_now_ms(void);

/* Watches fd for EPOLLIN/EPOLLOUT/...; NULL on failure (errno set). */
struct ev_io *ev_io_add(struct ev_loop *loop, int fd, uint32_t events, ev_io_cb cb, void *arg);
int ev_io_mod(struct ev_io *io, uint32_t events);
/* Stops watching; the handle is freed after the current dispatch round. Does not close fd. */
void ev_io_del(struct ev_io *io);

struct ev_timer *ev_timer_new(struct ev_loop *loop, ev_timer_cb cb, void *arg);
/* (Re)arms the timer to fire once, ms from now. */
void ev_timer_arm(struct ev_timer *t, uint64_t ms);
void ev_timer_disarm(struct ev_timer *t);
int ev_timer_armed(const struct ev_timer *t);
/* Disarms and frees after the current dispatch round. */
void ev_timer_free(struct ev_timer *t);

/* Blocks signo and delivers it through the loop; -1 on failure. */
int ev_signal(struct ev_loop *loop, int signo, ev_signal_cb cb, void *arg);
/* Called once per iteration before the loop sleeps (flush batched work there). */
void ev_before_sleep(struct ev_loop *loop, ev_hook_cb cb, void *arg);
/* Calls fn(p) after the current dispatch round. */
void ev_defer_free(struct ev_loop *loop, void (*fn)(void *), void *p);

#endif
