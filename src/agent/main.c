/* veneer-agent: options, then the loop. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "dp.h"
#include "ev.h"
#include "log.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: veneer-agent --host NAME --veneerd ADDR:PORT --address SUBSTRATE_ADDR\n"
	    "                    [--token TOKEN] [--encap vxlan|embed6] [--prefix IPV6/LEN]\n"
	    "                    [--ctl PATH] [--run-dir DIR] [--debug LIST]\n"
	    "  --host NAME         this host's name (registered with veneerd)\n"
	    "  --veneerd ADDR:PORT veneerd's control channel ([ADDR6]:PORT for IPv6)\n"
	    "  --address ADDR      this host's substrate address (IPv4 or IPv6)\n"
	    "  --token TOKEN       agent credential (or VENEER_AGENT_TOKEN)\n"
	    "  --encap ENCAP       vxlan (default) or embed6\n"
	    "  --prefix P          the host prefix (embed6)\n"
	    "  --ctl PATH          local control socket (commands: status, state, attach)\n"
	    "  --run-dir DIR       keeps VM attachments across agent restarts\n"
	    "  --debug LIST        debug logging: ctl,ev or all\n");
}

static void
on_signal(int signo, void *arg)
{
	struct agent *a = arg;

	log_info("signal %d: stopping", signo);
	ev_stop(a->loop);
}

static void
parse_args(int argc, char **argv, struct agent_cfg *cfg, unsigned *debug)
{
	static const struct option opts[] = {
		{"host", required_argument, NULL, 'H'},
		{"veneerd", required_argument, NULL, 'v'},
		{"address", required_argument, NULL, 'a'},
		{"token", required_argument, NULL, 't'},
		{"encap", required_argument, NULL, 'e'},
		{"prefix", required_argument, NULL, 'p'},
		{"ctl", required_argument, NULL, 'c'},
		{"run-dir", required_argument, NULL, 'r'},
		{"debug", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	cfg->token = getenv("VENEER_AGENT_TOKEN");
	cfg->encap = CC_ENCAP_VXLAN;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H': cfg->host = optarg; break;
		case 'v': cfg->veneerd = optarg; break;
		case 'a': cfg->address = optarg; break;
		case 't': cfg->token = optarg; break;
		case 'p': cfg->prefix = optarg; break;
		case 'c': cfg->ctl_path = optarg; break;
		case 'r': cfg->run_dir = optarg; break;
		case 'e':
			if (strcmp(optarg, "vxlan") == 0)
				cfg->encap = CC_ENCAP_VXLAN;
			else if (strcmp(optarg, "embed6") == 0)
				cfg->encap = CC_ENCAP_EMBED6;
			else
				fatalx("bad --encap %s (vxlan or embed6)", optarg);
			break;
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
	if (optind != argc || !cfg->host || !cfg->veneerd || !cfg->address) {
		usage(stderr);
		exit(2);
	}
	if (cfg->token == NULL)
		fatalx("an agent token is required (--token or VENEER_AGENT_TOKEN)");
	if (cfg->encap == CC_ENCAP_EMBED6 && cfg->prefix == NULL)
		fatalx("--encap embed6 needs --prefix");
}

int
main(int argc, char **argv)
{
	struct agent a;
	unsigned debug = 0;

	memset(&a, 0, sizeof(a));
	log_init("veneer-agent", 0);
	parse_args(argc, argv, &a.cfg, &debug);
	log_init("veneer-agent", debug);
	signal(SIGPIPE, SIG_IGN);
	if ((a.loop = ev_loop_new()) == NULL || (a.live = astate_new()) == NULL)
		fatal("start-up");
	if (ev_signal(a.loop, SIGTERM, on_signal, &a) < 0 ||
	    ev_signal(a.loop, SIGINT, on_signal, &a) < 0)
		fatal("signals");
	if (ctl_start(&a) < 0)
		fatalx("control socket");
	if (dp_start(&a) < 0)
		fatalx("data plane");
	a.on_update = dp_update;
	if (sync_start(&a) < 0)
		fatalx("control channel");
	log_info("host %s, substrate %s, veneerd %s", a.cfg.host, a.cfg.address, a.cfg.veneerd);
	if (ev_run(a.loop) < 0)
		log_warn("event loop");
	sync_stop(&a);
	dp_stop(&a);
	ctl_stop(&a);
	astate_free(a.live);
	ev_loop_free(a.loop);
	return 0;
}
