/* Address allocation inside a subnet: pure functions, unit-tested on their own. */
#ifndef VENEER_IPAM_H
#define VENEER_IPAM_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum ipam_class {
	IPAM_USABLE = 0,
	IPAM_OUTSIDE,   /* not in the subnet */
	IPAM_NETWORK,   /* the subnet's own address */
	IPAM_GATEWAY,   /* the first address: the router's */
	IPAM_BROADCAST, /* the last address */
};

/* ipam.c */
/* Says whether a may be given to a port of subnet s. */
enum ipam_class ipam_classify(const struct pfx4 *s, uint32_t a);
/*
 * Finds the lowest address of s that a port may hold and that is not in used
 * (ascending, may contain addresses outside s). 0 and *out set, or -1 if s is full.
 */
int ipam_first_free(const struct pfx4 *s, const uint32_t *used, size_t n, uint32_t *out);

#endif
