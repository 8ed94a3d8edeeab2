/* Data plane lifecycle: TAPs that follow the view, the substrate socket, counters. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "dp.h"
#include "ev.h"
#include "log.h"
#include "tap.h"
#include "vxlan.h"

#define DP_BATCH 64 /* frames taken from one descriptor before the loop looks elsewhere */

#define DP_STATS_MS 2000 /* how often veneerd hears the counters */
#define DP_RETRY_MS 3000 /* substrate not usable yet: try again */

static void dp_load_attach(struct agent *a);

/* Is the IPv6 address at a inside the host prefix of layout l? */
static int
dp_in_prefix(const struct e6_layout *l, const uint8_t *a)
{
	unsigned full = l->plen / 8, rest = l->plen % 8;

	if (memcmp(a, l->prefix, full) != 0)
		return 0;
	return rest == 0 || ((a[full] ^ l->prefix[full]) & (0xff << (8 - rest))) == 0;
}

static const char *const dp_names[DP_NREASONS] = {
	"parse", "vlan", "not_ipv4", "src_mac", "src_ip", "source_route", "dst_ip", "arp_spoof", "arp_unknown", "broadcast",
	"to_router", "no_route", "blackhole", "ttl", "no_host", "loop", "no_location",
	"sub_decode", "sub_vni", "sub_sender", "sub_src_ip", "sub_receiver", "io", "not_ready",
	"encode", "too_big", "bgp_refused", "no_routerd", "sub_routerd", "claim_rate",
	"claim_offline", "flood_rate", "sub_not_routerd",
};

const char *
dp_reason_name(enum dp_reason r)
{
	return (unsigned)r < DP_NREASONS ? dp_names[r] : "unknown";
}

void
dp_drop(struct dp *dp, struct lport *lp, enum dp_reason r)
{
	dp->drops[r]++;
	if (lp)
		lp->drops++;
}

static void
dp_on_tap(struct ev_io *io, uint32_t events, void *arg)
{
	struct lport *lp = arg;

	(void)io;
	(void)events;
	dp_io_from_tap(lp->dp, lp);
}

/* Substrate packets come in batches: one recvmmsg() per up to DP_RX_BATCH datagrams. */
static void
dp_on_substrate(struct ev_io *io, uint32_t events, void *arg)
{
	(void)io;
	(void)events;
	dp_io_from_substrate(arg);
}

/*
 * The flow label of a flooded embed6 packet: this bit, and the packet's TTL in the low
 * byte. The hop limit is then 255, as for VXLAN, whose inner TTL no substrate hop touches.
 */
#define DP_FLOOD_FLOW 0x80000u

/* embed6: the IPv4 packet becomes an IPv6 one whose addresses name both ports. */
static void
dp_send_embed6(struct dp *dp, const struct fib_port *from, const struct fib_port *to,
    const uint8_t *frame, size_t len, int flood)
{
	struct cur ip = cur_make(frame + 14, len - 14), hdr = ip;
	struct e6_layout dl;
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	uint8_t src6[16], dst6[16], ttl;
	uint32_t s4, d4;
	struct wbuf w = wbuf_make(dp->out, DP_FRAME_MAX);

	cur_skip(&hdr, 8);
	ttl = cur_u8(&hdr);
	cur_skip(&hdr, 3);
	s4 = cur_u32(&hdr);
	d4 = cur_u32(&hdr);
	memcpy(dl.prefix, to->prefix.a, 16);
	dl.plen = to->prefix.len;
	if (!cur_ok(&hdr) || from == NULL ||
	    e6_addr_compose(&dp->layout, from->p->slot, to->net->n->vnid, s4, src6) != E6_OK ||
	    e6_addr_compose(&dl, to->p->slot, to->net->n->vnid, d4, dst6) != E6_OK ||
	    e6_encode(&ip, src6, dst6, &w) != E6_OK) {
		dp_drop(dp, NULL, DP_ENCODE);
		return;
	}
	if (flood && w.len >= 40) {
		/* Version and traffic class stay; the flow label and hop limit are ours. */
		dp->out[1] = (uint8_t)((dp->out[1] & 0xf0) | DP_FLOOD_FLOW >> 16);
		dp->out[2] = 0;
		dp->out[3] = ttl;
		dp->out[7] = 255;
	}
	memcpy(&s6.sin6_addr, dst6, 16);
	if (sendto(dp->raw6_fd, dp->out, w.len, 0, (struct sockaddr *)&s6, sizeof(s6)) < 0)
		dp_drop(dp, NULL, DP_IO);
	else
		dp->sub_tx++;
}

