/*
 * libFuzzer target: one Ethernet frame as a VM might send it, through every parser the
 * agent runs (checksums verified, and skipped so the fuzzer reaches the inner layers),
 * then, for each request, the builders that answer it. Whatever the input, every answer
 * must parse back with valid checksums, a refused build must leave its buffer untouched,
 * and in-place edits of a valid datagram must keep it valid; anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gso.h"
#include "pkt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct pkt_endpoint fz_self = {{0x02, 0x00, 0x0a, 0x00, 0x00, 0x01}, 0x0a000001};
static const struct pkt_dhcp_lease fz_lease = {.yiaddr = 0x0a000005, .mask = 0xffffff00,
    .router = 0x0a000001, .lease_secs = 3600, .mtu = 1450, .ndns = 1, .dns = {0x0a000001}};

/* Large enough for an echo reply to the largest frame replay.c could hand us. */
static uint8_t fz_out[65536 + 64];

#define FZ_CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

/* An answer must be a frame the agent itself would accept, checksums included. */
static void
fz_verify_answer(const uint8_t *buf, size_t len)
{
	struct cur c = cur_make(buf, len), p;
	struct pkt_ip4_frame f;
	struct pkt_arp a;
	struct pkt_icmp m;
	struct pkt_udp u;
	struct pkt_dhcp d;

	if (len >= PKT_ETH_HLEN + 2 && buf[12] == 0x08 && buf[13] == 0x06) {
		FZ_CHECK(pkt_eth_parse(&c, &f.eth) == PKT_OK);
		FZ_CHECK(pkt_arp_parse(&f.eth.payload, &a) == PKT_OK);
		return;
	}
	FZ_CHECK(pkt_ip4_frame_parse(&c, 0, &f) == PKT_OK);
	FZ_CHECK(cur_left(&c) == 0);
	p = f.ip.payload;
	if (f.ip.proto == PKT_IPPROTO_ICMP) {
		FZ_CHECK(pkt_icmp_parse(&p, &f.ip, 0, &m) == PKT_OK);
		return;
	}
	FZ_CHECK(f.ip.proto == PKT_IPPROTO_UDP);
	FZ_CHECK(pkt_udp_parse(&p, &f.ip, 0, &u) == PKT_OK && u.csum != 0);
	FZ_CHECK(pkt_dhcp_parse(&u.payload, &d) == PKT_OK);
}

/* Runs one builder through a roomy buffer (answer verified) and a tight one (refusal
 * must leave no trace). */
typedef enum pkt_result (*fz_build_fn)(struct wbuf *w, const void *ctx);

static void
fz_build(fz_build_fn fn, const void *ctx)
{
	struct wbuf w = wbuf_make(fz_out, sizeof(fz_out));
	enum pkt_result r = fn(&w, ctx);
	size_t need = w.len;

	FZ_CHECK(!w.failed);
	if (r != PKT_OK) {
		FZ_CHECK(w.len == 0);
		return;
	}
	fz_verify_answer(fz_out, w.len);
	w = wbuf_make(fz_out, need / 2);
	FZ_CHECK(fn(&w, ctx) == PKT_NO_SPACE && w.len == 0 && !w.failed);
}

struct fz_ctx {
	const struct pkt_ip4_frame *f;
	const struct pkt_arp *arp;
	const struct pkt_icmp *icmp;
	const struct pkt_dhcp *dhcp;
	uint8_t type;
};

static enum pkt_result
fz_arp_reply(struct wbuf *w, const void *ctx)
{
	return pkt_arp_reply(w, ((const struct fz_ctx *)ctx)->arp, fz_self.mac);
}

static enum pkt_result
fz_echo_reply(struct wbuf *w, const void *ctx)
{
	const struct fz_ctx *x = ctx;

	return pkt_icmp_echo_reply(w, x->f, x->icmp, &fz_self);
}

