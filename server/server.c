/*
 * server: ties the listeners (listen.c) to the IMAP sessions
 * (server/imap/). It loads the TLS certificate from the store, starts
 * one listener per enabled port, and hands each accepted connection to
 * imapd_session_run() on the connection's own thread.
 *
 * Shutdown goes through the listener set: listen_stop() makes the
 * shutdown descriptor readable, every session sees it as its stream's
 * cancel descriptor, says "* BYE" and ends; the shared state is freed
 * only when no session can still use it.
 */
#include "server/server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tls.h"
#include "lib/util.h"
#include "server/imap/imapd.h"
#include "server/listen.h"
#include "server/pop3/pop3d.h"
#include "store/store.h"

enum { TAG_IMAP = 1, TAG_IMAPS = 2, TAG_POP3 = 3, TAG_POP3S = 4 };

struct server {
	struct imapd_shared	 sh;
	struct pop3d_config	 pop3;
	struct listen_set	*ls;
	char			 desc[600];
};

static void
handler(void *arg, int fd, int tag, const struct sockaddr *peer)
{
	struct server *srv = arg;

	/* srv->ls is written before the first session starts. */
	if (tag == TAG_POP3 || tag == TAG_POP3S) {
		pop3d_session_run(&srv->pop3, fd, tag == TAG_POP3S,
		    listen_shutdown_fd(srv->ls), peer);
		return;
	}
	imapd_session_run(&srv->sh, fd, tag == TAG_IMAPS,
	    listen_shutdown_fd(srv->ls), peer);
}

/* An integer from the environment, or def. */
static int
env_int(const char *name, int def, int max)
{
	const char *v = getenv(name);
	uint64_t n;

	if (v == NULL || parse_u64(v, (uint64_t)max, &n) < 0)
		return def;
	return (int)n;
}

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
	pthread_mutex_init(&srv->sh.lock, NULL);
	srv->sh.st = st;
	srv->sh.timeout_ms = env_int("MAILVAULT_IMAP_TIMEOUT",
	    IMAPD_TIMEOUT_MS / 1000, 86400) * 1000;
	srv->sh.auth_delay_ms = env_int("MAILVAULT_AUTH_DELAY_MS",
	    IMAPD_AUTH_DELAY_MS, 60000);
	srv->sh.debug = env_int("MAILVAULT_IMAP_DEBUG", 0, 1);
	if (load_tls(st, &srv->sh.tls, err, errlen) < 0)
		goto fail;
	specs[0] = (struct listen_spec){ addr, cfg->imap_port == SERVER_PORT_ANY ?
	    LISTEN_PORT_ANY : cfg->imap_port, TAG_IMAP, 0, "--imap-port" };
	specs[1] = (struct listen_spec){ addr, cfg->imaps_port ==
	    SERVER_PORT_ANY ? LISTEN_PORT_ANY : cfg->imaps_port, TAG_IMAPS, 1,
	    "--imaps-port" };
	pop3d_config_init(&srv->pop3);
	srv->pop3.st = st;
	srv->pop3.st_lock = &srv->sh.lock;
	srv->pop3.tls = srv->sh.tls;
	srv->pop3.delete_mode = cfg->pop3_delete;
	specs[2] = (struct listen_spec){ addr, cfg->pop3_port ==
	    SERVER_PORT_ANY ? LISTEN_PORT_ANY : cfg->pop3_port, TAG_POP3, 0,
	    "--pop3-port" };
	specs[3] = (struct listen_spec){ addr, cfg->pop3s_port ==
	    SERVER_PORT_ANY ? LISTEN_PORT_ANY : cfg->pop3s_port, TAG_POP3S, 1,
	    "--pop3s-port" };
	if (srv->sh.tls == NULL && specs[3].port != 0) {
		seterr(err, errlen, -1, "POP3S needs a certificate and the "
		    "store has none; turn it off with --pop3s-port 0");
		goto fail;
	}
	if (srv->sh.tls == NULL && specs[1].port != 0) {
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
	tls_ctx_free(&srv->sh.tls);
	pthread_mutex_destroy(&srv->sh.lock);
	free(srv);
	return -1;
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
	int left;

	if (srv == NULL)
		return;
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
	imapd_listcache_free(&srv->sh.cache);
	tls_ctx_free(&srv->sh.tls);
	pthread_mutex_destroy(&srv->sh.lock);
	free(srv);
	*srvp = NULL;
}
