/*
 * check: the look at an upstream that `mailvault account add` takes
 * before it saves the account, as a mail client's account setup does:
 * connect, TLS (verified or pinned exactly as every sync does it), log
 * in, and say goodbye. Nothing is read from or written to the store, and
 * no mailbox is touched; a POP3 QUIT without a DELE deletes nothing.
 *
 * The driver's own sentence says what failed ("host not found: ...",
 * "TLS with h:993 failed: ... (the server's certificate has SHA-256
 * fingerprint ...)", "authentication refused by ..."); the result names
 * the step from the error's kind, so the CLI can add what to do about it.
 */
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "sync/driver.h"
#include "sync/sync.h"

#define CHECK_TIMEOUT_MS	30000

static enum sync_check_result
result_of(enum sync_errkind kind)
{
	switch (kind) {
	case SYNC_EK_HOST:
		return SYNC_CHECK_HOST;
	case SYNC_EK_CONNECT:
	case SYNC_EK_TIMEOUT:
	case SYNC_EK_NET:
		return SYNC_CHECK_CONNECT;
	case SYNC_EK_TLS:
		return SYNC_CHECK_TLS;
	case SYNC_EK_AUTH:
		return SYNC_CHECK_AUTH;
	default:
		return SYNC_CHECK_OTHER;
	}
}

/* The driver configuration for c; strings stay c's. */
static void
make_cfg(const struct sync_check *c, struct sync_account_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = c->user;
	cfg->proto = c->proto != NULL && strcmp(c->proto, "pop3") == 0 ?
	    SYNC_PROTO_POP3 : SYNC_PROTO_IMAP;
	cfg->host = c->host;
	cfg->port = c->port;
	cfg->tls = c->tls == NULL || strcmp(c->tls, "implicit") == 0 ?
	    SYNC_TLS_IMPLICIT : strcmp(c->tls, "starttls") == 0 ?
	    SYNC_TLS_STARTTLS : SYNC_TLS_NONE;
	cfg->user = c->user;
	cfg->password = c->password;
	cfg->ca_file = c->ca_file;
	cfg->pin_sha256 = c->pin_sha256;
	cfg->oauth_token_command = c->oauth_token_command;
	cfg->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms :
	    CHECK_TIMEOUT_MS;
	cfg->cancel_fd = -1;
}

enum sync_check_result
sync_account_check(const struct sync_check *c, char *err, size_t errlen)
{
	struct sync_account_cfg cfg;
	struct sync_driver *d;
	struct sync_error e;
	enum sync_check_result res = SYNC_CHECK_OK;

	make_cfg(c, &cfg);
	d = cfg.proto == SYNC_PROTO_POP3 ? sync_driver_pop3(&cfg) :
	    sync_driver_imap(&cfg);
	if (d->ops->connect(d, &e) < 0) {
		res = result_of(e.kind);
		seterr(err, errlen, -1, "%s", e.msg);
	} else if (errlen > 0)
		err[0] = '\0';
	d->ops->disconnect(d);
	d->ops->free(&d);
	return res;
}
