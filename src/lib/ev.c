#include "ev.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define EV_MAX_EVENTS 64
#define EV_MAX_SIGNALS 8

struct ev_io {
	struct ev_loop *loop;
	struct ev_io *prev, *next; /* the loop's live handles, freed with the loop */
	int fd;
	int dead;
	ev_io_cb cb;
	void *arg;
};

/*
 * Timers live in an unsorted list: the daemons hold tens of them, so a scan per
 * iteration is cheaper than keeping a heap in order.
 */
struct ev_timer {
	struct ev_loop *loop;
	struct ev_timer *next;
	uint64_t due;
	int armed;
	int dead;
	ev_timer_cb cb;
	void *arg;
};

struct ev_deferred {
	struct ev_deferred *next;
	void (*fn)(void *);
	void *p;
};

struct ev_loop {
	int epfd;
	int sigfd;
	int stop;
	sigset_t sigmask;
	struct {
		int signo;
		ev_signal_cb cb;
		void *arg;
	} sigs[EV_MAX_SIGNALS];
	int nsigs;
	struct ev_timer *timers;
	struct ev_io *ios;
	struct ev_deferred *deferred;
	ev_hook_cb before_sleep;
	void *before_sleep_arg;
};

uint64_t
ev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct ev_loop *
ev_loop_new(void)
{
	struct ev_loop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->sigfd = -1;
	sigemptyset(&loop->sigmask);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

static void
ev_run_deferred(struct ev_loop *loop)
{
	struct ev_timer **tp;

	while (loop->deferred) {
		struct ev_deferred *d = loop->deferred;

		loop->deferred = d->next;
		d->fn(d->p);
		free(d);
	}
	for (tp = &loop->timers; *tp;) {
		struct ev_timer *t = *tp;

		if (t->dead) {
			*tp = t->next;
			free(t);
		} else {
			tp = &t->next;
		}
	}
}

void
ev_loop_free(struct ev_loop *loop)
{
	if (loop == NULL)
		return;
	while (loop->ios)
		ev_io_del(loop->ios);
	ev_run_deferred(loop);
	while (loop->timers) {
		struct ev_timer *t = loop->timers;

		loop->timers = t->next;
		free(t);
	}
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	close(loop->epfd);
	free(loop);
}

void
ev_stop(struct ev_loop *loop)
{
	loop->stop = 1;
}

void
ev_defer_free(struct ev_loop *loop, void (*fn)(void *), void *p)
{
	struct ev_deferred *d = malloc(sizeof(*d));

	if (d == NULL) {
		/* Out of memory: freeing now is still better than leaking forever. */
		fn(p);
		return;
	}
	d->fn = fn;
	d->p = p;
	d->next = loop->deferred;
	loop->deferred = d;
}

struct ev_io *
ev_io_add(struct ev_loop *loop, int fd, uint32_t events, ev_io_cb cb, void *arg)
{
	struct ev_io *io = calloc(1, sizeof(*io));
	struct epoll_event ee = {.events = events};

	if (io == NULL)
		return NULL;
	io->loop = loop;
	io->fd = fd;
	io->cb = cb;
	io->arg = arg;
	ee.data.ptr = io;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
		free(io);
		return NULL;
	}
	io->next = loop->ios;
	if (loop->ios)
		loop->ios->prev = io;
	loop->ios = io;
	return io;
}

int
ev_io_mod(struct ev_io *io, uint32_t events)
{
	struct epoll_event ee = {.events = events};

	ee.data.ptr = io;
	return epoll_ctl(io->loop->epfd, EPOLL_CTL_MOD, io->fd, &ee);
}

void
ev_io_del(struct ev_io *io)
{
	if (io == NULL || io->dead)
		return;
	epoll_ctl(io->loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	if (io->prev)
		io->prev->next = io->next;
	else
		io->loop->ios = io->next;
	if (io->next)
		io->next->prev = io->prev;
	io->dead = 1;
	ev_defer_free(io->loop, free, io);
}

struct ev_timer *
ev_timer_new(struct ev_loop *loop, ev_timer_cb cb, void *arg)
{
	struct ev_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->loop = loop;
	t->cb = cb;
	t->arg = arg;
	t->next = loop->timers;
	loop->timers = t;
	return t;
}

void
ev_timer_arm(struct ev_timer *t, uint64_t ms)
{
	t->due = ev_now_ms() + ms;
	t->armed = 1;
}

void
ev_timer_disarm(struct ev_timer *t)
{
	t->armed = 0;
}

int
ev_timer_armed(const struct ev_timer *t)
{
	return t->armed;
}

void
ev_timer_free(struct ev_timer *t)
{
	if (t == NULL)
		return;
	t->armed = 0;
	t->dead = 1;
}

static void
ev_sig_read(struct ev_io *io, uint32_t events, void *arg)
{
	struct ev_loop *loop = arg;
	struct signalfd_siginfo si;

	(void)io;
	(void)events;
	while (read(loop->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (int i = 0; i < loop->nsigs; i++)
			if (loop->sigs[i].signo == (int)si.ssi_signo)
				loop->sigs[i].cb((int)si.ssi_signo, loop->sigs[i].arg);
	}
}

int
ev_signal(struct ev_loop *loop, int signo, ev_signal_cb cb, void *arg)
{
	int first = loop->sigfd < 0;
	int fd;

	if (loop->nsigs == EV_MAX_SIGNALS) {
		errno = ENOSPC;
		return -1;
	}
	sigaddset(&loop->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) < 0)
		return -1;
	fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	loop->sigfd = fd;
	if (first && ev_io_add(loop, fd, EPOLLIN, ev_sig_read, loop) == NULL)
		return -1;
	loop->sigs[loop->nsigs].signo = signo;
	loop->sigs[loop->nsigs].cb = cb;
	loop->sigs[loop->nsigs].arg = arg;
	loop->nsigs++;
	return 0;
}

void
ev_before_sleep(struct ev_loop *loop, ev_hook_cb cb, void *arg)
{
	loop->before_sleep = cb;
	loop->before_sleep_arg = arg;
}

/* Fires due timers; returns the wait in ms until the next one, or -1 if none. */
static int
ev_fire_timers(struct ev_loop *loop)
{
	uint64_t now = ev_now_ms();
	uint64_t next = UINT64_MAX;
	struct ev_timer *t;

	for (t = loop->timers; t; t = t->next) {
		if (!t->armed || t->dead)
			continue;
		if (t->due <= now) {
			t->armed = 0;
			t->cb(t, t->arg);
		}
	}
	/* Callbacks may have re-armed timers: compute the next deadline afresh. */
	now = ev_now_ms();
	for (t = loop->timers; t; t = t->next)
		if (t->armed && !t->dead && t->due < next)
			next = t->due;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
}

int
ev_run(struct ev_loop *loop)
{
	struct epoll_event evs[EV_MAX_EVENTS];

	while (!loop->stop) {
		int timeout, n;

		timeout = ev_fire_timers(loop);
		ev_run_deferred(loop);
		if (loop->stop)
			break;
		if (loop->before_sleep)
			loop->before_sleep(loop->before_sleep_arg);
		n = epoll_wait(loop->epfd, evs, EV_MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < n; i++) {
			struct ev_io *io = evs[i].data.ptr;

			if (!io->dead)
				io->cb(io, evs[i].events, io->arg);
		}
		ev_run_deferred(loop);
	}
	return 0;
}