int
dp_embed6_flood_ttl(const uint8_t *pkt, size_t len)
{
	struct cur c = cur_make(pkt, len);
	uint32_t vtf = cur_u32(&c);

	if (!cur_ok(&c) || (vtf & DP_FLOOD_FLOW) == 0)
		return -1;
	return (int)(vtf & 0xff);
}

static int
dp_embed6_target(struct dp *dp, const struct fib_port *to)
{
	if (dp->raw6_fd < 0 || to->prefix.family != 6 || to->p->slot == 0) {
		dp_drop(dp, NULL, DP_NO_LOCATION);
		return 0;
	}
	return 1;
}

void
dp_deliver_flood(struct dp *dp, const struct fib_port *from, const struct fib_port *to,
    uint8_t *frame, size_t len)
{
	if (!to->local && to->encap == CC_ENCAP_EMBED6) {
		if (dp_embed6_target(dp, to))
			dp_send_embed6(dp, from, to, frame, len, 1);
		return;
	}
	dp_deliver(dp, from, to, frame, len);
}

void
dp_deliver(struct dp *dp, const struct fib_port *from, const struct fib_port *to,
    uint8_t *frame, size_t len)
{
	struct wbuf w;
	struct sockaddr_storage ss;
	socklen_t sl;

	if (!to->local && to->encap == CC_ENCAP_EMBED6) {
		if (dp_embed6_target(dp, to))
			dp_send_embed6(dp, from, to, frame, len, 0);
		return;
	}
	if (to->local) {
		if (to->lp == NULL || tap_write(to->lp->fd, frame, len) < 0)
			dp_drop(dp, NULL, to->lp ? DP_IO : DP_NO_LOCATION);
		else
			to->lp->tx++;
		return;
	}
	if (to->where.family == 0) {
		dp_drop(dp, NULL, DP_NO_LOCATION);
		return;
	}
	/* The VXLAN header goes into the headroom in front of the frame: no copy. */
	w = wbuf_make(frame - VXLAN_HLEN, VXLAN_HLEN);
	vxlan_encode(&w, to->net->n->vnid);
	memset(&ss, 0, sizeof(ss));
	if (to->where.family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(VXLAN_PORT);
		memcpy(&s4->sin_addr, to->where.a, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(VXLAN_PORT);
		memcpy(&s6->sin6_addr, to->where.a, 16);
		sl = sizeof(*s6);
	}
	/* Frames read from a TAP lie in the stage: sent with the rest of their batch. */
	if (frame - VXLAN_HLEN >= dp->stage && frame + len <= dp->stage + DP_STAGE) {
		dp_io_queue(dp, frame - VXLAN_HLEN, len + VXLAN_HLEN, &ss, sl);
		return;
	}
	if (sendto(dp->sub_fd, frame - VXLAN_HLEN, len + VXLAN_HLEN, 0, (struct sockaddr *)&ss,
	    sl) < 0)
		dp_drop(dp, NULL, DP_IO);
	else
		dp->sub_tx++;
}

static int
dp_socket(struct agent *a)
{
	struct dp *dp = a->dp;
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, a->cfg.address, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(VXLAN_PORT);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, a->cfg.address,
	    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(VXLAN_PORT);
		sl = sizeof(struct sockaddr_in6);
	} else {
		log_warnx("bad substrate address %s", a->cfg.address);
		return -1;
	}
	dp->sub_fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (dp->sub_fd < 0 || setsockopt(dp->sub_fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || bind(dp->sub_fd, (struct sockaddr *)&ss, sl) < 0) {
		log_warn("substrate socket on %s", a->cfg.address);
		return -1;
	}
	/* Bursts from many VMs must not overflow the default ~200 KiB socket buffers. */
	{
		int sz = 8 << 20;

		if (setsockopt(dp->sub_fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
			setsockopt(dp->sub_fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		if (setsockopt(dp->sub_fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
			setsockopt(dp->sub_fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	/*
	 * UDP GSO out (the segments of a TCP super-frame in one sendmsg) and GRO in (one
	 * recvmmsg slot holds many datagrams of a flow) when the kernel has them.
	 */
	{
		int zero = 0;

		dp->udp_gso = setsockopt(dp->sub_fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
		if (setsockopt(dp->sub_fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0)
			log_warn("substrate: no UDP GRO");
	}
	if ((dp->sub_io = ev_io_add(a->loop, dp->sub_fd, EPOLLIN, dp_on_substrate, dp)) == NULL)
		return -1;
	return 0;
}

/* Sends the drop counters and per-port counters to veneerd (for veneerctl). */
static void
dp_on_stats(struct ev_timer *t, void *arg)
{
	struct agent *a = arg;
	struct dp *dp = a->dp;
	static uint8_t msg[CC_MAX_MSG];
	struct cc_stat_port *ports;
	unsigned n = 0;
	struct wbuf w = wbuf_make(msg, sizeof(msg));

	ev_timer_arm(t, DP_STATS_MS);
	if (a->conn == NULL || !a->welcomed)
		return;
	if ((ports = calloc(dp->lports.count + 1, sizeof(*ports))) == NULL)
		return;
	for (size_t i = 0; i < dp->lports.cap && n < CC_MAX_STAT_PORTS; i++) {
		const struct lport *lp = dp->lports.slots[i].val;

		if (lp == NULL)
			continue;
		snprintf(ports[n].id, sizeof(ports[n].id), "%s", lp->id);
		ports[n].rx = lp->rx;
		ports[n].tx = lp->tx;
		ports[n].drops = lp->drops;
		n++;
	}
	cc_encode_stats(&w, dp_names, dp->drops, DP_NREASONS, ports, n);
	if (!w.failed)
		conn_send_raw(a->conn, msg, w.len);
	free(ports);
}

/* The interface holding this host's substrate address: where embed6 packets arrive. */
static int
dp_ifindex(const char *address)
{
	struct ifaddrs *ifa, *i;
	struct in6_addr want;
	int idx = 0;

	if (inet_pton(AF_INET6, address, &want) != 1 || getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i && !idx; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6 &&
		    memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, &want, 16) == 0)
			idx = (int)if_nametoindex(i->ifa_name);
	freeifaddrs(ifa);
	return idx;
}

static void
dp_on_packet(struct ev_io *io, uint32_t events, void *arg)
{
	struct dp *dp = arg;

	(void)io;
	(void)events;
	for (int i = 0; i < DP_BATCH; i++) {
		struct sockaddr_ll sll;
		socklen_t sl = sizeof(sll);
		ssize_t n = recvfrom(dp->pkt_fd, dp->buf + DP_HEADROOM, DP_FRAME_MAX, 0,
		    (struct sockaddr *)&sll, &sl);

		if (n < 0)
			return;
		/* Our own packets going out, and the host's own traffic, are not ours to take. */
		if (sll.sll_pkttype == PACKET_OUTGOING || n < 40 ||
		    !dp_in_prefix(&dp->layout, dp->buf + DP_HEADROOM + 24))
			continue;
		dp->sub_rx++;
		fwd_from_embed6(dp, dp->buf + DP_HEADROOM, (size_t)n);
	}
}

/*
 * A classic BPF program for the packet socket: accept only IPv6 packets whose destination
 * lies in this host's prefix, so the host's other IPv6 traffic never wakes the agent.
 */
static int
dp_prefix_filter(int fd, const struct e6_layout *l)
{
	struct sock_filter code[3 * 3 + 2];
	struct sock_fprog prog;
	unsigned n = 0, words = (l->plen + 31) / 32;

	for (unsigned w = 0; w < words; w++) {
		unsigned bits = l->plen - 32 * w >= 32 ? 32 : l->plen - 32 * w;
		uint32_t mask = bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
		uint32_t val = ((uint32_t)l->prefix[4 * w] << 24 | (uint32_t)l->prefix[4 * w + 1] << 16 |
		    (uint32_t)l->prefix[4 * w + 2] << 8 | l->prefix[4 * w + 3]) & mask;
		unsigned left = words - w - 1; /* word checks after this one */

		code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 24 + 4 * w);
		code[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask);
		/* Equal: on to the next word (or accept); else jump to the drop at the end. */
		code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, val, 0,
		    (uint8_t)(3 * left + 1));
	}
	code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffff);
	code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	prog.len = (unsigned short)n;
	prog.filter = code;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

/*
 * embed6 needs no tunnel between agents: IPv6 packets are written raw (the kernel routes them
 * to the substrate routers) and read from the substrate interface with a packet socket,
 * since their destinations are not addresses of this host.
 */
static int
dp_embed6(struct agent *a)
{
	struct dp *dp = a->dp;
	struct pfx6 p;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IPV6)};
	int sz = 8 << 20;

	if (a->cfg.prefix == NULL || pfx6_parse(a->cfg.prefix, &p, E6_PLEN_MIN, E6_PLEN_MAX) !=
	    ADDR_OK) {
		log_warnx("embed6 needs a host prefix of length %d-%d without host bits",
		    E6_PLEN_MIN, E6_PLEN_MAX);
		return -1;
	}
	memcpy(dp->layout.prefix, p.addr, 16);
	dp->layout.plen = p.len;
	if ((sll.sll_ifindex = dp_ifindex(a->cfg.address)) == 0) {
		log_warnx("no interface holds substrate address %s", a->cfg.address);
		return -1;
	}
	dp->raw6_fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
	dp->pkt_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    htons(ETH_P_IPV6));
	if (dp->raw6_fd < 0 || dp->pkt_fd < 0 ||
	    bind(dp->pkt_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		log_warn("embed6 sockets");
		return -1;
	}
	if (dp_prefix_filter(dp->pkt_fd, &dp->layout) < 0)
		log_warn("packet filter: every IPv6 packet of the interface will be read");
	setsockopt(dp->pkt_fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	setsockopt(dp->raw6_fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	if ((dp->pkt_io = ev_io_add(a->loop, dp->pkt_fd, EPOLLIN, dp_on_packet, dp)) == NULL)
		return -1;
	/*
	 * BGP with routerd stays VXLAN (docs/architecture.md, "The routing manager"): the frame
	 * keeps its TTL, which the hop limit of a translated packet would lose on every
	 * substrate hop (GTSM), and routerd has no slot to address it by.
	 */
	return dp_socket(a);
}

static void
dp_close_substrate(struct dp *dp)
{
	if (dp->pkt_io)
		ev_io_del(dp->pkt_io);
	if (dp->sub_io)
		ev_io_del(dp->sub_io);
	if (dp->pkt_fd >= 0)
		close(dp->pkt_fd);
	if (dp->raw6_fd >= 0)
		close(dp->raw6_fd);
	if (dp->sub_fd >= 0)
		close(dp->sub_fd);
	dp->pkt_io = dp->sub_io = NULL;
	dp->pkt_fd = dp->raw6_fd = dp->sub_fd = -1;
}

/*
 * Opens the substrate sockets. The substrate address may not be up yet (a host booting):
 * then the agent keeps its control channel, forwards nothing over the substrate (fail
 * closed), and tries again every few seconds.
 */
static void
dp_open_substrate(struct agent *a)
{
	int rc = a->cfg.encap == CC_ENCAP_EMBED6 ? dp_embed6(a) : dp_socket(a);

	if (rc == 0) {
		if (a->dp->substrate_down)
			log_info("substrate %s is usable now", a->cfg.address);
		a->dp->substrate_down = 0;
		return;
	}
	if (!a->dp->substrate_down)
		log_warnx("substrate %s not usable: retrying every %d s", a->cfg.address,
		    DP_RETRY_MS / 1000);
	a->dp->substrate_down = 1;
	dp_close_substrate(a->dp);
	ev_timer_arm(a->dp->retry, DP_RETRY_MS);
}

static void
dp_on_retry(struct ev_timer *t, void *arg)
{
	(void)t;
	dp_open_substrate(arg);
}

int
dp_start(struct agent *a)
{
	struct dp *dp = calloc(1, sizeof(*dp));

	if (dp == NULL)
		return -1;
	a->dp = dp;
	dp->a = a;
	dp->sub_fd = -1;
	dp->raw6_fd = -1;
	dp->pkt_fd = -1;
	/* The overlay must never fragment on a 1500-byte substrate: 50 bytes of VXLAN over IPv4,
	 * 70 over IPv6. */
	dp->mtu = strchr(a->cfg.address, ':') ? 1430 : 1450;
	/* embed6 adds 20 bytes (28 with a fragment header) to a 1500-byte substrate. */
	if (a->cfg.encap == CC_ENCAP_EMBED6) {
		dp->mtu = 1472;
		dp->routerd_only = 1;
	}
	dp->buf = malloc(DP_FRAME_MAX + DP_HEADROOM);
	dp->out = malloc(DP_FRAME_MAX + DP_HEADROOM);
	dp->rxbufs = malloc((size_t)DP_RX_BATCH * DP_RX_SLOT);
	dp->stage = malloc(DP_STAGE);
	dp->txq = calloc(DP_TXQ, sizeof(*dp->txq));
	if (dp->buf == NULL || dp->out == NULL || dp->rxbufs == NULL || dp->stage == NULL ||
	    dp->txq == NULL)
		return -1;
	dp_load_attach(a);
	if ((dp->stats = ev_timer_new(a->loop, dp_on_stats, a)) == NULL)
		return -1;
	ev_timer_arm(dp->stats, DP_STATS_MS);
	if ((dp->retry = ev_timer_new(a->loop, dp_on_retry, a)) == NULL)
		return -1;
	dp_open_substrate(a);
	return 0;
}

static void
dp_lport_close(struct dp *dp, struct lport *lp, int destroy)
{
	ev_io_del(lp->io);
	if (destroy)
		tap_destroy(lp->fd);
	else
		close(lp->fd);
	(void)dp;
	free(lp);
}

static void
dp_close_each(const char *key, void *val, void *arg)
{
	(void)key;
	dp_lport_close(arg, val, 0);
}

static void
dp_free_str(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	free(val);
}

void
dp_stop(struct agent *a)
{
	struct dp *dp = a->dp;

	if (dp == NULL)
		return;
	/* TAPs stay (persistent): a restarted agent picks them up again. */
	map_each(&dp->lports, dp_close_each, dp);
	map_clear(&dp->lports);
	map_each(&dp->attach, dp_free_str, NULL);
	map_clear(&dp->attach);
	ev_timer_free(dp->stats);
	ev_timer_free(dp->retry);
	dp_close_substrate(dp);
	fib_free(dp->fib);
	free(dp->buf);
	free(dp->out);
	free(dp->rxbufs);
	free(dp->stage);
	free(dp->txq);
	free(dp);
	a->dp = NULL;
}

static void
dp_port_state(struct agent *a, const char *id, int up)
{
	struct cc_msg m = {.type = CC_PORT_STATE};

	if (a->conn == NULL)
		return;
	snprintf(m.u.port_state.id, sizeof(m.u.port_state.id), "%s", id);
	m.u.port_state.up = (uint8_t)up;
	conn_send(a->conn, &m);
}

static struct lport *
dp_lport_open(struct dp *dp, struct fib_port *fp)
{
	struct lport *lp = calloc(1, sizeof(*lp));
	const char *ns = map_get(&dp->attach, fp->p->id);
	char err[160];

	if (lp == NULL)
		return NULL;
	lp->dp = dp;
	snprintf(lp->id, sizeof(lp->id), "%s", fp->p->id);
	snprintf(lp->device, sizeof(lp->device), "%s", fp->p->device);
	snprintf(lp->netns, sizeof(lp->netns), "%s", ns ? ns : "");
	lp->fd = tap_open(lp->device, ns, fp->p->mac, dp->mtu, err, sizeof(err));
	if (lp->fd < 0) {
		log_warnx("port %s: TAP %s: %s", lp->id, lp->device, err);
		free(lp);
		return NULL;
	}
	if ((lp->io = ev_io_add(dp->a->loop, lp->fd, EPOLLIN, dp_on_tap, lp)) == NULL) {
		tap_destroy(lp->fd);
		free(lp);
		return NULL;
	}
	log_info("port %s: TAP %s up%s%s", lp->id, lp->device, ns ? " in " : "", ns ? ns : "");
	return lp;
}

/* Removes TAPs whose port left this host, changed device or namespace. */
static void
dp_prune(struct dp *dp)
{
	char (*gone)[CC_ID_LEN] = calloc(dp->lports.count + 1, CC_ID_LEN);
	size_t n = 0;

	if (gone == NULL)
		return;
	for (size_t i = 0; i < dp->lports.cap; i++) {
		struct lport *lp = dp->lports.slots[i].val;
		struct fib_port *fp;
		const char *ns;

		if (lp == NULL)
			continue;
		fp = dp->fib ? map_get(&dp->fib->by_port, lp->id) : NULL;
		ns = map_get(&dp->attach, lp->id);
		if (fp == NULL || !fp->local || strcmp(fp->p->device, lp->device) != 0 ||
		    strcmp(ns ? ns : "", lp->netns) != 0)
			snprintf(gone[n++], CC_ID_LEN, "%s", lp->id);
	}
	for (size_t i = 0; i < n; i++) {
		log_info("port %s: TAP removed", gone[i]);
		dp_lport_close(dp, map_del(&dp->lports, gone[i]), 1);
	}
	free(gone);
}

void
dp_update(struct agent *a)
{
	struct dp *dp = a->dp;
	struct fib *f = fib_build(a->live, a->cfg.host);

	if (dp == NULL)
		return;
	if (f == NULL) {
		log_warnx("out of memory compiling revision %llu: keeping the previous tables",
		    (unsigned long long)a->live->revision);
		return;
	}
	fib_free(dp->fib);
	dp->fib = f;
	dp_prune(dp);
	for (size_t i = 0; i < f->by_port.cap; i++) {
		struct fib_port *fp = f->by_port.slots[i].val;
		struct lport *lp;

		if (fp == NULL || !fp->local)
			continue;
		if ((lp = map_get(&dp->lports, fp->p->id)) == NULL) {
			if ((lp = dp_lport_open(dp, fp)) == NULL)
				continue;
			map_put(&dp->lports, lp->id, lp, NULL);
			dp_port_state(a, lp->id, 1);
		}
		lp->fp = fp;
		fp->lp = lp;
	}
}

/* Writes the attachments to run_dir/attach (atomically: temp file then rename). */
static void
dp_save_attach(struct agent *a)
{
	struct dp *dp = a->dp;
	char path[512], tmp[520];
	FILE *f;

	if (a->cfg.run_dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/attach", a->cfg.run_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warn("%s", tmp);
		return;
	}
	for (size_t i = 0; i < dp->attach.cap; i++)
		if (dp->attach.slots[i].val)
			fprintf(f, "%s %s\n", dp->attach.slots[i].key, (char *)dp->attach.slots[i].val);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		log_warn("%s", path);
}

/* Reads the attachments a previous run recorded. */
static void
dp_load_attach(struct agent *a)
{
	char path[512], port[CC_ID_LEN + 1], ns[257];
	FILE *f;

	if (a->cfg.run_dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/attach", a->cfg.run_dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fscanf(f, "%32s %256s", port, ns) == 2) {
		char *copy = strdup(ns);

		if (copy)
			free(map_put(&a->dp->attach, port, copy, NULL));
	}
	fclose(f);
}

int
dp_attach(struct agent *a, const char *port, const char *netns, char *err, size_t errsz)
{
	struct dp *dp = a->dp;
	char *copy;

	if (netns[0] != '/' || strlen(netns) >= 256 || access(netns, R_OK) < 0) {
		snprintf(err, errsz, "%s: not a readable namespace path", netns);
		return -1;
	}
	if ((copy = strdup(netns)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	free(map_put(&dp->attach, port, copy, NULL));
	dp_save_attach(a);
	dp_update(a); /* a TAP elsewhere is removed and made again in the namespace */
	return 0;
}

json_t *
dp_status(const struct agent *a)
{
	const struct dp *dp = a->dp;
	json_t *drops = json_object(), *ports = json_object();

	if (dp == NULL)
		return json_null();
	for (int r = 0; r < DP_NREASONS; r++)
		json_object_set_new(drops, dp_names[r], json_integer((json_int_t)dp->drops[r]));
	for (size_t i = 0; i < dp->lports.cap; i++) {
		const struct lport *lp = dp->lports.slots[i].val;

		if (lp)
			json_object_set_new(ports, lp->id, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}",
			    "device", lp->device, "netns", lp->netns, "rx", (json_int_t)lp->rx, "tx",
			    (json_int_t)lp->tx, "drops", (json_int_t)lp->drops, "claims",
			    (json_int_t)lp->claims, "flooded", (json_int_t)lp->flooded));
	}
	return json_pack("{s:b, s:I, s:I, s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
	    "substrate_up", !dp->substrate_down, "substrate_rx", (json_int_t)dp->sub_rx,
	    "substrate_tx", (json_int_t)dp->sub_tx, "answered", (json_int_t)dp->answered, "mtu",
	    dp->mtu, "claims_sent", (json_int_t)dp->claims, "flooded", (json_int_t)dp->flooded,
	    "flood_in", (json_int_t)dp->flood_in, "to_routerd", (json_int_t)dp->to_routerd,
	    "from_routerd", (json_int_t)dp->from_routerd, "drops", drops, "ports", ports);
}
