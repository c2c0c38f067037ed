/*
 * cmd_sync: `mailvault sync [ACCOUNT…]`, one sync of each account now.
 *
 * Without names, every account with an upstream is synced, one after the
 * other. Each shows its progress: on a terminal a bar redrawn in place
 * (messages and bytes, rate, time left), otherwise a plain line every
 * five seconds; then a summary line. An account that fails does not stop
 * the others; the exit status is non-zero if any failed, and the reason
 * is printed in words (host not found, certificate mismatch with its
 * fingerprint, authentication refused, timeout), as the engine words it.
 *
 * When a daemon serves the store, it syncs instead (its own sync threads,
 * woken over the control socket): its progress lines carry numbers,
 * drawn with the same bar, and its sentences are shown as they come.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "lib/util.h"
#include "store/store.h"
#include "sync/sync.h"

struct view {
	const struct cli_opts *o;
	struct cli_progress *bar;	/* NULL with --quiet or --json */
};

static void
on_progress(void *arg, const struct sync_progress *p)
{
	struct view *v = arg;

	if (v->bar != NULL)
		cli_progress_set(v->bar, p->folder, p->bytes_done,
		    p->bytes_total, p->msgs_done, p->msgs_total);
}

static void
on_log(void *arg, int level, const char *msg)
{
	struct view *v = arg;

	if (level < SYNC_LOG_LVL_INFO ||
	    (level < SYNC_LOG_LVL_WARN && v->o->quiet))
		return;
	cli_progress_clear();
	fprintf(stderr, "%s%s\n", level >= SYNC_LOG_LVL_WARN ? "warning: " :
	    "", msg);
}

static void
summary(const struct cli_opts *o, const char *name,
    const struct sync_stats *s, int64_t ms, const char *err)
{
	char bytes[32], pop3[64];

	cli_human_bytes(s->pulled_bytes, bytes, sizeof(bytes));
	pop3[0] = '\0';
	if (s->deleted_pop3 > 0)
		snprintf(pop3, sizeof(pop3), ", %llu deleted on the server",
		    (unsigned long long)s->deleted_pop3);
	if (o->json) {
		fputs("{\"account\":", stdout);
		cli_json_string(name);
		printf(",\"ok\":%s,\"fetched\":%llu,\"bytes\":%llu,"
		    "\"flags_in\":%llu,\"flags_out\":%llu,"
		    "\"expunged_in\":%llu,\"expunged_out\":%llu,"
		    "\"appended\":%llu,\"moved\":%llu,\"renamed_in\":%llu,"
		    "\"refused\":%llu,\"errors\":%llu,"
		    "\"ms\":%lld,\"error\":", err[0] ? "false" : "true",
		    (unsigned long long)s->pulled,
		    (unsigned long long)s->pulled_bytes,
		    (unsigned long long)s->flags_in,
		    (unsigned long long)s->flags_out,
		    (unsigned long long)s->expunged_in,
		    (unsigned long long)s->expunged_out,
		    (unsigned long long)s->appended,
		    (unsigned long long)s->moved,
		    (unsigned long long)s->renamed_in,
		    (unsigned long long)s->refused,
		    (unsigned long long)s->errors, (long long)ms);
		cli_json_string(err);
		fputs("}\n", stdout);
		return;
	}
	if (o->quiet)
		return;
	printf("%s: %s %llu new (%s), flags %llu in / %llu out, expunged "
	    "%llu in / %llu out, %llu sent, %llu moved, folders %llu in / "
	    "%llu out%s, %.1f s\n", name, err[0] ? "FAILED after" : "done:",
	    (unsigned long long)s->pulled, bytes,
	    (unsigned long long)s->flags_in, (unsigned long long)s->flags_out,
	    (unsigned long long)s->expunged_in,
	    (unsigned long long)s->expunged_out,
	    (unsigned long long)s->appended, (unsigned long long)s->moved,
	    (unsigned long long)s->folders_in,
	    (unsigned long long)s->folders_out, pop3, (double)ms / 1000.0);
	if (s->renamed_in > 0)
		printf("%s: %llu folders renamed on the server were renamed "
		    "here too, without downloading them again\n", name,
		    (unsigned long long)s->renamed_in);
	if (s->refused > 0)
		printf("%s: the server would not give %llu messages; they "
		    "are asked for again on the next syncs\n", name,
		    (unsigned long long)s->refused);
	if (s->errors > s->refused)
		printf("%s: %llu message or folder errors; they are retried "
		    "on the next sync\n", name,
		    (unsigned long long)(s->errors - s->refused));
}

