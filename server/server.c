/*
 * server: ties the listeners (listen.c) to the IMAP and POP3 sessions
 * (server/imap/, server/pop3/). It loads the TLS certificate from the
 * store, starts one listener per enabled port, and hands each accepted
 * connection to its protocol's session on the connection's own thread.
 *
 * Epochs. A session belongs to the epoch that was current when it was
 * accepted. An epoch holds one struct server_shared (server_int.h),
 * filled here once: the epoch's own parent store handle (NULL while
 * locked), its TLS context (fixed for the epoch's life, so sessions read
 * it without a lock), session numbers and the failed-login throttle that
 * IMAP and POP3 share; beside it each protocol's settings (struct
 * imapd_config with IMAP's list cache, struct pop3d_config), both
 * pointing to it; and a cancel pipe, whose read end the session gets as
 * its shutdown descriptor. Closing the pipe's write end ends every
 * session of the epoch with a BYE. Unlocking makes a new epoch (with TLS)
 * current and gives the old locked one a handle, so a client that
 * connected while locked can log in now; locking and stopping end every
 * epoch. An epoch is freed once it is no longer current and its last
 * session returned: refs and the epoch list are guarded by srv->mu, an
 * epoch's parent handle by its sh.lock (the lock the sessions take to
 * use it).
 */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/tls.h"
#include "lib/util.h"
#include "server/imap/imapd.h"
#include "server/listen.h"
#include "server/pop3/pop3d.h"
#include "server/server_int.h"
#include "store/store.h"

enum { TAG_IMAP = 1, TAG_IMAPS = 2, TAG_POP3 = 3, TAG_POP3S = 4 };

struct srv_epoch {
	struct server_shared	 sh;	/* sh.st: NULL while locked */
	struct imapd_config	 imap;	/* points to sh */
	struct pop3d_config	 pop3;	/* points to sh */
	int			 pipe[2];	/* [1] closed: sessions end */
	unsigned		 refs;		/* sessions running, under mu */
	struct srv_epoch	*next;
};

struct server {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* an epoch was freed */
	struct srv_epoch	*cur;		/* new sessions join it */
	struct srv_epoch	*all;		/* every epoch not freed */
	struct listen_set	*ls;
	int			 pop3_delete;
	char			*store_path;	/* TLS while locked; or NULL */
	char			 desc[600];
};

/* The TLS context from the store's certificate; NULL ctx if there is
 * none. 0, or -1 and err when one is there but does not load. */
static int
load_tls(struct store *st, struct tls_ctx **ctx_r, char *err, size_t errlen)
{
	char *cert = NULL, *key = NULL, why[256];
	int rc;

	*ctx_r = NULL;
	rc = store_config_get(st, "tls-cert", &cert, NULL);
	if (rc == STORE_ENOENT)
		return 0;
	if (rc != 0)
		return seterr(err, errlen, -1, "cannot read the certificate: "
		    "%s", store_errmsg(st));
	rc = store_config_get(st, "tls-key", &key, NULL);
	if (rc != 0) {
		free(cert);
		return rc == STORE_ENOENT ? 0 : seterr(err, errlen, -1,
		    "cannot read the TLS key: %s", store_errmsg(st));
	}
	*ctx_r = tls_server_ctx_new(cert, key, why, sizeof(why));
	free(cert);
	store_secret_free(&key);
	if (*ctx_r == NULL)
		return seterr(err, errlen, -1, "the stored TLS certificate "
		    "does not load: %s", why);
	return 0;
}

/* ---- epochs ------------------------------------------------------------ */

/* A locked epoch's TLS, from the files beside the store: without them
 * the locked server has no TLS (logged), as before they existed. */
static void
locked_tls(struct server *srv, struct srv_epoch *ep)
{
	char why[512];

	if (srv->store_path == NULL)
		return;
	ep->sh.tls = server_tls_from_files(srv->store_path, why, sizeof(why));
	if (ep->sh.tls == NULL)
		imapd_log_line("locked without TLS: %s", why);
}

