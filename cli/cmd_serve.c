/*
 * cmd_serve: `mailvault serve`, the loopback IMAP and POP3 servers in the
 * foreground, and the background sync of every account with an upstream
 * (unless --no-sync). It opens the store, makes sure the TLS certificate
 * exists, starts the listeners and waits for SIGINT or SIGTERM, then says
 * "* BYE" to every session, stops the sync threads and exits. Ports and
 * address come from the options, else from `mailvault config` (imap-port,
 * imaps-port, pop3-port, pop3s-port, listen, pop3-delete), which is also
 * what `mailvault credentials` shows.
 *
 * Signals are blocked before any thread starts (threads inherit the
 * mask) and taken with sigwait() by this thread alone, so no handler runs
 * in the middle of a session.
 *
 * While serving, the control socket (ctl.c) answers `mailvault status`,
 * `sync` and `daemon stop`. This is also the body of `mailvault daemon
 * start` (daemon.c), which runs it detached: there the control socket is
 * required, SIGHUP reopens the log, and readiness is reported to the
 * waiting `daemon start`.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "server/server.h"
#include "store/store.h"

#define FINGERPRINT_MAX	128

static int
parse_port(const char *opt, const char *v, int *port_r)
{
	uint64_t n;

	if (parse_u64(v, 65535, &n) < 0)
		return cli_usage("serve", "%s takes a port number from 0 (off) "
		    "to 65535, not '%s'", opt, v);
	*port_r = (int)n;
	return 0;
}

/* Options given on the command line; -1 / NULL where not given. */
struct serve_args {
	int		 imap_port;
	int		 imaps_port;
	int		 pop3_port;
	int		 pop3s_port;
	int		 pop3_delete;	/* -1: the pop3-delete setting */
	int		 no_sync;	/* --no-sync: serve only */
	const char	*listen;
};

static int
parse_args(int argc, char **argv, struct serve_args *a)
{
	const char *v;
	int i;

	for (i = 1; i < argc; i++) {
		if (cli_opt_value(argc, argv, &i, "--imap-port", &v)) {
			if (parse_port("--imap-port", v, &a->imap_port) != 0)
				return -1;
		} else if (cli_opt_value(argc, argv, &i, "--imaps-port", &v)) {
			if (parse_port("--imaps-port", v, &a->imaps_port) != 0)
				return -1;
		} else if (cli_opt_value(argc, argv, &i, "--pop3-port", &v)) {
			if (parse_port("--pop3-port", v, &a->pop3_port) != 0)
				return -1;
		} else if (cli_opt_value(argc, argv, &i, "--pop3s-port", &v)) {
			if (parse_port("--pop3s-port", v,
			    &a->pop3s_port) != 0)
				return -1;
		} else if (cli_opt_value(argc, argv, &i, "--pop3-delete", &v)) {
			if (strcmp(v, "hide") == 0)
				a->pop3_delete = 0;
			else if (strcmp(v, "expunge") == 0)
				a->pop3_delete = 1;
			else {
				cli_usage("serve", "--pop3-delete takes hide "
				    "or expunge, not '%s'", v);
				return -1;
			}
		} else if (strcmp(argv[i], "--no-sync") == 0) {
			a->no_sync = 1;
		} else if (cli_opt_value(argc, argv, &i, "--listen", &v)) {
			if (v[0] == '\0') {
				cli_usage("serve", "--listen needs an address");
				return -1;
			}
			a->listen = v;
		} else {
			cli_usage("serve", "unexpected '%s'", argv[i]);
			return -1;
		}
	}
	return 0;
}

/* A port from `mailvault config` (its default when unset). */
static int
config_port(struct store *st, const char *name)
{
	uint64_t n = 0;
	char *v;

	if (cli_config_value(st, name, &v) < 0)
		return -1;
	if (parse_u64(v, 65535, &n) < 0)
		n = 0;
	free(v);
	return (int)n;
}

/*
 * The configuration: command-line options, else `mailvault config`
 * settings (imap-port, imaps-port, listen), else the defaults. *listen_r
 * is owned by the caller. 0, or -1 after printing why.
 */
