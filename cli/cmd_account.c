/*
 * cmd_account: `mailvault account add|list|show|remove|set|rename`, the
 * accounts and their upstream servers.
 *
 * An account's upstream settings and password are sealed in the store as
 * account settings (the SYNC_KEY_* names of sync/sync.h). The password
 * never comes from argv: --password-file, --password-fd or a prompt
 * without echo, read by the same code as the store's passphrase; `show`
 * says whether one is set and never prints it.
 *
 * add tries the connection and the login before it saves anything
 * (sync_account_check(), as a mail client's setup does) and says which
 * step failed and what to do; --no-check saves without trying. set
 * changes one setting, the password included; rename gives the account
 * another name and keeps its mail. After every change is committed, a
 * daemon serving the store is told (ACCOUNTS on its control socket), so
 * it starts, stops, renames or restarts the account's background sync at
 * once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "lib/net.h"
#include "lib/util.h"
#include "store/store.h"
#include "sync/sync.h"

/* Options of `account add`, all borrowed from argv. */
struct add_opts {
	const char *name, *proto, *server, *user, *tls, *pin, *ca,
		   *pass_file, *pass_fd, *oauth;
	int	 no_check;
};

/* Settings whose change makes the daemon sync the account again at once:
 * how it connects and logs in. */
static const char *const connection_keys[] = {
	SYNC_KEY_HOST, SYNC_KEY_PORT, SYNC_KEY_USER, SYNC_KEY_PASSWORD,
	SYNC_KEY_TLS, SYNC_KEY_PIN, SYNC_KEY_CA_FILE, SYNC_KEY_OAUTH_CMD,
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
		else if (strcmp(argv[i], "--no-check") == 0)
			a->no_check = 1;
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

/* The upstream password, from --password-file, --password-fd or a
 * prompt naming user at server: never from argv. */
static int
read_password(const char *pass_file, const char *pass_fd, const char *user,
    const char *server, char **pw_r, size_t *len_r)
{
	struct cli_opts po = { .pass_fd = -1 };
	char prompt[300];
	uint64_t fd;

	if (pass_fd != NULL) {
		if (parse_u64(pass_fd, 1 << 20, &fd) != 0)
			return cli_usage("account", "--password-fd needs a "
			    "descriptor number, not '%s'", pass_fd), -1;
		po.pass_fd = (int)fd;
	}
	po.pass_file = pass_file;
	snprintf(prompt, sizeof(prompt), "Password for %s at %s: ", user,
	    server);
	return cli_read_passphrase(&po, prompt, 0, pw_r, len_r);
}

/* Tell a daemon serving the store that the accounts changed (changed:
 * one whose connection settings did, or NULL). Its answer is printed;
 * no daemon is not an error. */
static void
tell_daemon(const struct cli_opts *o, const char *changed)
{
	char cmd[DAEMON_CTL_LINE_MAX], *reply = NULL;

	if (cli_ctl_same_store(o) != 1)
		return;
	if (changed == NULL || strpbrk(changed, "\r\n") != NULL ||
	    (size_t)snprintf(cmd, sizeof(cmd), DAEMON_CTL_ACCOUNTS " %s",
	    changed) >= sizeof(cmd))
		snprintf(cmd, sizeof(cmd), DAEMON_CTL_ACCOUNTS);
	if (cli_ctl_request(o, cmd, 60, &reply) == 0 &&
	    strncmp(reply, DAEMON_CTL_OK, 2) == 0) {
		reply[strcspn(reply, "\n")] = '\0';
		if (!o->quiet)
			printf("The running daemon took it: %s.\n",
			    reply[2] == ' ' ? reply + 3 : "done");
	} else
		cli_error("warning: the running daemon did not take the "
		    "change; restart it ('mailvault daemon stop', then "
		    "start)");
	free(reply);
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

/* What to do about a failed check, after the server's words. */
static const char *
check_advice(enum sync_check_result r)
{
	switch (r) {
	case SYNC_CHECK_HOST:
		return "the host name is not known: check it (--imap or "
		    "--pop3 HOST[:PORT])";
	case SYNC_CHECK_CONNECT:
		return "nothing answers there: check the port and --tls "
		    "(implicit on 993 and 995, starttls on 143 and 110)";
	case SYNC_CHECK_TLS:
		return "TLS with the server failed: --ca-file names a CA to "
		    "trust, --pin-sha256 one certificate (its fingerprint is "
		    "above when the server sent one), --tls implicit or "
		    "starttls how TLS begins";
	case SYNC_CHECK_AUTH:
		return "the login was refused: check --user and the password";
	default:
		return "the server did not answer as an IMAP or POP3 server "
		    "should: check the protocol and the port";
	}
}

/* Try a's connection and login, as they would be saved. 0, or -1 after
 * saying what failed. */
static int
check_add(const struct add_opts *a, const char *host, const char *port,
    const char *pw)
{
	struct sync_check c;
	enum sync_check_result r;
	char err[SYNC_ERRMSG_LEN];
	uint64_t n = 0;

	memset(&c, 0, sizeof(c));
	if (port[0] != '\0')
		(void)parse_u64(port, 65535, &n);
	c.proto = a->proto;
	c.host = host;
	c.port = (unsigned)n;
	c.tls = a->tls;
	c.user = a->user;
	c.password = pw;
	c.ca_file = a->ca;
	c.pin_sha256 = a->pin;
	c.oauth_token_command = a->oauth;
	r = sync_account_check(&c, err, sizeof(err));
	if (r == SYNC_CHECK_OK)
		return 0;
	cli_error("account %s was not added: %s\n%s.\nNothing was saved; "
	    "with --no-check the account is saved without this check.",
	    a->name, err, check_advice(r));
	return -1;
}

/* Save the account and its settings in one transaction. 0, or -1 after
 * saying why. */
static int
save_add(struct store *st, const struct add_opts *a, const char *host,
    const char *port, const char *pw)
{
	int64_t acct;

	if (store_txn_begin(st) != 0)
		return cli_error("%s", store_errmsg(st)), -1;
	if (store_account_create(st, a->name, &acct) != 0) {
		cli_error("%s", store_errmsg(st));
		store_txn_rollback(st);
		return -1;
	}
	if (set(st, acct, SYNC_KEY_PROTO, a->proto) != 0 ||
	    set(st, acct, SYNC_KEY_HOST, host) != 0 ||
	    set(st, acct, SYNC_KEY_PORT, port) != 0 ||
	    set(st, acct, SYNC_KEY_USER, a->user) != 0 ||
	    set(st, acct, SYNC_KEY_TLS, a->tls != NULL ? a->tls : "implicit")
	    != 0 ||
	    set(st, acct, SYNC_KEY_PIN, a->pin) != 0 ||
	    set(st, acct, SYNC_KEY_CA_FILE, a->ca) != 0 ||
	    set(st, acct, SYNC_KEY_OAUTH_CMD, a->oauth) != 0 ||
	    (pw != NULL && set(st, acct, SYNC_KEY_PASSWORD, pw) != 0)) {
		store_txn_rollback(st);
		return -1;
	}
	if (store_txn_commit(st) != 0)
		return cli_error("%s", store_errmsg(st)), -1;
	return 0;
}

static int
account_add(const struct cli_opts *o, int argc, char **argv)
{
	struct add_opts a;
	struct store *st = NULL;
	char *host = NULL, port[24], *pw = NULL;
	size_t pwlen = 0;
	int64_t tmp;
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
	rc = CLI_FAIL;
	if (store_account_find(st, a.name, &tmp) == 0) {
		cli_error("there is an account named %s already; change it "
		    "with 'mailvault account set %s KEY VALUE', or choose "
		    "another name", a.name, a.name);
		goto out;
	}
	if (a.oauth == NULL && read_password(a.pass_file, a.pass_fd, a.user,
	    a.server, &pw, &pwlen) != 0)
		goto out;
	if (!a.no_check && check_add(&a, host, port, pw) != 0)
		goto out;
	if (save_add(st, &a, host, port, pw) != 0)
		goto out;
	if (!o->quiet)
		printf("account %s added (%s %s%s); run 'mailvault sync %s' "
		    "to fetch its mail\n", a.name, a.proto, a.server,
		    a.no_check ? ", not checked" : ": connection and login "
		    "checked", a.name);
	tell_daemon(o, NULL);
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
			tell_daemon(o, NULL);
		}
	}
	store_close(&st);
	return rc;
}

