/*
 * status: what `mailvault status` says, as text lines or one JSON line:
 * the serving process's state, pid, start time and listening ports; per
 * account the upstream, the last sync (and its error in words, as the
 * sync engine saved it in the account's last-sync / last-error
 * settings), when it syncs next ("by" that time: IDLE news may come
 * sooner) or that a run is going on, the messages and unread messages
 * per folder and the bytes stored.
 *
 * The running service renders it for the control socket's STATUS, from
 * a snapshot of its state and its own store handle (missing while
 * locked: the store cannot be read then); the CLI renders it itself
 * when no daemon runs. Nothing here keeps state: all it knows comes in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/daemon_int.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "store/store.h"
#include "sync/sync.h"

static void
json_str(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else
			buf_addc(b, (char)c);
	}
	buf_addc(b, '"');
}

static void
iso_time(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, len, "never");
		return;
	}
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* An account setting as a string ("" when unset); the caller frees. */
static char *
acct_value(struct store *st, int64_t acct, const char *key)
{
	char *v = NULL;

	if (store_account_get(st, acct, key, &v, NULL) != 0)
		return xstrdup("");
	return v;
}

static void
render_daemon(const struct daemon_snapshot *d, int json, struct buf *out)
{
	static const char *names[4] = { "imap", "imaps", "pop3", "pop3s" };
	char since[32];
	int i;

	if (d == NULL) {
		buf_adds(out, json ? "{\"state\":\"not running\"" :
		    "daemon: not running\n");
		return;
	}
	iso_time(d->since, since, sizeof(since));
	if (!json) {
		buf_printf(out, "daemon: %s, pid %ld, since %s\n", d->state,
		    d->pid, since);
		buf_adds(out, d->locked ? "state: locked (run 'mailvault "
		    "unlock')\n" : "state: unlocked\n");
		if (d->store != NULL)
			buf_printf(out, "store: %s\n", d->store);
		if (d->listening != NULL && d->listening[0] != '\0')
			buf_printf(out, "listening: %s\n", d->listening);
		return;
	}
	buf_adds(out, "{\"state\":");
	json_str(out, d->state);
	buf_printf(out, ",\"locked\":%s,\"pid\":%ld,\"since\":\"%s\","
	    "\"store\":", d->locked ? "true" : "false", d->pid, since);
	if (d->store != NULL)
		json_str(out, d->store);
	else
		buf_adds(out, "null");
	buf_adds(out, ",\"ports\":{");
	for (i = 0; i < 4; i++)
		buf_printf(out, "%s\"%s\":%d", i ? "," : "", names[i],
		    d->ports[i]);
	buf_adds(out, "}");
}

/* The account's plan, if a sync thread serves it; else NULL. */
static const struct daemon_plan *
find_plan(const struct daemon_snapshot *d, int64_t acct)
{
	size_t i;

	for (i = 0; d != NULL && i < d->nplans; i++)
		if (d->plans[i].acct == acct)
			return &d->plans[i];
	return NULL;
}

/* The account's next sync, from the daemon's sync thread. */
static void
render_next(const struct daemon_snapshot *d, int64_t acct, int json,
    struct buf *out)
{
	const struct daemon_plan *p = find_plan(d, acct);
	char when[32];

	if (p == NULL) {
		if (json)
			buf_adds(out, ",\"syncing\":false,\"next_sync\":null");
		return;
	}
	iso_time(p->next, when, sizeof(when));
	if (json) {
		buf_printf(out, ",\"syncing\":%s,\"next_sync\":",
		    p->running ? "true" : "false");
		if (p->next > 0)
			json_str(out, when);
		else
			buf_adds(out, "null");
	} else if (p->running)
		buf_adds(out, "  next sync: syncing now\n");
	else if (p->next > 0)
		buf_printf(out, "  next sync: by %s\n", when);
}