static int
make_config(struct store *st, const struct serve_args *a,
    struct server_config *cfg, char **listen_r)
{
	cfg->imap_port = a->imap_port >= 0 ? a->imap_port :
	    config_port(st, "imap-port");
	cfg->imaps_port = a->imaps_port >= 0 ? a->imaps_port :
	    config_port(st, "imaps-port");
	cfg->pop3_port = a->pop3_port >= 0 ? a->pop3_port :
	    config_port(st, "pop3-port");
	cfg->pop3s_port = a->pop3s_port >= 0 ? a->pop3s_port :
	    config_port(st, "pop3s-port");
	cfg->pop3_delete = a->pop3_delete;
	if (a->listen != NULL)
		*listen_r = xstrdup(a->listen);
	else if (cli_config_value(st, "listen", listen_r) < 0)
		*listen_r = xstrdup("127.0.0.1");
	cfg->listen_addr = *listen_r;
	if (cfg->imap_port < 0 || cfg->imaps_port < 0 || cfg->pop3_port < 0 ||
	    cfg->pop3s_port < 0) {
		cli_error("cannot read the port settings: %s",
		    store_errmsg(st));
		return -1;
	}
	if (cfg->imap_port == 0 && cfg->imaps_port == 0 &&
	    cfg->pop3_port == 0 && cfg->pop3s_port == 0) {
		cli_usage("serve", "every listener is off; give --imap-port, "
		    "--imaps-port, --pop3-port or --pop3s-port a port");
		return -1;
	}
	return 0;
}

/* The control socket: required in the daemon, a nicety in `serve`. */
static int
start_ctl(struct store *st, struct cli_ctl **ctl_r)
{
	char err[512];

	if (cli_ctl_start(st, ctl_r, err, sizeof(err)) == 0)
		return 0;
	if (cli_daemon_active())
		return cli_error("%s", err), -1;
	fprintf(stderr, "mailvault: warning: no control socket: %s\n", err);
	return 0;
}

/* Tell the control socket and the waiting `daemon start` we serve. */
static void
report_serving(struct cli_ctl *ctl, const struct server *srv,
    const char *desc)
{
	struct cli_status_daemon info;

	memset(&info, 0, sizeof(info));
	info.state = cli_daemon_active() ? "running" : "serving (foreground)";
	info.pid = (long)getpid();
	info.since = cli_daemon_active() ? cli_daemon_since() :
	    (int64_t)time(NULL);
	info.ports[0] = server_imap_port(srv);
	info.ports[1] = server_imaps_port(srv);
	info.ports[2] = server_pop3_port(srv);
	info.ports[3] = server_pop3s_port(srv);
	cli_ctl_serving(ctl, &info, desc);
	cli_daemon_ready(desc);
}

int
cli_cmd_serve(const struct cli_opts *o, int argc, char **argv)
{
	struct serve_args args = { -1, -1, -1, -1, -1, 0, NULL };
	struct server_config cfg;
	char err[512], desc[512], fp[FINGERPRINT_MAX], *listen = NULL;
	struct server *srv = NULL;
	struct cli_syncd *syncd = NULL;
	struct cli_ctl *ctl = NULL;
	struct store *st;
	sigset_t set;
	int sig = 0;

	if (parse_args(argc, argv, &args) < 0)
		return CLI_USAGE;
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	if (make_config(st, &args, &cfg, &listen) < 0 ||
	    cli_cert_ensure(st, NULL, fp, sizeof(fp)) < 0) {
		free(listen);
		store_close(&st);
		return CLI_FAIL;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The sync threads' and the control socket's handles are made
	 * before any session can share the parent handle. Only
	 * server_start() leaves its error in err; the others print theirs. */
	err[0] = '\0';
	if ((!args.no_sync && cli_syncd_start(st, &syncd) < 0) ||
	    start_ctl(st, &ctl) < 0 ||
	    server_start(st, &cfg, &srv, err, sizeof(err)) < 0) {
		if (err[0] != '\0')
			cli_error("%s", err);
		cli_ctl_stop(&ctl);
		cli_syncd_stop(&syncd);
		free(listen);
		store_close(&st);
		return CLI_FAIL;
	}
	server_describe(srv, desc, sizeof(desc));
	report_serving(ctl, srv, desc);
	fprintf(stderr, "mailvault: serving %s\n"
	    "mailvault: certificate SHA-256 fingerprint %s\n"
	    "mailvault: 'mailvault credentials' shows the login; stop with "
	    "%s\n", desc, fp, cli_daemon_active() ? "'mailvault daemon stop'" :
	    "Ctrl-C");
	fflush(stderr);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		cli_daemon_reopen_log();
	fprintf(stderr, "mailvault: stopping (signal %d)\n", sig);
	cli_ctl_stop(&ctl);
	server_stop(&srv);
	cli_syncd_stop(&syncd);
	store_close(&st);
	free(listen);
	return CLI_OK;
}