/* `account set NAME KEY ...`, parsed; strings borrowed from argv. */
struct set_opts {
	const char *name, *key, *value, *pass_file, *pass_fd;
};

static int
is_connection_key(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(connection_keys); i++)
		if (strcmp(key, connection_keys[i]) == 0)
			return 1;
	return 0;
}

/* argv: "set" NAME KEY VALUE, or "set" NAME password [options]. */
static int
parse_set(int argc, char **argv, struct set_opts *so, char *err,
    size_t errlen)
{
	const char *v;
	int i;

	memset(so, 0, sizeof(*so));
	if (argc < 3)
		return seterr(err, errlen, -1, "account set needs NAME KEY "
		    "VALUE, or NAME password");
	so->name = argv[1];
	so->key = strcmp(argv[2], "pin") == 0 ? SYNC_KEY_PIN : argv[2];
	if (strcmp(so->key, SYNC_KEY_PASSWORD) != 0) {
		if (argc != 4)
			return seterr(err, errlen, -1, "account set needs NAME "
			    "KEY VALUE (an empty VALUE removes the setting)");
		so->value = argv[3];
		return sync_setting_check(so->key, so->value, err, errlen);
	}
	for (i = 3; i < argc; i++) {
		if (cli_opt_value(argc, argv, &i, "--password-file", &v))
			so->pass_file = v;
		else if (cli_opt_value(argc, argv, &i, "--password-fd", &v))
			so->pass_fd = v;
		else
			return seterr(err, errlen, -1, "the password is never "
			    "taken from the command line: give it at the "
			    "prompt, or with --password-file FILE or "
			    "--password-fd N");
	}
	return 0;
}

