/* Unit tests of src/lib/map.c: the string-keyed hash map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "map.h"

static void
count_cb(const char *key, void *val, void *arg)
{
	(void)key;
	(void)val;
	(*(int *)arg)++;
}

static void
test_basic(void **state)
{
	struct map m = {0};
	int a = 1, b = 2, n = 0;

	(void)state;
	assert_null(map_get(&m, "x"));
	assert_null(map_put(&m, "x", &a, NULL));
	assert_ptr_equal(map_get(&m, "x"), &a);
	assert_ptr_equal(map_put(&m, "x", &b, NULL), &a); /* replace returns the old value */
	assert_ptr_equal(map_get(&m, "x"), &b);
	assert_int_equal(m.count, 1);
	assert_ptr_equal(map_del(&m, "x"), &b);
	assert_null(map_get(&m, "x"));
	assert_null(map_del(&m, "x"));
	map_each(&m, count_cb, &n);
	assert_int_equal(n, 0);
	map_clear(&m);
}

static void
test_many_with_churn(void **state)
{
	struct map m = {0};
	static int vals[5000];
	char key[32];
	int n = 0;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "port-%d", i);
		map_put(&m, key, &vals[i], NULL);
	}
	for (int i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "port-%d", i);
		assert_ptr_equal(map_del(&m, key), &vals[i]);
	}
	/* Reinsert over tombstones many times: the table must not fill up with them. */
	for (int round = 0; round < 20; round++)
		for (int i = 0; i < 5000; i += 2) {
			snprintf(key, sizeof(key), "port-%d", i);
			map_put(&m, key, &vals[i], NULL);
			map_del(&m, key);
		}
	assert_int_equal(m.count, 2500);
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "port-%d", i);
		if (i % 2)
			assert_ptr_equal(map_get(&m, key), &vals[i]);
		else
			assert_null(map_get(&m, key));
	}
	map_each(&m, count_cb, &n);
	assert_int_equal(n, 2500);
	assert_true(m.cap <= 16384);
	map_clear(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_many_with_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
