/* Unit tests of src/lib/cc.c: every control-channel message, framing and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cc.h"

static char nets_in[2][CC_ID_LEN] = {"net-00000000000000aa", "net-00000000000000bb"};
static char nets_out[CC_MAX_NETS][CC_ID_LEN];

/* Encodes m, decodes it back into out (with room for a HELLO's networks). */
static size_t
roundtrip(const struct cc_msg *m, struct cc_msg *out, uint8_t *buf, size_t cap)
{
	struct wbuf w = wbuf_make(buf, cap);
	size_t n = 0;

	cc_encode(&w, m);
	assert_false(w.failed);
	assert_int_equal(cc_frame(buf, w.len, &n), CC_OK);
	assert_int_equal(n, w.len);
	memset(out, 0, sizeof(*out));
	out->u.hello.nets = nets_out;
	assert_int_equal(cc_decode(buf, w.len, out), CC_OK);
	assert_int_equal(out->type, m->type);
	return w.len;
}

static void
test_hello(void **state)
{
	struct cc_msg m = {.type = CC_HELLO}, o;
	uint8_t buf[4096];

	(void)state;
	m.u.hello.min_version = m.u.hello.max_version = 1;
	strcpy(m.u.hello.host, "h1");
	strcpy(m.u.hello.credential, "secret-credential");
	m.u.hello.encap = CC_ENCAP_EMBED6;
	m.u.hello.address.family = 6;
	m.u.hello.address.len = 128;
	m.u.hello.address.a[0] = 0xfd;
	m.u.hello.prefix.family = 6;
	m.u.hello.prefix.len = 56;
	m.u.hello.revision = 0x0102030405060708ull;
	m.u.hello.nonce = 77;
	m.u.hello.nnets = 2;
	m.u.hello.nets = nets_in;
	roundtrip(&m, &o, buf, sizeof(buf));
	assert_string_equal(o.u.hello.host, "h1");
	assert_string_equal(o.u.hello.credential, "secret-credential");
	assert_int_equal(o.u.hello.encap, CC_ENCAP_EMBED6);
	assert_int_equal(o.u.hello.address.a[0], 0xfd);
	assert_int_equal(o.u.hello.prefix.len, 56);
	assert_true(o.u.hello.revision == 0x0102030405060708ull);
	assert_true(o.u.hello.nonce == 77);
	assert_int_equal(o.u.hello.nnets, 2);
	assert_string_equal(nets_out[1], "net-00000000000000bb");
}

static void
test_objects(void **state)
{
	struct cc_msg m, o;
	uint8_t buf[4096];

	(void)state;
	/* memset, not an initializer: only the union's first member would be zeroed. */
	memset(&m, 0, sizeof(m));
	m.type = CC_PORT;
	strcpy(m.u.port.id, "port-1");
	strcpy(m.u.port.network, "net-1");
	strcpy(m.u.port.subnet, "sub-1");
	strcpy(m.u.port.host, "h2");
	memcpy(m.u.port.mac, "\x02\x01\x02\x03\x04\x05", 6);
	m.u.port.ip = 0x0a000102;
	m.u.port.flags = CC_PORT_ROUTING;
	strcpy(m.u.port.device, "vn0123");
	m.u.port.nextra = 2;
	m.u.port.extra[0] = 0x0a000103;
	m.u.port.extra[1] = 0x0a000104;
	m.u.port.nclaim = 1;
	m.u.port.claim[0].addr = 0x0a000164;
	m.u.port.claim[0].len = 32;
	roundtrip(&m, &o, buf, sizeof(buf));
	assert_memory_equal(&o.u.port, &m.u.port, sizeof(m.u.port));

	memset(&m, 0, sizeof(m));
	m.type = CC_NET;
	strcpy(m.u.net.id, "net-1");
	m.u.net.vnid = 0xffffff;
	m.u.net.ncidrs = 2;
	/* Field by field: a compound literal may carry garbage in its padding. */
	m.u.net.cidrs[0].addr = 0x0a000000;
	m.u.net.cidrs[0].len = 16;
	m.u.net.cidrs[1].addr = 0xac100000;
	m.u.net.cidrs[1].len = 24;
	roundtrip(&m, &o, buf, sizeof(buf));
	assert_memory_equal(&o.u.net, &m.u.net, sizeof(m.u.net));

	memset(&m, 0, sizeof(m));
	m.type = CC_ROUTE;
	strcpy(m.u.route.id, "rte-1");
	strcpy(m.u.route.network, "net-1");
	strcpy(m.u.route.router, "rtr-1");
	m.u.route.dst.addr = 0;
	m.u.route.dst.len = 0;
	m.u.route.ttype = CC_T_BLACKHOLE;
	roundtrip(&m, &o, buf, sizeof(buf));
	assert_memory_equal(&o.u.route, &m.u.route, sizeof(m.u.route));
}

