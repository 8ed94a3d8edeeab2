/* Unit tests of src/lib/addr.c: the strict address, prefix and MAC parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "addr.h"

static void
test_addr4_valid(void **state)
{
	uint32_t a;

	(void)state;
	assert_int_equal(addr4_parse("10.0.0.1", &a), 0);
	assert_int_equal(a, 0x0a000001);
	assert_int_equal(addr4_parse("255.255.255.255", &a), 0);
	assert_int_equal(a, 0xffffffff);
	assert_int_equal(addr4_parse("0.0.0.0", &a), 0);
	assert_int_equal(a, 0);
}

static void
test_addr4_invalid(void **state)
{
	static const char *const bad[] = {
		"", "10", "10.0.0", "10.0.0.0.0", "256.0.0.1", "010.0.0.1", "10.0.0.01", " 10.0.0.1",
		"10.0.0.1 ", "10..0.1", "10.0.0.-1", "1e1.0.0.1", "10.0.0.1/8", "0x0a.0.0.1",
		"1000.0.0.1", "10.0.0.", ".10.0.0",
	};
	uint32_t a = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(addr4_parse(bad[i], &a), -1);
		assert_int_equal(a, 42); /* untouched on failure */
	}
}

static void
test_addr4_fmt(void **state)
{
	char buf[ADDR4_STRLEN];

	(void)state;
	addr4_fmt(0xc0a80101, buf);
	assert_string_equal(buf, "192.168.1.1");
	addr4_fmt(0xffffffff, buf);
	assert_string_equal(buf, "255.255.255.255");
}

static void
test_pfx4_parse(void **state)
{
	struct pfx4 p;
	char buf[PFX4_STRLEN];

	(void)state;
	assert_int_equal(pfx4_parse("10.0.0.0/16", &p, 0, 32), ADDR_OK);
	assert_int_equal(p.addr, 0x0a000000);
	assert_int_equal(p.len, 16);
	pfx4_fmt(&p, buf);
	assert_string_equal(buf, "10.0.0.0/16");
	assert_int_equal(pfx4_parse("0.0.0.0/0", &p, 0, 32), ADDR_OK);
	assert_int_equal(pfx4_parse("10.0.0.1/32", &p, 0, 32), ADDR_OK);
	assert_int_equal(pfx4_parse("10.0.0.1/16", &p, 0, 32), ADDR_EHOSTBITS);
	assert_int_equal(pfx4_parse("10.0.0.0/33", &p, 0, 32), ADDR_ELEN);
	assert_int_equal(pfx4_parse("10.0.0.0/99999999999", &p, 0, 32), ADDR_ELEN);
	assert_int_equal(pfx4_parse("10.0.0.0/7", &p, 8, 30), ADDR_ELEN);
	assert_int_equal(pfx4_parse("10.0.0.0/31", &p, 8, 30), ADDR_ELEN);
	assert_int_equal(pfx4_parse("10.0.0/8", &p, 0, 32), ADDR_ESYNTAX);
	assert_int_equal(pfx4_parse("010.0.0.0/8", &p, 0, 32), ADDR_ESYNTAX);
	assert_int_equal(pfx4_parse("10.0.0.0/08", &p, 0, 32), ADDR_ESYNTAX);
	assert_int_equal(pfx4_parse("10.0.0.0/", &p, 0, 32), ADDR_ESYNTAX);
	assert_int_equal(pfx4_parse("10.0.0.0/8x", &p, 0, 32), ADDR_ESYNTAX);
	assert_int_equal(pfx4_parse("10.0.0.0/+8", &p, 0, 32), ADDR_ESYNTAX);
	assert_int_equal(pfx4_parse("10.0.0.0", &p, 0, 32), ADDR_ESYNTAX);
	assert_int_equal(pfx4_parse("/8", &p, 0, 32), ADDR_ESYNTAX);
	assert_int_equal(pfx4_parse("garbage/99", &p, 0, 32), ADDR_ESYNTAX);
}

static void
test_pfx4_loose(void **state)
{
	struct pfx4 p;
	char buf[PFX4_STRLEN];

	(void)state;
	assert_int_equal(pfx4_parse_loose("10.1.2.3/16", &p), 0);
	pfx4_fmt(&p, buf);
	assert_string_equal(buf, "10.1.0.0/16");
	assert_int_equal(pfx4_parse_loose("10.1.2.3/33", &p), -1);
}

static void
test_pfx4_relations(void **state)
{
	struct pfx4 a = {0x0a000000, 16}, b = {0x0a000100, 24}, c = {0x0a010000, 16};
	struct pfx4 all = {0, 0};

	(void)state;
	assert_true(pfx4_contains(&a, &b));
	assert_false(pfx4_contains(&b, &a));
	assert_true(pfx4_overlaps(&a, &b));
	assert_true(pfx4_overlaps(&b, &a));
	assert_false(pfx4_overlaps(&a, &c));
	assert_true(pfx4_contains(&all, &c));
	assert_true(pfx4_contains_addr(&b, 0x0a0001ff));
	assert_false(pfx4_contains_addr(&b, 0x0a000200));
	assert_int_equal(pfx4_last(&b), 0x0a0001ff);
	assert_int_equal(pfx4_mask(0), 0);
	assert_int_equal(pfx4_mask(32), 0xffffffff);
	assert_true(pfx4_cmp(&a, &b) < 0);
	assert_true(pfx4_cmp(&b, &b) == 0);
}

