/*
 * A hash map from 64-bit integer keys (IPv4 addresses, MACs, VNIDs) to pointers, for the
 * data path: open addressing, linear probing, no deletion (tables are rebuilt whole when the
 * view changes), lookups without allocation or hashing of strings.
 */
#ifndef VENEER_IMAP_H
#define VENEER_IMAP_H

#include <stddef.h>
#include <stdint.h>

struct imap {
	uint64_t *keys;
	void **vals; /* NULL: empty slot */
	size_t cap;  /* power of two, or 0 */
	size_t count;
};

/* imap.c */
/* The value of key, or NULL. */
void *imap_get(const struct imap *m, uint64_t key);
/* Inserts or replaces (val must not be NULL); 0, or -1 when out of memory. */
int imap_put(struct imap *m, uint64_t key, void *val);
void imap_free(struct imap *m);
/* A MAC address as an imap key. */
uint64_t imap_mac(const uint8_t mac[6]);

#endif
