/*
 * BGP message codecs: the header (RFC 4271 4.1, 6.1), OPEN with capabilities (RFC 4271 4.2,
 * 6.2; RFC 5492, 6793, 4760, 2918, 7313, 4724, 9072), NOTIFICATION, KEEPALIVE, ROUTE-REFRESH
 * and the End-of-RIB marker. UPDATE bodies are in bgp_attr.c.
 */
#include "bgp.h"

#include <string.h>

static const uint8_t bgp_marker[16] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* Capability codes we understand. */
enum {
	BGP_CAP_MP = 1,
	BGP_CAP_RR = 2,
	BGP_CAP_GR = 64,
	BGP_CAP_AS4 = 65,
	BGP_CAP_ERR = 70,
	BGP_CAP_RR_OLD = 128,
};
#define BGP_OPT_CAPS 2
#define BGP_OPT_EXT 255 /* RFC 9072: the non-extended type octet that announces the long form */
#define BGP_OPEN_MIN 10 /* version, my AS, hold, identifier, optional parameters length */
#define BGP_GR_R 0x8000
#define BGP_GR_TIME 0x0fff
#define BGP_GR_F 0x80

/* ---- errors ---- */

void
bgp_err_set(struct bgp_err *e, uint8_t code, uint8_t subcode, const void *data, size_t len)
{
	memset(e, 0, sizeof(*e));
	e->code = code;
	e->subcode = subcode;
	if (len > sizeof(e->data))
		len = sizeof(e->data);
	if (data != NULL && len > 0)
		memcpy(e->data, data, len);
	e->datalen = data != NULL ? (uint16_t)len : 0;
}

struct bgp_err_name {
	uint8_t code;
	uint8_t subcode;
	const char *str;
};

static const struct bgp_err_name bgp_err_names[] = {
	{BGP_ERR_HEADER, 0, "header error"},
	{BGP_ERR_HEADER, BGP_HDR_SYNC, "header: connection not synchronized"},
	{BGP_ERR_HEADER, BGP_HDR_LENGTH, "header: bad message length"},
	{BGP_ERR_HEADER, BGP_HDR_TYPE, "header: bad message type"},
	{BGP_ERR_OPEN, 0, "OPEN: malformed"},
	{BGP_ERR_OPEN, BGP_OPEN_VERSION, "OPEN: unsupported version number"},
	{BGP_ERR_OPEN, BGP_OPEN_PEER_AS, "OPEN: bad peer AS"},
	{BGP_ERR_OPEN, BGP_OPEN_BGP_ID, "OPEN: bad BGP identifier"},
	{BGP_ERR_OPEN, BGP_OPEN_OPTPARAM, "OPEN: unsupported optional parameter"},
	{BGP_ERR_OPEN, BGP_OPEN_HOLD, "OPEN: unacceptable hold time"},
	{BGP_ERR_OPEN, BGP_OPEN_CAPABILITY, "OPEN: unsupported capability"},
	{BGP_ERR_OPEN, 11, "OPEN: role mismatch"},
	{BGP_ERR_UPDATE, 0, "UPDATE error"},
	{BGP_ERR_UPDATE, BGP_UPD_ATTR_LIST, "UPDATE: malformed attribute list"},
	{BGP_ERR_UPDATE, BGP_UPD_WELLKNOWN, "UPDATE: unrecognized well-known attribute"},
	{BGP_ERR_UPDATE, BGP_UPD_MISSING, "UPDATE: missing well-known attribute"},
	{BGP_ERR_UPDATE, BGP_UPD_FLAGS, "UPDATE: attribute flags error"},
	{BGP_ERR_UPDATE, BGP_UPD_LENGTH, "UPDATE: attribute length error"},
	{BGP_ERR_UPDATE, BGP_UPD_ORIGIN, "UPDATE: invalid ORIGIN"},
	{BGP_ERR_UPDATE, BGP_UPD_NEXTHOP, "UPDATE: invalid NEXT_HOP"},
	{BGP_ERR_UPDATE, BGP_UPD_OPTIONAL, "UPDATE: optional attribute error"},
	{BGP_ERR_UPDATE, BGP_UPD_NETWORK, "UPDATE: invalid network field"},
	{BGP_ERR_UPDATE, BGP_UPD_ASPATH, "UPDATE: malformed AS_PATH"},
	{BGP_ERR_HOLD, 0, "hold timer expired"},
	{BGP_ERR_FSM, BGP_FSM_UNSPEC, "finite state machine error"},
	{BGP_ERR_FSM, BGP_FSM_OPENSENT, "FSM: unexpected message in OpenSent"},
	{BGP_ERR_FSM, BGP_FSM_OPENCONFIRM, "FSM: unexpected message in OpenConfirm"},
	{BGP_ERR_FSM, BGP_FSM_ESTABLISHED, "FSM: unexpected message in Established"},
	{BGP_ERR_CEASE, 0, "cease"},
	{BGP_ERR_CEASE, BGP_CEASE_MAXPFX, "cease: maximum number of prefixes reached"},
	{BGP_ERR_CEASE, BGP_CEASE_SHUTDOWN, "cease: administrative shutdown"},
	{BGP_ERR_CEASE, BGP_CEASE_DECONFIG, "cease: peer de-configured"},
	{BGP_ERR_CEASE, BGP_CEASE_RESET, "cease: administrative reset"},
	{BGP_ERR_CEASE, BGP_CEASE_REJECTED, "cease: connection rejected"},
	{BGP_ERR_CEASE, BGP_CEASE_CONFIG, "cease: other configuration change"},
	{BGP_ERR_CEASE, BGP_CEASE_COLLISION, "cease: connection collision resolution"},
	{BGP_ERR_CEASE, BGP_CEASE_RESOURCES, "cease: out of resources"},
	{BGP_ERR_RREFRESH, 1, "ROUTE-REFRESH: invalid message length"},
	{BGP_ERR_SEND_HOLD, 0, "send hold timer expired"},
};

