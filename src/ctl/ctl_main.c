/*
 * ctl_main.c: global options, help, and dispatch to the resource table.
 *
 *   veneerctl [--url URL] [--token TOKEN] [-o table|json|id] [--timeout S]
 *             RESOURCE [VERB] [ARGS]
 *
 * Everything the command line can get wrong is found before a request is
 * sent, and answered with exit code 2.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const struct ctl_res	*main_res;	/* the command being run */
static const struct ctl_verb	*main_verb;

static void
main_usage(FILE *f)
{
	const struct ctl_res	*r;
	const struct ctl_verb	*v;

	fputs("Usage: veneerctl [OPTIONS] RESOURCE VERB [ARGS]\n"
	    "\nCommand-line client of the Veneer REST API (veneerd).\n"
	    "\nOptions (also accepted after VERB):\n"
	    "  --url URL          veneerd URL (env VENEER_URL, default "
	    CTL_DEFAULT_URL ")\n"
	    "  --token TOKEN      bearer token (env VENEER_TOKEN)\n"
	    "  -o, --output FMT   table (default), json or id\n"
	    "  --timeout SECONDS  limit for each request (default 30)\n"
	    "  -h, --help         this help\n"
	    "  --version          print the version\n"
	    "\nResources and verbs:\n", f);
	for (r = ctl_res_all(); r->name != NULL; r++) {
		fprintf(f, "  %-8s", r->name);
		for (v = r->verbs; v->name != NULL && r->defverb == NULL; v++)
			fprintf(f, " %s", v->name);
		if (r->defverb != NULL)
			fputs(" (no verb)", f);
		fprintf(f, "\n  %8s  %s\n", "", r->help);
	}
	fputs("\n'veneerctl RESOURCE --help' shows the options of each verb.\n"
	    "\nExit status: 0 success; 1 the API refused the request; 2 usage error\n"
	    "(nothing sent); 3 veneerd unreachable or its answer unusable;\n"
	    "4 not found (404).  See docs/veneerctl.md.\n", f);
}

/*
 * Reports a command-line mistake with a hint at the right help (that of the
 * verb when r and v are given, else of the resource, else the general one),
 * and returns
 * the usage exit code so that callers can "return ctl_main_usage_error(...)".
 */
int
ctl_main_usage_error(const struct ctl_res *r, const struct ctl_verb *v,
    const char *fmt, ...)
{
	va_list	 ap;

	fputs("veneerctl: ", stderr);
	if (r != NULL && v != NULL &&
	    (r->defverb == NULL || strcmp(r->defverb, v->name) != 0))
		fprintf(stderr, "%s %s: ", r->name, v->name);
	else if (r != NULL)
		fprintf(stderr, "%s: ", r->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (r != NULL && v != NULL && r->defverb == NULL)
		fprintf(stderr, "\nTry 'veneerctl %s %s --help'.\n", r->name, v->name);
	else if (r != NULL)
		fprintf(stderr, "\nTry 'veneerctl %s --help'.\n", r->name);
	else
		fputs("\nTry 'veneerctl --help'.\n", stderr);
	return CTL_EXIT_USAGE;
}

static int
main_fmt(struct ctl_conf *c, const char *s)
{
	if (strcmp(s, "table") == 0)
		c->fmt = CTL_FMT_TABLE;
	else if (strcmp(s, "json") == 0)
		c->fmt = CTL_FMT_JSON;
	else if (strcmp(s, "id") == 0)
		c->fmt = CTL_FMT_ID;
	else
		return ctl_main_usage_error(NULL, NULL,
		    "-o: expected table, json or id, not '%s'", s);
	return 0;
}

static int
main_timeout(struct ctl_conf *c, const char *s)
{
	char	*end;
	long	 t;

	errno = 0;
	t = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || t < 1 || t > 86400)
		return ctl_main_usage_error(NULL, NULL,
		    "--timeout: expected whole seconds from 1 to 86400, not '%s'", s);
	c->timeout = t;
	return 0;
}

/* Splits "--opt=value" or "--opt value"; returns the value or NULL. */
static const char *
main_optval(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char	*a = argv[*i];
	size_t		 n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return *val = a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*val = NULL;
		return "";	/* matched, but the value is missing */
	}
	*i += 1;
	return *val = argv[*i];
}

/*
 * Consumes one global option at argv[*i] (advancing *i past it and its value).
 * Returns 1 when consumed, 0 when argv[*i] is not a global option, and
 * CTL_EXIT_USAGE (after a message) when its value is missing or wrong.
 */
int
ctl_main_global(struct ctl_conf *c, int argc, char **argv, int *i)
{
	static const char	*names[] = { "--url", "--token", "--output", "-o",
				    "--timeout" };
	const char		*val = NULL;
	size_t			 k;
	int			 rc = 0;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (main_optval(argc, argv, i, names[k], &val) != NULL)
			break;
	/* "-ojson", as getopt would take it. */
	if (k == sizeof(names) / sizeof(names[0]) && strncmp(argv[*i], "-o", 2) == 0 &&
	    argv[*i][2] != '-' && argv[*i][2] != '\0') {
		k = 3;
		val = argv[*i] + 2;
	}
	if (k == sizeof(names) / sizeof(names[0]))
		return 0;
	if (val == NULL)
		return ctl_main_usage_error(NULL, NULL, "%s needs a value", names[k]);
	if (k == 0)
		c->url = val;
	else if (k == 1)
		c->token = val;
	else if (k == 2 || k == 3)
		rc = main_fmt(c, val);
	else
		rc = main_timeout(c, val);
	if (rc != 0)
		return rc;
	*i += 1;
	return 1;
}

