#include "vip.h"

#include <string.h>

int
vip_take(struct vip_bucket *b, uint64_t now_ms, double rate, double burst)
{
	return vip_take_n(b, now_ms, rate, burst, 1.0);
}

int
vip_take_n(struct vip_bucket *b, uint64_t now_ms, double rate, double burst, double n)
{
	if (!b->used) {
		b->used = 1;
		b->level = burst;
		b->last_ms = now_ms;
	}
	/* A clock that went back (it should not: monotonic) adds nothing. */
	if (now_ms > b->last_ms) {
		b->level += (double)(now_ms - b->last_ms) / 1000.0 * rate;
		if (b->level > burst)
			b->level = burst;
		b->last_ms = now_ms;
	}
	if (b->level < n)
		return 0;
	b->level -= n;
	return 1;
}

enum vip_flood
vip_flood_kind(const struct pfx4 *subnet, uint32_t dst)
{
	if ((dst & 0xffffff00u) == 0xe0000000u)
		return VIP_FLOOD_LLMC;
	if (dst == 0xffffffffu)
		return VIP_FLOOD_BCAST;
	/* A /31 or /32 has no broadcast address (RFC 3021). */
	if (subnet != NULL && subnet->len <= 30 && dst == pfx4_last(subnet))
		return VIP_FLOOD_SUBNET;
	return VIP_FLOOD_NONE;
}

void
vip_group_mac(uint32_t dst, uint8_t mac[6])
{
	if ((dst & 0xf0000000u) == 0xe0000000u) {
		mac[0] = 0x01;
		mac[1] = 0x00;
		mac[2] = 0x5e;
		mac[3] = (uint8_t)(dst >> 16 & 0x7f);
		mac[4] = (uint8_t)(dst >> 8);
		mac[5] = (uint8_t)dst;
		return;
	}
	memset(mac, 0xff, 6);
}

int
vip_claimable(const struct pfx4 *subnet, const struct pfx4 *cl, unsigned ncl, uint32_t a)
{
	if (!pfx4_contains_addr(subnet, a) || a == subnet->addr || a == subnet->addr + 1 ||
	    a == pfx4_last(subnet))
		return 0;
	for (unsigned i = 0; i < ncl; i++)
		if (pfx4_contains_addr(&cl[i], a))
			return 1;
	return 0;
}
