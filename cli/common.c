/*
 * common: what every subcommand shares: error and usage messages, option
 * values, finding the store, JSON strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/mime.h"
#include "lib/rfc822.h"
#include "lib/utf8.h"
#include "lib/util.h"
#include "store/store.h"

/* --json: errors go out as {"error": "..."} on stdout (set by main). */
static int json_errors;

void
cli_set_json_errors(int on)
{
	json_errors = on;
}

/* Print "mailvault: <text>" on stderr, or the JSON error on stdout; hint
 * (may be NULL) follows as a sentence of its own. */
static void
say_error(const char *hint, const char *fmt, va_list ap)
{
	char *msg = NULL;

	cli_progress_clear();
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();	/* out of memory: as xmalloc() does */
	if (json_errors) {
		fflush(stdout);
		fputs("{\"error\":", stdout);
		cli_json_string(msg);
		if (hint != NULL) {
			fputs(",\"hint\":", stdout);
			cli_json_string(hint);
		}
		fputs("}\n", stdout);
		fflush(stdout);
	} else {
		fprintf(stderr, "mailvault: %s\n", msg);
		if (hint != NULL)
			fprintf(stderr, "%s\n", hint);
	}
	free(msg);
}

int
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say_error(NULL, fmt, ap);
	va_end(ap);
	return CLI_FAIL;
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	char *hint;

	hint = cmd != NULL ? xasprintf("See 'mailvault %s --help'.", cmd) :
	    xstrdup("See 'mailvault --help'.");
	va_start(ap, fmt);
	say_error(hint, fmt, ap);
	va_end(ap);
	free(hint);
	return CLI_USAGE;
}

int
cli_opt_value(int argc, char **argv, int *i, const char *name,
    const char **val_r)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val_r = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		/* A missing value reads as an empty one, which every
		 * caller rejects with its own message. */
		*val_r = "";
		return 1;
	}
	*val_r = argv[++*i];
	return 1;
}

int
cli_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

char *
cli_store_path(const struct cli_opts *o)
{
	const char *xdg, *home;

	if (o->store_path != NULL && o->store_path[0] != '\0')
		return xstrdup(o->store_path);
	xdg = getenv("XDG_DATA_HOME");
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/mailvault/store.db", xdg);
	home = getenv("HOME");
	if (home == NULL || home[0] == '\0')
		home = ".";
	return xasprintf("%s/.local/share/mailvault/store.db", home);
}

void
cli_json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void
cli_split_path(const char *path, char **acct_r, char **mbox_r)
{
	const char *slash = strchr(path, '/');

	if (slash == NULL) {
		*acct_r = xstrdup(path);
		*mbox_r = NULL;
		return;
	}
	*acct_r = xstrndup(path, (size_t)(slash - path));
	*mbox_r = slash[1] != '\0' ? xstrdup(slash + 1) : NULL;
}

int
cli_find_mailbox(struct store *st, const char *path, int64_t *acct_r,
    struct store_mailbox *mb_r)
{
	char *acct, *mbox;
	int rc;

	cli_split_path(path, &acct, &mbox);
	if (store_account_find(st, acct, acct_r) < 0) {
		cli_error("there is no account '%s': 'mailvault ls' lists "
		    "them", acct);
		rc = -1;
	} else if ((rc = store_mailbox_find(st, *acct_r,
	    mbox != NULL ? mbox : "INBOX", mb_r)) < 0)
		cli_error("account '%s' has no mailbox '%s': 'mailvault ls "
		    "%s' lists them", acct, mbox != NULL ? mbox : "INBOX",
		    acct);
	free(acct);
	free(mbox);
	return rc < 0 ? -1 : 0;
}

void
cli_when(int64_t t, int64_t now, char *out, size_t len)
{
	static const struct {
		int64_t	 secs;
		const char *one, *many;
	} units[] = {
		{ 86400, "day", "days" },
		{ 3600, "hour", "hours" },
		{ 60, "minute", "minutes" },
	};
	time_t tt = (time_t)t;
	struct tm tm;
	char date[64];
	int64_t ago = now - t, n;
	size_t i;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d %H:%M %Z", &tm) == 0) {
		snprintf(out, len, "%lld", (long long)t);
		return;
	}
	if (ago < 0) {
		snprintf(out, len, "%s (in the future: is the clock right?)",
		    date);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (ago < units[i].secs)
			continue;
		n = ago / units[i].secs;
		snprintf(out, len, "%s (%lld %s ago)", date, (long long)n,
		    n == 1 ? units[i].one : units[i].many);
		return;
	}
	snprintf(out, len, "%s (just now)", date);
}

char *
cli_header_text(const struct mime_part *root, const char *field)
{
	struct buf out;
	char *raw;

	if (root == NULL || root->header == NULL)
		return xstrdup("");
	buf_init(&out, 64 * 1024);
	raw = rfc822_header_get(root->header, root->hdr_len, field);
	if (raw != NULL)
		mime_decode_header(raw, strlen(raw), &out);
	free(raw);
	return buf_steal(&out, NULL);
}

void
cli_printable(char *s, int lines)
{
	unsigned char *p = (unsigned char *)s, *out = p;
	uint32_t cp;
	size_t n, len = strlen(s);

	while (*p != '\0') {
		n = utf8_decode(p, len - (size_t)(p - (unsigned char *)s), &cp);
		if (n == 0) {
			/* Not UTF-8: a byte the terminal might act on. */
			*out++ = '?';
			p++;
			continue;
		}
		if (lines && (cp == '\n' || cp == '\t'))
			*out++ = (unsigned char)cp;
		else if (cp < 0x20 || cp == 0x7f)
			*out++ = ' ';
		else if (cp >= 0x80 && cp < 0xa0)
			*out++ = '?';	/* C1 controls: CSI is 0x9b */
		else {
			memmove(out, p, n);
			out += n;
		}
		p += n;
	}
	*out = '\0';
}
