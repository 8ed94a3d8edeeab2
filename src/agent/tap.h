/*
 * TAP devices for local ports. A TAP is created persistent, directly in the network
 * namespace where the port's VM lives (the agent enters it for the ioctls and comes back,
 * keeping the descriptor), so a restarted agent finds the same device by name again.
 */
#ifndef VENEER_TAP_H
#define VENEER_TAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* tap.c */
/*
 * Opens (creating if needed) TAP `name` in the namespace at netns_path (NULL: the agent's
 * own), sets its MAC and MTU and brings it up. Returns a non-blocking fd, or -1 with err.
 * The fd reads and writes frames behind a virtio_net_hdr (GSO_VNET_HLEN bytes, gso.h), with
 * checksum and TCP segmentation offload enabled (the VM's interface shows TSO on).
 */
int tap_open(const char *name, const char *netns_path, const uint8_t mac[6], int mtu,
    char *err, size_t errsz);
/* Writes one whole frame (checksums complete, no offload) behind an empty vnet header. */
ssize_t tap_write(int fd, const uint8_t *frame, size_t len);
/* Makes the device non-persistent and closes fd: the kernel removes the device. */
void tap_destroy(int fd);

#endif
