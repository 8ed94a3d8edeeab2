/* veneer-routerd: arguments, then the event loop (the core is rd_*.c). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "log.h"
#include "rd.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: veneer-routerd --host NAME --veneerd ADDR:PORT --address SUBSTRATE\n"
	    "                      [--token T] [--ctl PATH] [--netns-prefix P] [--debug LIST]\n"
	    "       veneer-routerd --bench-listen ADDR:PORT --asn N [--ctl PATH]\n"
	    "  --host NAME         the name routerd registers under with veneerd\n"
	    "  --veneerd ADDR:PORT veneerd's control channel\n"
	    "  --address A         routerd's substrate address (agents send BGP traffic here)\n"
	    "  --token T           routerd's credential (veneerd's --routerd-token, or\n"
	    "                      VENEER_ROUTERD_TOKEN)\n"
	    "  --ctl PATH          local control socket (commands: status, routes ROUTER)\n"
	    "  --netns-prefix P    networks' namespaces are named P-VNID (default vnr)\n"
	    "  --bench-listen A:P  a standalone BGP speaker accepting everything, for bench/\n"
	    "  --asn N             its AS number\n");
}

static void
stop_peer(const char *key, void *val, void *arg)
{
	struct rd_peer *p = val;

	(void)key;
	(void)arg;
	if (p->sess && bgp_sess_state(p->sess) >= BGP_S_OPENSENT)
		bgp_sess_stop(p->sess, BGP_ERR_CEASE, BGP_CEASE_SHUTDOWN, ev_now_ms());
}

static void
on_stopped(struct ev_timer *t, void *arg)
{
	struct rd *rd = arg;

	(void)t;
	ev_stop(rd->loop);
}

/*
 * Stopping: every session is ended with Cease/administrative shutdown (RFC 4486), and the
 * loop runs a little longer so those NOTIFICATIONs and FINs leave through the TUNs and the
 * substrate; appliances then reconnect at once to the next routerd instead of waiting for
 * their hold timer. A second signal stops at once.
 */
static void
on_signal(int signo, void *arg)
{
	struct rd *rd = arg;

	if (rd->stop_timer) {
		ev_stop(rd->loop);
		return;
	}
	log_info("signal %d: closing sessions, then stopping", signo);
	map_each(&rd->peers, stop_peer, NULL);
	if ((rd->stop_timer = ev_timer_new(rd->loop, on_stopped, rd)) == NULL) {
		ev_stop(rd->loop);
		return;
	}
	ev_timer_arm(rd->stop_timer, 300);
}

