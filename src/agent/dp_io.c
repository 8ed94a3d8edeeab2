/*
 * Batched packet I/O of the data plane, with the TAPs' offloads (see docs/architecture.md,
 * "Decision: TAP offloads and batching"):
 *
 * - from a TAP: every frame comes behind a virtio_net_hdr. A checksum-partial frame gets its
 *   checksum completed; a TCP super-frame (TSO) is cut into MSS-sized segments. Each frame or
 *   segment then goes through the whole forwarding pipeline (fwd_from_port) alone, so port
 *   security and every other check apply per segment exactly as before.
 * - to the substrate: VXLAN datagrams are queued, lying back to back in the stage, and sent
 *   with one sendmmsg() per TAP wake-up; a run of equal-sized datagrams of one flow to one
 *   host (the segments of a super-frame) goes as one UDP GSO message (UDP_SEGMENT).
 * - from the substrate: UDP_GRO lets one recvmmsg() slot hold many datagrams of a flow,
 *   split again at the size the kernel reports; each is verified alone (fwd_from_substrate).
 * - to a TAP: consecutive in-sequence TCP segments of one flow, each with a verified
 *   checksum, are written as one super-frame with a GSO vnet header, as the kernel's GRO
 *   would have built it; anything else is written as it is.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dp.h"
#include "log.h"
#include "pkt.h"
#include "tap.h"
#include "vxlan.h"

#define DP_BATCH 64         /* frames taken from one TAP before the loop looks elsewhere */
#define DP_GSO_SEGS 64      /* datagrams in one UDP GSO message (the kernel allows 64+) */
#define DP_GSO_BYTES 65507  /* UDP payload of one message: 65535 - IPv4 and UDP headers */

/* Sends the batch and lets the stage be reused from its floor on. */
static void
dp_io_reset(struct dp *dp)
{
	dp_io_flush_tx(dp);
	dp->stage_len = dp->stage_floor;
}

/* Cuts a TSO super-frame (read into the stage at frame) into segments after it. */
static void
dp_io_segment(struct dp *dp, struct lport *lp, uint8_t *frame, size_t len,
    const struct gso_vnet *v)
{
	struct gso_iter it;

	if (gso_tcp4_begin(&it, frame, len, v->size) != GSO_OK) {
		lp->rx++;
		dp_drop(dp, lp, DP_PARSE);
		return;
	}
	/* The super-frame stays where it is until its last segment is queued. */
	dp->stage_floor = dp->stage_len = (size_t)(frame + len - dp->stage);
	while (it.i < it.n) {
		uint8_t *seg;
		size_t n;

		if (DP_STAGE - dp->stage_len < VXLAN_HLEN + it.hlen + it.mss)
			dp_io_reset(dp);
		seg = dp->stage + dp->stage_len + VXLAN_HLEN;
		if ((n = gso_tcp4_next(&it, seg, DP_STAGE - dp->stage_len - VXLAN_HLEN)) == 0)
			break;
		dp->stage_len += VXLAN_HLEN + n;
		lp->rx++;
		fwd_from_port(dp, lp, seg, n);
	}
	for (; it.i < it.n; it.i++) { /* only if a segment could not fit an empty stage */
		lp->rx++;
		dp_drop(dp, lp, DP_PARSE);
	}
	dp->stage_floor = 0;
}

void
dp_io_from_tap(struct dp *dp, struct lport *lp)
{
	for (int i = 0; i < DP_BATCH; i++) {
		uint8_t vh[GSO_VNET_HLEN], *frame;
		struct iovec iov[2];
		struct gso_vnet v;
		struct cur c = cur_make(vh, sizeof(vh));
		enum gso_result r = GSO_TRUNCATED;
		ssize_t n;

		if (DP_STAGE - dp->stage_len < VXLAN_HLEN + DP_FRAME_MAX)
			dp_io_reset(dp);
		frame = dp->stage + dp->stage_len + VXLAN_HLEN;
		iov[0].iov_base = vh;
		iov[0].iov_len = sizeof(vh);
		iov[1].iov_base = frame;
		iov[1].iov_len = DP_FRAME_MAX;
		if ((n = readv(lp->fd, iov, 2)) <= 0)
			break;
		if ((size_t)n < sizeof(vh) || (r = gso_vnet_parse(&c, &v)) != GSO_OK) {
			lp->rx++;
			dp_drop(dp, lp, (size_t)n >= sizeof(vh) && r == GSO_IPV6 ? DP_NOT_IPV4 :
			    DP_PARSE);
			continue;
		}
		n -= (ssize_t)sizeof(vh);
		if (v.type == GSO_TCPV4) {
			dp_io_segment(dp, lp, frame, (size_t)n, &v);
			continue;
		}
		lp->rx++;
		if ((v.flags & GSO_F_NEEDS_CSUM) && gso_csum_complete(frame, (size_t)n, &v) !=
		    GSO_OK) {
			dp_drop(dp, lp, DP_PARSE);
			continue;
		}
		dp->stage_len += VXLAN_HLEN + (size_t)n;
		fwd_from_port(dp, lp, frame, (size_t)n);
	}
	dp_io_flush_tx(dp);
	dp->stage_len = 0;
}

