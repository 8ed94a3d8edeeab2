/*
 * The bounded read cursor through which all wire input is read, and its writing twin.
 * Every read can fail and then leaves the cursor failed: later reads fail too, so a parser
 * can read a whole structure and check cur_ok() once. No pointer arithmetic on untrusted
 * bytes happens outside this file.
 */
#ifndef VENEER_CUR_H
#define VENEER_CUR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cur {
	const uint8_t *p;
	size_t len; /* bytes left */
	int failed;
};

/* A write buffer over caller memory; overflow sets failed instead of writing. */
struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	int failed;
};

static inline struct cur
cur_make(const void *p, size_t len)
{
	struct cur c = {(const uint8_t *)p, len, 0};

	return c;
}

static inline int
cur_ok(const struct cur *c)
{
	return !c->failed;
}

static inline size_t
cur_left(const struct cur *c)
{
	return c->failed ? 0 : c->len;
}

static inline int
cur_need(struct cur *c, size_t n)
{
	if (c->failed || c->len < n) {
		c->failed = 1;
		return 0;
	}
	return 1;
}

static inline uint8_t
cur_u8(struct cur *c)
{
	uint8_t v;

	if (!cur_need(c, 1))
		return 0;
	v = c->p[0];
	c->p += 1;
	c->len -= 1;
	return v;
}

static inline uint16_t
cur_u16(struct cur *c) /* network byte order */
{
	uint16_t v;

	if (!cur_need(c, 2))
		return 0;
	v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->len -= 2;
	return v;
}

static inline uint32_t
cur_u32(struct cur *c) /* network byte order */
{
	uint32_t v;

	if (!cur_need(c, 4))
		return 0;
	v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	c->len -= 4;
	return v;
}

static inline uint64_t
cur_u64(struct cur *c)
{
	uint64_t hi = cur_u32(c);

	return hi << 32 | cur_u32(c);
}

/* Copies n bytes out; zero-fills dst on failure. */
static inline void
cur_copy(struct cur *c, void *dst, size_t n)
{
	if (n == 0)
		return; /* an empty cursor may hold a NULL pointer: no memcpy from it */
	if (!cur_need(c, n)) {
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, c->p, n);
	c->p += n;
	c->len -= n;
}

static inline void
cur_skip(struct cur *c, size_t n)
{
	if (n == 0 || !cur_need(c, n))
		return;
	c->p += n;
	c->len -= n;
}

/* Takes the next n bytes as a sub-cursor and advances past them. */
static inline struct cur
cur_take(struct cur *c, size_t n)
{
	struct cur sub = {NULL, 0, 1};

	if (!cur_need(c, n))
		return sub;
	sub.p = c->p;
	sub.len = n;
	sub.failed = 0;
	if (n > 0) {
		c->p += n;
		c->len -= n;
	}
	return sub;
}

/* Limits the cursor to its first n bytes (a length field shorter than the buffer). */
static inline void
cur_truncate(struct cur *c, size_t n)
{
	if (!cur_need(c, n))
		return;
	c->len = n;
}

/* The unread bytes, for handing a validated payload on (length is cur_left()). */
static inline const uint8_t *
cur_rest(const struct cur *c)
{
	return c->p;
}

static inline struct wbuf
wbuf_make(void *p, size_t cap)
{
	struct wbuf w = {(uint8_t *)p, cap, 0, 0};

	return w;
}

static inline uint8_t *
wbuf_reserve(struct wbuf *w, size_t n)
{
	uint8_t *at;

	if (w->failed || w->cap - w->len < n) {
		w->failed = 1;
		return NULL;
	}
	at = w->p + w->len;
	w->len += n;
	return at;
}

static inline void
wbuf_u8(struct wbuf *w, uint8_t v)
{
	uint8_t *at = wbuf_reserve(w, 1);

	if (at)
		at[0] = v;
}

static inline void
wbuf_u16(struct wbuf *w, uint16_t v)
{
	uint8_t *at = wbuf_reserve(w, 2);

	if (at) {
		at[0] = (uint8_t)(v >> 8);
		at[1] = (uint8_t)v;
	}
}

static inline void
wbuf_u32(struct wbuf *w, uint32_t v)
{
	uint8_t *at = wbuf_reserve(w, 4);

	if (at) {
		at[0] = (uint8_t)(v >> 24);
		at[1] = (uint8_t)(v >> 16);
		at[2] = (uint8_t)(v >> 8);
		at[3] = (uint8_t)v;
	}
}

static inline void
wbuf_u64(struct wbuf *w, uint64_t v)
{
	wbuf_u32(w, (uint32_t)(v >> 32));
	wbuf_u32(w, (uint32_t)v);
}

static inline void
wbuf_bytes(struct wbuf *w, const void *src, size_t n)
{
	uint8_t *at = wbuf_reserve(w, n);

	if (at && n)
		memcpy(at, src, n);
}

#endif
