/*
 * The packet library's shared pieces: drop reason names for the agent's counters, and
 * bounded access to frames already in a write buffer (for in-place rewriting).
 */
#include "pkt.h"

static const char *const pkt_reasons[PKT_RESULT_MAX] = {
	[PKT_OK] = "ok",
	[PKT_TRUNCATED] = "truncated",
	[PKT_UNSUPPORTED] = "unsupported",
	[PKT_VLAN_TAGGED] = "vlan_tagged",
	[PKT_BAD_VERSION] = "bad_version",
	[PKT_BAD_IHL] = "bad_ihl",
	[PKT_BAD_TOTLEN] = "bad_totlen",
	[PKT_BAD_FRAG] = "bad_frag",
	[PKT_BAD_CSUM] = "bad_csum",
	[PKT_BAD_OPTION] = "bad_option",
	[PKT_BAD_LENGTH] = "bad_length",
	[PKT_BAD_DOFF] = "bad_doff",
	[PKT_BAD_OPCODE] = "bad_opcode",
	[PKT_BAD_COOKIE] = "bad_cookie",
	[PKT_FRAGMENT] = "fragment",
	[PKT_TTL_EXPIRED] = "ttl_expired",
	[PKT_NO_SPACE] = "no_space",
	[PKT_SUPPRESS_ICMP] = "suppress_icmp_error",
	[PKT_SUPPRESS_FRAG] = "suppress_fragment",
	[PKT_SUPPRESS_ADDR] = "suppress_addr",
};

const char *
pkt_reason_name(enum pkt_result r)
{
	if ((unsigned)r >= PKT_RESULT_MAX || pkt_reasons[r] == NULL)
		return "unknown";
	return pkt_reasons[r];
}

/* Written as subtractions so that no off + len can wrap around. */
static int
pkt_wbuf_holds(const struct wbuf *w, size_t off, size_t len)
{
	return !w->failed && off <= w->len && len <= w->len - off;
}

struct cur
pkt_wbuf_view(const struct wbuf *w, size_t off, size_t len)
{
	struct cur c = cur_make(NULL, 0);

	c.failed = 1;
	if (!pkt_wbuf_holds(w, off, len))
		return c;
	return cur_make(w->p + off, len);
}

int
pkt_wbuf_put(struct wbuf *w, size_t off, const void *src, size_t n)
{
	if (!pkt_wbuf_holds(w, off, n))
		return -1;
	if (n)
		memcpy(w->p + off, src, n);
	return 0;
}

int
pkt_wbuf_put16(struct wbuf *w, size_t off, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	return pkt_wbuf_put(w, off, b, sizeof(b));
}

int
pkt_mac_is_group(const uint8_t mac[PKT_ETH_ALEN])
{
	return mac[0] & 1;
}

enum pkt_result
pkt_wbuf_result(struct wbuf *w, size_t start)
{
	if (!w->failed)
		return PKT_OK;
	w->len = start < w->len ? start : w->len;
	w->failed = 0;
	return PKT_NO_SPACE;
}