const char *
bgp_err_str(uint8_t code, uint8_t subcode)
{
	const char *generic = "unknown error";

	for (size_t i = 0; i < sizeof(bgp_err_names) / sizeof(bgp_err_names[0]); i++) {
		if (bgp_err_names[i].code != code)
			continue;
		if (bgp_err_names[i].subcode == subcode)
			return bgp_err_names[i].str;
		if (bgp_err_names[i].subcode == 0)
			generic = bgp_err_names[i].str; /* an unknown subcode still names its code */
	}
	return generic;
}

/* ---- header ---- */

static void
bgp_hdr_put(struct wbuf *w, size_t len, uint8_t type)
{
	wbuf_bytes(w, bgp_marker, sizeof(bgp_marker));
	wbuf_u16(w, (uint16_t)len);
	wbuf_u8(w, type);
}

/* Smallest legal length of each type, and whether it is also the largest (RFC 4271 6.1). */
static int
bgp_hdr_len_ok(uint8_t type, uint16_t len)
{
	switch (type) {
	case BGP_OPEN:
		return len >= BGP_HDR_LEN + BGP_OPEN_MIN;
	case BGP_UPDATE:
		return len >= BGP_HDR_LEN + 4;
	case BGP_NOTIFICATION:
		return len >= BGP_HDR_LEN + 2;
	case BGP_KEEPALIVE:
		return len == BGP_HDR_LEN;
	default:
		/* ROUTE-REFRESH: a wrong length is 7/1 from bgp_refresh_parse (RFC 7313 5). */
		return 1;
	}
}

