/*
 * routerd on the substrate: VXLAN frames from agents carry a routing port's BGP packets to
 * one of its router's addresses; the IP packet inside goes into the network's TUN. What the
 * kernel answers comes out of the TUN and goes back to the port's host, framed as if by
 * the router (its MAC as source). Nothing here trusts the agent: the sender must be the
 * routing port at the substrate address it sent from, talking TCP to its own router.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "ev.h"
#include "imap.h"
#include "log.h"
#include "pkt.h"
#include "rd.h"
#include "vxlan.h"

#define RD_FRAME_MAX 9216
#define RD_SUB_RETRY_MS 3000

static int
rd_sub_sockaddr(const char *address, struct sockaddr_storage *ss, socklen_t *sl)
{
	uint32_t a4;
	uint8_t a6[16];

	memset(ss, 0, sizeof(*ss));
	if (addr4_parse(address, &a4) == 0) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(VXLAN_PORT);
		s4->sin_addr.s_addr = htonl(a4);
		*sl = sizeof(*s4);
		return 0;
	}
	if (addr6_parse(address, a6) == 0) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(VXLAN_PORT);
		memcpy(&s6->sin6_addr, a6, 16);
		*sl = sizeof(*s6);
		return 0;
	}
	return -1;
}

/* The substrate address a datagram came from, as the fib holds host addresses. */
static void
rd_sub_from(const struct sockaddr_storage *ss, struct cc_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->family = 4;
		a->len = 32;
		memcpy(a->a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct in6_addr *in6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(in6)) {
			a->family = 4;
			a->len = 32;
			memcpy(a->a, &in6->s6_addr[12], 4);
		} else {
			a->family = 6;
			a->len = 128;
			memcpy(a->a, in6, 16);
		}
	}
}

static int
rd_same_addr(const struct cc_addr *a, const struct cc_addr *b)
{
	return a->family != 0 && a->family == b->family &&
	    memcmp(a->a, b->a, a->family == 4 ? 4 : 16) == 0;
}

/* A routing port may reach its own router's addresses with TCP, and nothing else here. */
static const struct fib_port *
rd_sub_check(struct rd *rd, const struct fib_net *net, const struct cc_addr *src,
    const struct pkt_ip4_frame *f)
{
	const struct fib_port *from = imap_get(&net->by_mac, imap_mac(f->eth.src));
	const struct fib_subnet *gw = imap_get(&net->gw, f->ip.dst);

	if (from == NULL || !rd_same_addr(&from->where, src) || from->p->ip != f->ip.src ||
	    !(from->p->flags & CC_PORT_ROUTING)) {
		rd->drop_sender++;
		return NULL;
	}
	if (gw == NULL || from->sub == NULL || gw->rtr != from->sub->rtr ||
	    f->ip.proto != PKT_IPPROTO_TCP) {
		rd->drop_target++;
		return NULL;
	}
	return from;
}

static void
rd_sub_frame(struct rd *rd, const struct sockaddr_storage *ss, uint8_t *pkt, size_t len)
{
	struct cur c = cur_make(pkt, len), inner, fc;
	struct cc_addr src;
	struct pkt_ip4_frame f;
	const struct fib_net *fnet;
	struct rd_net *n;
	uint32_t vni;

	if (rd->fib == NULL || vxlan_decode(&c, &vni, &inner) != VXLAN_OK) {
		rd->drop_decode++;
		return;
	}
	fc = inner;
	if ((fnet = imap_get(&rd->fib->by_vnid, vni)) == NULL ||
	    (n = map_get(&rd->nets, fnet->n->id)) == NULL || n->tun_fd < 0 ||
	    pkt_ip4_frame_parse(&fc, 0, &f) != PKT_OK || f.eth.tagged) {
		rd->drop_decode++;
		return;
	}
	rd_sub_from(ss, &src);
	if (rd_sub_check(rd, fnet, &src, &f) == NULL)
		return;
	/* The IP packet: everything after the Ethernet header, as long as IP says. */
	if (write(n->tun_fd, cur_rest(&inner) + PKT_ETH_HLEN, f.ip.totlen) < 0) {
		rd->drop_io++;
		return;
	}
	rd->tun_tx++;
}

static void
rd_sub_on_read(struct ev_io *io, uint32_t events, void *arg)
{
	struct rd *rd = arg;
	uint8_t buf[RD_FRAME_MAX];
	struct sockaddr_storage ss;
	socklen_t sl;
	ssize_t n;

	(void)io;
	(void)events;
	for (int i = 0; i < 64; i++) {
		sl = sizeof(ss);
		n = recvfrom(rd->sub_fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);
		if (n < 0)
			return;
		rd->sub_rx++;
		rd_sub_frame(rd, &ss, buf, (size_t)n);
	}
}