static enum pkt_result
fz_icmp_error(struct wbuf *w, const void *ctx)
{
	const struct fz_ctx *x = ctx;

	switch (x->type) {
	case 0:
		return pkt_icmp_time_exceeded(w, x->f, &fz_self);
	case 1:
		return pkt_icmp_unreach(w, x->f, PKT_UNREACH_PORT, &fz_self);
	default:
		return pkt_icmp_frag_needed(w, x->f, 1400, &fz_self);
	}
}

static enum pkt_result
fz_dhcp_reply(struct wbuf *w, const void *ctx)
{
	const struct fz_ctx *x = ctx;

	return pkt_dhcp_reply(w, x->type, x->f, x->dhcp, &fz_lease, &fz_self);
}

static void
fz_arp(struct cur payload)
{
	struct pkt_arp a;
	struct fz_ctx x = {.arp = &a};

	if (pkt_arp_parse(&payload, &a) == PKT_OK)
		fz_build(fz_arp_reply, &x);
}

static void
fz_dhcp(const struct pkt_ip4_frame *f, struct cur udp_payload)
{
	static const uint8_t types[] = {PKT_DHCP_OFFER, PKT_DHCP_ACK, PKT_DHCP_NAK, 0};
	struct pkt_dhcp d;
	struct fz_ctx x = {.f = f, .dhcp = &d};

	if (pkt_dhcp_parse(&udp_payload, &d) != PKT_OK)
		return;
	for (size_t i = 0; i < sizeof(types); i++) {
		x.type = types[i];
		fz_build(fz_dhcp_reply, &x);
	}
}

static void
fz_l4(const struct pkt_ip4_frame *f, unsigned flags)
{
	struct cur p = f->ip.payload;
	struct pkt_icmp m;
	struct pkt_udp u;
	struct pkt_tcp t;
	struct fz_ctx x = {.f = f, .icmp = &m};

	if (f->ip.proto == PKT_IPPROTO_ICMP && pkt_icmp_parse(&p, &f->ip, flags, &m) == PKT_OK)
		fz_build(fz_echo_reply, &x);
	else if (f->ip.proto == PKT_IPPROTO_UDP && pkt_udp_parse(&p, &f->ip, flags, &u) == PKT_OK)
		fz_dhcp(f, u.payload);
	else if (f->ip.proto == PKT_IPPROTO_TCP)
		pkt_tcp_parse(&p, &f->ip, flags, &t);
}

/* After a recomputed L4 checksum, the L4 parser may refuse anything but the checksum. */
static void
fz_l4_csum_ok(const struct pkt_ip4 *ip)
{
	struct cur p = ip->payload;
	struct pkt_icmp m;
	struct pkt_udp u;
	struct pkt_tcp t;
	enum pkt_result r = PKT_OK;

	if (ip->proto == PKT_IPPROTO_ICMP)
		r = pkt_icmp_parse(&p, ip, 0, &m);
	else if (ip->proto == PKT_IPPROTO_UDP)
		r = pkt_udp_parse(&p, ip, 0, &u);
	else if (ip->proto == PKT_IPPROTO_TCP)
		r = pkt_tcp_parse(&p, ip, 0, &t);
	FZ_CHECK(r != PKT_BAD_CSUM);
}

/* The forwarding edits, on a copy: a datagram that verified must still verify after
 * them, and its L4 checksum once recomputed. */
static void
fz_edit(const uint8_t *data, size_t size, const struct pkt_ip4_frame *f)
{
	uint8_t *copy = malloc(size);
	struct wbuf w;
	struct cur c;
	struct pkt_ip4_frame g;
	enum pkt_result r;

	if (copy == NULL)
		return;
	memcpy(copy, data, size);
	w = wbuf_make(copy, size);
	w.len = size;
	r = pkt_ip4_dec_ttl(&w, f->eth.hlen);
	FZ_CHECK(r == PKT_OK || r == PKT_TTL_EXPIRED);
	FZ_CHECK(pkt_eth_rewrite(&w, fz_self.mac, f->eth.src) == PKT_OK);
	r = pkt_ip4_l4_csum_fill(&w, f->eth.hlen);
	c = cur_make(copy, size);
	FZ_CHECK(pkt_ip4_frame_parse(&c, 0, &g) == PKT_OK);
	FZ_CHECK(g.ip.ttl == (f->ip.ttl > 1 ? f->ip.ttl - 1 : f->ip.ttl));
	if (r == PKT_OK)
		fz_l4_csum_ok(&g.ip);
	free(copy);
}

