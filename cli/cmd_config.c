/*
 * cmd_config: settings that are not per account (ports, the listen
 * address, the poll interval, the log level, what a POP3 delete does).
 * They live in the store, sealed like every other setting, under the key
 * "config.NAME", and every value is checked against its key's rule before
 * it is saved, so the daemon never starts on a value it cannot use.
 *
 * A change reaches a running daemon on the same store: poll-interval,
 * log-level and pop3-delete at once (a RELOAD line on the control socket
 * makes it read them again); the ports and the listen address need a
 * restart, and say so. Those are also copied, in plain text, to the
 * ports file "<store>.ports" (nothing secret in it), so a daemon that
 * starts locked, without the key to read the settings, listens where
 * they say.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/net.h"
#include "lib/util.h"
#include "store/store.h"

enum cfg_kind { CFG_PORT, CFG_LISTEN, CFG_SECONDS, CFG_CHOICE };

struct cfg_key {
	const char	*name;
	enum cfg_kind	 kind;
	const char	*def;		/* the value when unset */
	const char	*choices;	/* CFG_CHOICE: "a|b|c" */
	int		 restart;	/* a running daemon needs a restart */
	const char	*help;
};

static const struct cfg_key keys[] = {
	{ "imap-port", CFG_PORT, "1143", NULL, 1,
	  "IMAP port with STARTTLS; 0 turns it off" },
	{ "imaps-port", CFG_PORT, "1993", NULL, 1,
	  "IMAP port with implicit TLS; 0 turns it off" },
	{ "pop3-port", CFG_PORT, "1110", NULL, 1,
	  "POP3 port with STLS; 0 turns it off" },
	{ "pop3s-port", CFG_PORT, "1995", NULL, 1,
	  "POP3 port with implicit TLS; 0 turns it off" },
	{ "listen", CFG_LISTEN, "127.0.0.1", NULL, 1,
	  "the loopback address to listen on" },
	{ "poll-interval", CFG_SECONDS, "300", NULL, 0,
	  "seconds between syncs when an upstream has no IDLE" },
	{ "log-level", CFG_CHOICE, "info", "error|warn|info|debug", 0,
	  "how much the daemon logs" },
	{ "pop3-delete", CFG_CHOICE, "hide", "hide|expunge", 0,
	  "what a POP3 DELE does: hide from POP3 only, or expunge" },
};

static const struct cfg_key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int
unknown_key(const char *name)
{
	size_t i;

	fprintf(stderr, "mailvault: there is no setting '%s'; the settings "
	    "are:", name);
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		fprintf(stderr, " %s", keys[i].name);
	fputc('\n', stderr);
	return CLI_FAIL;
}

static int
choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);
	const char *p = choices, *bar;

	for (;;) {
		bar = strchr(p, '|');
		if ((size_t)((bar ? bar : p + strlen(p)) - p) == n &&
		    strncmp(p, v, n) == 0)
			return 1;
		if (bar == NULL)
			return 0;
		p = bar + 1;
	}
}

/* 0 if v suits k; else print why and return -1. */
static int
validate(const struct cfg_key *k, const char *v)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];
	uint64_t n;

	switch (k->kind) {
	case CFG_PORT:
		if (parse_u64(v, 65535, &n) == 0)
			return 0;
		return cli_error("%s must be a port number from 0 to 65535 "
		    "(0 turns the listener off), not '%s'", k->name, v), -1;
	case CFG_SECONDS:
		if (parse_u64(v, 86400, &n) == 0 && n >= 10)
			return 0;
		return cli_error("%s must be a number of seconds from 10 to "
		    "86400, not '%s'", k->name, v), -1;
	case CFG_LISTEN:
		if (net_parse_listen_addr(v, 0, &ss, &len, err,
		    sizeof(err)) == 0)
			return 0;
		return cli_error("%s", err), -1;
	case CFG_CHOICE:
		if (choice_ok(k->choices, v))
			return 0;
		return cli_error("%s must be one of %s, not '%s'", k->name,
		    k->choices, v), -1;
	}
	return -1;
}

int
cli_config_value(struct store *st, const char *name, char **val_r)
{
	const struct cfg_key *k = find_key(name);
	char *key;
	int rc;

	if (k == NULL)
		return -1;
	key = xasprintf("config.%s", name);
	rc = store_config_get(st, key, val_r, NULL);
	free(key);
	if (rc == STORE_ENOENT) {
		*val_r = xstrdup(k->def);
		return 0;
	}
	return rc < 0 ? -1 : 0;
}

static const char *const port_keys[4] = { "imap-port", "imaps-port",
    "pop3-port", "pop3s-port" };

static char *
ports_path(const char *store_path)
{
	return xasprintf("%s.ports", store_path);
}

