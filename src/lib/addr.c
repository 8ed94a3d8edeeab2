#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

int
addr4_parse(const char *s, uint32_t *out)
{
	uint32_t a = 0;

	for (int octet = 0; octet < 4; octet++) {
		unsigned v = 0;
		int digits = 0;

		if (octet > 0 && *s++ != '.')
			return -1;
		while (*s >= '0' && *s <= '9') {
			/* A leading zero is refused: "010" is octal to inet_aton. */
			if (digits == 1 && v == 0)
				return -1;
			v = v * 10 + (unsigned)(*s - '0');
			if (++digits > 3 || v > 255)
				return -1;
			s++;
		}
		if (digits == 0)
			return -1;
		a = a << 8 | v;
	}
	if (*s != '\0')
		return -1;
	*out = a;
	return 0;
}

void
addr4_fmt(uint32_t a, char buf[ADDR4_STRLEN])
{
	snprintf(buf, ADDR4_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
	    a & 0xff);
}

uint32_t
pfx4_mask(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

uint32_t
pfx4_last(const struct pfx4 *p)
{
	return p->addr | ~pfx4_mask(p->len);
}

/* Parses the "/len" tail: decimal, no leading zero, no sign. */
static enum addr_err
addr_parse_len(const char *s, int max, int *len)
{
	int v = 0, big = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
		return ADDR_ESYNTAX;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return ADDR_ESYNTAX;
		if (!big)
			v = v * 10 + (*s - '0');
		if (v > max)
			big = 1;
	}
	if (big)
		return ADDR_ELEN;
	*len = v;
	return ADDR_OK;
}

static enum addr_err
addr_split(const char *s, char *host, size_t hostsz, int maxbits, int *len)
{
	const char *slash = strchr(s, '/');
	size_t n;

	if (slash == NULL)
		return ADDR_ESYNTAX;
	n = (size_t)(slash - s);
	if (n == 0 || n >= hostsz)
		return ADDR_ESYNTAX;
	memcpy(host, s, n);
	host[n] = '\0';
	return addr_parse_len(slash + 1, maxbits, len);
}

enum addr_err
pfx4_parse(const char *s, struct pfx4 *out, int minlen, int maxlen)
{
	char host[ADDR4_STRLEN] = "";
	uint32_t a;
	int len = 0;
	enum addr_err e = addr_split(s, host, sizeof(host), 32, &len);

	/* A bad address is the first thing to report, even with a bad length too. */
	if (addr4_parse(host, &a) < 0)
		return ADDR_ESYNTAX;
	if (e != ADDR_OK)
		return e;
	if (len < minlen || len > maxlen)
		return ADDR_ELEN;
	if (a & ~pfx4_mask((uint8_t)len))
		return ADDR_EHOSTBITS;
	out->addr = a;
	out->len = (uint8_t)len;
	return ADDR_OK;
}

int
pfx4_parse_loose(const char *s, struct pfx4 *out)
{
	char host[ADDR4_STRLEN] = "";
	uint32_t a;
	int len = 0;

	if (addr_split(s, host, sizeof(host), 32, &len) != ADDR_OK || addr4_parse(host, &a) < 0)
		return -1;
	out->len = (uint8_t)len;
	out->addr = a & pfx4_mask(out->len);
	return 0;
}

void
pfx4_fmt(const struct pfx4 *p, char buf[PFX4_STRLEN])
{
	char a[ADDR4_STRLEN];

	addr4_fmt(p->addr, a);
	snprintf(buf, PFX4_STRLEN, "%s/%u", a, p->len);
}

int
pfx4_contains_addr(const struct pfx4 *p, uint32_t a)
{
	return (a & pfx4_mask(p->len)) == p->addr;
}

int
pfx4_contains(const struct pfx4 *outer, const struct pfx4 *inner)
{
	return inner->len >= outer->len && pfx4_contains_addr(outer, inner->addr);
}

