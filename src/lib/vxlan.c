/* VXLAN header codec (RFC 7348). See vxlan.h. */
#include "vxlan.h"

static const char *const vxlan_names[VXLAN_RESULT_MAX] = {
	[VXLAN_OK] = "ok",
	[VXLAN_ETRUNC] = "trunc",
	[VXLAN_ENOVNI] = "no_vni",
	[VXLAN_ESHORT] = "short_inner",
	[VXLAN_EVNI] = "bad_vni",
	[VXLAN_ENOSPACE] = "no_space",
};

const char *
vxlan_reason_name(enum vxlan_result r)
{
	if ((unsigned)r >= VXLAN_RESULT_MAX)
		return "unknown";
	return vxlan_names[r];
}

static enum vxlan_result
vxlan_fail(enum vxlan_result r, uint32_t *vni, struct cur *inner)
{
	*vni = 0;
	*inner = cur_make(NULL, 0);
	inner->failed = 1;
	return r;
}

enum vxlan_result
vxlan_decode(struct cur *udp_payload, uint32_t *vni, struct cur *inner)
{
	uint8_t flags;
	uint32_t word;

	flags = cur_u8(udp_payload);
	cur_skip(udp_payload, 3);		/* reserved: ignored on receipt */
	word = cur_u32(udp_payload);		/* VNI << 8 | reserved */
	if (!cur_ok(udp_payload))
		return vxlan_fail(VXLAN_ETRUNC, vni, inner);
	/* Without the I flag there is no VNI to trust, so no network to deliver into. */
	if (!(flags & VXLAN_FLAG_I))
		return vxlan_fail(VXLAN_ENOVNI, vni, inner);
	if (cur_left(udp_payload) < VXLAN_ETH_HLEN)
		return vxlan_fail(VXLAN_ESHORT, vni, inner);
	*vni = word >> 8;
	*inner = cur_take(udp_payload, cur_left(udp_payload));
	return VXLAN_OK;
}

enum vxlan_result
vxlan_encode(struct wbuf *w, uint32_t vni)
{
	if (vni > VXLAN_VNI_MAX)
		return VXLAN_EVNI;
	/* Checked first so a full buffer never gets half a header. */
	if (w->failed || w->cap - w->len < VXLAN_HLEN)
		return VXLAN_ENOSPACE;
	wbuf_u32(w, (uint32_t)VXLAN_FLAG_I << 24);
	wbuf_u32(w, vni << 8);
	return VXLAN_OK;
}
