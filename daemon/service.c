/*
 * service: the running service, `mailvault serve`: the loopback IMAP and
 * POP3 servers, the background sync of every account with an upstream
 * (unless no_sync), and the control socket that lets the CLI see and
 * steer it. daemon_open() opens the store, makes sure the TLS certificate
 * exists, starts the listeners, the sync threads and the control socket;
 * daemon_run() waits for SIGINT or SIGTERM; daemon_close() says "* BYE"
 * to every session, stops the sync threads and closes the store. Ports
 * and address come from the options, else from the settings
 * (settings.c), which `mailvault credentials` also shows.
 *
 * Locked. Without a passphrase it starts LOCKED: the store stays closed,
 * the listeners are where the options or the ports file ("<store>.ports")
 * say, TLS works from the certificate and key beside the store
 * (server/cert.c), every login is refused with how to unlock (server.h),
 * and nothing syncs. daemon_unlock() opens the store: the server takes logins, the
 * sync threads start. daemon_lock() undoes it: the sync threads stop (a
 * batch in flight finishes or rolls back), every session ends, every
 * store handle is closed (keys wiped).
 *
 * The operations (lock, unlock, reload, status, sync) take the service's
 * mutex, so they run one at a time, whichever thread calls them (the
 * control socket's, in practice); the thread that opened the service
 * touches the same state only before the control socket starts and after
 * it has stopped. Live settings: poll-interval and log-level are read at
 * every unlock and on reload; pop3-delete is read by the POP3 sessions
 * at each QUIT unless the options fixed it.
 *
 * Signals are blocked before any thread starts (threads inherit the
 * mask) and taken with sigwait() by daemon_run() alone, so no handler
 * runs in the middle of a session.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon_int.h"
#include "lib/util.h"
#include "server/server.h"
#include "store/store.h"
#include "sync/sync.h"

#define FINGERPRINT_MAX	128
#define LOCK_WAIT_MS	30000	/* for the sessions to end at a lock */
#define POLL_DEFAULT_S	300	/* until the poll-interval setting is read */

struct daemon {
	char		*path;		/* the store, as named */
	char		*abs;		/* its absolute path */
	char		*listen;	/* the address listened on */
	int		 pop3_delete;	/* the option; -1: the setting */
	int		 no_sync;
	int		 detached;	/* `daemon start`, not `serve` */
	int64_t		 since;
	sigset_t	 sigs;		/* what daemon_run() waits for */
	struct server	*srv;
	struct daemon_ctl *ctl;
	int		 ports[4];	/* as bound: IMAP, IMAPS, POP3, POP3S */
	char		 desc[512];	/* the listeners in words */
	pthread_mutex_t	 mu;		/* one operation at a time; guards: */
	struct store	*st;		/* NULL while locked */
	struct daemon_sched *sched;	/* NULL: none */
	int		 poll_s;
	char		 fp[FINGERPRINT_MAX];
};

void
daemon_opts_init(struct daemon_opts *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->store_path = path;
	o->imap_port = o->imaps_port = o->pop3_port = o->pop3s_port = -1;
	o->pop3_delete = -1;
}

/* A port setting (its default when unset); -1 on a store error. */
static int
setting_port(struct store *st, const char *name)
{
	uint64_t n = 0;
	char *v;

	if (daemon_setting_get(st, name, &v) < 0)
		return -1;
	if (parse_u64(v, 65535, &n) < 0)
		n = 0;
	free(v);
	return (int)n;
}

/*
 * Unlocked: the options, else the settings, else the defaults. 0, or -1
 * and a sentence in err.
 */
