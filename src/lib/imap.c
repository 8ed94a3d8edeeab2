#include "imap.h"

#include <stdlib.h>

static size_t
imap_slot(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull; /* murmur3 finaliser: spreads sequential addresses */
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

void *
imap_get(const struct imap *m, uint64_t key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = imap_slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->vals[i] == NULL)
			return NULL;
		if (m->keys[i] == key)
			return m->vals[i];
	}
}

static int
imap_grow(struct imap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	uint64_t *keys = calloc(cap, sizeof(*keys));
	void **vals = calloc(cap, sizeof(*vals));

	if (keys == NULL || vals == NULL) {
		free(keys);
		free(vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (m->vals[i] == NULL)
			continue;
		for (j = imap_slot(m->keys[i], cap); vals[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

int
imap_put(struct imap *m, uint64_t key, void *val)
{
	size_t i;

	if ((m->count + 1) * 2 > m->cap && imap_grow(m) < 0)
		return -1;
	for (i = imap_slot(key, m->cap); m->vals[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key)
			break;
	if (m->vals[i] == NULL)
		m->count++;
	m->keys[i] = key;
	m->vals[i] = val;
	return 0;
}

void
imap_free(struct imap *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->count = 0;
}

uint64_t
imap_mac(const uint8_t mac[6])
{
	uint64_t k = 0;

	for (int i = 0; i < 6; i++)
		k = k << 8 | mac[i];
	return k;
}
