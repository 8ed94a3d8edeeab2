/*
 * A hash map from NUL-terminated string keys (copied) to pointers: open addressing with
 * linear probing and tombstones, grown at 70% load. Iteration order is unspecified.
 */
#ifndef VENEER_MAP_H
#define VENEER_MAP_H

#include <stddef.h>

struct map_slot {
	char *key; /* NULL: empty; MAP_TOMB: deleted */
	void *val;
};

struct map {
	struct map_slot *slots;
	size_t cap;   /* power of two, or 0 */
	size_t count; /* live entries */
	size_t used;  /* live + tombstones */
};

/* map.c */
void *map_get(const struct map *m, const char *key);
/* Inserts or replaces; returns the previous value (or NULL). On allocation failure returns
 * NULL and sets *failed (when failed is not NULL). */
void *map_put(struct map *m, const char *key, void *val, int *failed);
/* Removes key; returns its value or NULL. */
void *map_del(struct map *m, const char *key);
/* Calls fn(key, val, arg) for every entry; fn must not change the map. */
void map_each(const struct map *m, void (*fn)(const char *key, void *val, void *arg),
    void *arg);
/* Frees the keys and the table (values are the caller's: free them first with map_each). */
void map_clear(struct map *m);

#endif