static void
epoch_free(struct srv_epoch *ep)
{
	if (ep->pipe[1] >= 0)
		close(ep->pipe[1]);
	close(ep->pipe[0]);
	store_close(&ep->sh.st);
	imapd_config_clear(&ep->imap);
	tls_ctx_free(&ep->sh.tls);
	server_shared_destroy(&ep->sh);
	free(ep);
}

/*
 * A new epoch serving st (NULL: locked), numbering its sessions on from
 * first_id. NULL and err on failure.
 */
static struct srv_epoch *
epoch_new(struct server *srv, struct store *st, unsigned first_id, char *err,
    size_t errlen)
{
	struct srv_epoch *ep = xcalloc(1, sizeof(*ep));

	if (pipe2(ep->pipe, O_CLOEXEC) < 0) {
		free(ep);
		seterr(err, errlen, -1, "cannot make a pipe: %s",
		    strerror(errno));
		return NULL;
	}
	server_shared_init(&ep->sh, first_id);
	imapd_config_init(&ep->imap, &ep->sh);
	pop3d_config_init(&ep->pop3, &ep->sh);
	ep->pop3.delete_mode = srv->pop3_delete;
	if (st != NULL) {
		if (store_open_shared(st, &ep->sh.st) != 0) {
			seterr(err, errlen, -1, "cannot open the store for the "
			    "server: %s", store_errmsg(st));
			epoch_free(ep);
			return NULL;
		}
		if (load_tls(st, &ep->sh.tls, err, errlen) < 0) {
			epoch_free(ep);
			return NULL;
		}
	} else
		locked_tls(srv, ep);
	return ep;
}

/* 1 if ep has a store handle (is unlocked). */
static int
epoch_unlocked(struct srv_epoch *ep)
{
	int yes;

	pthread_mutex_lock(&ep->sh.lock);
	yes = ep->sh.st != NULL;
	pthread_mutex_unlock(&ep->sh.lock);
	return yes;
}

/* The next session number after ep's (under mu). */
static unsigned
epoch_last_id(struct srv_epoch *ep)
{
	unsigned id;

	pthread_mutex_lock(&ep->sh.lock);
	id = ep->sh.next_id;
	pthread_mutex_unlock(&ep->sh.lock);
	return id;
}

/* Free every epoch that is not current and has no session (under mu). */
static void
reap(struct server *srv)
{
	struct srv_epoch **pp = &srv->all, *ep;

	while ((ep = *pp) != NULL) {
		if (ep != srv->cur && ep->refs == 0) {
			*pp = ep->next;
			epoch_free(ep);
			pthread_cond_broadcast(&srv->cv);
		} else
			pp = &ep->next;
	}
}

/* End ep's sessions and drop its handle, keys wiped (under mu); locking
 * tells the sessions why, for their last words. */
static void
epoch_end(struct srv_epoch *ep, int locking)
{
	pthread_mutex_lock(&ep->sh.lock);
	ep->sh.locking = locking;
	store_close(&ep->sh.st);
	pthread_mutex_unlock(&ep->sh.lock);
	/* Only now: a session woken by the pipe reads locking for its BYE,
	 * and must find it set. */
	if (ep->pipe[1] >= 0) {
		close(ep->pipe[1]);
		ep->pipe[1] = -1;
	}
}

/* ---- sessions ---------------------------------------------------------- */

static void
handler(void *arg, int fd, int tag, const struct sockaddr *peer)
{
	struct server *srv = arg;
	struct srv_epoch *ep;
	int tls_port = tag == TAG_IMAPS || tag == TAG_POP3S;

	pthread_mutex_lock(&srv->mu);
	ep = srv->cur;
	ep->refs++;
	pthread_mutex_unlock(&srv->mu);
	if (tls_port && ep->sh.tls == NULL) {
		/* Locked without the files beside the store: the key that
		 * would answer the handshake is sealed. */
		imapd_log_line("%s: closed a connection: mailvault is locked "
		    "(run \"mailvault unlock\")", tag == TAG_IMAPS ? "imaps" :
		    "pop3s");
		close(fd);
	} else if (tag == TAG_POP3 || tag == TAG_POP3S)
		pop3d_session_run(&ep->pop3, fd, tls_port, ep->pipe[0], peer);
	else
		imapd_session_run(&ep->imap, fd, tls_port, ep->pipe[0], peer);
	pthread_mutex_lock(&srv->mu);
	ep->refs--;
	reap(srv);
	pthread_mutex_unlock(&srv->mu);
}