/* Sync one account; 0 if it went well. */
static int
sync_one(const struct cli_opts *o, struct store *st, int64_t acct,
    const char *name)
{
	struct view v = { o, NULL };
	struct sync_opts so = { on_progress, on_log, &v, -1, 0, NULL };
	struct sync_stats stats;
	char err[SYNC_ERRMSG_LEN];
	enum sync_outcome out;
	int64_t t0 = now_ms();

	if (!o->quiet && !o->json)
		v.bar = cli_progress_new(o, name, 0);
	out = sync_account(st, acct, &so, &stats, err, sizeof(err));
	cli_progress_done(&v.bar, NULL);
	if (out != SYNC_OK && err[0] == '\0')
		snprintf(err, sizeof(err), "%s: the sync failed", name);
	summary(o, name, &stats, now_ms() - t0, out != SYNC_OK ? err : "");
	/* A refused login names its fix already ('account set'). */
	if (out == SYNC_FAIL_CONFIG && !o->json &&
	    strstr(err, "'mailvault account set") == NULL)
		cli_error("%s (this will not go away by itself: see the "
		    "account's settings with 'mailvault account show %s' and "
		    "change them with 'mailvault account set %s KEY VALUE')",
		    err, name, name);
	else if (out != SYNC_OK && !o->json)
		cli_error("%s", err);
	return out == SYNC_OK ? 0 : -1;
}

/*
 * Through a daemon: its SYNC answer's progress lines carry numbers per
 * account (daemon.h), drawn here with the same bar as a sync in this
 * process; with several accounts at once the bar adds them up. Its
 * sentences ("NAME: done: ...", "NAME: FAILED: why") are printed as they
 * come, or as JSON with --json.
 */
struct acct_prog {
	char	*name;
	uint64_t msgs_done, msgs_total, bytes_done, bytes_total;
};

struct daemon_view {
	const struct cli_opts *o;
	const char	*account;	/* the one asked for, or NULL: all */
	struct cli_progress *bar;	/* NULL with --quiet or --json */
	struct acct_prog *accts;
	size_t		 naccts;
	int		 failed;
};

static struct acct_prog *
acct_prog(struct daemon_view *v, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < v->naccts; i++)
		if (strlen(v->accts[i].name) == len &&
		    memcmp(v->accts[i].name, name, len) == 0)
			return &v->accts[i];
	v->accts = xreallocarray(v->accts, v->naccts + 1, sizeof(*v->accts));
	memset(&v->accts[v->naccts], 0, sizeof(*v->accts));
	v->accts[v->naccts].name = xstrndup(name, len);
	return &v->accts[v->naccts++];
}

/* "progress MD MT BD BT ACCOUNT<TAB>FOLDER": 1 if text is one (drawn). */
static int
daemon_progress(struct daemon_view *v, const char *text)
{
	unsigned long long n[4];
	struct acct_prog *a, sum = { NULL, 0, 0, 0, 0 };
	const char *names, *tab;
	char label[300];
	size_t i;
	int used = 0;

	if (strncmp(text, DAEMON_CTL_PROGRESS " ",
	    strlen(DAEMON_CTL_PROGRESS) + 1) != 0 ||
	    sscanf(text + strlen(DAEMON_CTL_PROGRESS), " %llu %llu %llu %llu "
	    "%n", &n[0], &n[1], &n[2], &n[3], &used) != 4 || used == 0)
		return 0;
	names = text + strlen(DAEMON_CTL_PROGRESS) + used;
	if ((tab = strchr(names, '\t')) == NULL)
		return 0;
	a = acct_prog(v, names, (size_t)(tab - names));
	a->msgs_done = n[0];
	a->msgs_total = n[1];
	a->bytes_done = n[2];
	a->bytes_total = n[3];
	for (i = 0; i < v->naccts; i++) {
		sum.msgs_done += v->accts[i].msgs_done;
		sum.msgs_total += v->accts[i].msgs_total;
		sum.bytes_done += v->accts[i].bytes_done;
		sum.bytes_total += v->accts[i].bytes_total;
	}
	if (v->account != NULL)
		snprintf(label, sizeof(label), "%s", tab + 1);
	else
		snprintf(label, sizeof(label), "%s: %s", a->name, tab + 1);
	if (v->bar != NULL)
		cli_progress_set(v->bar, label, sum.bytes_done, sum.bytes_total,
		    sum.msgs_done, sum.msgs_total);
	return 1;
}