static void
test_pfx6(void **state)
{
	struct pfx6 p, q;
	char buf[PFX6_STRLEN];

	(void)state;
	assert_int_equal(pfx6_parse("2001:db8:0:100::/56", &p, 32, 72), ADDR_OK);
	pfx6_fmt(&p, buf);
	assert_string_equal(buf, "2001:db8:0:100::/56");
	assert_int_equal(pfx6_parse("2001:db8::1/56", &p, 32, 72), ADDR_EHOSTBITS);
	assert_int_equal(pfx6_parse("2001:db8::/16", &p, 32, 72), ADDR_ELEN);
	assert_int_equal(pfx6_parse("2001:db8::/129", &p, 0, 128), ADDR_ELEN);
	assert_int_equal(pfx6_parse("2001:zz8::/56", &p, 32, 72), ADDR_ESYNTAX);
	assert_int_equal(pfx6_parse("10.0.0.0/8", &p, 0, 128), ADDR_ESYNTAX);
	pfx6_parse("2001:db8:0:100::/56", &p, 0, 128);
	pfx6_parse("2001:db8:0:100::/64", &q, 0, 128);
	assert_true(pfx6_overlaps(&p, &q));
	pfx6_parse("2001:db8:0:200::/56", &q, 0, 128);
	assert_false(pfx6_overlaps(&p, &q));
}

static void
test_addr6(void **state)
{
	uint8_t a[16];
	char buf[ADDR6_STRLEN];

	(void)state;
	assert_int_equal(addr6_parse("fd00::1", a), 0);
	addr6_fmt(a, buf);
	assert_string_equal(buf, "fd00::1");
	assert_int_equal(addr6_parse("fd00:::1", a), -1);
	assert_int_equal(addr6_parse("10.0.0.1", a), -1);
	assert_int_equal(addr6_parse("", a), -1);
}

static void
test_mac(void **state)
{
	uint8_t m[6];
	char buf[MAC_STRLEN];

	(void)state;
	assert_int_equal(mac_parse("02:AB:cd:00:11:ff", m), 0);
	mac_fmt(m, buf);
	assert_string_equal(buf, "02:ab:cd:00:11:ff");
	assert_true(mac_is_assignable(m));
	assert_int_equal(mac_parse("01:00:5e:00:00:01", m), 0);
	assert_false(mac_is_assignable(m)); /* multicast */
	assert_int_equal(mac_parse("00:00:00:00:00:00", m), 0);
	assert_false(mac_is_assignable(m));
	assert_int_equal(mac_parse("02:ab:cd:00:11", m), -1);
	assert_int_equal(mac_parse("02:ab:cd:00:11:ff:00", m), -1);
	assert_int_equal(mac_parse("02-ab-cd-00-11-ff", m), -1);
	assert_int_equal(mac_parse("02:ab:cd:00:11:fg", m), -1);
	assert_int_equal(mac_parse("2:ab:cd:00:11:ff", m), -1);
	assert_int_equal(mac_parse("", m), -1);
}

static void
test_endpoint(void **state)
{
	struct sockaddr_storage ss;
	unsigned len = 0;

	(void)state;
	assert_int_equal(addr_parse_endpoint("127.0.0.1:8600", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8600);
	assert_int_equal(addr_parse_endpoint("[fd00::1]:179", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 179);
	assert_int_equal(addr_parse_endpoint("127.0.0.1", &ss, &len), -1);
	assert_int_equal(addr_parse_endpoint("127.0.0.1:", &ss, &len), -1);
	assert_int_equal(addr_parse_endpoint("127.0.0.1:65536", &ss, &len), -1);
	assert_int_equal(addr_parse_endpoint("127.0.0.1:8x", &ss, &len), -1);
	assert_int_equal(addr_parse_endpoint("fd00::1:80", &ss, &len), -1);
	assert_int_equal(addr_parse_endpoint("[fd00::1:80", &ss, &len), -1);
	assert_int_equal(addr_parse_endpoint(":80", &ss, &len), -1);
	assert_int_equal(addr_parse_endpoint("host.example:80", &ss, &len), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr4_valid),
		cmocka_unit_test(test_addr4_invalid),
		cmocka_unit_test(test_addr4_fmt),
		cmocka_unit_test(test_pfx4_parse),
		cmocka_unit_test(test_pfx4_loose),
		cmocka_unit_test(test_pfx4_relations),
		cmocka_unit_test(test_pfx6),
		cmocka_unit_test(test_addr6),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_endpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
