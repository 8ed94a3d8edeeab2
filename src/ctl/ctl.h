/*
 * veneerctl: the command-line client of the Veneer REST API (docs/api.md).
 *
 * The CLI is data driven: ctl_res.c holds one table row per resource and verb
 * that says which HTTP method and path it uses, which options it takes and
 * which JSON fields (or query parameters) they become, and how the answer is
 * printed.  ctl_cmd.c turns a command line into a request by walking that
 * table, ctl_http.c talks to veneerd with libcurl and decodes its errors, and
 * ctl_out.c prints answers as a table, JSON or bare ids.
 *
 * veneerctl depends only on jansson and libcurl, never on src/lib, so that it
 * can be built and shipped on machines that do not run veneerd.
 */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#ifndef VENEER_VERSION
#define VENEER_VERSION "unknown"
#endif

#define CTL_DEFAULT_URL		"http://127.0.0.1:8600"
#define CTL_DEFAULT_TIMEOUT	30

/* Exit codes: a documented interface (docs/veneerctl.md); scripts rely on them. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_API = 1,	/* the API refused the request: 4xx other than 404, or 5xx */
	CTL_EXIT_USAGE = 2,	/* bad command line, found before anything was sent */
	CTL_EXIT_TRANSPORT = 3,	/* veneerd unreachable, or an answer that is not the API's */
	CTL_EXIT_NOTFOUND = 4,	/* 404 */
};

enum ctl_fmt { CTL_FMT_TABLE, CTL_FMT_JSON, CTL_FMT_ID };

/* Settings shared by every request of one invocation. */
struct ctl_conf {
	const char	*url;		/* base URL, without trailing '/' once checked */
	const char	*token;		/* NULL: send no Authorization header */
	enum ctl_fmt	 fmt;
	long		 timeout;	/* seconds for the whole request */
};

/* How an option's value is sent. */
enum ctl_type {
	CTL_T_STR,	/* a JSON string, or a query parameter */
	CTL_T_INT,	/* a JSON integer */
	CTL_T_BOOL,	/* on|off, sent as true/false */
	CTL_T_NULL,	/* takes no value, sends null (--no-host unbinds) */
	CTL_T_EMPTY,	/* takes no value, sends [] (--no-extra-ips clears) */
	CTL_T_JSON,	/* a JSON object: literal text starting with '{', else a file */
};

#define CTL_O_REQ	0x01	/* must be given */
#define CTL_O_MULTI	0x02	/* repeatable: once sends a scalar, several a list */
#define CTL_O_LIST	0x04	/* repeatable: always sent as a list */
#define CTL_O_PATH	0x08	/* fills the {field} slot of the path, not body or query */
/*
 * A field "parent.child" goes inside the object "parent".  With CTL_O_MERGE, when
 * "parent" itself is not given, the object's current "parent" is read first (GET) and
 * the given members change only themselves (a PATCH of "parent" replaces it whole).
 */
#define CTL_O_MERGE	0x10

struct ctl_opt {
	const char	*flag;		/* without the leading "--"; NULL ends a table */
	const char	*field;		/* JSON field, query parameter or path slot */
	enum ctl_type	 type;
	unsigned	 flags;		/* CTL_O_* */
	const char	*metavar;	/* shown in help; NULL for value-less flags */
	const char	*help;
};

enum ctl_method { CTL_GET, CTL_POST, CTL_PATCH, CTL_DELETE };

/* What a successful answer is and how it is printed. */
enum ctl_shape {
	CTL_S_ROW,	/* one object, printed as a one-row table (create, update) */
	CTL_S_SHOW,	/* one object, printed as KEY: VALUE lines (show, health) */
	CTL_S_LIST,	/* {"items": [...]} over every page (list, routes) */
	CTL_S_SUB,	/* one object whose member `items` is printed as the table */
	CTL_S_NONE,	/* nothing is printed (delete) */
};

struct ctl_col {
	const char	*header;	/* NULL ends a table */
	const char	*field;
};

#define CTL_V_NOAUTH	0x01	/* sent without the token (health) */
#define CTL_V_NEEDONE	0x02	/* needs at least one body option (update) */

