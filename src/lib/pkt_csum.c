/*
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624). Sums stay in
 * host-order 16-bit values, so a checksum written with wbuf_u16 lands in wire order.
 */
#include "pkt.h"

static uint32_t
csum_reduce(uint64_t acc)
{
	/* 2^16 == 1 modulo 0xffff, so carries fold back in without losing the value. */
	while (acc > 0xffff)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

uint32_t
csum_sum(uint32_t sum, struct cur c)
{
	uint64_t acc = sum;

	while (cur_left(&c) >= 4)
		acc += cur_u32(&c);
	if (cur_left(&c) >= 2)
		acc += cur_u16(&c);
	if (cur_left(&c) == 1)
		acc += (uint32_t)cur_u8(&c) << 8;
	return csum_reduce(acc);
}

uint16_t
csum_fold(uint32_t sum)
{
	return (uint16_t)~csum_reduce(sum);
}

uint32_t
csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint64_t acc = (uint64_t)src + dst + proto + len;

	return csum_reduce(acc);
}

uint16_t
csum_update16(uint16_t csum, uint16_t oldv, uint16_t newv)
{
	/* HC' = ~(~HC + ~m + m'): equals recomputing, even where RFC 1141's form gave -0. */
	uint64_t acc = (uint16_t)~csum + (uint16_t)~oldv + (uint64_t)newv;

	return (uint16_t)~csum_reduce(acc);
}

uint16_t
csum_update32(uint16_t csum, uint32_t oldv, uint32_t newv)
{
	uint64_t acc = (uint16_t)~csum;

	acc += (uint16_t)~(oldv >> 16) + (uint64_t)(uint16_t)~oldv;
	acc += (newv >> 16) + (uint64_t)(newv & 0xffff);
	return (uint16_t)~csum_reduce(acc);
}
