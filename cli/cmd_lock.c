/*
 * cmd_lock: `mailvault unlock` and `mailvault lock`, for a daemon (or a
 * `serve`) that runs on the store.
 *
 * unlock reads the passphrase as every command does (a prompt without
 * echo, --passphrase-fd, --passphrase-file, $MAILVAULT_PASSPHRASE_FILE)
 * and hands it to the daemon over the control socket, on the line after
 * UNLOCK: never in argv, never in a log; the buffer is wiped once sent.
 * A wrong passphrase is an error here and leaves the daemon locked.
 * lock asks the daemon to end its sessions, stop syncing and drop its
 * keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "lib/util.h"

#define UNLOCK_WAIT_S	300	/* the KDF of a MODERATE store, and more */

/* The daemon on our store is there: 0, or an exit status after saying
 * why not. */
static int
need_daemon(const struct cli_opts *o, const char *cmd)
{
	char *path;
	int rc = cli_ctl_same_store(o);

	if (rc == 1)
		return 0;
	path = cli_store_path(o);
	if (rc == CLI_CTL_DOWN)
		cli_error("no mailvault daemon is running, so there is "
		    "nothing to %s; 'mailvault daemon start' starts one", cmd);
	else
		cli_error("the running mailvault daemon serves another store, "
		    "not %s", path);
	free(path);
	return CLI_FAIL;
}

/* Print an OK reply's text, or the ERR as an error; the exit status. */
static int
answer(char *reply)
{
	reply[strcspn(reply, "\n")] = '\0';
	if (strncmp(reply, DAEMON_CTL_OK, 2) == 0) {
		printf("mailvault: %s\n", reply[2] == ' ' ? reply + 3 : "done");
		return CLI_OK;
	}
	return cli_error("%s", strncmp(reply, DAEMON_CTL_ERR, 4) == 0 ?
	    reply + 4 : reply);
}

int
cli_cmd_unlock(const struct cli_opts *o, int argc, char **argv)
{
	char *pass = NULL, *reply = NULL;
	size_t len = 0;
	int rc;

	if (argc > 1)
		return cli_usage("unlock", "unexpected '%s'", argv[1]);
	if ((rc = need_daemon(o, "unlock")) != 0)
		return rc;
	if (cli_ctl_request(o, DAEMON_CTL_STATE, 10, &reply) == 0 &&
	    strncmp(reply, DAEMON_CTL_UNLOCKED,
	    strlen(DAEMON_CTL_UNLOCKED)) == 0) {
		free(reply);
		printf("mailvault: already unlocked\n");
		return CLI_OK;
	}
	free(reply);
	reply = NULL;
	if (cli_read_passphrase(o, "Passphrase: ", 0, &pass, &len) < 0)
		return CLI_FAIL;
	if (memchr(pass, '\n', len) != NULL) {
		cli_passphrase_free(&pass, len);
		return cli_error("a passphrase cannot hold a line break");
	}
	rc = cli_ctl_request_data(o, DAEMON_CTL_UNLOCK, pass, len,
	    UNLOCK_WAIT_S, 0, &reply);
	cli_passphrase_free(&pass, len);
	if (rc != 0)
		return cli_error("the daemon did not answer the unlock "
		    "request; see its log");
	rc = answer(reply);
	free(reply);
	return rc;
}

int
cli_cmd_lock(const struct cli_opts *o, int argc, char **argv)
{
	char *reply = NULL;
	int rc;

	if (argc > 1)
		return cli_usage("lock", "unexpected '%s'", argv[1]);
	if ((rc = need_daemon(o, "lock")) != 0)
		return rc;
	if (cli_ctl_request(o, DAEMON_CTL_LOCK, 60, &reply) != 0)
		return cli_error("the daemon did not answer the lock request; "
		    "see its log");
	rc = answer(reply);
	free(reply);
	return rc;
}
