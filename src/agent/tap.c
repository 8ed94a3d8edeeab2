#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "gso.h"

/* Address, MTU and link state, set from inside the device's namespace. */
static int
tap_configure(const char *name, const uint8_t mac[6], int mtu, char *err, size_t errsz)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (s < 0) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0) {
		snprintf(err, errsz, "%s: set MAC: %s", name, strerror(errno));
		goto out;
	}
	ifr.ifr_mtu = mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
		snprintf(err, errsz, "%s: set MTU %d: %s", name, mtu, strerror(errno));
		goto out;
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		snprintf(err, errsz, "%s: get flags: %s", name, strerror(errno));
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		snprintf(err, errsz, "%s: up: %s", name, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(s);
	return rc;
}

/*
 * Every frame carries a virtio_net_hdr (little-endian, 10 bytes), and the VM's kernel may
 * hand over checksum-partial frames and TCP super-frames of up to 64 KiB (TSO): one read
 * instead of up to 45, and no segmentation in the VM. dp.c segments and completes them.
 */
static int
tap_offload(int fd)
{
	int hlen = GSO_VNET_HLEN, le = 1;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hlen) < 0)
		return -1;
	(void)ioctl(fd, TUNSETVNETLE, &le); /* the default on little-endian hosts anyway */
	return ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
}

static int
tap_create(const char *name, const uint8_t mac[6], int mtu, char *err, size_t errsz)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errsz, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0 ||
	    tap_offload(fd) < 0) {
		snprintf(err, errsz, "%s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	if (tap_configure(name, mac, mtu, err, errsz) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
tap_open(const char *name, const char *netns_path, const uint8_t mac[6], int mtu, char *err,
    size_t errsz)
{
	int home, there, fd;

	if (netns_path == NULL)
		return tap_create(name, mac, mtu, err, errsz);
	if ((home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errsz, "own namespace: %s", strerror(errno));
		return -1;
	}
	if ((there = open(netns_path, O_RDONLY | O_CLOEXEC)) < 0 || setns(there, CLONE_NEWNET) < 0) {
		snprintf(err, errsz, "%s: %s", netns_path, strerror(errno));
		if (there >= 0)
			close(there);
		close(home);
		return -1;
	}
	fd = tap_create(name, mac, mtu, err, errsz);
	/* Coming back is not optional: everything else of the agent lives at home. */
	if (setns(home, CLONE_NEWNET) < 0) {
		perror("veneer-agent: cannot return to its own network namespace");
		_exit(1);
	}
	close(there);
	close(home);
	return fd;
}

void
tap_destroy(int fd)
{
	if (fd < 0)
		return;
	ioctl(fd, TUNSETPERSIST, 0);
	close(fd);
}

ssize_t
tap_write(int fd, const uint8_t *frame, size_t len)
{
	static const uint8_t none[GSO_VNET_HLEN]; /* no offload: checksums complete */
	struct iovec iov[2] = {{(void *)(uintptr_t)none, sizeof(none)},
	    {(void *)(uintptr_t)frame, len}};

	return writev(fd, iov, 2);
}