static void
render_upstream(struct store *st, int64_t acct, int json, struct buf *out)
{
	char *proto = acct_value(st, acct, SYNC_KEY_PROTO);
	char *host = acct_value(st, acct, SYNC_KEY_HOST);
	char *port = acct_value(st, acct, SYNC_KEY_PORT);
	char *last = acct_value(st, acct, SYNC_KEY_LAST_SYNC);
	char *err = acct_value(st, acct, SYNC_KEY_LAST_ERROR);
	char when[32], up[320];
	uint64_t t = 0;

	if (parse_u64(last, UINT64_MAX, &t) < 0)
		t = 0;
	iso_time((int64_t)t, when, sizeof(when));
	snprintf(up, sizeof(up), "%s%s%s%s%s", proto, proto[0] ? "://" : "",
	    host, port[0] ? ":" : "", port);
	if (json) {
		buf_adds(out, ",\"upstream\":");
		if (proto[0] != '\0')
			json_str(out, up);
		else
			buf_adds(out, "null");
		buf_adds(out, ",\"last_sync\":");
		if (t > 0)
			json_str(out, when);
		else
			buf_adds(out, "null");
		buf_adds(out, ",\"last_error\":");
		json_str(out, err);
	} else if (proto[0] == '\0') {
		buf_adds(out, "  upstream: none (a local account)\n");
	} else {
		buf_printf(out, "  upstream: %s\n  last sync: %s%s%s\n", up,
		    when, t == 0 ? "" : err[0] ? ", failed: " : ", ok",
		    t == 0 ? "" : err);
	}
	free(proto);
	free(host);
	free(port);
	free(last);
	free(err);
}

/* One account's part; 0 or -1 on a store error. */
static int
render_account(struct store *st, const struct daemon_snapshot *d,
    const struct store_account *a, int json, int first, struct buf *out)
{
	struct store_mailbox *mbs = NULL;
	uint64_t bytes = 0;
	size_t n = 0, i;

	if (store_mailbox_list(st, a->id, 1, &mbs, &n) != 0)
		return -1;
	if (json) {
		buf_adds(out, first ? "{\"name\":" : ",{\"name\":");
		json_str(out, a->name);
	} else
		buf_printf(out, "account %s\n", a->name);
	render_upstream(st, a->id, json, out);
	render_next(d, a->id, json, out);
	if (json)
		buf_adds(out, ",\"folders\":[");
	for (i = 0; i < n; i++) {
		bytes += mbs[i].bytes;
		if (json) {
			buf_adds(out, i ? ",{\"name\":" : "{\"name\":");
			json_str(out, mbs[i].name);
			buf_printf(out, ",\"messages\":%lu,\"unread\":%lu,"
			    "\"bytes\":%llu}", (unsigned long)mbs[i].messages,
			    (unsigned long)mbs[i].unseen,
			    (unsigned long long)mbs[i].bytes);
		} else
			buf_printf(out, "  %s: %lu messages, %lu unread\n",
			    mbs[i].name, (unsigned long)mbs[i].messages,
			    (unsigned long)mbs[i].unseen);
	}
	if (json)
		buf_printf(out, "],\"bytes\":%llu}", (unsigned long long)bytes);
	else
		buf_printf(out, "  stored: %llu bytes\n",
		    (unsigned long long)bytes);
	store_mailbox_list_free(&mbs, n);
	return 0;
}

int
daemon_status_render(struct store *st, const struct daemon_snapshot *d,
    int json, struct buf *out)
{
	struct store_account *list = NULL;
	size_t n = 0, i;
	int rc = 0;

	render_daemon(d, json, out);
	if (st == NULL) {
		buf_adds(out, json ? "}\n" : "");
		return 0;
	}
	if (store_account_list(st, &list, &n) != 0)
		return -1;
	if (json)
		buf_adds(out, ",\"accounts\":[");
	for (i = 0; i < n && rc == 0; i++)
		rc = render_account(st, d, &list[i], json, i == 0, out);
	if (json)
		buf_adds(out, "]}\n");
	store_account_list_free(&list, n);
	return rc;
}

int
daemon_status_offline(struct store *st, int json, struct buf *out)
{
	return daemon_status_render(st, NULL, json, out);
}