/* --tls none only to this machine: the host and tls settings as they
 * will be. 0, or -1 after saying why not. */
static int
plain_allowed(struct store *st, int64_t acct, const struct set_opts *so)
{
	char *tls = get(st, acct, SYNC_KEY_TLS), *host = get(st, acct,
	    SYNC_KEY_HOST);
	const char *t = strcmp(so->key, SYNC_KEY_TLS) == 0 ? so->value : tls;
	const char *h = strcmp(so->key, SYNC_KEY_HOST) == 0 ? so->value : host;
	int ok = t == NULL || strcmp(t, "none") != 0 || h == NULL ||
	    h[0] == '\0' || is_loopback_host(h);

	if (!ok)
		cli_error("tls none sends the password in plain text, so it "
		    "is only allowed to a server on this machine (127.0.0.1, "
		    "::1, localhost), not %s", h);
	free(tls);
	free(host);
	return ok ? 0 : -1;
}

/* The new password, asked naming the account's user and host. */
static int
set_password(struct store *st, int64_t acct, const struct set_opts *so)
{
	char *user = get(st, acct, SYNC_KEY_USER), *host = get(st, acct,
	    SYNC_KEY_HOST), *pw = NULL;
	size_t len = 0;
	int rc;

	rc = read_password(so->pass_file, so->pass_fd, user != NULL ? user :
	    so->name, host != NULL ? host : "the server", &pw, &len);
	free(user);
	free(host);
	if (rc != 0)
		return -1;
	rc = store_account_set(st, acct, SYNC_KEY_PASSWORD, pw, len);
	cli_passphrase_free(&pw, len);
	if (rc != 0)
		return cli_error("%s", store_errmsg(st)), -1;
	return 0;
}

/* Save so's change: 0, or -1 after saying why. */
static int
set_value(struct store *st, int64_t acct, const struct set_opts *so)
{
	int rc;

	if (strcmp(so->key, SYNC_KEY_PASSWORD) == 0)
		return set_password(st, acct, so);
	if (plain_allowed(st, acct, so) != 0)
		return -1;
	if (so->value[0] == '\0')
		rc = store_account_unset(st, acct, so->key);
	else
		rc = store_account_set(st, acct, so->key, so->value,
		    strlen(so->value));
	if (rc != 0 && rc != STORE_ENOENT)
		return cli_error("%s", store_errmsg(st)), -1;
	return 0;
}

static int
account_set(const struct cli_opts *o, int argc, char **argv)
{
	struct set_opts so;
	struct store *st = NULL;
	char err[512];
	int64_t acct;
	int rc = CLI_FAIL;

	if (parse_set(argc, argv, &so, err, sizeof(err)) != 0)
		return cli_usage("account", "%s", err);
	if (cli_open_store(o, &st) != 0)
		return CLI_FAIL;
	if (find_account(st, so.name, &acct) == 0 &&
	    set_value(st, acct, &so) == 0) {
		rc = CLI_OK;
		if (!o->quiet && so.value == NULL)
			printf("account %s: password changed\n", so.name);
		else if (!o->quiet && so.value[0] == '\0')
			printf("account %s: %s removed\n", so.name, so.key);
		else if (!o->quiet)
			printf("account %s: %s is now %s\n", so.name, so.key,
			    so.value);
		tell_daemon(o, is_connection_key(so.key) ? so.name : NULL);
	}
	store_close(&st);
	return rc;
}

/* `account rename OLD NEW`: the mail, settings and sync state stay. */
static int
account_rename(const struct cli_opts *o, int argc, char **argv)
{
	struct store *st = NULL;
	int64_t acct;
	int rc = CLI_FAIL;

	if (argc != 4)
		return cli_usage("account", "account rename needs OLD NEW");
	if (cli_open_store(o, &st) != 0)
		return CLI_FAIL;
	if (find_account(st, argv[2], &acct) == 0) {
		if (store_account_rename(st, acct, argv[3]) != 0)
			cli_error("%s", store_errmsg(st));
		else {
			rc = CLI_OK;
			if (!o->quiet)
				printf("account %s is now called %s (its mail "
				    "stays; mail clients log in as %s from "
				    "now on)\n", argv[2], argv[3], argv[3]);
			tell_daemon(o, NULL);
		}
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
		return account_set(o, argc - 1, argv + 1);
	if (strcmp(sub, "rename") == 0 || strcmp(sub, "mv") == 0)
		return account_rename(o, argc, argv);
	return cli_usage("account", "say account add, list, show NAME, "
	    "remove NAME, set NAME KEY VALUE, set NAME password or rename "
	    "OLD NEW");
}