static int
make_config(struct daemon *d, const struct daemon_opts *o,
    struct server_config *cfg, char *err, size_t errlen)
{
	cfg->imap_port = o->imap_port >= 0 ? o->imap_port :
	    setting_port(d->st, "imap-port");
	cfg->imaps_port = o->imaps_port >= 0 ? o->imaps_port :
	    setting_port(d->st, "imaps-port");
	cfg->pop3_port = o->pop3_port >= 0 ? o->pop3_port :
	    setting_port(d->st, "pop3-port");
	cfg->pop3s_port = o->pop3s_port >= 0 ? o->pop3s_port :
	    setting_port(d->st, "pop3s-port");
	cfg->pop3_delete = o->pop3_delete;
	cfg->store_path = d->path;
	if (o->listen != NULL)
		d->listen = xstrdup(o->listen);
	else if (daemon_setting_get(d->st, "listen", &d->listen) < 0)
		d->listen = xstrdup("127.0.0.1");
	cfg->listen_addr = d->listen;
	if (cfg->imap_port < 0 || cfg->imaps_port < 0 || cfg->pop3_port < 0 ||
	    cfg->pop3s_port < 0)
		return seterr(err, errlen, -1, "cannot read the port "
		    "settings: %s", store_errmsg(d->st));
	if (cfg->imap_port == 0 && cfg->imaps_port == 0 &&
	    cfg->pop3_port == 0 && cfg->pop3s_port == 0)
		return seterr(err, errlen, -1, "every listener is off; give "
		    "--imap-port, --imaps-port, --pop3-port or --pop3s-port "
		    "a port\nSee 'mailvault serve --help'.");
	return 0;
}

/* Locked: the options, else the ports file, else the defaults. */
static void
make_config_locked(struct daemon *d, const struct daemon_opts *o,
    struct server_config *cfg)
{
	int ports[4] = { SERVER_IMAP_PORT, SERVER_IMAPS_PORT, SERVER_POP3_PORT,
	    SERVER_POP3S_PORT };

	if (daemon_ports_read(d->path, ports, &d->listen) < 0)
		d->listen = xstrdup("127.0.0.1");
	cfg->imap_port = o->imap_port >= 0 ? o->imap_port : ports[0];
	cfg->imaps_port = o->imaps_port >= 0 ? o->imaps_port : ports[1];
	cfg->pop3_port = o->pop3_port >= 0 ? o->pop3_port : ports[2];
	cfg->pop3s_port = o->pop3s_port >= 0 ? o->pop3s_port : ports[3];
	cfg->pop3_delete = o->pop3_delete;
	cfg->store_path = d->path;
	if (o->listen != NULL) {
		free(d->listen);
		d->listen = xstrdup(o->listen);
	}
	cfg->listen_addr = d->listen;
}

/* Read the live settings (poll-interval, log-level) into d and the
 * process; a sentence of what is in force into msg. */
static void
read_live(struct daemon *d, char *msg, size_t msglen)
{
	char *poll = NULL, *level = NULL, *del = NULL;
	uint64_t n;

	if (daemon_setting_get(d->st, "poll-interval", &poll) == 0 &&
	    parse_u64(poll, 86400, &n) == 0 && n >= 10)
		d->poll_s = (int)n;
	if (daemon_setting_get(d->st, "log-level", &level) == 0)
		daemon_log_set_level(level);
	if (d->pop3_delete >= 0)
		del = xstrdup(d->pop3_delete ? "expunge (--pop3-delete)" :
		    "hide (--pop3-delete)");
	else if (daemon_setting_get(d->st, "pop3-delete", &del) < 0)
		del = NULL;
	snprintf(msg, msglen, "poll-interval %d s, log-level %s, pop3-delete "
	    "%s", d->poll_s, level != NULL ? level : "?", del != NULL ? del :
	    "?");
	free(poll);
	free(level);
	free(del);
}

/* Unlocked: settings, sync threads; 0, or -1 and a sentence in err. */
static int
start_unlocked(struct daemon *d, char *err, size_t errlen)
{
	char msg[256];

	read_live(d, msg, sizeof(msg));
	if (daemon_ports_save(d->st) < 0)
		fprintf(stderr, "mailvault: warning: cannot write %s.ports: "
		    "a daemon started locked will use the default ports\n",
		    d->path);
	if (d->no_sync)
		return 0;
	return daemon_sched_start(d->st, d->poll_s, &d->sched, err, errlen);
}