static void
parse_args(int argc, char **argv, struct rd_cfg *cfg, unsigned *debug)
{
	static const struct option opts[] = {
		{"host", required_argument, NULL, 'H'},
		{"veneerd", required_argument, NULL, 'v'},
		{"address", required_argument, NULL, 'a'},
		{"token", required_argument, NULL, 't'},
		{"ctl", required_argument, NULL, 'c'},
		{"netns-prefix", required_argument, NULL, 'n'},
		{"bench-listen", required_argument, NULL, 'b'},
		{"asn", required_argument, NULL, 'A'},
		{"debug", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	cfg->token = getenv("VENEER_ROUTERD_TOKEN");
	cfg->ns_prefix = "vnr";
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H': cfg->host = optarg; break;
		case 'v': cfg->veneerd = optarg; break;
		case 'a': cfg->address = optarg; break;
		case 't': cfg->token = optarg; break;
		case 'c': cfg->ctl_path = optarg; break;
		case 'n': cfg->ns_prefix = optarg; break;
		case 'b': cfg->bench_listen = optarg; break;
		case 'A': cfg->bench_asn = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'd':
			if (log_parse_debug(optarg, debug) < 0)
				fatalx("bad --debug %s", optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc || (cfg->bench_listen == NULL && (!cfg->host || !cfg->veneerd ||
	    !cfg->address)) || (cfg->bench_listen && cfg->bench_asn == 0)) {
		usage(stderr);
		exit(2);
	}
	if (cfg->bench_listen == NULL && cfg->token == NULL)
		fatalx("a token is required (--token or VENEER_ROUTERD_TOKEN)");
	if (strlen(cfg->ns_prefix) > 40)
		fatalx("--netns-prefix is too long");
}

/* Bench mode: one network, one router, one peer slot that takes any connection. */
static void
bench_setup(struct rd *rd)
{
	static struct rd_net net;
	struct rd_router *r;
	struct rd_peer *p;

	net.rd = rd;
	snprintf(net.id, sizeof(net.id), "bench");
	rd->bench_net = &net;
	if (rd_ns_listen_here(rd, &net, rd->cfg.bench_listen) < 0)
		fatal("listening on %s", rd->cfg.bench_listen);
	if ((r = rd_router_get(rd, "bench", "bench")) == NULL ||
	    (p = rd_peer_new(rd, "bench")) == NULL)
		fatalx("out of memory");
	r->asn = rd->cfg.bench_asn;
	r->router_id = 0x0a000001;
	rd->bench_router = r;
	snprintf(p->router, sizeof(p->router), "bench");
	snprintf(p->net, sizeof(p->net), "bench");
	p->policy.rate = 1e9;
	p->policy.burst = 1e9;
	p->policy.max_prefix = 0xffffffffu;
}

static void
free_router(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	rd_router_free(val);
}

static void
free_peer(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	rd_peer_free(val);
}

static void
free_net(const char *key, void *val, void *arg)
{
	(void)key;
	rd_ns_close(arg, val);
	free(val);
}

int
main(int argc, char **argv)
{
	static struct rd rd;
	unsigned debug = 0;

	log_init("veneer-routerd", 0);
	parse_args(argc, argv, &rd.cfg, &debug);
	log_init("veneer-routerd", debug);
	signal(SIGPIPE, SIG_IGN);
	rd.sub_fd = -1;
	if ((rd.loop = ev_loop_new()) == NULL || (rd.atab = bgp_atab_new()) == NULL ||
	    (rd.sync.live = astate_new()) == NULL)
		fatal("start-up");
	if (ev_signal(rd.loop, SIGTERM, on_signal, &rd) < 0 ||
	    ev_signal(rd.loop, SIGINT, on_signal, &rd) < 0)
		fatal("signals");
	if (rd_ctl_start(&rd) < 0)
		fatalx("control socket");
	if (rd.cfg.bench_listen) {
		bench_setup(&rd);
		log_info("bench speaker on %s, AS %u", rd.cfg.bench_listen, rd.cfg.bench_asn);
	} else {
		rd.sync.cfg.host = rd.cfg.host;
		rd.sync.cfg.veneerd = rd.cfg.veneerd;
		rd.sync.cfg.token = rd.cfg.token;
		rd.sync.cfg.address = rd.cfg.address;
		rd.sync.cfg.encap = CC_ENCAP_VXLAN;
		rd.sync.cfg.role = CC_ROLE_ROUTERD;
		rd.sync.on_update = rd_update;
		rd.sync.on_welcome = rd_welcome;
		if (rd_sub_open(&rd) < 0 || sync_start(&rd.sync) < 0 || rd_report_start(&rd) < 0)
			fatalx("substrate or control channel");
		log_info("routerd %s, substrate %s, veneerd %s", rd.cfg.host, rd.cfg.address,
		    rd.cfg.veneerd);
	}
	if (ev_run(rd.loop) < 0)
		log_warn("event loop");
	if (!rd.cfg.bench_listen)
		sync_stop(&rd.sync);
	rd.stopping = 1;
	map_each(&rd.peers, free_peer, NULL);
	map_clear(&rd.peers);
	map_each(&rd.routers, free_router, NULL);
	map_clear(&rd.routers);
	if (rd.bench_net == NULL)
		map_each(&rd.nets, free_net, &rd);
	map_clear(&rd.nets);
	rd_sub_close(&rd);
	rd_ctl_stop(&rd);
	if (rd.export_timer)
		ev_timer_free(rd.export_timer);
	if (rd.stop_timer)
		ev_timer_free(rd.stop_timer);
	if (rd.count_timer)
		ev_timer_free(rd.count_timer);
	fib_free(rd.fib);
	astate_free(rd.sync.live);
	bgp_atab_free(rd.atab);
	ev_loop_free(rd.loop);
	return 0;
}
