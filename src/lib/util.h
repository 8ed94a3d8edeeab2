/* Small helpers shared by the daemons: randomness, hex, time formatting. */
#ifndef VENEER_UTIL_H
#define VENEER_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* util.c */
/* Fills buf from the kernel CSPRNG; aborts if it cannot (never returns weak bytes). */
void util_random(void *buf, size_t n);
/* Writes 2n lowercase hex digits and a NUL into out (2n+1 bytes). */
void util_hex(const void *in, size_t n, char *out);
/* "prefix" followed by 16 random hex digits; out must hold strlen(prefix)+17 bytes. */
void util_new_id(const char *prefix, char *out, size_t outsz);
/* RFC 3339 UTC ("2026-11-25T16:07:42Z"); buf of at least 21 bytes. */
void util_time_rfc3339(time_t t, char *buf, size_t bufsz);
/* Constant-time comparison of n bytes. */
int util_ct_equal(const void *a, const void *b, size_t n);

#endif
