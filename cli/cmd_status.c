/*
 * cmd_status: `mailvault status [--json]`, what a running daemon does and
 * what the store holds: the daemon's state, pid, start time and listening
 * ports; per account the upstream, the last sync and its error, when it
 * syncs next, the messages and unread messages per folder and the bytes
 * stored (daemon/status.c words it).
 *
 * The CLI asks the daemon over its control socket and prints the answer.
 * When no daemon runs, it says so; with a passphrase at hand (a file or a
 * descriptor) it opens the store and shows the store's part too. Not
 * running is not an error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "lib/buf.h"
#include "store/store.h"

/* No daemon: say so, and show the store when a passphrase is at hand. */
static int
status_offline(const struct cli_opts *o)
{
	struct store *st = NULL;
	struct buf out;
	int rc = CLI_OK;

	if ((o->pass_file != NULL && o->pass_file[0] != '\0') ||
	    o->pass_fd >= 0) {
		if (cli_open_store(o, &st) < 0)
			return CLI_FAIL;
	}
	buf_init(&out, 64u << 20);
	if (daemon_status_offline(st, o->json, &out) < 0)
		rc = cli_error("%s", store_errmsg(st));
	else
		fputs(out.data != NULL ? out.data : "", stdout);
	buf_free(&out);
	store_close(&st);
	return rc;
}

int
cli_cmd_status(const struct cli_opts *o, int argc, char **argv)
{
	char *reply = NULL;
	int rc;

	if (argc > 1)
		return cli_usage("status", "unexpected '%s'", argv[1]);
	rc = cli_ctl_request(o, o->json ? DAEMON_CTL_STATUS_JSON :
	    DAEMON_CTL_STATUS, 30, &reply);
	if (rc == CLI_CTL_DOWN)
		return status_offline(o);
	if (rc < 0)
		return cli_error("the daemon does not answer on %s",
		    "its control socket");
	rc = cli_ctl_print_reply(reply);
	free(reply);
	return rc == 0 ? CLI_OK : CLI_FAIL;
}