int
cli_config_save_ports(struct store *st)
{
	char *path = ports_path(store_path(st)), *tmp, *v;
	FILE *f;
	size_t i;
	int rc = 0;

	tmp = xasprintf("%s.tmp", path);
	f = fopen(tmp, "we");
	if (f == NULL) {
		free(tmp);
		free(path);
		return -1;
	}
	fprintf(f, "# Written by mailvault from 'mailvault config': the "
	    "listeners of a daemon\n# that starts locked. Edit with "
	    "'mailvault config set'.\n");
	for (i = 0; i < 4 && rc == 0; i++) {
		if (cli_config_value(st, port_keys[i], &v) < 0) {
			rc = -1;
			break;
		}
		fprintf(f, "%s %s\n", port_keys[i], v);
		free(v);
	}
	if (rc == 0 && cli_config_value(st, "listen", &v) == 0) {
		fprintf(f, "listen %s\n", v);
		free(v);
	}
	if (fclose(f) != 0 || rc < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		rc = -1;
	}
	free(tmp);
	free(path);
	return rc;
}

int
cli_config_read_ports(const char *store, int ports[4], char **listen_r)
{
	char *path = ports_path(store), line[512], *sp;
	uint64_t n;
	size_t i;
	FILE *f;

	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return -1;
	for (i = 0; i < 4; i++)
		ports[i] = (int)strtol(keys[i].def, NULL, 10);
	*listen_r = NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || (sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		for (i = 0; i < 4; i++)
			if (strcmp(line, port_keys[i]) == 0 &&
			    parse_u64(sp, 65535, &n) == 0)
				ports[i] = (int)n;
		if (strcmp(line, "listen") == 0 && *listen_r == NULL &&
		    sp[0] != '\0')
			*listen_r = xstrdup(sp);
	}
	fclose(f);
	if (*listen_r == NULL)
		*listen_r = xstrdup("127.0.0.1");
	return 0;
}

/* Tell a daemon serving this store to read the live settings again. */
static void
reload_daemon(const struct cli_opts *o, const struct cfg_key *k)
{
	char *reply = NULL;

	if (k->restart || cli_ctl_same_store(o) != 1)
		return;
	if (cli_ctl_request("RELOAD", 30, &reply) == 0 &&
	    strncmp(reply, "OK", 2) == 0) {
		reply[strcspn(reply, "\n")] = '\0';
		printf("The running daemon took it%s%s.\n",
		    reply[2] != '\0' ? ": " : "", reply + 2 +
		    (reply[2] == ' '));
	} else
		printf("The running daemon did not take it; restart it "
		    "('mailvault daemon stop', then start).\n");
	free(reply);
}

static int
config_set(const struct cli_opts *o, struct store *st,
    const struct cfg_key *k, const char *v)
{
	char *key = xasprintf("config.%s", k->name);
	int rc = store_config_set(st, key, v, strlen(v));

	free(key);
	if (rc < 0)
		return cli_error("%s", store_errmsg(st));
	if (k->restart)
		printf("%s is now %s; a running daemon uses it after a "
		    "restart ('mailvault daemon stop', then start).\n",
		    k->name, v);
	else
		printf("%s is now %s.\n", k->name, v);
	if (k->restart && cli_config_save_ports(st) < 0)
		fprintf(stderr, "mailvault: warning: cannot write %s.ports; a "
		    "daemon started locked will not know this port\n",
		    store_path(st));
	reload_daemon(o, k);
	return CLI_OK;
}

static int
config_list(struct store *st, const struct cli_opts *o)
{
	size_t i;
	char *v;

	if (o->json)
		putchar('{');
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (cli_config_value(st, keys[i].name, &v) < 0)
			return cli_error("%s", store_errmsg(st));
		if (o->json) {
			printf("%s\"%s\":", i ? "," : "", keys[i].name);
			cli_json_string(v);
		} else
			printf("%-14s %-12s %s\n", keys[i].name, v,
			    keys[i].help);
		free(v);
	}
	if (o->json)
		printf("}\n");
	return CLI_OK;
}

int
cli_cmd_config(const struct cli_opts *o, int argc, char **argv)
{
	const struct cfg_key *k = NULL;
	struct store *st;
	char *v;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "list") == 0 && argc != 2) ||
	    (strcmp(argv[1], "get") == 0 && argc != 3) ||
	    (strcmp(argv[1], "set") == 0 && argc != 4))
		return cli_usage("config", "use 'config list', 'config get "
		    "KEY' or 'config set KEY VALUE'");
	if (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "get") != 0 &&
	    strcmp(argv[1], "set") != 0)
		return cli_usage("config", "unknown action '%s'", argv[1]);
	if (argc >= 3 && (k = find_key(argv[2])) == NULL)
		return unknown_key(argv[2]);
	if (argc == 4 && validate(k, argv[3]) < 0)
		return CLI_FAIL;
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	if (argc == 2)
		rc = config_list(st, o);
	else if (argc == 4)
		rc = config_set(o, st, k, argv[3]);
	else if (cli_config_value(st, k->name, &v) < 0)
		rc = cli_error("%s", store_errmsg(st));
	else {
		printf("%s\n", v);
		free(v);
		rc = CLI_OK;
	}
	store_close(&st);
	return rc;
}
