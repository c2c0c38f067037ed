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
 * Locked. With --locked, or with no passphrase given and no terminal to
 * ask one on (a systemd unit at login), it starts LOCKED: the store stays
 * closed, the listeners are where the options or the ports file
 * ("<store>.ports", see cmd_config.c) say, every login is refused with
 * how to unlock (server.h), and nothing syncs. `mailvault unlock` hands
 * the passphrase over the control socket: the store opens, the server
 * takes logins, the sync threads start. `mailvault lock` undoes it: the
 * sync threads stop (a batch in flight finishes or rolls back), every
 * session ends, every store handle is closed (keys wiped). The unlock,
 * lock and reload hooks run on the control socket's thread; this thread
 * touches the same state only before that thread starts and after it is
 * joined.
 *
 * Live settings: poll-interval and log-level are read at every unlock
 * and on RELOAD (`config set` sends it); pop3-delete is read by the POP3
 * sessions at each QUIT unless --pop3-delete fixed it.
 *
 * Signals are blocked before any thread starts (threads inherit the
 * mask) and taken with sigwait() by this thread alone, so no handler runs
 * in the middle of a session.
 *
 * While serving, the control socket (ctl.c) answers `mailvault status`,
 * `sync`, `unlock`, `lock` and `daemon stop`. This is also the body of
 * `mailvault daemon start` (daemon.c), which runs it detached: there the
 * control socket is required, SIGHUP reopens the log, and readiness is
 * reported to the waiting `daemon start`.
 */