struct ctl_verb {
	const char		*name;		/* NULL ends a table */
	enum ctl_method		 method;
	enum ctl_shape		 shape;
	const char		*pos;		/* metavar of the positional id, or NULL */
	const char		*pos2;		/* metavar of a second positional, or NULL */
	const char		*pos2field;	/* the body field it is sent as */
	const char		*suffix;	/* appended after the id ("/routes"), or NULL */
	const struct ctl_opt	*opts;		/* or NULL */
	const struct ctl_col	*cols;		/* overrides the resource's columns */
	const char		*idfield;	/* overrides the resource's id for -o id */
	const char		*secret;	/* field shown after the table and by -o id */
	unsigned		 flags;		/* CTL_V_* */
	const char		*help;
	const char		*items;		/* CTL_S_SUB: the member holding the rows */
};

struct ctl_res {
	const char		*name;		/* NULL ends the table */
	const char		*path;		/* may hold {field} slots (CTL_O_PATH) */
	const char		*idfield;	/* printed by -o id */
	const struct ctl_col	*cols;		/* table columns */
	const struct ctl_verb	*verbs;
	const char		*defverb;	/* verb used when none is given, or NULL */
	const char		*help;
};

/* A request built from the command line, ready for ctl_http. */
struct ctl_req {
	enum ctl_method	 method;
	char		*path;		/* relative to the base URL, query included */
	json_t		*body;		/* POST/PATCH body, or NULL */
	int		 noauth;	/* do not send the token */
	json_t		*merge;		/* CTL_O_MERGE parents to complete from a GET */
};

/* Growable NUL-terminated byte buffer. */
struct ctl_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

/* ctl_buf.c */
void		 ctl_buf_oom(void) __attribute__((noreturn));
void		 ctl_buf_add(struct ctl_buf *, const void *, size_t);
void		 ctl_buf_adds(struct ctl_buf *, const char *);
void		 ctl_buf_addf(struct ctl_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 ctl_buf_addsafe(struct ctl_buf *, const char *);
void		 ctl_buf_addesc(struct ctl_buf *, const char *);
const char	*ctl_buf_str(const struct ctl_buf *);
char		*ctl_buf_take(struct ctl_buf *);
void		 ctl_buf_free(struct ctl_buf *);
char		*ctl_buf_strdup(const char *);

/* ctl_main.c */
int		 ctl_main_global(struct ctl_conf *, int, char **, int *);
int		 ctl_main_usage_error(const struct ctl_res *, const struct ctl_verb *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

/* ctl_res.c */
const struct ctl_res	*ctl_res_all(void);
const struct ctl_res	*ctl_res_find(const char *);
const struct ctl_verb	*ctl_res_verb(const struct ctl_res *, const char *);
void			 ctl_res_synopsis(FILE *, const struct ctl_res *,
			    const struct ctl_verb *);
void			 ctl_res_help(FILE *, const struct ctl_res *);
void			 ctl_res_verb_help(FILE *, const struct ctl_res *,
			    const struct ctl_verb *);

/* ctl_cmd.c */
int		 ctl_cmd_parse(struct ctl_conf *, const struct ctl_res *,
		    const struct ctl_verb *, int, char **, struct ctl_req *);
int		 ctl_cmd_exec(const struct ctl_conf *, const struct ctl_res *,
		    const struct ctl_verb *, const struct ctl_req *);
void		 ctl_cmd_free(struct ctl_req *);

/* ctl_http.c */
int		 ctl_http_init(void);
void		 ctl_http_done(void);
int		 ctl_http_call(const struct ctl_conf *, const struct ctl_req *, json_t **);
int		 ctl_http_list(const struct ctl_conf *, const struct ctl_req *, json_t **);
int		 ctl_http_merge(const struct ctl_conf *, const struct ctl_req *);

/* ctl_out.c */
void		 ctl_out_value(struct ctl_buf *, const json_t *);
int		 ctl_out_print(const struct ctl_conf *, const struct ctl_res *,
		    const struct ctl_verb *, json_t *);

#endif /* CTL_H */
