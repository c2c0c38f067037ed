/*
 * cmd_serve: `mailvault serve`, the service (daemon/) in the foreground
 * until Ctrl-C or SIGTERM, and the options it shares with `mailvault
 * daemon start`, which runs the same service detached (cmd_daemon.c).
 *
 * The options name the ports and address (else `mailvault config`
 * says), what a POP3 delete does, --no-sync (serve only) and --locked.
 * Locked: with --locked, or with no passphrase given and no terminal to
 * ask one on (a systemd unit at login), the service starts LOCKED and
 * waits for `mailvault unlock`; otherwise the passphrase is read here, as
 * every command reads it, when the service asks for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "lib/util.h"

static int
parse_port(const char *cmd, const char *opt, const char *v, int *port_r)
{
	uint64_t n;

	if (parse_u64(v, 65535, &n) < 0)
		return cli_usage(cmd, "%s takes a port number from 0 (off) "
		    "to 65535, not '%s'", opt, v), -1;
	*port_r = (int)n;
	return 0;
}

/* One port option at argv[*i]: 1 taken, 0 not a port option, -1 bad. */
static int
port_option(const char *cmd, int argc, char **argv, int *i,
    struct daemon_opts *d)
{
	static const char *const names[4] = { "--imap-port", "--imaps-port",
	    "--pop3-port", "--pop3s-port" };
	int *ports[4] = { &d->imap_port, &d->imaps_port, &d->pop3_port,
	    &d->pop3s_port };
	const char *v;
	int k;

	for (k = 0; k < 4; k++)
		if (cli_opt_value(argc, argv, i, names[k], &v))
			return parse_port(cmd, names[k], v, ports[k]) < 0 ?
			    -1 : 1;
	return 0;
}

/* The service's passphrase callback: read it as every command does. */
static int
ask_passphrase(const void *arg, char *pass, size_t size, size_t *len_r)
{
	char *p = NULL;
	size_t len = 0;

	if (cli_read_passphrase(arg, "Passphrase: ", 0, &p, &len) < 0)
		return -1;
	if (len > size) {
		cli_passphrase_free(&p, len);
		return cli_error("the passphrase is longer than %zu bytes",
		    size), -1;
	}
	memcpy(pass, p, len);
	*len_r = len;
	cli_passphrase_free(&p, len);
	return 0;
}

int
cli_serve_options(const struct cli_opts *o, const char *cmd, int argc,
    char **argv, const char *path, struct daemon_opts *d)
{
	const char *v;
	int i, rc, locked = 0;

	daemon_opts_init(d, path);
	for (i = 1; i < argc; i++) {
		if ((rc = port_option(cmd, argc, argv, &i, d)) != 0) {
			if (rc < 0)
				return -1;
		} else if (cli_opt_value(argc, argv, &i, "--pop3-delete", &v)) {
			if (strcmp(v, "hide") == 0 || strcmp(v, "expunge") == 0)
				d->pop3_delete = strcmp(v, "expunge") == 0;
			else
				return cli_usage(cmd, "--pop3-delete takes "
				    "hide or expunge, not '%s'", v), -1;
		} else if (strcmp(argv[i], "--no-sync") == 0) {
			d->no_sync = 1;
		} else if (strcmp(argv[i], "--locked") == 0) {
			locked = 1;
		} else if (strcmp(argv[i], "--log-stderr") == 0) {
			d->log_stderr = 1;	/* serve logs there anyway */
		} else if (cli_opt_value(argc, argv, &i, "--listen", &v)) {
			if (v[0] == '\0')
				return cli_usage(cmd, "--listen needs an "
				    "address"), -1;
			d->listen = v;
		} else
			return cli_usage(cmd, "unexpected '%s'", argv[i]), -1;
	}
	/* Locked: asked to, or no passphrase and nobody to ask. */
	if (!locked && cli_passphrase_available(o)) {
		d->passphrase = ask_passphrase;
		d->passphrase_arg = o;
	}
	return 0;
}

int
cli_cmd_serve(const struct cli_opts *o, int argc, char **argv)
{
	struct daemon_opts opts;
	struct daemon *d = NULL;
	char err[512], *path = cli_store_path(o);
	int rc = CLI_USAGE;

	if (cli_serve_options(o, "serve", argc, argv, path, &opts) < 0)
		goto out;
	rc = CLI_FAIL;
	err[0] = '\0';
	if (daemon_open(&opts, &d, err, sizeof(err)) < 0) {
		if (err[0] != '\0')
			cli_error("%s", err);
		goto out;
	}
	daemon_run(d);
	daemon_close(&d);
	rc = CLI_OK;
out:
	free(path);
	return rc;
}
