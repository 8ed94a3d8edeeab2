/*
 * Logging in the OpenBGPD style: log_warn adds strerror(errno), log_warnx does not;
 * fatal/fatalx log and exit. Debug messages are enabled per subsystem.
 */
#ifndef VENEER_LOG_H
#define VENEER_LOG_H

#include <stdarg.h>

enum log_subsys {
	LOG_SUB_API = 1 << 0,
	LOG_SUB_STORE = 1 << 1,
	LOG_SUB_EV = 1 << 2,
	LOG_SUB_CTL = 1 << 3,
	LOG_SUB_ALL = 0x7fffffff,
};

/* log.c */
void log_init(const char *ident, unsigned debug_mask);
/* Parses "api,store" or "all" into a mask; returns -1 on an unknown name. */
int log_parse_debug(const char *list, unsigned *mask);
unsigned log_debug_mask(void);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(unsigned sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
