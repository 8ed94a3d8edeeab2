/* veneerd: the system manager. Thin main: options, then the loop. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "log.h"
#include "vd.h"
#include "ccsrv.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: veneerd --store PATH [--listen ADDR:PORT] [--admin-token TOKEN]\n"
	    "               [--rate-limit RATE[:BURST]] [--max-body BYTES] [--debug LIST]\n"
	    "  --store PATH        SQLite store (created if missing)\n"
	    "  --listen ADDR:PORT  REST API address (default %s; [ADDR6]:PORT for IPv6)\n"
	    "  --admin-token TOKEN admin bearer token, at least 16 characters\n"
	    "                      (or the VENEER_ADMIN_TOKEN environment variable)\n"
	    "  --rate-limit R[:B]  per tenant token: R requests/s, bursts of B (default 200:400;\n"
	    "                      0 turns it off)\n"
	    "  --max-body BYTES    largest request body (default %d)\n"
	    "  --debug LIST        debug logging: api,store,ev or all\n"
	    "  --agent-listen ADDR:PORT  control channel for agents (default %s)\n"
	    "  --agent-token TOKEN credential agents present (or VENEER_AGENT_TOKEN);\n"
	    "                      without one the control channel is off\n"
	    "  --routerd-token TOKEN  credential veneer-routerd presents (or\n"
	    "                      VENEER_ROUTERD_TOKEN); without one no routerd may register\n",
	    VD_DEFAULT_LISTEN, VD_DEFAULT_MAX_BODY, VD_DEFAULT_AGENT_LISTEN);
}

static void
on_signal(int signo, void *arg)
{
	struct vd *vd = arg;

	log_info("signal %d: stopping", signo);
	ev_stop(vd->loop);
}

static void
parse_rate(struct vd_config *cfg, const char *s)
{
	char *end;

	cfg->rate = strtod(s, &end);
	cfg->burst = cfg->rate * 2;
	if (*end == ':')
		cfg->burst = strtod(end + 1, &end);
	if (*end != '\0' || cfg->rate < 0 || cfg->burst < (cfg->rate > 0 ? 1 : 0))
		fatalx("bad --rate-limit %s (want RATE or RATE:BURST)", s);
}

static void
parse_args(int argc, char **argv, struct vd_config *cfg, unsigned *debug)
{
	static const struct option opts[] = {
		{"store", required_argument, NULL, 's'},
		{"listen", required_argument, NULL, 'l'},
		{"admin-token", required_argument, NULL, 'a'},
		{"rate-limit", required_argument, NULL, 'r'},
		{"max-body", required_argument, NULL, 'm'},
		{"debug", required_argument, NULL, 'd'},
		{"agent-listen", required_argument, NULL, 'A'},
		{"agent-token", required_argument, NULL, 'T'},
		{"routerd-token", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *admin = getenv("VENEER_ADMIN_TOKEN");
	int c;

	cfg->listen = VD_DEFAULT_LISTEN;
	cfg->agent_listen = VD_DEFAULT_AGENT_LISTEN;
	cfg->agent_token = getenv("VENEER_AGENT_TOKEN");
	cfg->routerd_token = getenv("VENEER_ROUTERD_TOKEN");
	cfg->max_body = VD_DEFAULT_MAX_BODY;
	cfg->rate = 200;
	cfg->burst = 400;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			cfg->store_path = optarg;
			break;
		case 'l':
			cfg->listen = optarg;
			break;
		case 'a':
			admin = optarg;
			break;
		case 'r':
			parse_rate(cfg, optarg);
			break;
		case 'm':
			cfg->max_body = strtoul(optarg, NULL, 10);
			if (cfg->max_body < 1024)
				fatalx("--max-body must be at least 1024");
			break;
		case 'd':
			if (log_parse_debug(optarg, debug) < 0)
				fatalx("bad --debug %s (want api,store,ev or all)", optarg);
			break;
		case 'A':
			cfg->agent_listen = optarg;
			break;
		case 'T':
			cfg->agent_token = optarg;
			break;
		case 'R':
			cfg->routerd_token = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc || cfg->store_path == NULL) {
		usage(stderr);
		exit(2);
	}
	if (admin == NULL || strlen(admin) < 16)
		fatalx("an admin token of at least 16 characters is required "
		    "(--admin-token or VENEER_ADMIN_TOKEN)");
	auth_hash(admin, cfg->admin_hash);
	if (cfg->routerd_token && strlen(cfg->routerd_token) < 16)
		fatalx("the routerd token must be at least 16 characters");
	if (cfg->routerd_token && cfg->agent_token &&
	    strcmp(cfg->routerd_token, cfg->agent_token) == 0)
		fatalx("the routerd token must differ from the agent token");
	if (cfg->agent_token && strlen(cfg->agent_token) < 16)
		fatalx("the agent token must be at least 16 characters");
}

int
main(int argc, char **argv)
{
	struct vd vd;
	unsigned debug = 0;
	char err[256];

	memset(&vd, 0, sizeof(vd));
	log_init("veneerd", 0);
	parse_args(argc, argv, &vd.cfg, &debug);
	log_init("veneerd", debug);
	signal(SIGPIPE, SIG_IGN);
	if ((vd.loop = ev_loop_new()) == NULL)
		fatal("event loop");
	if ((vd.st = store_open(vd.cfg.store_path, err, sizeof(err))) == NULL)
		fatalx("store: %s", err);
	if ((vd.http = http_start(&vd, vd.cfg.listen, err, sizeof(err))) == NULL)
		fatalx("api: %s", err);
	if (vd.cfg.agent_token == NULL)
		log_info("no agent token: the control channel is off");
	else if ((vd.cc = ccsrv_start(&vd, vd.cfg.agent_listen, vd.cfg.agent_token, err,
	    sizeof(err))) == NULL)
		fatalx("agents: %s", err);
	if (ev_signal(vd.loop, SIGTERM, on_signal, &vd) < 0 ||
	    ev_signal(vd.loop, SIGINT, on_signal, &vd) < 0)
		fatal("signals");
	log_info("listening on %s, store %s (schema %d, revision %lld)", vd.cfg.listen,
	    vd.cfg.store_path, store_schema_version(vd.st), (long long)store_revision(vd.st));
	if (ev_run(vd.loop) < 0)
		log_warn("event loop");
	ccsrv_stop(vd.cc);
	http_stop(vd.http);
	store_close(vd.st);
	auth_free(&vd);
	ev_loop_free(vd.loop);
	return 0;
}
