#include "map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char map_tomb_mark;
#define MAP_TOMB (&map_tomb_mark)

static size_t
map_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 32));
}

static struct map_slot *
map_find(const struct map *m, const char *key)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = map_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct map_slot *s = &m->slots[i];

		if (s->key == NULL)
			return NULL;
		if (s->key != MAP_TOMB && strcmp(s->key, key) == 0)
			return s;
	}
}

void *
map_get(const struct map *m, const char *key)
{
	struct map_slot *s = map_find(m, key);

	return s ? s->val : NULL;
}

static int
map_grow(struct map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct map_slot *old = m->slots, *slots = calloc(cap, sizeof(*slots));
	size_t oldcap = m->cap;

	if (slots == NULL)
		return -1;
	/* Rehash only when live entries need it; a table full of tombstones keeps its size. */
	if (m->count * 10 < oldcap * 7 / 2 && oldcap) {
		free(slots);
		cap = oldcap;
		if ((slots = calloc(cap, sizeof(*slots))) == NULL)
			return -1;
	}
	m->slots = slots;
	m->cap = cap;
	m->used = m->count;
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (old[i].key == NULL || old[i].key == MAP_TOMB)
			continue;
		for (j = map_hash(old[i].key) & (cap - 1); slots[j].key; j = (j + 1) & (cap - 1))
			;
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

void *
map_put(struct map *m, const char *key, void *val, int *failed)
{
	struct map_slot *s = map_find(m, key);
	void *prev;
	size_t i;

	if (s) {
		prev = s->val;
		s->val = val;
		return prev;
	}
	if ((m->used + 1) * 10 > m->cap * 7 && map_grow(m) < 0)
		goto fail;
	for (i = map_hash(key) & (m->cap - 1); m->slots[i].key && m->slots[i].key != MAP_TOMB;
	    i = (i + 1) & (m->cap - 1))
		;
	if ((m->slots[i].key = strdup(key)) == NULL)
		goto fail;
	m->slots[i].val = val;
	m->count++;
	m->used++;
	return NULL;
fail:
	if (failed)
		*failed = 1;
	return NULL;
}

void *
map_del(struct map *m, const char *key)
{
	struct map_slot *s = map_find(m, key);
	void *v;

	if (s == NULL)
		return NULL;
	v = s->val;
	free(s->key);
	s->key = MAP_TOMB;
	s->val = NULL;
	m->count--;
	return v;
}

void
map_each(const struct map *m, void (*fn)(const char *key, void *val, void *arg), void *arg)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != MAP_TOMB)
			fn(m->slots[i].key, m->slots[i].val, arg);
}

void
map_clear(struct map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key != MAP_TOMB)
			free(m->slots[i].key);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
