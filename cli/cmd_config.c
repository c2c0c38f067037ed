/*
 * cmd_config: `mailvault config list | get KEY | set KEY VALUE`, the
 * daemon's settings that are not per account (daemon/settings.c knows
 * the keys, their defaults and the rule each value follows; a value is
 * checked before the store is even opened).
 *
 * A change reaches a running daemon on the same store: poll-interval,
 * log-level and pop3-delete at once (a RELOAD on the control socket
 * makes it read them again); the ports and the listen address need a
 * restart, and say so. Those are also copied to the plain ports file,
 * which a daemon that starts locked reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "store/store.h"

static int
unknown_key(const char *name)
{
	const struct daemon_setting *s;
	char names[1024] = "";
	size_t i, n = 0;

	for (i = 0; (s = daemon_setting_at(i)) != NULL && n < sizeof(names);
	    i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, " %s",
		    s->name);
	return cli_error("there is no setting '%s'; the settings are:%s",
	    name, names);
}

/* Tell a daemon serving this store to read the live settings again. */
static void
reload_daemon(const struct cli_opts *o, const struct daemon_setting *s)
{
	char *reply = NULL;

	if (!s->live || cli_ctl_same_store(o) != 1)
		return;
	if (cli_ctl_request(o, DAEMON_CTL_RELOAD, 30, &reply) == 0 &&
	    strncmp(reply, DAEMON_CTL_OK, 2) == 0) {
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
    const struct daemon_setting *s, const char *v)
{
	char err[512];

	if (daemon_setting_set(st, s, v, err, sizeof(err)) < 0)
		return cli_error("%s", err);
	if (!s->live)
		printf("%s is now %s; a running daemon uses it after a "
		    "restart ('mailvault daemon stop', then start).\n",
		    s->name, v);
	else
		printf("%s is now %s.\n", s->name, v);
	if (!s->live && daemon_ports_save(st) < 0)
		fprintf(stderr, "mailvault: warning: cannot write %s.ports; a "
		    "daemon started locked will not know this port\n",
		    store_path(st));
	reload_daemon(o, s);
	return CLI_OK;
}

static int
config_list(struct store *st, const struct cli_opts *o)
{
	const struct daemon_setting *s;
	size_t i;
	char *v;

	if (o->json)
		putchar('{');
	for (i = 0; (s = daemon_setting_at(i)) != NULL; i++) {
		if (daemon_setting_get(st, s->name, &v) < 0)
			return cli_error("%s", store_errmsg(st));
		if (o->json) {
			printf("%s\"%s\":", i ? "," : "", s->name);
			cli_json_string(v);
		} else
			printf("%-14s %-12s %s\n", s->name, v, s->help);
		free(v);
	}
	if (o->json)
		printf("}\n");
	return CLI_OK;
}

static int
config_get(struct store *st, const struct daemon_setting *s)
{
	char *v;

	if (daemon_setting_get(st, s->name, &v) < 0)
		return cli_error("%s", store_errmsg(st));
	printf("%s\n", v);
	free(v);
	return CLI_OK;
}

int
cli_cmd_config(const struct cli_opts *o, int argc, char **argv)
{
	const struct daemon_setting *s = NULL;
	struct store *st;
	char err[512];
	int rc;

	if (argc < 2 || (strcmp(argv[1], "list") == 0 && argc != 2) ||
	    (strcmp(argv[1], "get") == 0 && argc != 3) ||
	    (strcmp(argv[1], "set") == 0 && argc != 4))
		return cli_usage("config", "use 'config list', 'config get "
		    "KEY' or 'config set KEY VALUE'");
	if (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "get") != 0 &&
	    strcmp(argv[1], "set") != 0)
		return cli_usage("config", "unknown action '%s'", argv[1]);
	if (argc >= 3 && (s = daemon_setting_find(argv[2])) == NULL)
		return unknown_key(argv[2]);
	if (argc == 4 && daemon_setting_check(s, argv[3], err,
	    sizeof(err)) < 0)
		return cli_error("%s", err);
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	if (argc == 2)
		rc = config_list(st, o);
	else if (argc == 4)
		rc = config_set(o, st, s, argv[3]);
	else
		rc = config_get(st, s);
	store_close(&st);
	return rc;
}
