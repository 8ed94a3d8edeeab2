#include "ipam.h"

enum ipam_class
ipam_classify(const struct pfx4 *s, uint32_t a)
{
	if (!pfx4_contains_addr(s, a))
		return IPAM_OUTSIDE;
	if (a == s->addr)
		return IPAM_NETWORK;
	if (a == s->addr + 1)
		return IPAM_GATEWAY;
	if (a == pfx4_last(s))
		return IPAM_BROADCAST;
	return IPAM_USABLE;
}

int
ipam_first_free(const struct pfx4 *s, const uint32_t *used, size_t n, uint32_t *out)
{
	uint32_t cand = s->addr + 2, last = pfx4_last(s);
	size_t i = 0;

	if (s->len > 30)
		return -1;
	while (i < n && used[i] < cand)
		i++;
	/* Walk the sorted used list: the first gap in it is the answer. */
	for (; cand < last; cand++, i++) {
		while (i < n && used[i] < cand)
			i++;
		if (i == n || used[i] != cand) {
			*out = cand;
			return 0;
		}
	}
	return -1;
}