static void
test_small_messages(void **state)
{
	static const uint8_t types[] = {CC_ACK, CC_PING, CC_PONG};
	struct cc_msg m, o;
	uint8_t buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		memset(&m, 0, sizeof(m));
		m.type = types[i];
		m.u.revision = 42 + i;
		assert_int_equal(roundtrip(&m, &o, buf, sizeof(buf)), CC_HDR_LEN + 8);
		assert_true(o.u.revision == 42 + i);
	}
	memset(&m, 0, sizeof(m));
	m.type = CC_END;
	m.u.end.revision = 9;
	m.u.end.nonce = 0x8000000000000001ull;
	assert_int_equal(roundtrip(&m, &o, buf, sizeof(buf)), CC_HDR_LEN + 16);
	assert_true(o.u.end.revision == 9 && o.u.end.nonce == 0x8000000000000001ull);
	memset(&m, 0, sizeof(m));
	m.type = CC_DELETE;
	m.u.del.kind = CC_NET;
	strcpy(m.u.del.id, "net-9");
	roundtrip(&m, &o, buf, sizeof(buf));
	assert_string_equal(o.u.del.id, "net-9");
}

/* A valid ACK message to corrupt. */
static size_t
end_msg(uint8_t *buf)
{
	struct cc_msg m = {.type = CC_ACK};
	struct wbuf w = wbuf_make(buf, 64);

	m.u.revision = 7;
	cc_encode(&w, &m);
	return w.len;
}

static void
test_framing(void **state)
{
	uint8_t buf[64];
	size_t n = end_msg(buf), got;
	struct cc_msg o;

	(void)state;
	assert_int_equal(cc_frame(buf, 7, &got), CC_E_SHORT);
	assert_int_equal(cc_frame(buf, n - 1, &got), CC_E_SHORT);
	buf[0] ^= 1;
	assert_int_equal(cc_frame(buf, n, &got), CC_E_MAGIC);
	buf[0] ^= 1;
	buf[2] = 2;
	assert_int_equal(cc_frame(buf, n, &got), CC_E_VERSION);
	buf[2] = 1;
	buf[7] = 7; /* length below the header */
	assert_int_equal(cc_frame(buf, n, &got), CC_E_LENGTH);
	buf[4] = 0x7f; /* length far past the maximum */
	assert_int_equal(cc_frame(buf, n, &got), CC_E_LENGTH);
	n = end_msg(buf);
	buf[3] = 0; /* type 0 */
	assert_int_equal(cc_decode(buf, n, &o), CC_E_TYPE);
	buf[3] = CC_TYPE_MAX;
	assert_int_equal(cc_decode(buf, n, &o), CC_E_TYPE);
}

static void
test_exact_length(void **state)
{
	uint8_t buf[64];
	size_t n = end_msg(buf);
	struct cc_msg o;

	(void)state;
	/* One byte short: the header says 15, the body holds 7 of 8 revision bytes. */
	buf[7] = (uint8_t)(n - 1);
	assert_int_equal(cc_decode(buf, n - 1, &o), CC_E_LENGTH);
	/* One byte long: a trailing byte the body does not consume. */
	buf[7] = (uint8_t)(n + 1);
	buf[n] = 0;
	assert_int_equal(cc_decode(buf, n + 1, &o), CC_E_LENGTH);
	/* A buffer longer than the message it holds is not one message. */
	buf[7] = (uint8_t)n;
	assert_int_equal(cc_decode(buf, n + 1, &o), CC_E_LENGTH);
}

static void
test_bad_fields(void **state)
{
	struct cc_msg m = {.type = CC_NET}, o;
	uint8_t buf[256];
	struct wbuf w;

	(void)state;
	strcpy(m.u.net.id, "net-1");
	m.u.net.vnid = 0; /* VNIDs start at 1 */
	w = wbuf_make(buf, sizeof(buf));
	cc_encode(&w, &m);
	o.u.hello.nets = nets_out;
	assert_int_equal(cc_decode(buf, w.len, &o), CC_E_VALUE);

	m.u.net.vnid = 5;
	m.u.net.ncidrs = 1;
	m.u.net.cidrs[0] = (struct pfx4){0x0a000001, 16}; /* host bits */
	w = wbuf_make(buf, sizeof(buf));
	cc_encode(&w, &m);
	assert_int_equal(cc_decode(buf, w.len, &o), CC_E_LENGTH);

	m.u.net.ncidrs = 0;
	strcpy(m.u.net.id, "net\x01");
	w = wbuf_make(buf, sizeof(buf));
	cc_encode(&w, &m);
	assert_int_equal(cc_decode(buf, w.len, &o), CC_E_STRING);
}

static void
test_encode_overflow(void **state)
{
	struct cc_msg m = {.type = CC_PORT};
	uint8_t buf[20];
	struct wbuf w = wbuf_make(buf, sizeof(buf));

	(void)state;
	strcpy(m.u.port.id, "port-0123456789abcdef");
	cc_encode(&w, &m);
	assert_true(w.failed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_small_messages),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_exact_length),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_encode_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