int
server_start(struct store *st, const struct server_config *cfg,
    struct server **srv_r, char *err, size_t errlen)
{
	const char *addr = cfg->listen_addr != NULL ? cfg->listen_addr :
	    "127.0.0.1";
	struct listen_spec specs[4];
	struct server *srv;
	char d0[128], d1[128], d2[128], d3[128];

	srv = xcalloc(1, sizeof(*srv));
	pthread_mutex_init(&srv->mu, NULL);
	pthread_cond_init(&srv->cv, NULL);
	srv->pop3_delete = cfg->pop3_delete;
	if (cfg->store_path != NULL)
		srv->store_path = xstrdup(cfg->store_path);
	srv->cur = epoch_new(srv, st, 0, err, errlen);
	if (srv->cur == NULL)
		goto fail;
	srv->all = srv->cur;
	specs[0] = (struct listen_spec){ addr, cfg->imap_port == SERVER_PORT_ANY ?
	    LISTEN_PORT_ANY : cfg->imap_port, TAG_IMAP, 0, "--imap-port" };
	specs[1] = (struct listen_spec){ addr, cfg->imaps_port ==
	    SERVER_PORT_ANY ? LISTEN_PORT_ANY : cfg->imaps_port, TAG_IMAPS, 1,
	    "--imaps-port" };
	specs[2] = (struct listen_spec){ addr, cfg->pop3_port ==
	    SERVER_PORT_ANY ? LISTEN_PORT_ANY : cfg->pop3_port, TAG_POP3, 0,
	    "--pop3-port" };
	specs[3] = (struct listen_spec){ addr, cfg->pop3s_port ==
	    SERVER_PORT_ANY ? LISTEN_PORT_ANY : cfg->pop3s_port, TAG_POP3S, 1,
	    "--pop3s-port" };
	/* Unlocked without a certificate, the TLS ports could never work;
	 * locked, we cannot know yet and listen anyway. */
	if (st != NULL && srv->cur->sh.tls == NULL && specs[3].port != 0) {
		seterr(err, errlen, -1, "POP3S needs a certificate and the "
		    "store has none; turn it off with --pop3s-port 0");
		goto fail;
	}
	if (st != NULL && srv->cur->sh.tls == NULL && specs[1].port != 0) {
		seterr(err, errlen, -1, "IMAPS needs a certificate and the "
		    "store has none; turn it off with --imaps-port 0");
		goto fail;
	}
	/* The handler may run before listen_start returns: everything it
	 * reads is set by now. */
	if (listen_start(specs, 4, handler, srv, 0, &srv->ls, err,
	    errlen) < 0)
		goto fail;
	listen_describe(srv->ls, 0, "IMAP", d0, sizeof(d0));
	listen_describe(srv->ls, 1, "IMAPS", d1, sizeof(d1));
	listen_describe(srv->ls, 2, "POP3", d2, sizeof(d2));
	listen_describe(srv->ls, 3, "POP3S", d3, sizeof(d3));
	snprintf(srv->desc, sizeof(srv->desc), "%s%s%s%s%s%s%s", d0,
	    d0[0] != '\0' && d1[0] != '\0' ? ", " : "", d1,
	    d2[0] != '\0' ? ", " : "", d2, d3[0] != '\0' ? ", " : "", d3);
	*srv_r = srv;
	return 0;
fail:
	if (srv->cur != NULL)
		epoch_free(srv->cur);
	free(srv->store_path);
	pthread_cond_destroy(&srv->cv);
	pthread_mutex_destroy(&srv->mu);
	free(srv);
	return -1;
}

int
server_is_locked(struct server *srv)
{
	int locked;

	pthread_mutex_lock(&srv->mu);
	locked = !epoch_unlocked(srv->cur);
	pthread_mutex_unlock(&srv->mu);
	return locked;
}