/* A packet the kernel sends from a router address to a routing port. */
static void
rd_sub_tun_packet(struct rd *rd, struct rd_net *n, uint8_t *frame, size_t len)
{
	struct cur c = cur_make(frame + VXLAN_HLEN + PKT_ETH_HLEN, len);
	struct pkt_ip4 ip;
	const struct fib_net *fnet;
	const struct fib_port *to;
	const struct fib_subnet *gw;
	struct wbuf w;
	struct sockaddr_storage ss;
	socklen_t sl;
	char where[ADDR6_STRLEN];

	if (rd->fib == NULL || (fnet = imap_get(&rd->fib->by_vnid, n->vnid)) == NULL ||
	    pkt_ip4_parse(&c, 0, &ip) != PKT_OK) {
		rd->drop_decode++;
		return;
	}
	to = imap_get(&fnet->by_ip, ip.dst);
	gw = imap_get(&fnet->gw, ip.src);
	if (to == NULL || !(to->p->flags & CC_PORT_ROUTING) || gw == NULL || gw->rtr == NULL ||
	    to->sub == NULL || to->sub->rtr != gw->rtr || to->where.family == 0) {
		rd->drop_target++;
		return;
	}
	w = wbuf_make(frame, VXLAN_HLEN + PKT_ETH_HLEN);
	vxlan_encode(&w, n->vnid);
	pkt_eth_write(&w, to->p->mac, gw->rtr->r->mac, PKT_ETHERTYPE_IPV4);
	if (to->where.family == 4)
		addr4_fmt((uint32_t)to->where.a[0] << 24 | (uint32_t)to->where.a[1] << 16 |
		    (uint32_t)to->where.a[2] << 8 | to->where.a[3], where);
	else
		addr6_fmt(to->where.a, where);
	if (w.failed || rd_sub_sockaddr(where, &ss, &sl) < 0 ||
	    sendto(rd->sub_fd, frame, VXLAN_HLEN + PKT_ETH_HLEN + len, 0,
	    (struct sockaddr *)&ss, sl) < 0) {
		rd->drop_io++;
		return;
	}
	rd->sub_tx++;
}

void
rd_sub_on_tun(struct ev_io *io, uint32_t events, void *arg)
{
	struct rd_net *n = arg;
	uint8_t buf[RD_FRAME_MAX];
	ssize_t len;

	(void)io;
	(void)events;
	for (int i = 0; i < 64; i++) {
		len = read(n->tun_fd, buf + VXLAN_HLEN + PKT_ETH_HLEN,
		    sizeof(buf) - VXLAN_HLEN - PKT_ETH_HLEN);
		if (len <= 0)
			return;
		rd_sub_tun_packet(n->rd, n, buf, (size_t)len);
		n->rd->tun_rx++;
	}
}

static void rd_sub_on_retry(struct ev_timer *t, void *arg);

int
rd_sub_open(struct rd *rd)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;

	if (rd_sub_sockaddr(rd->cfg.address, &ss, &sl) < 0) {
		log_warnx("substrate address %s: not an IP address", rd->cfg.address);
		return -1;
	}
	rd->sub_fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (rd->sub_fd >= 0)
		setsockopt(rd->sub_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rd->sub_fd < 0 || bind(rd->sub_fd, (struct sockaddr *)&ss, sl) < 0) {
		/* The address may not be up yet: fail closed and retry, as the agent does. */
		log_warn("substrate socket on %s (retrying)", rd->cfg.address);
		if (rd->sub_fd >= 0)
			close(rd->sub_fd);
		rd->sub_fd = -1;
		if (rd->sub_retry == NULL)
			rd->sub_retry = ev_timer_new(rd->loop, rd_sub_on_retry, rd);
		if (rd->sub_retry)
			ev_timer_arm(rd->sub_retry, RD_SUB_RETRY_MS);
		return 0;
	}
	rd->sub_io = ev_io_add(rd->loop, rd->sub_fd, EPOLLIN, rd_sub_on_read, rd);
	return rd->sub_io ? 0 : -1;
}

static void
rd_sub_on_retry(struct ev_timer *t, void *arg)
{
	(void)t;
	rd_sub_open(arg);
}

void
rd_sub_close(struct rd *rd)
{
	if (rd->sub_io)
		ev_io_del(rd->sub_io);
	rd->sub_io = NULL;
	if (rd->sub_fd >= 0)
		close(rd->sub_fd);
	rd->sub_fd = -1;
	if (rd->sub_retry)
		ev_timer_free(rd->sub_retry);
	rd->sub_retry = NULL;
}