int
bgp_hdr_check(const uint8_t *buf, size_t n, uint8_t *type, uint16_t *len, struct bgp_err *e)
{
	struct cur c = cur_make(buf, n);
	uint8_t marker[16], lenfield[2];
	uint16_t l;
	uint8_t t;

	if (n < BGP_HDR_LEN)
		return 0;
	cur_copy(&c, marker, sizeof(marker));
	cur_copy(&c, lenfield, sizeof(lenfield));
	t = cur_u8(&c);
	l = (uint16_t)(lenfield[0] << 8 | lenfield[1]);
	if (memcmp(marker, bgp_marker, sizeof(marker)) != 0) {
		bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_SYNC, NULL, 0);
		return -1;
	}
	if (l < BGP_HDR_LEN || l > BGP_MAX_LEN) {
		bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_LENGTH, lenfield, 2);
		return -1;
	}
	if (t < BGP_OPEN || t > BGP_ROUTE_REFRESH) {
		bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_TYPE, &t, 1);
		return -1;
	}
	if (!bgp_hdr_len_ok(t, l)) {
		bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_LENGTH, lenfield, 2);
		return -1;
	}
	*type = t;
	*len = l;
	return 1;
}

/* ---- OPEN ---- */

static int
bgp_open_fail(struct bgp_err *e, uint8_t subcode)
{
	bgp_err_set(e, BGP_ERR_OPEN, subcode, NULL, 0);
	return -1;
}

static int
bgp_cap_mp(struct cur *v, struct bgp_open *o)
{
	uint16_t afi = cur_u16(v);
	uint8_t safi;

	(void)cur_u8(v); /* reserved */
	safi = cur_u8(v);
	if (!cur_ok(v) || cur_left(v) != 0)
		return -1;
	if (afi == 1 && safi == 1)
		o->mp_ipv4u = 1;
	return 0;
}

static int
bgp_cap_as4(struct cur *v, struct bgp_open *o)
{
	uint32_t asn = cur_u32(v);

	if (!cur_ok(v) || cur_left(v) != 0)
		return -1;
	if (asn == 0)
		return -2; /* RFC 7607: AS 0 in the capability is a bad peer AS too */
	o->as4 = 1;
	o->asn = asn;
	return 0;
}

/* RFC 4724 3: restart flags and time, then (AFI, SAFI, flags) per family. */
static int
bgp_cap_gr(struct cur *v, struct bgp_open *o)
{
	uint16_t ft = cur_u16(v);

	if (!cur_ok(v) || cur_left(v) % 4 != 0)
		return -1;
	o->gr = 1;
	o->gr_restarting = (ft & BGP_GR_R) != 0;
	o->gr_time = ft & BGP_GR_TIME;
	while (cur_left(v) > 0) {
		uint16_t afi = cur_u16(v);
		uint8_t safi = cur_u8(v);
		uint8_t flags = cur_u8(v);

		if (afi == 1 && safi == 1) {
			o->gr_ipv4u = 1;
			o->gr_ipv4u_fwd = (flags & BGP_GR_F) != 0;
		}
	}
	return cur_ok(v) ? 0 : -1;
}

/* One capability; unknown codes are ignored (RFC 5492 4). 0, -1 malformed, -2 bad AS. */
static int
bgp_cap_one(uint8_t code, struct cur v, struct bgp_open *o)
{
	switch (code) {
	case BGP_CAP_MP:
		return bgp_cap_mp(&v, o);
	case BGP_CAP_RR:
	case BGP_CAP_RR_OLD:
		o->rr = 1;
		return 0;
	case BGP_CAP_ERR:
		o->err = 1;
		return 0;
	case BGP_CAP_GR:
		return bgp_cap_gr(&v, o);
	case BGP_CAP_AS4:
		return bgp_cap_as4(&v, o);
	default:
		return 0;
	}
}

/* A capabilities parameter: any number of (code, length, value). */
static int
bgp_caps_parse(struct cur p, struct bgp_open *o, struct bgp_err *e)
{
	while (cur_left(&p) > 0) {
		uint8_t code = cur_u8(&p);
		uint8_t len = cur_u8(&p);
		struct cur v = cur_take(&p, len);
		int rc;

		if (!cur_ok(&p))
			return bgp_open_fail(e, 0);
		rc = bgp_cap_one(code, v, o);
		if (rc == -2)
			return bgp_open_fail(e, BGP_OPEN_PEER_AS);
		if (rc < 0)
			return bgp_open_fail(e, 0);
	}
	return 0;
}

/*
 * Optional parameters, in the RFC 4271 form or the RFC 9072 extended form (announced by
 * a non-extended length of 255 and a first type octet of 255), where lengths are 2 octets.
 */
