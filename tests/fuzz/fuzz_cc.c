/*
 * libFuzzer target: the control-channel decoder. Whatever decodes must re-encode to the
 * same bytes (the wire form is canonical), and nothing may read outside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_nets[CC_MAX_NETS][CC_ID_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[CC_MAX_MSG];
	struct cc_msg m;
	size_t n;
	struct wbuf w;

	while (size > 0 && cc_frame(data, size, &n) == CC_OK) {
		memset(&m, 0, sizeof(m));
		m.u.hello.nets = fz_nets;
		if (cc_decode(data, n, &m) == CC_OK) {
			w = wbuf_make(out, sizeof(out));
			cc_encode(&w, &m);
			if (w.failed || w.len != n || memcmp(out, data, n) != 0)
				abort();
		}
		data += n;
		size -= n;
	}
	return 0;
}
