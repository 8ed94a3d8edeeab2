/*
 * The agent's local control socket (unix stream): one command line in, one JSON document
 * out, then close. Readable by root only; it is how operators and tests see the agent's
 * view and counters without going through veneerd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "dp.h"
#include "ev.h"
#include "log.h"

static json_t *
ctl_answer(struct agent *a, char *cmd)
{
	char port[CC_ID_LEN + 1], ns[257], err[160];

	if (a->ctl_answer)
		return a->ctl_answer(a, cmd);
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "state") == 0)
		return json_pack("{s:s, s:o, s:o, s:o}", "host", a->cfg.host, "sync",
		    sync_status(a), "state", astate_json(a->live, strcmp(cmd, "state") == 0),
		    "dataplane", dp_status(a));
	/* "attach PORT NETNS_PATH": the port's VM lives in that namespace (veneer-lab vm). */
	if (sscanf(cmd, "attach %32s %256s", port, ns) == 2) {
		if (dp_attach(a, port, ns, err, sizeof(err)) < 0)
			return json_pack("{s:s}", "error", err);
		return json_pack("{s:s, s:s}", "attached", port, "netns", ns);
	}
	return json_pack("{s:s}", "error", "unknown command (status, state, attach PORT NETNS)");
}

static void
ctl_on_accept(struct ev_io *io, uint32_t events, void *arg)
{
	struct agent *a = arg;
	int fd;

	(void)io;
	(void)events;
	while ((fd = accept4(a->ctl_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		char cmd[512] = "";
		struct timeval tv = {1, 0};
		ssize_t n;
		json_t *o;
		char *text;

		/* A short blocking exchange: a client that does not talk is cut off after 1 s. */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		n = read(fd, cmd, sizeof(cmd) - 1);
		if (n > 0) {
			cmd[n] = '\0';
			cmd[strcspn(cmd, "\r\n")] = '\0';
			o = ctl_answer(a, cmd);
			text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
			json_decref(o);
			if (text) {
				size_t len = strlen(text), off = 0;

				while (off < len) {
					ssize_t w = write(fd, text + off, len - off);

					if (w <= 0)
						break;
					off += (size_t)w;
				}
				if (write(fd, "\n", 1) < 0)
					log_debug(LOG_SUB_CTL, "control client went away");
				free(text);
			}
		}
		close(fd);
	}
}

int
ctl_start(struct agent *a)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	a->ctl_fd = -1;
	if (a->cfg.ctl_path == NULL)
		return 0;
	if (strlen(a->cfg.ctl_path) >= sizeof(sun.sun_path)) {
		log_warnx("control socket path too long");
		return -1;
	}
	strcpy(sun.sun_path, a->cfg.ctl_path);
	unlink(a->cfg.ctl_path);
	a->ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->ctl_fd < 0 || bind(a->ctl_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(a->cfg.ctl_path, 0600) < 0 || listen(a->ctl_fd, 16) < 0) {
		log_warn("control socket %s", a->cfg.ctl_path);
		return -1;
	}
	if ((a->ctl_io = ev_io_add(a->loop, a->ctl_fd, EPOLLIN, ctl_on_accept, a)) == NULL)
		return -1;
	return 0;
}

void
ctl_stop(struct agent *a)
{
	if (a->ctl_fd < 0)
		return;
	ev_io_del(a->ctl_io);
	close(a->ctl_fd);
	unlink(a->cfg.ctl_path);
}
