/*
 * One network namespace per network: networks may use the same addresses, so each one's
 * router addresses live in a stack of their own. routerd enters the namespace only to make
 * the TUN and the listening socket; both keep working from the root namespace afterwards.
 * Addresses are set with iproute2 (`ip -n`): rare control-plane work, not worth a netlink
 * client of our own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "ev.h"
#include "log.h"
#include "rd.h"

#define RD_TUN_NAME "vrouter0"
/*
 * The TUN's MTU, hence the MSS routerd's TCP announces and uses: the largest IPv4 packet
 * that VXLAN over an IPv6 substrate (70 bytes) carries in 1500. Sessions with routerd are
 * VXLAN even from embed6 hosts, whose VMs have an MTU of 1472, and must not fragment.
 */
#define RD_TUN_MTU "1430"

extern char **environ;

/* Runs argv, waits; 0 when it exits 0. Output goes to our stderr (the log). */
static int
rd_run(char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Runs `ip -n NS WORDS...` (words separated by single spaces). */
static int
rd_ip(const char *ns, const char *words)
{
	char buf[256], nsbuf[64], ipw[] = "ip", nw[] = "-n";
	char *argv[16] = {ipw, nw, nsbuf};
	int n = 3;

	snprintf(nsbuf, sizeof(nsbuf), "%s", ns);
	snprintf(buf, sizeof(buf), "%s", words);
	for (char *t = strtok(buf, " "); t && n < 15; t = strtok(NULL, " "))
		argv[n++] = t;
	argv[n] = NULL;
	return rd_run(argv);
}

/* A stream listener on port 179 for every address of the namespace we are in. */
static int
rd_listener(const struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	int ttl = 255;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/*
	 * The kernel sends the SYN-ACK from the listener, before accept() hands us the
	 * session's socket: at the default TTL (64) a GTSM peer (IP_MINTTL 255 on its side, as
	 * BIRD's `ttl security on`) drops it, and the session never gets past Connect.
	 */
	setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	if (bind(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0 || listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
rd_tun(void)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", RD_TUN_NAME);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Inside the namespace: the TUN and the listener; back out whatever happens. */
static int
rd_ns_enter_make(struct rd_net *n)
{
	char path[128];
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), target, rc = -1;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(BGP_PORT)};

	snprintf(path, sizeof(path), "/run/netns/%s", n->ns);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0) {
		log_warn("network %s: entering namespace %s", n->id, n->ns);
		goto out;
	}
	n->tun_fd = rd_tun();
	n->lfd = rd_listener(&sin);
	if (setns(self, CLONE_NEWNET) < 0)
		fatal("returning to routerd's own namespace");
	rc = n->tun_fd >= 0 && n->lfd >= 0 ? 0 : -1;
	if (rc < 0)
		log_warn("network %s: TUN or BGP listener in %s", n->id, n->ns);
out:
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return rc;
}

int
rd_ns_open(struct rd *rd, struct rd_net *n)
{
	char ip[] = "ip", netns[] = "netns", delw[] = "delete", addw[] = "add";
	char *del[] = {ip, netns, delw, n->ns, NULL};
	char *add[] = {ip, netns, addw, n->ns, NULL};

	n->tun_fd = n->lfd = -1;
	/* A namespace of that name is a leftover of ours (the name carries our prefix). */
	if (access("/run/netns", F_OK) == 0) {
		char path[128];

		snprintf(path, sizeof(path), "/run/netns/%s", n->ns);
		if (access(path, F_OK) == 0)
			rd_run(del);
	}
	if (rd_run(add) < 0) {
		log_warnx("network %s: cannot create namespace %s", n->id, n->ns);
		return -1;
	}
	if (rd_ns_enter_make(n) < 0 || rd_ip(n->ns, "link set lo up") < 0 ||
	    rd_ip(n->ns, "link set " RD_TUN_NAME " mtu " RD_TUN_MTU " up") < 0 ||
	    rd_ip(n->ns, "route add default dev " RD_TUN_NAME) < 0) {
		rd_ns_close(rd, n);
		return -1;
	}
	n->tun_io = ev_io_add(rd->loop, n->tun_fd, EPOLLIN, rd_sub_on_tun, n);
	n->lio = ev_io_add(rd->loop, n->lfd, EPOLLIN, rd_peer_on_accept, n);
	if (n->tun_io == NULL || n->lio == NULL) {
		rd_ns_close(rd, n);
		return -1;
	}
	log_info("network %s (vnid %u): namespace %s", n->id, n->vnid, n->ns);
	return 0;
}

static int
rd_has(const uint32_t *a, int n, uint32_t v)
{
	for (int i = 0; i < n; i++)
		if (a[i] == v)
			return 1;
	return 0;
}

int
rd_ns_addrs(struct rd *rd, struct rd_net *n, const uint32_t *addrs, int naddrs)
{
	char buf[ADDR4_STRLEN], cmd[96];
	int rc = 0;

	(void)rd;
	for (int i = 0; i < n->naddrs; i++) {
		if (rd_has(addrs, naddrs, n->addrs[i]))
			continue;
		addr4_fmt(n->addrs[i], buf);
		snprintf(cmd, sizeof(cmd), "addr del %s/32 dev %s", buf, RD_TUN_NAME);
		rd_ip(n->ns, cmd);
	}
	for (int i = 0; i < naddrs; i++) {
		if (rd_has(n->addrs, n->naddrs, addrs[i]))
			continue;
		addr4_fmt(addrs[i], buf);
		snprintf(cmd, sizeof(cmd), "addr add %s/32 dev %s", buf, RD_TUN_NAME);
		if (rd_ip(n->ns, cmd) < 0)
			rc = -1;
	}
	n->naddrs = naddrs > (int)(sizeof(n->addrs) / sizeof(n->addrs[0])) ?
	    (int)(sizeof(n->addrs) / sizeof(n->addrs[0])) : naddrs;
	memcpy(n->addrs, addrs, (size_t)n->naddrs * sizeof(addrs[0]));
	return rc;
}

int
rd_ns_md5(struct rd_net *n, uint32_t peer, const char *password)
{
	struct tcp_md5sig sig;
	struct sockaddr_in *sin = (struct sockaddr_in *)&sig.tcpm_addr;
	size_t len = password ? strlen(password) : 0;

	if (n->lfd < 0 || len > TCP_MD5SIG_MAXKEYLEN)
		return -1;
	memset(&sig, 0, sizeof(sig));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(peer);
	sig.tcpm_keylen = (uint16_t)len;
	memcpy(sig.tcpm_key, password ? password : "", len);
	/* Deleting a key that is not there fails with ENOENT: nothing to do then. */
	if (setsockopt(n->lfd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) < 0 &&
	    !(len == 0 && errno == ENOENT)) {
		log_warn("network %s: TCP-MD5 key for a peer", n->id);
		return -1;
	}
	return 0;
}

void
rd_ns_close(struct rd *rd, struct rd_net *n)
{
	char ip[] = "ip", netns[] = "netns", delw[] = "delete";
	char *del[] = {ip, netns, delw, n->ns, NULL};

	(void)rd;
	if (n->tun_io)
		ev_io_del(n->tun_io);
	if (n->lio)
		ev_io_del(n->lio);
	n->tun_io = n->lio = NULL;
	if (n->tun_fd >= 0)
		close(n->tun_fd);
	if (n->lfd >= 0)
		close(n->lfd);
	n->tun_fd = n->lfd = -1;
	n->naddrs = 0;
	if (n->ns[0])
		rd_run(del);
}

int
rd_ns_listen_here(struct rd *rd, struct rd_net *n, const char *addrport)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char host[64];
	const char *colon = strrchr(addrport, ':');
	uint32_t a;

	if (colon == NULL || (size_t)(colon - addrport) >= sizeof(host))
		return -1;
	memcpy(host, addrport, (size_t)(colon - addrport));
	host[colon - addrport] = '\0';
	if (addr4_parse(host, &a) != 0)
		return -1;
	sin.sin_addr.s_addr = htonl(a);
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	n->tun_fd = -1;
	n->ns[0] = '\0';
	if ((n->lfd = rd_listener(&sin)) < 0)
		return -1;
	n->lio = ev_io_add(rd->loop, n->lfd, EPOLLIN, rd_peer_on_accept, n);
	return n->lio ? 0 : -1;
}