/* The control socket: required in the daemon, a nicety in `serve`. */
static int
start_ctl(struct daemon *d, char *err, size_t errlen)
{
	struct daemon_ctl_hooks hooks = { d, daemon_locked, daemon_status,
	    daemon_sync, daemon_unlock, daemon_lock, daemon_reload,
	    daemon_accounts, daemon_ports, daemon_shutdown };
	char why[512];

	if (daemon_ctl_start(d->abs, &hooks, &d->ctl, why, sizeof(why)) == 0)
		return 0;
	if (d->detached)
		return seterr(err, errlen, -1, "%s", why);
	fprintf(stderr, "mailvault: warning: no control socket: %s\n", why);
	return 0;
}

/* Listen: the server, the ports bound and their description. */
static int
start_server(struct daemon *d, const struct server_config *cfg, char *err,
    size_t errlen)
{
	if (server_start(d->st, cfg, &d->srv, err, errlen) < 0)
		return -1;
	d->ports[0] = server_imap_port(d->srv);
	d->ports[1] = server_imaps_port(d->srv);
	d->ports[2] = server_pop3_port(d->srv);
	d->ports[3] = server_pop3s_port(d->srv);
	server_describe(d->srv, d->desc, sizeof(d->desc));
	return 0;
}

/* The fingerprint a locked service shows: the certificate beside the
 * store serves TLS while locked (server/cert.c). */
static void
locked_fingerprint(struct daemon *d)
{
	if (server_cert_read_file(d->path, NULL, d->fp, sizeof(d->fp)) < 0)
		snprintf(d->fp, sizeof(d->fp), "(none until the first "
		    "unlock: no TLS while locked)");
}

/* Open the store (unless pass is NULL) and make the configuration. */
static int
prepare(struct daemon *d, const struct daemon_opts *o, const char *pass,
    size_t len, struct server_config *cfg, char *err, size_t errlen)
{
	if (pass == NULL) {
		make_config_locked(d, o, cfg);
		locked_fingerprint(d);
		return 0;
	}
	if (store_open(d->path, pass, len, &d->st, err, errlen) < 0 ||
	    make_config(d, o, cfg, err, errlen) < 0 ||
	    server_cert_ensure(d->st, NULL, d->fp, sizeof(d->fp), err,
	    errlen) < 0)
		return -1;
	return 0;
}