#include <fcntl.h>
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
#define LOCK_WAIT_MS	30000	/* for the sessions to end at a lock */

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
	int		 locked;	/* --locked: wait for `unlock` */
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
		} else if (strcmp(argv[i], "--locked") == 0) {
			a->locked = 1;
		} else if (strcmp(argv[i], "--log-stderr") == 0) {
			/* daemon.c's; here the log is stderr anyway */
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

/*
 * Locked: the listeners from the options, else the ports file, else the
 * defaults. *listen_r is owned by the caller.
 */
static void
make_config_locked(const char *path, const struct serve_args *a,
    struct server_config *cfg, char **listen_r)
{
	int ports[4] = { SERVER_IMAP_PORT, SERVER_IMAPS_PORT, SERVER_POP3_PORT,
	    SERVER_POP3S_PORT };
	char *listen = NULL;

	if (cli_config_read_ports(path, ports, &listen) < 0)
		listen = xstrdup("127.0.0.1");
	cfg->imap_port = a->imap_port >= 0 ? a->imap_port : ports[0];
	cfg->imaps_port = a->imaps_port >= 0 ? a->imaps_port : ports[1];
	cfg->pop3_port = a->pop3_port >= 0 ? a->pop3_port : ports[2];
	cfg->pop3s_port = a->pop3s_port >= 0 ? a->pop3s_port : ports[3];
	cfg->pop3_delete = a->pop3_delete;
	if (a->listen != NULL) {
		free(listen);
		listen = xstrdup(a->listen);
	}
	*listen_r = listen;
	cfg->listen_addr = listen;
}

/* Start locked: asked to, or no passphrase and nobody to ask. */
static int
want_locked(const struct cli_opts *o, const struct serve_args *a)
{
	return a->locked || !cli_passphrase_available(o);
}

/* What serve runs with; the hooks below change it on the control
 * socket's thread. */
struct serve_ctx {
	struct serve_args args;
	char		*path;		/* the store */
	struct store	*st;		/* NULL while locked */
	struct server	*srv;
	struct cli_syncd *syncd;
	struct cli_ctl	*ctl;
	int		 poll_s;
};

/* Read the live settings (poll-interval, log-level) into ctx and the
 * process; a sentence of what is in force into msg. */
static void
read_live(struct serve_ctx *x, char *msg, size_t msglen)
{
	char *poll = NULL, *level = NULL, *del = NULL;
	uint64_t n;

	if (cli_config_value(x->st, "poll-interval", &poll) == 0 &&
	    parse_u64(poll, 86400, &n) == 0 && n >= 10)
		x->poll_s = (int)n;
	if (cli_config_value(x->st, "log-level", &level) == 0)
		cli_log_set_level(level);
	if (x->args.pop3_delete >= 0)
		del = xstrdup(x->args.pop3_delete ? "expunge (--pop3-delete)" :
		    "hide (--pop3-delete)");
	else if (cli_config_value(x->st, "pop3-delete", &del) < 0)
		del = NULL;
	snprintf(msg, msglen, "poll-interval %d s, log-level %s, pop3-delete "
	    "%s", x->poll_s, level != NULL ? level : "?", del != NULL ? del :
	    "?");
	free(poll);
	free(level);
	free(del);
}

/* Unlocked: settings, sync threads; 0, or -1 after printing why. */
static int
start_unlocked(struct serve_ctx *x)
{
	char msg[256];

	read_live(x, msg, sizeof(msg));
	if (cli_config_save_ports(x->st) < 0)
		fprintf(stderr, "mailvault: warning: cannot write %s.ports: "
		    "a daemon started locked will use the default ports\n",
		    x->path);
	if (!x->args.no_sync && cli_syncd_start(x->st, x->poll_s,
	    &x->syncd) < 0)
		return -1;
	return 0;
}

static int
hook_unlock(void *arg, const char *pass, size_t len, char *err,
    size_t errlen)
{
	struct serve_ctx *x = arg;
	char fp[FINGERPRINT_MAX];
	int rc;

	rc = store_open(x->path, pass, len, &x->st, err, errlen);
	if (rc != 0) {
		fprintf(stderr, "mailvault: unlock refused: %s\n", err);
		return rc == STORE_EBADPASS ? CLI_CTL_BADPASS : -1;
	}
	if (cli_cert_ensure(x->st, NULL, fp, sizeof(fp)) < 0) {
		snprintf(err, errlen, "the TLS certificate cannot be made; "
		    "see the log");
		store_close(&x->st);
		return -1;
	}
	if (server_unlock(x->srv, x->st, err, errlen) < 0) {
		fprintf(stderr, "mailvault: unlock failed: %s\n", err);
		store_close(&x->st);
		return -1;
	}
	if (start_unlocked(x) < 0)
		fprintf(stderr, "mailvault: the background sync did not "
		    "start\n");
	cli_ctl_unlocked(x->ctl, x->st, x->syncd);
	fprintf(stderr, "mailvault: unlocked; certificate SHA-256 "
	    "fingerprint %s\n", fp);
	return 0;
}

static int
hook_lock(void *arg, char *err, size_t errlen)
{
	struct serve_ctx *x = arg;
	int left;

	(void)err;
	(void)errlen;
	cli_ctl_unlocked(x->ctl, NULL, NULL);
	cli_syncd_stop(&x->syncd);
	left = server_lock(x->srv, LOCK_WAIT_MS);
	if (left > 0)
		fprintf(stderr, "mailvault: lock: %d session(s) did not end "
		    "in %d s; their handles close when they do\n", left,
		    LOCK_WAIT_MS / 1000);
	store_close(&x->st);
	fprintf(stderr, "mailvault: locked: sessions ended, keys wiped\n");
	return 0;
}

static void
hook_reload(void *arg, char *msg, size_t msglen)
{
	struct serve_ctx *x = arg;

	read_live(x, msg, msglen);
	cli_syncd_set_poll(x->syncd, x->poll_s);
	fprintf(stderr, "mailvault: settings reloaded: %s\n", msg);
}

/* The control socket: required in the daemon, a nicety in `serve`. */
static int
start_ctl(struct serve_ctx *x)
{
	struct cli_ctl_hooks hooks = { x, hook_unlock, hook_lock,
	    hook_reload };
	char err[512];

	if (cli_ctl_start(x->path, x->st, x->syncd, &hooks, &x->ctl, err,
	    sizeof(err)) == 0)
		return 0;
	if (cli_daemon_active())
		return cli_error("%s", err), -1;
	fprintf(stderr, "mailvault: warning: no control socket: %s\n", err);
	return 0;
}

/* Tell the control socket and the waiting `daemon start` we serve. */
static void
report_serving(struct cli_ctl *ctl, const struct server *srv,
    const char *desc, int locked)
{
	struct cli_status_daemon info;
	char ready[600];

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
	snprintf(ready, sizeof(ready), "%s%s", desc, locked ? "; locked: "
	    "'mailvault unlock' unlocks it" : "");
	cli_daemon_ready(ready);
}

/* Open the store (unless it starts locked) and make the configuration.
 * 0, or -1 after printing why. */
static int
prepare(const struct cli_opts *o, struct serve_ctx *x,
    struct server_config *cfg, char **listen, char *fp, size_t fplen)
{
	if (access(x->path, F_OK) != 0) {
		cli_error("there is no store at %s: create one with "
		    "'mailvault init', or name another with --store", x->path);
		return -1;
	}
	if (want_locked(o, &x->args)) {
		make_config_locked(x->path, &x->args, cfg, listen);
		snprintf(fp, fplen, "(sealed until unlocked)");
		return 0;
	}
	if (cli_open_store(o, &x->st) < 0)
		return -1;
	if (make_config(x->st, &x->args, cfg, listen) < 0 ||
	    cli_cert_ensure(x->st, NULL, fp, fplen) < 0)
		return -1;
	return 0;
}

int
cli_cmd_serve(const struct cli_opts *o, int argc, char **argv)
{
	struct serve_ctx x = { { -1, -1, -1, -1, -1, 0, 0, NULL }, NULL, NULL,
	    NULL, NULL, NULL, 300 };
	struct server_config cfg;
	char err[512], desc[512], fp[FINGERPRINT_MAX], *listen = NULL;
	sigset_t set;
	int sig = 0, rc = CLI_FAIL;

	if (parse_args(argc, argv, &x.args) < 0)
		return CLI_USAGE;
	x.path = cli_store_path(o);
	memset(&cfg, 0, sizeof(cfg));
	if (prepare(o, &x, &cfg, &listen, fp, sizeof(fp)) < 0)
		goto out;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Only server_start() leaves its error in err; the others print
	 * theirs. The control socket comes last: its hooks may run at
	 * once, and find everything in place. */
	err[0] = '\0';
	if (server_start(x.st, &cfg, &x.srv, err, sizeof(err)) < 0 ||
	    (x.st != NULL && start_unlocked(&x) < 0) || start_ctl(&x) < 0) {
		if (err[0] != '\0')
			cli_error("%s", err);
		goto out;
	}
	server_describe(x.srv, desc, sizeof(desc));
	report_serving(x.ctl, x.srv, desc, x.st == NULL);
	fprintf(stderr, "mailvault: serving %s\n", desc);
	if (x.st == NULL)
		fprintf(stderr, "mailvault: locked: logins are refused and "
		    "nothing syncs until 'mailvault unlock'\n");
	else
		fprintf(stderr, "mailvault: certificate SHA-256 fingerprint "
		    "%s\n", fp);
	fprintf(stderr, "mailvault: 'mailvault credentials' shows the login; "
	    "stop with %s\n", cli_daemon_active() ? "'mailvault daemon stop'"
	    : "Ctrl-C");
	fflush(stderr);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		cli_daemon_reopen_log();
	fprintf(stderr, "mailvault: stopping (signal %d)\n", sig);
	rc = CLI_OK;
out:
	cli_ctl_stop(&x.ctl);
	server_stop(&x.srv);
	cli_syncd_stop(&x.syncd);
	store_close(&x.st);
	free(listen);
	free(x.path);
	return rc;
}