void
dp_io_queue(struct dp *dp, uint8_t *p, size_t len, const struct sockaddr_storage *to,
    socklen_t tolen)
{
	struct dp_txent *e;

	if (dp->ntx == DP_TXQ)
		dp_io_flush_tx(dp); /* the stage is not reset: p and the frames after it stay */
	e = &dp->txq[dp->ntx++];
	e->p = p;
	e->len = len;
	memcpy(&e->to, to, tolen);
	e->tolen = tolen;
}

/* Can datagram b follow a (whose run started with first) in one UDP GSO message? */
static int
dp_io_joins(const struct dp_txent *first, const struct dp_txent *a, const struct dp_txent *b)
{
	return b->tolen == first->tolen && memcmp(&b->to, &first->to, b->tolen) == 0 &&
	    b->p == a->p + a->len && a->len == first->len && b->len <= first->len;
}

void
dp_io_flush_tx(struct dp *dp)
{
	static struct mmsghdr msgs[DP_TXQ];
	static struct iovec iov[DP_TXQ];
	static union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[DP_TXQ];
	unsigned segs[DP_TXQ], nm = 0;

	for (unsigned i = 0; i < dp->ntx;) {
		const struct dp_txent *e = &dp->txq[i];
		size_t total = e->len;
		unsigned j = i + 1;

		while (dp->udp_gso && j < dp->ntx && j - i < DP_GSO_SEGS &&
		    total + dp->txq[j].len <= DP_GSO_BYTES && dp_io_joins(e, &dp->txq[j - 1],
		    &dp->txq[j]))
			total += dp->txq[j++].len;
		memset(&msgs[nm], 0, sizeof(msgs[nm]));
		iov[nm].iov_base = e->p;
		iov[nm].iov_len = total;
		msgs[nm].msg_hdr.msg_iov = &iov[nm];
		msgs[nm].msg_hdr.msg_iovlen = 1;
		msgs[nm].msg_hdr.msg_name = (void *)(uintptr_t)&e->to;
		msgs[nm].msg_hdr.msg_namelen = e->tolen;
		if (j - i > 1) {
			struct cmsghdr *cm = &ctl[nm].align;
			uint16_t sz = (uint16_t)e->len;

			memset(&ctl[nm], 0, sizeof(ctl[nm]));
			msgs[nm].msg_hdr.msg_control = ctl[nm].buf;
			msgs[nm].msg_hdr.msg_controllen = sizeof(ctl[nm].buf);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(sz));
			memcpy(CMSG_DATA(cm), &sz, sizeof(sz));
		}
		segs[nm++] = j - i;
		i = j;
	}
	for (unsigned k = 0; k < nm;) {
		int r = sendmmsg(dp->sub_fd, msgs + k, nm - k, 0);

		if (r <= 0) {
			/* A kernel or path without UDP GSO: individual datagrams from now on. */
			if (segs[k] > 1 && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP)) {
				log_warnx("substrate: UDP GSO refused (%s); sending datagrams one by one",
				    strerror(errno));
				dp->udp_gso = 0;
			}
			for (unsigned s = 0; s < segs[k]; s++)
				dp_drop(dp, NULL, DP_IO);
			k++;
			continue;
		}
		for (int m = 0; m < r; m++)
			dp->sub_tx += segs[k + (unsigned)m];
		k += (unsigned)r;
	}
	dp->ntx = 0;
}

