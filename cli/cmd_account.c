/*
 * cmd_account: `mailvault account add|list|show|remove|set`, the accounts
 * and their upstream servers.
 *
 * An account's upstream settings and password are sealed in the store as
 * account settings (the SYNC_KEY_* names of sync/sync.h). The password
 * never comes from argv: --password-file, --password-fd or a prompt
 * without echo, read by the same code as the store's passphrase; `show`
 * says whether one is set and never prints it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cli/cli.h"
#include "lib/net.h"
#include "lib/util.h"
#include "store/store.h"
#include "sync/sync.h"

/* Options of `account add`, all borrowed from argv. */
struct add_opts {
	const char *name, *proto, *server, *user, *tls, *pin, *ca,
		   *pass_file, *pass_fd, *oauth;
};

/* Split "HOST[:PORT]" (or "[v6]:PORT"); host is a new string. */
static int
split_server(const char *s, char **host_r, char *port, size_t portlen)
{
	const char *colon;
	uint64_t n;

	port[0] = '\0';
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL)
			return -1;
		*host_r = xstrndup(s + 1, (size_t)(end - s - 1));
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			goto bad;
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && strchr(s, ':') != colon)
			colon = NULL;	/* a bare IPv6 address */
		*host_r = colon != NULL ? xstrndup(s, (size_t)(colon - s)) :
		    xstrdup(s);
	}
	if ((*host_r)[0] == '\0')
		goto bad;
	if (colon != NULL) {
		if (parse_u64(colon + 1, 65535, &n) != 0 || n == 0)
			goto bad;
		snprintf(port, portlen, "%llu", (unsigned long long)n);
	}
	return 0;
bad:
	free(*host_r);
	*host_r = NULL;
	return -1;
}

static int
is_loopback_host(const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return net_parse_listen_addr(host, 0, &ss, &len, NULL, 0) == 0;
}

static int
parse_add(int argc, char **argv, struct add_opts *a)
{
	const char *v;
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		if (cli_opt_value(argc, argv, &i, "--imap", &v)) {
			a->proto = "imap";
			a->server = v;
		} else if (cli_opt_value(argc, argv, &i, "--pop3", &v)) {
			a->proto = "pop3";
			a->server = v;
		} else if (cli_opt_value(argc, argv, &i, "--user", &v))
			a->user = v;
		else if (cli_opt_value(argc, argv, &i, "--tls", &v))
			a->tls = v;
		else if (cli_opt_value(argc, argv, &i, "--pin-sha256", &v))
			a->pin = v;
		else if (cli_opt_value(argc, argv, &i, "--ca-file", &v))
			a->ca = v;
		else if (cli_opt_value(argc, argv, &i, "--password-file", &v))
			a->pass_file = v;
		else if (cli_opt_value(argc, argv, &i, "--password-fd", &v))
			a->pass_fd = v;
		else if (cli_opt_value(argc, argv, &i, "--oauth-token-command",
		    &v))
			a->oauth = v;
		else if (argv[i][0] == '-')
			return cli_usage("account", "unknown option '%s'",
			    argv[i]);
		else if (a->name == NULL)
			a->name = argv[i];
		else
			return cli_usage("account", "unexpected '%s'", argv[i]);
	}
	if (a->name == NULL || a->server == NULL || a->server[0] == '\0' ||
	    a->user == NULL || a->user[0] == '\0')
		return cli_usage("account", "account add needs NAME, --imap "
		    "HOST[:PORT] or --pop3 HOST[:PORT], and --user LOGIN");
	if (a->tls != NULL && sync_setting_check(SYNC_KEY_TLS, a->tls, NULL,
	    0) != 0)
		return cli_usage("account", "--tls is implicit, starttls or "
		    "none, not '%s'", a->tls);
	return 0;
}

/* The upstream password: never from argv. */
static int
read_password(const struct add_opts *a, char **pw_r, size_t *len_r)
{
	struct cli_opts po = { .pass_fd = -1 };
	char prompt[300];
	uint64_t fd;

	if (a->pass_fd != NULL) {
		if (parse_u64(a->pass_fd, 1 << 20, &fd) != 0)
			return cli_usage("account", "--password-fd needs a "
			    "descriptor number, not '%s'", a->pass_fd), -1;
		po.pass_fd = (int)fd;
	}
	po.pass_file = a->pass_file;
	snprintf(prompt, sizeof(prompt), "Password for %s at %s: ", a->user,
	    a->server);
	return cli_read_passphrase(&po, prompt, 0, pw_r, len_r);
}

static int
set(struct store *st, int64_t acct, const char *key, const char *val)
{
	if (val == NULL || val[0] == '\0')
		return 0;
	if (store_account_set(st, acct, key, val, strlen(val)) != 0)
		return cli_error("%s", store_errmsg(st));
	return 0;
}