int
server_unlock(struct server *srv, struct store *st, char *err, size_t errlen)
{
	struct srv_epoch *ep, *old;

	pthread_mutex_lock(&srv->mu);
	old = srv->cur;
	if (epoch_unlocked(old)) {
		pthread_mutex_unlock(&srv->mu);
		return seterr(err, errlen, -1, "mailvault is already "
		    "unlocked");
	}
	ep = epoch_new(srv, st, epoch_last_id(old), err, errlen);
	if (ep == NULL) {
		pthread_mutex_unlock(&srv->mu);
		return -1;
	}
	/* Clients that connected while locked may log in now (with the
	 * TLS of their epoch, as its CAPABILITY said). */
	for (old = srv->all; old != NULL; old = old->next) {
		if (old->pipe[1] < 0)
			continue;
		pthread_mutex_lock(&old->sh.lock);
		if (old->sh.st == NULL)
			(void)store_open_shared(st, &old->sh.st);
		pthread_mutex_unlock(&old->sh.lock);
	}
	ep->next = srv->all;
	srv->all = ep;
	srv->cur = ep;
	reap(srv);
	pthread_mutex_unlock(&srv->mu);
	return 0;
}

/* End every epoch; a new locked one becomes current unless stopping.
 * Under mu. */
static void
end_all(struct server *srv, int stopping)
{
	struct srv_epoch *ep;
	char err[256];

	for (ep = srv->all; ep != NULL; ep = ep->next)
		epoch_end(ep, !stopping);
	if (stopping)
		return;
	ep = epoch_new(srv, NULL, epoch_last_id(srv->cur), err, sizeof(err));
	if (ep == NULL) {
		/* Out of descriptors: the ended epoch stays current, so a
		 * new session ends at once, and the handles are gone. */
		imapd_log_line("lock: %s", err);
		return;
	}
	ep->next = srv->all;
	srv->all = ep;
	srv->cur = ep;
	reap(srv);
}

int
server_lock(struct server *srv, int wait_ms)
{
	struct srv_epoch *ep;
	struct timespec until;
	int left = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	if (wait_ms >= 0) {
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&srv->mu);
	end_all(srv, 0);
	for (;;) {
		left = 0;
		for (ep = srv->all; ep != NULL; ep = ep->next)
			if (ep != srv->cur)
				left += (int)ep->refs;
		if (left == 0)
			break;
		if (wait_ms < 0)
			pthread_cond_wait(&srv->cv, &srv->mu);
		else if (pthread_cond_timedwait(&srv->cv, &srv->mu,
		    &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&srv->mu);
	return left;
}

int
server_imap_port(const struct server *srv)
{
	return listen_port(srv->ls, 0);
}

int
server_imaps_port(const struct server *srv)
{
	return listen_port(srv->ls, 1);
}

int
server_pop3_port(const struct server *srv)
{
	return listen_port(srv->ls, 2);
}

int
server_pop3s_port(const struct server *srv)
{
	return listen_port(srv->ls, 3);
}

void
server_describe(const struct server *srv, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", srv->desc);
}

void
server_stop(struct server **srvp)
{
	struct server *srv = *srvp;
	struct listen_set *ls;
	struct srv_epoch *ep;
	int left;

	if (srv == NULL)
		return;
	pthread_mutex_lock(&srv->mu);
	end_all(srv, 1);
	pthread_mutex_unlock(&srv->mu);
	/* srv->ls stays as it is: a session starting right now reads it,
	 * and the set lives until its last session returns. */
	ls = srv->ls;
	left = listen_stop(&ls, LISTEN_STOP_WAIT_MS);
	if (left > 0) {
		/* A session that has not ended still uses srv: leave it
		 * (the process is about to exit). */
		imapd_log_line("%d session(s) did not end in time", left);
		*srvp = NULL;
		return;
	}
	while ((ep = srv->all) != NULL) {
		srv->all = ep->next;
		epoch_free(ep);
	}
	free(srv->store_path);
	pthread_cond_destroy(&srv->cv);
	pthread_mutex_destroy(&srv->mu);
	free(srv);
	*srvp = NULL;
}