static void
fz_ip4(const uint8_t *data, size_t size)
{
	struct cur c = cur_make(data, size);
	struct pkt_ip4_frame f;
	struct fz_ctx x = {.f = &f};
	int verified;

	verified = pkt_ip4_frame_parse(&c, 0, &f) == PKT_OK;
	c = cur_make(data, size);
	if (pkt_ip4_frame_parse(&c, PKT_CSUM_SKIP, &f) != PKT_OK)
		return;
	if (verified) {
		fz_edit(data, size, &f);
		fz_l4(&f, 0);
	}
	fz_l4(&f, PKT_CSUM_SKIP);
	for (x.type = 0; x.type < 3; x.type++)
		fz_build(fz_icmp_error, &x);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/*
 * The same input read as a TAP with offloads hands it over: a virtio_net_hdr, then the
 * frame. Every segment of a TSO super-frame must be a frame whose IPv4 total length is its
 * own, and whose TCP checksum verifies whenever its IPv4 header parses; a completed partial
 * checksum must not write outside the frame; a merged header must keep a valid IPv4 sum.
 */
static uint8_t fz_copy[65536 + 64];

static void
fz_vnet(const uint8_t *data, size_t size)
{
	struct cur c = cur_make(data, size), sc;
	struct gso_vnet v;
	struct gso_iter it;
	struct gso_seg s;
	struct pkt_ip4_frame f;
	struct pkt_tcp t;
	size_t len, n;

	if (gso_vnet_parse(&c, &v) != GSO_OK || (len = cur_left(&c)) > sizeof(fz_copy) - 64)
		return;
	memcpy(fz_copy, cur_rest(&c), len);
	if (v.type == GSO_NONE) {
		if (v.flags & GSO_F_NEEDS_CSUM)
			(void)gso_csum_complete(fz_copy, len, &v);
		if (gso_seg_candidate(fz_copy, len, &s)) {
			struct gso_vnet m;

			FZ_CHECK(s.hlen + s.plen == len);
			FZ_CHECK(gso_merge_header(fz_copy, &s, s.plen, 1, (uint16_t)s.plen, &m) == 0);
			sc = cur_make(fz_copy, len);
			FZ_CHECK(pkt_ip4_frame_parse(&sc, 0, &f) == PKT_OK);
		}
		return;
	}
	if (gso_tcp4_begin(&it, cur_rest(&c), len, v.size) != GSO_OK || it.n > 512)
		return;
	while ((n = gso_tcp4_next(&it, fz_out, sizeof(fz_out))) > 0) {
		FZ_CHECK(n >= 54 && (size_t)(fz_out[16] << 8 | fz_out[17]) + 14 == n);
		sc = cur_make(fz_out, n);
		if (pkt_ip4_frame_parse(&sc, 0, &f) != PKT_OK)
			continue; /* IPv4 options copied as the VM wrote them */
		FZ_CHECK(f.ip.proto == PKT_IPPROTO_TCP);
		sc = f.ip.payload;
		FZ_CHECK(pkt_tcp_parse(&sc, &f.ip, 0, &t) == PKT_OK);
	}
	FZ_CHECK(it.i == it.n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cur c = cur_make(data, size);
	struct pkt_eth e;

	fz_vnet(data, size);
	if (pkt_eth_parse(&c, &e) != PKT_OK)
		return 0;
	if (e.type == PKT_ETHERTYPE_ARP)
		fz_arp(e.payload);
	else if (e.type == PKT_ETHERTYPE_IPV4)
		fz_ip4(data, size);
	return 0;
}
