/*
 * Inside the control-channel codec: the field codecs cc.c and cc_bgp.c share, and the
 * per-type body codecs cc_bgp.c provides to cc.c's table. Not for users of cc.h.
 */
#ifndef VENEER_CC_INT_H
#define VENEER_CC_INT_H

#include "cc.h"

/* A length byte and printable ASCII; -1 (and the cursor failed) when over cap-1 bytes. */
int cc_get_str(struct cur *c, char *out, size_t cap);
void cc_put_str(struct wbuf *w, const char *s);
/* A prefix: u32 address, u8 length; the cursor fails on host bits or length over 32. */
void cc_get_pfx(struct cur *c, struct pfx4 *p);
void cc_put_pfx(struct wbuf *w, const struct pfx4 *p);

/* cc_bgp.c */
int cc_dec_lroute(struct cur *c, struct cc_msg *m);
void cc_enc_lroute(struct wbuf *w, const struct cc_msg *m);
int cc_dec_bgpconf(struct cur *c, struct cc_msg *m);
void cc_enc_bgpconf(struct wbuf *w, const struct cc_msg *m);
int cc_dec_learned(struct cur *c, struct cc_msg *m);
void cc_enc_learned(struct wbuf *w, const struct cc_msg *m);
int cc_dec_unlearn(struct cur *c, struct cc_msg *m);
void cc_enc_unlearn(struct wbuf *w, const struct cc_msg *m);
int cc_dec_bgpsess(struct cur *c, struct cc_msg *m);
void cc_enc_bgpsess(struct wbuf *w, const struct cc_msg *m);
int cc_dec_claim(struct cur *c, struct cc_msg *m);
void cc_enc_claim(struct wbuf *w, const struct cc_msg *m);

#endif