void
dp_io_from_substrate(struct dp *dp)
{
	static struct mmsghdr msgs[DP_RX_BATCH];
	static struct iovec iov[DP_RX_BATCH];
	static struct sockaddr_storage from[DP_RX_BATCH];
	static union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl[DP_RX_BATCH];
	int n;

	for (int i = 0; i < DP_RX_BATCH; i++) {
		iov[i].iov_base = dp->rxbufs + (size_t)i * DP_RX_SLOT + DP_HEADROOM;
		iov[i].iov_len = DP_RX_SLOT - DP_HEADROOM;
		memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		msgs[i].msg_hdr.msg_control = ctl[i].buf;
		msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
	}
	if ((n = recvmmsg(dp->sub_fd, msgs, DP_RX_BATCH, MSG_DONTWAIT, NULL)) <= 0)
		return;
	for (int i = 0; i < n; i++) {
		struct cc_addr src = {0};
		size_t len = msgs[i].msg_len, seg = len;
		uint8_t *p = iov[i].iov_base;
		struct cmsghdr *cm;

		if (from[i].ss_family == AF_INET) {
			src.family = 4;
			memcpy(src.a, &((struct sockaddr_in *)&from[i])->sin_addr, 4);
		} else {
			src.family = 6;
			memcpy(src.a, &((struct sockaddr_in6 *)&from[i])->sin6_addr, 16);
		}
		/* UDP GRO: datagrams of seg bytes back to back, the last one shorter. */
		for (cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm; cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm))
			if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
				int g;

				memcpy(&g, CMSG_DATA(cm), sizeof(g));
				if (g > 0)
					seg = (size_t)g;
			}
		for (size_t off = 0; off < len; off += seg) {
			dp->sub_rx++;
			fwd_from_substrate(dp, &src, p + off, len - off < seg ? len - off : seg);
		}
	}
	dp_io_flush_tap(dp);
}

void
dp_io_flush_tap(struct dp *dp)
{
	struct dp_coal *k = &dp->coal;
	struct gso_vnet v;
	ssize_t r;

	if (k->n == 0)
		return;
	if (k->n == 1) {
		r = tap_write(k->lp->fd, k->first, k->first_len);
	} else {
		memcpy(k->hdr, k->first, k->a.hlen);
		if (gso_merge_header(k->hdr, &k->a, k->plen, k->psh, (uint16_t)k->a.plen, &v) < 0) {
			r = -1; /* cannot happen: joining checks the length */
		} else {
			gso_vnet_write(k->vh, &v);
			k->iov[0].iov_base = k->vh;
			k->iov[0].iov_len = sizeof(k->vh);
			k->iov[1].iov_base = k->hdr;
			k->iov[1].iov_len = k->a.hlen;
			r = writev(k->lp->fd, k->iov, (int)(2 + k->n));
		}
	}
	if (r < 0)
		for (unsigned i = 0; i < k->n; i++)
			dp_drop(dp, k->lp, DP_IO);
	else
		k->lp->tx += k->n;
	k->n = 0;
	k->lp = NULL;
}

void
dp_io_to_tap(struct dp *dp, struct lport *lp, uint8_t *frame, size_t len)
{
	struct dp_coal *k = &dp->coal;
	struct gso_seg s;

	if (!gso_seg_candidate(frame, len, &s)) {
		if (k->lp == lp)
			dp_io_flush_tap(dp); /* keep the flow's order */
		if (tap_write(lp->fd, frame, len) < 0)
			dp_drop(dp, lp, DP_IO);
		else
			lp->tx++;
		return;
	}
	if (k->n > 0 && (k->lp != lp || k->closed || k->n == GSO_MERGE_MAX ||
	    s.plen > k->a.plen || k->a.hlen - 14 + k->plen + s.plen > 0xffff ||
	    !gso_seg_follows(k->first, &k->a, frame, &s, k->next)))
		dp_io_flush_tap(dp);
	if (k->n == 0) {
		k->lp = lp;
		k->first = frame;
		k->first_len = len;
		k->a = s;
		k->plen = 0;
		k->psh = k->closed = 0;
	}
	k->iov[2 + k->n].iov_base = frame + s.hlen;
	k->iov[2 + k->n].iov_len = s.plen;
	k->n++;
	k->plen += s.plen;
	k->next = s.seq + (uint32_t)s.plen;
	if (s.flags & PKT_TCP_PSH)
		k->psh = k->closed = 1;
	if (s.plen < k->a.plen)
		k->closed = 1;
}