static int
account_add(const struct cli_opts *o, int argc, char **argv)
{
	struct add_opts a;
	struct store *st = NULL;
	char *host = NULL, port[24], *pw = NULL;
	size_t pwlen = 0;
	int64_t acct, tmp;
	int rc;

	if ((rc = parse_add(argc, argv, &a)) != 0)
		return rc;
	if (split_server(a.server, &host, port, sizeof(port)) != 0)
		return cli_usage("account", "'%s' is not HOST or HOST:PORT",
		    a.server);
	if (a.tls != NULL && strcmp(a.tls, "none") == 0 &&
	    !is_loopback_host(host)) {
		free(host);
		return cli_error("--tls none sends the password in plain "
		    "text, so it is only allowed to a server on this machine "
		    "(127.0.0.1, ::1, localhost), not %s", a.server);
	}
	if (cli_open_store(o, &st) != 0) {
		free(host);
		return CLI_FAIL;
	}
	if (store_account_find(st, a.name, &tmp) == 0) {
		rc = cli_error("there is an account named %s already; choose "
		    "another name, or remove it first", a.name);
		goto out;
	}
	if (a.oauth == NULL && read_password(&a, &pw, &pwlen) != 0) {
		rc = CLI_FAIL;
		goto out;
	}
	/* The account and its settings together, or nothing. */
	rc = CLI_FAIL;
	if (store_txn_begin(st) != 0) {
		cli_error("%s", store_errmsg(st));
		goto out;
	}
	if (store_account_create(st, a.name, &acct) != 0) {
		cli_error("%s", store_errmsg(st));
		store_txn_rollback(st);
		goto out;
	}
	if (set(st, acct, SYNC_KEY_PROTO, a.proto) != 0 ||
	    set(st, acct, SYNC_KEY_HOST, host) != 0 ||
	    set(st, acct, SYNC_KEY_PORT, port) != 0 ||
	    set(st, acct, SYNC_KEY_USER, a.user) != 0 ||
	    set(st, acct, SYNC_KEY_TLS, a.tls != NULL ? a.tls : "implicit")
	    != 0 ||
	    set(st, acct, SYNC_KEY_PIN, a.pin) != 0 ||
	    set(st, acct, SYNC_KEY_CA_FILE, a.ca) != 0 ||
	    set(st, acct, SYNC_KEY_OAUTH_CMD, a.oauth) != 0 ||
	    (pw != NULL && set(st, acct, SYNC_KEY_PASSWORD, pw) != 0)) {
		store_txn_rollback(st);
		goto out;
	}
	if (store_txn_commit(st) != 0) {
		cli_error("%s", store_errmsg(st));
		goto out;
	}
	if (!o->quiet)
		printf("account %s added (%s %s); run 'mailvault sync %s' to "
		    "fetch its mail\n", a.name, a.proto, a.server, a.name);
	rc = CLI_OK;
out:
	cli_passphrase_free(&pw, pwlen);
	free(host);
	store_close(&st);
	return rc;
}

static char *
get(struct store *st, int64_t acct, const char *key)
{
	char *v = NULL;

	if (store_account_get(st, acct, key, &v, NULL) != 0)
		return NULL;
	return v;
}

/* "imap me@example.org at imap.example.org:993" or "local only". */
static char *
describe(struct store *st, int64_t acct)
{
	char *proto = get(st, acct, SYNC_KEY_PROTO);
	char *host = get(st, acct, SYNC_KEY_HOST);
	char *port = get(st, acct, SYNC_KEY_PORT);
	char *user = get(st, acct, SYNC_KEY_USER);
	char *d;

	if (proto == NULL || host == NULL)
		d = xstrdup("local only");
	else
		d = xasprintf("%s %s at %s%s%s", proto, user ? user : "?",
		    host, port ? ":" : "", port ? port : "");
	free(proto);
	free(host);
	free(port);
	free(user);
	return d;
}

static int
account_list(const struct cli_opts *o)
{
	struct store_account *list = NULL;
	struct store *st = NULL;
	size_t n = 0, i;
	char *d;

	if (cli_open_store(o, &st) != 0)
		return CLI_FAIL;
	if (store_account_list(st, &list, &n) != 0) {
		cli_error("%s", store_errmsg(st));
		store_close(&st);
		return CLI_FAIL;
	}
	if (o->json)
		fputs("[", stdout);
	for (i = 0; i < n; i++) {
		d = describe(st, list[i].id);
		if (o->json) {
			fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
			cli_json_string(list[i].name);
			fputs(",\"upstream\":", stdout);
			cli_json_string(d);
			fputs("}", stdout);
		} else
			printf("%-24s %s\n", list[i].name, d);
		free(d);
	}
	if (o->json)
		fputs("]\n", stdout);
	else if (n == 0)
		printf("no accounts yet: add one with 'mailvault account add' "
		    "or 'mailvault import'\n");
	store_account_list_free(&list, n);
	store_close(&st);
	return CLI_OK;
}