/* Environment first; options given later override it. */
static void
main_defaults(struct ctl_conf *c)
{
	const char	*s;

	memset(c, 0, sizeof(*c));
	c->url = CTL_DEFAULT_URL;
	if ((s = getenv("VENEER_URL")) != NULL && *s != '\0')
		c->url = s;
	if ((s = getenv("VENEER_TOKEN")) != NULL && *s != '\0')
		c->token = s;
	c->fmt = CTL_FMT_TABLE;
	c->timeout = CTL_DEFAULT_TIMEOUT;
}

/*
 * Checks the settings once every option is known; strips trailing '/' from
 * the URL so that paths can be appended as they are.
 */
static int
main_check(struct ctl_conf *c, char **url)
{
	const char	*p;
	size_t		 n;

	if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0)
		return ctl_main_usage_error(NULL, NULL,
		    "--url (or VENEER_URL): expected http://HOST:PORT or "
		    "https://..., not '%s'", c->url);
	if (c->token != NULL && *c->token == '\0')
		c->token = NULL;
	/* A CR or LF in the token would smuggle extra HTTP headers. */
	for (p = c->token; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ctl_main_usage_error(NULL, NULL,
			    "--token: control characters are not allowed");
	*url = ctl_buf_strdup(c->url);
	n = strlen(*url);
	while (n > 0 && (*url)[n - 1] == '/')
		(*url)[--n] = '\0';
	c->url = *url;
	return 0;
}

/* Handles what comes before RESOURCE; returns -1 to go on, else an exit code. */
static int
main_globals(struct ctl_conf *c, int argc, char **argv, int *i)
{
	int	 rc;

	while (*i < argc && argv[*i][0] == '-') {
		if (strcmp(argv[*i], "-h") == 0 || strcmp(argv[*i], "--help") == 0) {
			main_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (strcmp(argv[*i], "--version") == 0) {
			printf("veneerctl %s\n", VENEER_VERSION);
			return CTL_EXIT_OK;
		}
		if ((rc = ctl_main_global(c, argc, argv, i)) == 0)
			return ctl_main_usage_error(NULL, NULL, "unknown option '%s'",
			    argv[*i]);
		if (rc != 1)
			return rc;
	}
	if (*i >= argc)
		return ctl_main_usage_error(NULL, NULL, "missing RESOURCE");
	return -1;
}

/* Finds RESOURCE and VERB at argv[*i]; returns -1 to go on, else an exit code. */
static int
main_target(int argc, char **argv, int *i)
{
	const char	*name = argv[*i];

	if (strcmp(name, "help") == 0) {
		if (*i + 1 < argc && (main_res = ctl_res_find(argv[*i + 1])) != NULL)
			ctl_res_help(stdout, main_res);
		else
			main_usage(stdout);
		return CTL_EXIT_OK;
	}
	if ((main_res = ctl_res_find(name)) == NULL)
		return ctl_main_usage_error(NULL, NULL, "unknown resource '%s'", name);
	*i += 1;
	if (*i < argc && (strcmp(argv[*i], "--help") == 0 || strcmp(argv[*i], "-h") == 0)) {
		ctl_res_help(stdout, main_res);
		return CTL_EXIT_OK;
	}
	if (*i < argc && argv[*i][0] != '-' &&
	    (main_verb = ctl_res_verb(main_res, argv[*i])) != NULL) {
		*i += 1;
		return -1;
	}
	if (main_res->defverb != NULL) {
		main_verb = ctl_res_verb(main_res, main_res->defverb);
		return -1;
	}
	if (*i >= argc || argv[*i][0] == '-')
		return ctl_main_usage_error(main_res, NULL, "missing VERB");
	return ctl_main_usage_error(main_res, NULL, "unknown verb '%s'", argv[*i]);
}

int
main(int argc, char **argv)
{
	struct ctl_conf	 conf;
	struct ctl_req	 req;
	char		*url = NULL;
	int		 i = 1, rc;

	main_defaults(&conf);
	if ((rc = main_globals(&conf, argc, argv, &i)) >= 0)
		return rc;
	if ((rc = main_target(argc, argv, &i)) >= 0)
		return rc;
	memset(&req, 0, sizeof(req));
	rc = ctl_cmd_parse(&conf, main_res, main_verb, argc - i, argv + i, &req);
	if (rc < 0)
		rc = CTL_EXIT_OK;	/* help was printed */
	else if (rc == 0 && (rc = main_check(&conf, &url)) == 0) {
		if ((rc = ctl_http_init()) == 0) {
			rc = ctl_cmd_exec(&conf, main_res, main_verb, &req);
			ctl_http_done();
		}
	}
	ctl_cmd_free(&req);
	free(url);
	return rc;
}