int
daemon_open_detached(const struct daemon_opts *o, const char *pass,
    size_t len, int64_t since, struct daemon **d_r, char *err,
    size_t errlen)
{
	struct daemon *d = xcalloc(1, sizeof(*d));
	struct server_config cfg;

	pthread_mutex_init(&d->mu, NULL);
	d->path = xstrdup(o->store_path);
	/* Now, before a daemon's chdir("/") could change what it means. */
	if ((d->abs = realpath(d->path, NULL)) == NULL)
		d->abs = xstrdup(d->path);
	d->pop3_delete = o->pop3_delete;
	d->no_sync = o->no_sync;
	d->detached = since > 0;
	d->since = since;
	d->poll_s = POLL_DEFAULT_S;
	memset(&cfg, 0, sizeof(cfg));
	if (prepare(d, o, pass, len, &cfg, err, errlen) < 0)
		goto fail;
	sigemptyset(&d->sigs);
	sigaddset(&d->sigs, SIGINT);
	sigaddset(&d->sigs, SIGTERM);
	sigaddset(&d->sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &d->sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The control socket comes last: its hooks may run at once, and
	 * find everything in place. */
	if (start_server(d, &cfg, err, errlen) < 0 ||
	    (d->st != NULL && start_unlocked(d, err, errlen) < 0))
		goto fail;
	if (!d->detached)
		d->since = (int64_t)time(NULL);		/* serving from now */
	if (start_ctl(d, err, errlen) < 0)
		goto fail;
	*d_r = d;
	return 0;
fail:
	daemon_close(&d);
	return -1;
}

int
daemon_open(const struct daemon_opts *o, struct daemon **d_r, char *err,
    size_t errlen)
{
	char *pass = NULL;
	size_t len = 0;
	int rc;

	if (access(o->store_path, F_OK) != 0)
		return seterr(err, errlen, -1, "there is no store at %s: "
		    "create one with 'mailvault init', or name another with "
		    "--store", o->store_path);
	if (o->passphrase != NULL) {
		pass = xmalloc(DAEMON_PASS_MAX + 1);
		if (o->passphrase(o->passphrase_arg, pass, DAEMON_PASS_MAX,
		    &len) < 0) {
			free(pass);
			if (errlen > 0)
				err[0] = '\0';	/* the callback said why */
			return -1;
		}
	}
	rc = daemon_open_detached(o, pass, len, 0, d_r, err, errlen);
	if (pass != NULL) {
		explicit_bzero(pass, DAEMON_PASS_MAX + 1);
		free(pass);
	}
	return rc;
}

int
daemon_run(struct daemon *d)
{
	char fp[FINGERPRINT_MAX];
	int sig = 0, locked;

	pthread_mutex_lock(&d->mu);
	locked = d->st == NULL;
	snprintf(fp, sizeof(fp), "%s", d->fp);
	pthread_mutex_unlock(&d->mu);
	fprintf(stderr, "mailvault: serving %s\n", d->desc);
	if (locked)
		fprintf(stderr, "mailvault: locked: logins are refused and "
		    "nothing syncs until 'mailvault unlock'\n");
	fprintf(stderr, "mailvault: certificate SHA-256 fingerprint %s\n",
	    fp);
	fprintf(stderr, "mailvault: 'mailvault credentials' shows the login; "
	    "stop with %s\n", d->detached ? "'mailvault daemon stop'" :
	    "Ctrl-C");
	fflush(stderr);
	while (sigwait(&d->sigs, &sig) == 0 && sig == SIGHUP)
		daemon_log_reopen();
	fprintf(stderr, "mailvault: stopping (signal %d)\n", sig);
	return 0;
}

void
daemon_close(struct daemon **dp)
{
	struct daemon *d = *dp;

	if (d == NULL)
		return;
	daemon_ctl_stop(&d->ctl);
	server_stop(&d->srv);
	daemon_sched_stop(&d->sched);
	store_close(&d->st);
	pthread_mutex_destroy(&d->mu);
	free(d->listen);
	free(d->abs);
	free(d->path);
	free(d);
	*dp = NULL;
}

const char *
daemon_listening(struct daemon *d)
{
	return d->desc;
}

/* ---- operations on the open service ---- */

int
daemon_locked(struct daemon *d)
{
	int locked;

	pthread_mutex_lock(&d->mu);
	locked = d->st == NULL;
	pthread_mutex_unlock(&d->mu);
	return locked;
}

/* Unlock (under d->mu, locked): as daemon_unlock(). */
static int
unlock_store(struct daemon *d, const char *pass, size_t len, char *err,
    size_t errlen)
{
	char fp[FINGERPRINT_MAX], why[512];
	int rc;

	rc = store_open(d->path, pass, len, &d->st, err, errlen);
	if (rc != 0) {
		fprintf(stderr, "mailvault: unlock refused: %s\n", err);
		return rc == STORE_EBADPASS ? DAEMON_EBADPASS : -1;
	}
	if (server_cert_ensure(d->st, NULL, fp, sizeof(fp), why,
	    sizeof(why)) < 0) {
		fprintf(stderr, "mailvault: %s\n", why);
		store_close(&d->st);
		return seterr(err, errlen, -1, "the TLS certificate cannot be "
		    "made; see the log");
	}
	if (server_unlock(d->srv, d->st, err, errlen) < 0) {
		fprintf(stderr, "mailvault: unlock failed: %s\n", err);
		store_close(&d->st);
		return -1;
	}
	if (start_unlocked(d, why, sizeof(why)) < 0)
		fprintf(stderr, "mailvault: %s\nmailvault: the background sync "
		    "did not start\n", why);
	snprintf(d->fp, sizeof(d->fp), "%s", fp);
	fprintf(stderr, "mailvault: unlocked; certificate SHA-256 "
	    "fingerprint %s\n", fp);
	return 0;
}

int
daemon_unlock(struct daemon *d, const char *pass, size_t len, char *err,
    size_t errlen)
{
	int rc = 1;

	pthread_mutex_lock(&d->mu);
	if (d->st == NULL)
		rc = unlock_store(d, pass, len, err, errlen);
	pthread_mutex_unlock(&d->mu);
	return rc;
}

int
daemon_lock(struct daemon *d)
{
	int left;

	pthread_mutex_lock(&d->mu);
	if (d->st == NULL) {
		pthread_mutex_unlock(&d->mu);
		return 1;
	}
	daemon_sched_stop(&d->sched);
	left = server_lock(d->srv, LOCK_WAIT_MS);
	if (left > 0)
		fprintf(stderr, "mailvault: lock: %d session(s) did not end "
		    "in %d s; their handles close when they do\n", left,
		    LOCK_WAIT_MS / 1000);
	store_close(&d->st);
	locked_fingerprint(d);
	fprintf(stderr, "mailvault: locked: sessions ended, keys wiped\n");
	pthread_mutex_unlock(&d->mu);
	return 0;
}

void
daemon_reload(struct daemon *d, char *msg, size_t msglen)
{
	pthread_mutex_lock(&d->mu);
	if (d->st == NULL)
		snprintf(msg, msglen, "locked: the settings are read at "
		    "unlock");
	else {
		read_live(d, msg, msglen);
		daemon_sched_set_poll(d->sched, d->poll_s);
		fprintf(stderr, "mailvault: settings reloaded: %s\n", msg);
	}
	pthread_mutex_unlock(&d->mu);
}

int
daemon_status(struct daemon *d, int json, struct buf *out, char *err,
    size_t errlen)
{
	struct daemon_snapshot s;
	struct daemon_plan *plans = NULL;
	int rc;

	pthread_mutex_lock(&d->mu);
	memset(&s, 0, sizeof(s));
	s.state = d->detached ? "running" : "serving (foreground)";
	s.pid = (long)getpid();
	s.since = d->since;
	memcpy(s.ports, d->ports, sizeof(s.ports));
	s.listening = d->desc;
	s.store = d->abs;
	s.locked = d->st == NULL;
	daemon_sched_plans(d->sched, &plans, &s.nplans);
	s.plans = plans;
	rc = daemon_status_render(d->st, &s, json, out);
	if (rc < 0)
		seterr(err, errlen, -1, "%s", store_errmsg(d->st));
	pthread_mutex_unlock(&d->mu);
	free(plans);
	return rc;
}

/* Every account with an upstream, one after the other, on this thread
 * (no sync threads: serve --no-sync). */
static int
sync_all_here(struct daemon *d, int cancel_fd,
    void (*line)(void *arg, const char *text), void *arg, char *err,
    size_t errlen)
{
	struct store_account *list = NULL;
	size_t n = 0, i;
	int failed = 0, any = 0;

	if (store_account_list(d->st, &list, &n) != 0)
		return seterr(err, errlen, -1, "%s", store_errmsg(d->st));
	for (i = 0; i < n; i++) {
		if (!sync_account_has_upstream(d->st, list[i].id))
			continue;
		any = 1;
		failed |= daemon_sync_here(d->st, list[i].id, list[i].name,
		    cancel_fd, line, arg) < 0;
	}
	store_account_list_free(&list, n);
	if (!any)
		line(arg, "no account has an upstream server");
	return failed ? seterr(err, errlen, -1, "a sync failed") : 0;
}

/* Sync (under d->mu, unlocked): as daemon_sync(). */
static int
sync_store(struct daemon *d, const char *name, int cancel_fd,
    void (*line)(void *arg, const char *text), void *arg, char *err,
    size_t errlen)
{
	char msg[256];
	int64_t acct = 0;
	int rc;

	if (name != NULL && store_account_find(d->st, name, &acct) != 0)
		return seterr(err, errlen, -1, "there is no account named %s",
		    name);
	if (name != NULL && !sync_account_has_upstream(d->st, acct))
		return seterr(err, errlen, -1, "account %s has no upstream "
		    "server to sync with", name);
	if (d->sched == NULL && name == NULL)
		return sync_all_here(d, cancel_fd, line, arg, err, errlen);
	if (d->sched == NULL)
		return daemon_sync_here(d->st, acct, name, cancel_fd, line,
		    arg) < 0 ? seterr(err, errlen, -1, "the sync failed") : 0;
	rc = daemon_sched_sync_now(d->sched, name, cancel_fd, line, arg);
	if (rc == DAEMON_SCHED_NOACCT && name != NULL &&
	    daemon_sched_accounts(d->sched, d->st, NULL, msg,
	    sizeof(msg)) == 0) {
		/* Added behind our back (no ACCOUNTS came): follow now. */
		fprintf(stderr, "mailvault: accounts: %s\n", msg);
		rc = daemon_sched_sync_now(d->sched, name, cancel_fd, line,
		    arg);
	}
	if (rc == DAEMON_SCHED_NOACCT && name == NULL) {
		line(arg, "no account has an upstream server");
		return 0;
	}
	if (rc == DAEMON_SCHED_NOACCT)
		return seterr(err, errlen, -1, "the daemon does not sync %s "
		    "(its thread did not start; see the log)", name);
	return rc < 0 ? seterr(err, errlen, -1, "the sync failed") : 0;
}

int
daemon_sync(struct daemon *d, const char *account, int cancel_fd,
    void (*line)(void *arg, const char *text), void *arg, char *err,
    size_t errlen)
{
	int rc;

	pthread_mutex_lock(&d->mu);
	if (d->st == NULL)
		rc = seterr(err, errlen, -1, "mailvault is locked: run "
		    "'mailvault unlock' first");
	else
		rc = sync_store(d, account, cancel_fd, line, arg, err, errlen);
	pthread_mutex_unlock(&d->mu);
	return rc;
}

int
daemon_accounts(struct daemon *d, const char *changed, char *msg,
    size_t msglen)
{
	int rc = 0;

	pthread_mutex_lock(&d->mu);
	if (d->st == NULL)
		snprintf(msg, msglen, "locked: the accounts are read at "
		    "unlock");
	else if (d->sched == NULL)
		snprintf(msg, msglen, "not syncing in the background "
		    "(--no-sync)");
	else if ((rc = daemon_sched_accounts(d->sched, d->st, changed, msg,
	    msglen)) == 0)
		fprintf(stderr, "mailvault: accounts: %s\n", msg);
	pthread_mutex_unlock(&d->mu);
	return rc;
}

void
daemon_ports(struct daemon *d, int ports_r[4], char *addr, size_t addrlen)
{
	pthread_mutex_lock(&d->mu);
	memcpy(ports_r, d->ports, sizeof(d->ports));
	snprintf(addr, addrlen, "%s", d->listen != NULL ? d->listen :
	    "127.0.0.1");
	pthread_mutex_unlock(&d->mu);
}

void
daemon_shutdown(struct daemon *d)
{
	(void)d;
	/* Every thread blocks it; daemon_run()'s sigwait() takes it. */
	kill(getpid(), SIGTERM);
}