static int
find_account(struct store *st, const char *name, int64_t *acct_r)
{
	if (store_account_find(st, name, acct_r) == 0)
		return 0;
	return cli_error("there is no account named %s ('mailvault account "
	    "list' shows them)", name);
}

/* One setting of `account show` in words: the last sync as a date and
 * how long ago, and nothing for an empty value (no error last time). */
static void
show_value(const char *key, const char *v)
{
	char when[128];
	uint64_t t;

	if (v[0] == '\0')
		return;
	if (strcmp(key, SYNC_KEY_LAST_SYNC) == 0 &&
	    parse_u64(v, INT64_MAX, &t) == 0) {
		cli_when((int64_t)t, (int64_t)time(NULL), when, sizeof(when));
		v = when;
	}
	printf("%s: %s\n", key, v);
}

static int
account_show(const struct cli_opts *o, const char *name)
{
	struct store *st = NULL;
	char **keys = NULL, *v;
	size_t n = 0, i;
	int64_t acct;
	int rc = CLI_FAIL;

	if (cli_open_store(o, &st) != 0)
		return CLI_FAIL;
	if (find_account(st, name, &acct) != 0)
		goto out;
	if (store_account_keys(st, acct, &keys, &n) != 0) {
		cli_error("%s", store_errmsg(st));
		goto out;
	}
	if (o->json) {
		fputs("{\"name\":", stdout);
		cli_json_string(name);
	} else
		printf("name: %s\n", name);
	for (i = 0; i < n; i++) {
		if (sync_setting_is_secret(keys[i]))
			v = xstrdup("(set, not shown)");
		else if ((v = get(st, acct, keys[i])) == NULL)
			continue;
		if (o->json) {
			fputs(",", stdout);
			cli_json_string(keys[i]);
			fputs(":", stdout);
			cli_json_string(v);
		} else
			show_value(keys[i], v);
		free(v);
	}
	if (o->json)
		fputs("}\n", stdout);
	rc = CLI_OK;
out:
	store_strv_free(&keys, n);
	store_close(&st);
	return rc;
}

static int
account_remove(const struct cli_opts *o, int argc, char **argv)
{
	struct store *st = NULL;
	const char *name = NULL;
	int64_t acct;
	int i, yes = 0, rc = CLI_FAIL;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--yes") == 0)
			yes = 1;
		else if (name == NULL && argv[i][0] != '-')
			name = argv[i];
		else
			return cli_usage("account", "unexpected '%s'", argv[i]);
	}
	if (name == NULL)
		return cli_usage("account", "account remove needs NAME");
	if (!yes)
		return cli_error("this deletes account %s and all its mail "
		    "from the store (the server keeps its copy); say "
		    "'mailvault account remove %s --yes'", name, name);
	if (cli_open_store(o, &st) != 0)
		return CLI_FAIL;
	if (find_account(st, name, &acct) == 0) {
		if (store_account_delete(st, acct) != 0)
			cli_error("%s", store_errmsg(st));
		else {
			rc = CLI_OK;
			if (!o->quiet)
				printf("account %s removed\n", name);
		}
	}
	store_close(&st);
	return rc;
}

static int
account_set(const struct cli_opts *o, int argc, char **argv)
{
	struct store *st = NULL;
	char err[512];
	int64_t acct;
	int rc = CLI_FAIL;

	if (argc != 5)
		return cli_usage("account", "account set needs NAME KEY VALUE");
	if (sync_setting_check(argv[3], argv[4], err, sizeof(err)) != 0)
		return cli_usage("account", "%s", err);
	if (cli_open_store(o, &st) != 0)
		return CLI_FAIL;
	if (find_account(st, argv[2], &acct) == 0) {
		if (argv[4][0] == '\0')
			rc = store_account_unset(st, acct, argv[3]);
		else
			rc = store_account_set(st, acct, argv[3], argv[4],
			    strlen(argv[4]));
		if (rc != 0 && rc != STORE_ENOENT) {
			cli_error("%s", store_errmsg(st));
			rc = CLI_FAIL;
		} else
			rc = CLI_OK;
	}
	store_close(&st);
	return rc;
}

int
cli_cmd_account(const struct cli_opts *o, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "add") == 0)
		return account_add(o, argc - 1, argv + 1);
	if (strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0)
		return account_list(o);
	if (strcmp(sub, "show") == 0 && argc == 3)
		return account_show(o, argv[2]);
	if (strcmp(sub, "remove") == 0 || strcmp(sub, "rm") == 0)
		return account_remove(o, argc, argv);
	if (strcmp(sub, "set") == 0)
		return account_set(o, argc, argv);
	return cli_usage("account", "say account add, list, show NAME, "
	    "remove NAME or set NAME KEY VALUE");
}
