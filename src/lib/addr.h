/*
 * Strict parsers and formatters for the address forms the API and the wire carry:
 * IPv4 addresses and prefixes, IPv6 addresses and prefixes, MAC addresses.
 * Parsers accept only the canonical text form (no spaces, no leading zeros in IPv4
 * octets, no trailing bytes) and never read past the terminating NUL.
 */
#ifndef VENEER_ADDR_H
#define VENEER_ADDR_H

#include <stddef.h>
#include <stdint.h>

enum addr_err {
	ADDR_OK = 0,
	ADDR_ESYNTAX,   /* not an address/prefix of this family */
	ADDR_ELEN,      /* prefix length out of the allowed range */
	ADDR_EHOSTBITS, /* bits set beyond the prefix length */
};

/* Host byte order. */
struct pfx4 {
	uint32_t addr;
	uint8_t len;
};

struct pfx6 {
	uint8_t addr[16];
	uint8_t len;
};

#define ADDR4_STRLEN 16 /* "255.255.255.255" + NUL */
#define PFX4_STRLEN 20
#define ADDR6_STRLEN 46
#define PFX6_STRLEN 52
#define MAC_STRLEN 18

/* addr.c */
int addr4_parse(const char *s, uint32_t *out);
void addr4_fmt(uint32_t a, char buf[ADDR4_STRLEN]);
/* Accepts "a.b.c.d/len" with minlen <= len <= maxlen and no host bits. */
enum addr_err pfx4_parse(const char *s, struct pfx4 *out, int minlen, int maxlen);
/* As pfx4_parse with any length 0-32, clearing host bits instead of refusing them. */
int pfx4_parse_loose(const char *s, struct pfx4 *out);
void pfx4_fmt(const struct pfx4 *p, char buf[PFX4_STRLEN]);
uint32_t pfx4_mask(uint8_t len);
uint32_t pfx4_last(const struct pfx4 *p);
int pfx4_contains_addr(const struct pfx4 *p, uint32_t a);
/* 1 if inner lies entirely inside outer. */
int pfx4_contains(const struct pfx4 *outer, const struct pfx4 *inner);
int pfx4_overlaps(const struct pfx4 *a, const struct pfx4 *b);
/* Orders by address, then by length. */
int pfx4_cmp(const struct pfx4 *a, const struct pfx4 *b);

int addr6_parse(const char *s, uint8_t out[16]);
void addr6_fmt(const uint8_t a[16], char buf[ADDR6_STRLEN]);
enum addr_err pfx6_parse(const char *s, struct pfx6 *out, int minlen, int maxlen);
void pfx6_fmt(const struct pfx6 *p, char buf[PFX6_STRLEN]);
int pfx6_overlaps(const struct pfx6 *a, const struct pfx6 *b);

struct sockaddr_storage;
/*
 * Parses "A.B.C.D:PORT" or "[IPV6]:PORT" into ss (port 0-65535); 0 with *len set to the
 * sockaddr's size, or -1.
 */
int addr_parse_endpoint(const char *text, struct sockaddr_storage *ss, unsigned *len);

/*
 * May this address be a host's own (a substrate address)? Refuses 0.0.0.0, multicast,
 * class E and broadcast for IPv4; ::, ::1 and multicast for IPv6.
 */
int addr4_is_host(uint32_t a);
int addr6_is_host(const uint8_t a[16]);

/* Accepts "aa:bb:cc:dd:ee:ff" (either case). */
int mac_parse(const char *s, uint8_t out[6]);
void mac_fmt(const uint8_t m[6], char buf[MAC_STRLEN]);
/* Unicast and not all-zero: usable as a port's or router's address. */
int mac_is_assignable(const uint8_t m[6]);

#endif