int
pfx4_overlaps(const struct pfx4 *a, const struct pfx4 *b)
{
	return pfx4_contains(a, b) || pfx4_contains(b, a);
}

int
pfx4_cmp(const struct pfx4 *a, const struct pfx4 *b)
{
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return (int)a->len - (int)b->len;
}

int
addr6_parse(const char *s, uint8_t out[16])
{
	/* inet_pton is strict for AF_INET6 apart from the embedded IPv4 tail, which is fine. */
	if (strlen(s) >= ADDR6_STRLEN)
		return -1;
	return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
}

void
addr6_fmt(const uint8_t a[16], char buf[ADDR6_STRLEN])
{
	inet_ntop(AF_INET6, a, buf, ADDR6_STRLEN);
}

static int
pfx6_hostbits(const uint8_t a[16], int len)
{
	for (int bit = len; bit < 128; bit++)
		if (a[bit / 8] & (0x80 >> (bit % 8)))
			return 1;
	return 0;
}

enum addr_err
pfx6_parse(const char *s, struct pfx6 *out, int minlen, int maxlen)
{
	char host[ADDR6_STRLEN] = "";
	int len = 0;
	enum addr_err e = addr_split(s, host, sizeof(host), 128, &len);

	if (addr6_parse(host, out->addr) < 0)
		return ADDR_ESYNTAX;
	if (e != ADDR_OK)
		return e;
	if (len < minlen || len > maxlen)
		return ADDR_ELEN;
	if (pfx6_hostbits(out->addr, len))
		return ADDR_EHOSTBITS;
	out->len = (uint8_t)len;
	return ADDR_OK;
}

void
pfx6_fmt(const struct pfx6 *p, char buf[PFX6_STRLEN])
{
	char a[ADDR6_STRLEN];

	addr6_fmt(p->addr, a);
	snprintf(buf, PFX6_STRLEN, "%s/%u", a, p->len);
}

int
pfx6_overlaps(const struct pfx6 *a, const struct pfx6 *b)
{
	int len = a->len < b->len ? a->len : b->len;

	for (int bit = 0; bit < len; bit++) {
		int m = 0x80 >> (bit % 8);

		if ((a->addr[bit / 8] & m) != (b->addr[bit / 8] & m))
			return 0;
	}
	return 1;
}

static int
addr_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
mac_parse(const char *s, uint8_t out[6])
{
	uint8_t m[6];

	for (int i = 0; i < 6; i++) {
		int hi, lo;

		if (i > 0 && *s++ != ':')
			return -1;
		if ((hi = addr_hexval(s[0])) < 0 || (lo = addr_hexval(s[1])) < 0)
			return -1;
		m[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	if (*s != '\0')
		return -1;
	memcpy(out, m, 6);
	return 0;
}

void
mac_fmt(const uint8_t m[6], char buf[MAC_STRLEN])
{
	snprintf(buf, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
	    m[5]);
}

int
mac_is_assignable(const uint8_t m[6])
{
	static const uint8_t zero[6];

	return (m[0] & 1) == 0 && memcmp(m, zero, 6) != 0;
}

int
addr_parse_endpoint(const char *text, struct sockaddr_storage *ss, unsigned *len)
{
	char host[ADDR6_STRLEN + 2];
	const char *colon = strrchr(text, ':');
	char *end;
	long port;
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - text)) == 0 || n >= sizeof(host))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[n - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[n - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	((struct sockaddr_in *)ss)->sin_family = AF_INET;
	((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	*len = sizeof(struct sockaddr_in);
	return inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1 ? 0 : -1;
}

int
addr4_is_host(uint32_t a)
{
	return a != 0 && (a >> 28) < 14;
}

int
addr6_is_host(const uint8_t a[16])
{
	static const uint8_t zero[15];

	return a[0] != 0xff && (memcmp(a, zero, 15) != 0 || a[15] > 1);
}