static int
bgp_optparams_parse(struct cur *c, struct bgp_open *o, struct bgp_err *e)
{
	uint8_t optlen = cur_u8(c);
	struct cur peek = *c, params;
	int ext = 0;

	if (optlen == 255 && cur_u8(&peek) == BGP_OPT_EXT && cur_ok(&peek)) {
		(void)cur_u8(c);
		params = cur_take(c, cur_u16(c));
		ext = 1;
	} else
		params = cur_take(c, optlen);
	if (!cur_ok(c) || cur_left(c) != 0)
		return bgp_open_fail(e, 0);
	while (cur_left(&params) > 0) {
		uint8_t type = cur_u8(&params);
		uint16_t len = ext ? cur_u16(&params) : cur_u8(&params);
		struct cur v = cur_take(&params, len);

		if (!cur_ok(&params))
			return bgp_open_fail(e, 0);
		if (type != BGP_OPT_CAPS)
			return bgp_open_fail(e, BGP_OPEN_OPTPARAM);
		if (bgp_caps_parse(v, o, e) < 0)
			return -1;
	}
	return 0;
}

int
bgp_open_parse(struct cur body, struct bgp_open *o, struct bgp_err *e)
{
	static const uint8_t version[2] = {0, BGP_VERSION};
	size_t total = BGP_HDR_LEN + cur_left(&body);
	uint8_t lenfield[2] = {(uint8_t)(total >> 8), (uint8_t)total};

	memset(o, 0, sizeof(*o));
	o->version = cur_u8(&body);
	o->my_as = cur_u16(&body);
	o->hold = cur_u16(&body);
	o->bgp_id = cur_u32(&body);
	if (!cur_ok(&body) || cur_left(&body) < 1) {
		/* Only when called without bgp_hdr_check, which refuses such a length. */
		bgp_err_set(e, BGP_ERR_HEADER, BGP_HDR_LENGTH, lenfield, 2);
		return -1;
	}
	if (o->version != BGP_VERSION) {
		bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_VERSION, version, sizeof(version));
		return -1;
	}
	if (o->my_as == 0)
		return bgp_open_fail(e, BGP_OPEN_PEER_AS);
	if (o->hold == 1 || o->hold == 2)
		return bgp_open_fail(e, BGP_OPEN_HOLD);
	if (o->bgp_id == 0)
		return bgp_open_fail(e, BGP_OPEN_BGP_ID);
	o->asn = o->my_as;
	return bgp_optparams_parse(&body, o, e);
}

static void
bgp_cap_put(struct wbuf *w, uint8_t code, const uint8_t *val, uint8_t len)
{
	wbuf_u8(w, code);
	wbuf_u8(w, len);
	wbuf_bytes(w, val, len);
}

/* Our capabilities, all in one optional parameter (RFC 5492 allows one or many). */
static void
bgp_caps_put(struct wbuf *w, const struct bgp_open *o)
{
	const uint8_t mp[4] = {0, 1, 0, 1};
	const uint8_t as4[4] = {(uint8_t)(o->asn >> 24), (uint8_t)(o->asn >> 16),
	    (uint8_t)(o->asn >> 8), (uint8_t)o->asn};
	uint16_t ft = (uint16_t)((o->gr_time & BGP_GR_TIME) | (o->gr_restarting ? BGP_GR_R : 0));
	const uint8_t gr[2] = {(uint8_t)(ft >> 8), (uint8_t)ft};

	bgp_cap_put(w, BGP_CAP_MP, mp, sizeof(mp));
	bgp_cap_put(w, BGP_CAP_RR, NULL, 0);
	bgp_cap_put(w, BGP_CAP_ERR, NULL, 0);
	bgp_cap_put(w, BGP_CAP_AS4, as4, sizeof(as4));
	if (o->gr)
		bgp_cap_put(w, BGP_CAP_GR, gr, sizeof(gr));
}

