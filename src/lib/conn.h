/*
 * A control-channel connection on the event loop: non-blocking stream socket, framing and
 * decoding of cc messages, and a write queue. A malformed or oversized message closes the
 * connection with a logged reason; so does a peer that lets the queue grow past the limit.
 */
#ifndef VENEER_CONN_H
#define VENEER_CONN_H

#include <stddef.h>

#include "cc.h"

struct ev_loop;
struct conn;

typedef void (*conn_msg_cb)(struct conn *c, const struct cc_msg *m, void *arg);
/* Called once when the connection closes, for whatever reason; c is freed afterwards. */
typedef void (*conn_close_cb)(struct conn *c, const char *reason, void *arg);

#define CONN_QUEUE_LIMIT (64u << 20)

/* conn.c */
/* Takes ownership of fd (closed with the connection). NULL on failure (fd closed). */
struct conn *conn_new(struct ev_loop *loop, int fd, const char *peer, conn_msg_cb on_msg,
    conn_close_cb on_close, void *arg);
/*
 * Called after the messages of one read have been handed to on_msg (also when one of them
 * made the connection close): a receiver may group their effects, e.g. in one transaction.
 */
typedef void (*conn_drained_cb)(struct conn *c, void *arg);
void conn_on_drained(struct conn *c, conn_drained_cb cb);
/* Queues m; 0, or -1 if the connection is closed or was closed for exceeding the limit. */
int conn_send(struct conn *c, const struct cc_msg *m);
/* Queues an already encoded message (len bytes); same results as conn_send. */
int conn_send_raw(struct conn *c, const uint8_t *msg, size_t len);
/*
 * Between conn_cork and conn_uncork, messages are queued and written only once more than
 * 256 KiB wait: a batch of many messages leaves in one write and wakes its reader once, and
 * a large snapshot still streams. conn_uncork writes what the socket takes (the rest as
 * usual, when it is writable).
 */
void conn_cork(struct conn *c);
void conn_uncork(struct conn *c);
/*
 * On a corked connection: conn_captured returns the bytes queued since conn_capture (whole
 * messages, valid until the next call on c), or NULL if they cannot be read back (the
 * connection closed, or some of them were written). Lets one encoded batch be sent again
 * to another peer with conn_send_bytes, which queues any number of whole messages.
 */
void conn_capture(struct conn *c);
const uint8_t *conn_captured(struct conn *c, size_t *len);
int conn_send_bytes(struct conn *c, const uint8_t *bytes, size_t len);
size_t conn_queued(const struct conn *c);
const char *conn_peer(const struct conn *c);
/* Closes (on_close runs now, memory is released after the current loop round). */
void conn_close(struct conn *c, const char *reason);
/* Sends ERROR(code, reason), then closes once it is written (or at once if it cannot be). */
void conn_fail(struct conn *c, uint16_t code, const char *reason);

#endif
