#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *log_ident = "veneer";
static unsigned log_mask;

static const struct {
	const char *name;
	unsigned bit;
} log_names[] = {
	{"api", LOG_SUB_API},
	{"store", LOG_SUB_STORE},
	{"ev", LOG_SUB_EV},
	{"ctl", LOG_SUB_CTL},
	{"all", LOG_SUB_ALL},
};

void
log_init(const char *ident, unsigned debug_mask)
{
	log_ident = ident;
	log_mask = debug_mask;
}

unsigned
log_debug_mask(void)
{
	return log_mask;
}

int
log_parse_debug(const char *list, unsigned *mask)
{
	char buf[256];
	char *save = NULL, *tok;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	*mask = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
			if (strcmp(tok, log_names[i].name) == 0)
				break;
		if (i == sizeof(log_names) / sizeof(log_names[0]))
			return -1;
		*mask |= log_names[i].bit;
	}
	return 0;
}

static void __attribute__((format(printf, 2, 0)))
log_vemit(const char *level, const char *fmt, va_list ap, int err)
{
	char msg[1024];
	struct timespec ts;
	struct tm tm;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (err)
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s: %s: %s\n", tm.tm_hour, tm.tm_min,
		    tm.tm_sec, ts.tv_nsec / 1000000, log_ident, level, msg, strerror(err));
	else
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s: %s\n", tm.tm_hour, tm.tm_min,
		    tm.tm_sec, ts.tv_nsec / 1000000, log_ident, level, msg);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("info", fmt, ap, 0);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	log_vemit("warn", fmt, ap, err);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("warn", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(unsigned sub, const char *fmt, ...)
{
	va_list ap;

	if ((log_mask & sub) == 0)
		return;
	va_start(ap, fmt);
	log_vemit("debug", fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	log_vemit("fatal", fmt, ap, err);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("fatal", fmt, ap, 0);
	va_end(ap);
	exit(1);
}
