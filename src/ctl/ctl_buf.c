/*
 * ctl_buf.c: a growable string buffer, used for URLs, answer bodies, table
 * cells and messages.  Allocation failure ends the program: a CLI that runs
 * one request has nothing sensible to fall back to.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

void
ctl_buf_oom(void)
{
	fputs("veneerctl: out of memory\n", stderr);
	exit(CTL_EXIT_TRANSPORT);
}

/* Makes room for `more` bytes plus the terminating NUL. */
static void
buf_grow(struct ctl_buf *b, size_t more)
{
	size_t	 need, cap;
	char	*p;

	if (more > SIZE_MAX / 2 - b->len)
		ctl_buf_oom();
	need = b->len + more + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL)
		ctl_buf_oom();
	b->data = p;
	b->cap = cap;
}

void
ctl_buf_add(struct ctl_buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
ctl_buf_adds(struct ctl_buf *b, const char *s)
{
	ctl_buf_add(b, s, strlen(s));
}

void
ctl_buf_addf(struct ctl_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		ctl_buf_oom();
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/*
 * Appends text that came from the server or the user for display on a
 * terminal: control characters become '?', so that a hostile or broken
 * answer can neither break table lines nor send escape sequences.
 */
void
ctl_buf_addsafe(struct ctl_buf *b, const char *s)
{
	const unsigned char	*p;
	char			 c;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		c = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
		ctl_buf_add(b, &c, 1);
	}
}

/*
 * Appends s percent-encoded (RFC 3986): only unreserved characters pass, so
 * the result is safe both as a query value and as one path segment (an id
 * such as "../x" cannot climb out of its collection).
 */
void
ctl_buf_addesc(struct ctl_buf *b, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	char			 enc[3];

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			ctl_buf_add(b, p, 1);
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[*p >> 4];
		enc[2] = hex[*p & 0xf];
		ctl_buf_add(b, enc, 3);
	}
}

const char *
ctl_buf_str(const struct ctl_buf *b)
{
	return b->data != NULL ? b->data : "";
}

/* Hands the string over to the caller (to free()); the buffer is left empty. */
char *
ctl_buf_take(struct ctl_buf *b)
{
	char	*s;

	if (b->data == NULL)
		ctl_buf_add(b, "", 0);
	s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void
ctl_buf_free(struct ctl_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
ctl_buf_strdup(const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		ctl_buf_oom();
	return d;
}
