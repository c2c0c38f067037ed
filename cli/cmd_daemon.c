/*
 * cmd_daemon: `mailvault daemon start|stop|status`, the service in the
 * background (daemon/detach.c does the work).
 *
 * start takes serve's options (cmd_serve.c) and --log-stderr; it returns
 * once the daemon serves, saying its pid and where it logs, or prints
 * what the daemon said before it gave up. stop ends the store's daemon
 * cleanly. status says whether one runs, its pid, since when, and, asked
 * over the control socket, whether it is locked (with --json also the
 * store's control socket, one per store); it exits 3
 * (CLI_NOT_RUNNING, as LSB says) when none runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "lib/util.h"

static int
cmd_start(const struct cli_opts *o, int argc, char **argv)
{
	struct daemon_opts opts;
	char err[512], *path = cli_store_path(o), *serving = NULL;
	char *log = NULL;
	long pid = 0;
	int rc = CLI_USAGE;

	if (cli_serve_options(o, "daemon", argc, argv, path, &opts) < 0)
		goto out;
	rc = CLI_FAIL;
	err[0] = '\0';
	if (daemon_start(&opts, &pid, &serving, &log, err, sizeof(err)) < 0) {
		if (err[0] != '\0')
			cli_error("%s", err);
		goto out;
	}
	printf("mailvault: daemon started (pid %ld), serving %s\n"
	    "mailvault: log: %s\n", pid, serving, log);
	rc = CLI_OK;
out:
	free(serving);
	free(log);
	free(path);
	return rc;
}

static int
cmd_stop(const struct cli_opts *o)
{
	char err[512], *path = cli_store_path(o);
	long pid = 0;
	int rc;

	rc = daemon_stop(path, &pid, err, sizeof(err));
	free(path);
	if (rc < 0)
		return cli_error("%s", err);
	if (!o->quiet)
		printf("mailvault: the daemon (pid %ld) stopped\n", pid);
	return CLI_OK;
}

/* "locked", "unlocked", or NULL when the daemon does not say. */
static const char *
ask_state(const struct cli_opts *o)
{
	char *reply = NULL;
	const char *state = NULL;

	if (cli_ctl_request(o, DAEMON_CTL_STATE, 5, &reply) != 0)
		return NULL;
	if (strncmp(reply, DAEMON_CTL_LOCKED, strlen(DAEMON_CTL_LOCKED)) == 0)
		state = "locked";
	else if (strncmp(reply, DAEMON_CTL_UNLOCKED,
	    strlen(DAEMON_CTL_UNLOCKED)) == 0)
		state = "unlocked";
	free(reply);
	return state;
}

static void
print_json(int running, long pid, const char *when, const char *state,
    const char *store)
{
	char *sock = daemon_ctl_path(store);

	fputs("{\"running\":", stdout);
	if (running) {
		printf("true,\"pid\":%ld,\"since\":\"%s\",", pid, when);
		if (state != NULL)
			printf("\"locked\":%s,", strcmp(state, "locked") == 0 ?
			    "true" : "false");
		fputs("\"store\":", stdout);
	} else
		fputs("false,\"store\":", stdout);
	cli_json_string(store);
	fputs(",\"socket\":", stdout);
	cli_json_string(sock);
	fputs("}\n", stdout);
	free(sock);
}

static int
cmd_status(const struct cli_opts *o)
{
	char when[32] = "", err[512], *path = cli_store_path(o), *store = NULL;
	const char *state = NULL;
	int64_t since = 0;
	time_t t;
	struct tm tm;
	long pid = 0;
	int running;

	running = daemon_probe(path, &pid, &since, &store, err, sizeof(err));
	free(path);
	if (running < 0)
		return cli_error("%s", err);
	t = (time_t)since;
	if (since > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (running)
		state = ask_state(o);
	if (o->json)
		print_json(running, pid, when, state, store);
	else if (running && pid <= 0)
		printf("starting (store %s)\n", store);
	else if (running)
		printf("running, pid %ld, since %s, store %s%s%s\n", pid, when,
		    store, state != NULL ? ", " : "", state != NULL ? state :
		    "");
	else
		printf("not running (store %s)\n", store);
	free(store);
	return running ? CLI_OK : CLI_NOT_RUNNING;
}

int
cli_cmd_daemon(const struct cli_opts *o, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("daemon", "say start, stop or status");
	if (strcmp(argv[1], "start") == 0)
		return cmd_start(o, argc - 1, argv + 1);
	if (argc > 2)
		return cli_usage("daemon", "unexpected '%s'", argv[2]);
	if (strcmp(argv[1], "stop") == 0)
		return cmd_stop(o);
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(o);
	return cli_usage("daemon", "unknown daemon command '%s'; say start, "
	    "stop or status", argv[1]);
}