size_t
bgp_open_build(uint8_t *buf, size_t cap, const struct bgp_open *o)
{
	uint8_t capbuf[64];
	struct wbuf cw = wbuf_make(capbuf, sizeof(capbuf));
	struct wbuf w = wbuf_make(buf, cap);
	size_t len;

	bgp_caps_put(&cw, o);
	len = BGP_HDR_LEN + BGP_OPEN_MIN + 2 + cw.len;
	bgp_hdr_put(&w, len, BGP_OPEN);
	wbuf_u8(&w, BGP_VERSION);
	wbuf_u16(&w, o->asn > 0xffff ? BGP_AS_TRANS : (uint16_t)o->asn);
	wbuf_u16(&w, o->hold);
	wbuf_u32(&w, o->bgp_id);
	wbuf_u8(&w, (uint8_t)(2 + cw.len));
	wbuf_u8(&w, BGP_OPT_CAPS);
	wbuf_u8(&w, (uint8_t)cw.len);
	wbuf_bytes(&w, capbuf, cw.len);
	return w.failed || cw.failed ? 0 : w.len;
}

/* ---- KEEPALIVE, NOTIFICATION, ROUTE-REFRESH, End-of-RIB ---- */

size_t
bgp_keepalive_build(uint8_t *buf, size_t cap)
{
	struct wbuf w = wbuf_make(buf, cap);

	bgp_hdr_put(&w, BGP_HDR_LEN, BGP_KEEPALIVE);
	return w.failed ? 0 : w.len;
}

size_t
bgp_notification_build(uint8_t *buf, size_t cap, const struct bgp_err *e)
{
	struct wbuf w = wbuf_make(buf, cap);
	size_t dlen = e->datalen > sizeof(e->data) ? sizeof(e->data) : e->datalen;

	bgp_hdr_put(&w, BGP_HDR_LEN + 2 + dlen, BGP_NOTIFICATION);
	wbuf_u8(&w, e->code);
	wbuf_u8(&w, e->subcode);
	wbuf_bytes(&w, e->data, dlen);
	return w.failed ? 0 : w.len;
}

int
bgp_notification_parse(struct cur body, struct bgp_err *e)
{
	uint8_t code = cur_u8(&body);
	uint8_t subcode = cur_u8(&body);

	if (!cur_ok(&body))
		return -1;
	bgp_err_set(e, code, subcode, cur_rest(&body), cur_left(&body));
	return 0;
}

size_t
bgp_refresh_build(uint8_t *buf, size_t cap, uint16_t afi, uint8_t subtype, uint8_t safi)
{
	struct wbuf w = wbuf_make(buf, cap);

	bgp_hdr_put(&w, BGP_HDR_LEN + 4, BGP_ROUTE_REFRESH);
	wbuf_u16(&w, afi);
	wbuf_u8(&w, subtype);
	wbuf_u8(&w, safi);
	return w.failed ? 0 : w.len;
}

int
bgp_refresh_parse(struct cur body, uint16_t *afi, uint8_t *subtype, uint8_t *safi,
    struct bgp_err *e)
{
	uint8_t msg[sizeof(e->data)];
	struct wbuf w;
	size_t n;

	if (cur_left(&body) == 4) {
		*afi = cur_u16(&body);
		*subtype = cur_u8(&body);
		*safi = cur_u8(&body);
		return 0;
	}
	/* RFC 7313 5: the data is the whole message, so the header is rebuilt in front. */
	n = cur_left(&body);
	w = wbuf_make(msg, sizeof(msg));
	bgp_hdr_put(&w, BGP_HDR_LEN + n, BGP_ROUTE_REFRESH);
	n = n > sizeof(msg) - w.len ? sizeof(msg) - w.len : n;
	cur_copy(&body, msg + w.len, n);
	bgp_err_set(e, BGP_ERR_RREFRESH, 1, msg, w.len + n);
	return -1;
}

size_t
bgp_eor_build(uint8_t *buf, size_t cap)
{
	struct wbuf w = wbuf_make(buf, cap);

	bgp_hdr_put(&w, BGP_HDR_LEN + 4, BGP_UPDATE);
	wbuf_u16(&w, 0);
	wbuf_u16(&w, 0);
	return w.failed ? 0 : w.len;
}