/* A sentence from the daemon: "NAME: done: ..." or "NAME: FAILED: why". */
static void
daemon_sentence(struct daemon_view *v, const char *text)
{
	const char *done = strstr(text, ": done: ");
	const char *fail = strstr(text, ": FAILED: ");
	unsigned long long pulled = 0;

	if (fail != NULL && (done == NULL || fail < done))
		v->failed = 1;
	if (!v->o->json) {
		/* One account's run is over: its bar's last frame stays, as
		 * without a daemon. With several, the bar goes on below. */
		if (v->account != NULL)
			cli_progress_done(&v->bar, NULL);
		cli_progress_clear();
		if (fail != NULL && (done == NULL || fail < done))
			cli_error("%s", text);
		else if (!v->o->quiet)
			printf("%s\n", text);
		fflush(stdout);
		return;
	}
	if (done == NULL && fail == NULL)
		return;
	fputs("{\"account\":", stdout);
	if (fail != NULL && (done == NULL || fail < done)) {
		char *name = xstrndup(text, (size_t)(fail - text));

		cli_json_string(name);
		fputs(",\"ok\":false,\"error\":", stdout);
		cli_json_string(fail + strlen(": FAILED: "));
		free(name);
	} else {
		char *name = xstrndup(text, (size_t)(done - text));

		sscanf(done + strlen(": done: "), "%llu", &pulled);
		cli_json_string(name);
		printf(",\"ok\":true,\"fetched\":%llu", pulled);
		free(name);
	}
	fputs("}\n", stdout);
	fflush(stdout);
}

static void
on_daemon_line(void *arg, const char *text)
{
	struct daemon_view *v = arg;

	if (!daemon_progress(v, text))
		daemon_sentence(v, text);
}

/* One SYNC request (account NULL: all); 0, or -1 if it failed. */
static int
daemon_sync_one(const struct cli_opts *o, const char *account)
{
	struct daemon_view v = { o, account, NULL, NULL, 0, 0 };
	char cmd[DAEMON_CTL_LINE_MAX], *reply = NULL;
	size_t i;
	int rc;

	if (account == NULL)
		snprintf(cmd, sizeof(cmd), DAEMON_CTL_SYNC);
	else if (strpbrk(account, "\r\n") != NULL || (size_t)snprintf(cmd,
	    sizeof(cmd), DAEMON_CTL_SYNC " %s", account) >= sizeof(cmd))
		return cli_error("there is no account named %s", account), -1;
	if (!o->quiet && !o->json)
		v.bar = cli_progress_new(o, account != NULL ? account : "sync",
		    0);
	/* No read timeout: a first sync may take hours. */
	rc = cli_ctl_request_lines(o, cmd, 0, on_daemon_line, &v, &reply);
	cli_progress_done(&v.bar, NULL);
	for (i = 0; i < v.naccts; i++)
		free(v.accts[i].name);
	free(v.accts);
	if (rc < 0)
		return cli_error("the daemon did not answer the sync request; "
		    "see its log"), -1;
	rc = cli_ctl_print_reply(reply) < 0 || v.failed ? -1 : 0;
	free(reply);
	return rc;
}

/*
 * Sync through a running daemon (argv[0] is "sync"): the exit status, or
 * -1 when no daemon runs on the store o names (then sync here).
 */
static int
sync_by_daemon(const struct cli_opts *o, int argc, char **argv)
{
	int i, failed = 0;

	if (cli_ctl_same_store(o) != 1)
		return -1;
	if (argc <= 1)
		failed = daemon_sync_one(o, NULL) != 0;
	for (i = 1; i < argc; i++)
		failed |= daemon_sync_one(o, argv[i]) != 0;
	return failed ? CLI_FAIL : CLI_OK;
}

int
cli_cmd_sync(const struct cli_opts *o, int argc, char **argv)
{
	struct store_account *list = NULL;
	struct store *st = NULL;
	size_t n = 0, i;
	int64_t acct;
	int failed = 0, any = 0, j;

	for (j = 1; j < argc; j++)
		if (argv[j][0] == '-')
			return cli_usage("sync", "unknown option '%s'", argv[j]);
	/* A daemon serves this store: it syncs, we show what it did. */
	if ((j = sync_by_daemon(o, argc, argv)) >= 0)
		return j;
	if (cli_open_store(o, &st) != 0)
		return CLI_FAIL;
	if (argc > 1) {
		for (j = 1; j < argc; j++) {
			if (store_account_find(st, argv[j], &acct) != 0) {
				cli_error("there is no account named %s",
				    argv[j]);
				failed = 1;
				continue;
			}
			if (!sync_account_has_upstream(st, acct)) {
				cli_error("account %s has no upstream server "
				    "to sync with", argv[j]);
				failed = 1;
				continue;
			}
			failed |= sync_one(o, st, acct, argv[j]) != 0;
		}
	} else if (store_account_list(st, &list, &n) != 0) {
		cli_error("%s", store_errmsg(st));
		failed = 1;
	} else {
		for (i = 0; i < n; i++) {
			if (!sync_account_has_upstream(st, list[i].id))
				continue;
			any = 1;
			failed |= sync_one(o, st, list[i].id, list[i].name)
			    != 0;
		}
		if (!any && !o->quiet)
			printf("no account has an upstream server: add one "
			    "with 'mailvault account add'\n");
		store_account_list_free(&list, n);
	}
	store_close(&st);
	return failed ? CLI_FAIL : CLI_OK;
}
