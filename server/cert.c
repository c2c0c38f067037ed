/*
 * cert: the local server's self-signed TLS certificate, kept in the
 * store: the key sealed under "tls-key", the certificate under
 * "tls-cert", both PEM. Made once, the first time something needs it
 * (init, serve, credentials), and never again, so a mail client that
 * trusted or pinned it keeps trusting it. server_start() and
 * server_unlock() read the pair from there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tls.h"
#include "lib/util.h"
#include "server/server.h"
#include "store/store.h"

#define CERT_CN		"mailvault on localhost"

/* Make the pair and store both in one transaction. 0, or -1 and a
 * sentence in err. */
static int
cert_make(struct store *st, char *err, size_t errlen)
{
	char *cert = NULL, *key = NULL, why[256];
	int rc;

	if (tls_cert_generate(CERT_CN, &cert, &key, why, sizeof(why)) < 0)
		return seterr(err, errlen, -1, "cannot make the TLS "
		    "certificate: %s", why);
	rc = store_txn_begin(st);
	if (rc == 0)
		rc = store_config_set(st, "tls-key", key, strlen(key));
	if (rc == 0)
		rc = store_config_set(st, "tls-cert", cert, strlen(cert));
	if (rc == 0)
		rc = store_txn_commit(st);
	else
		store_txn_rollback(st);
	tls_secret_free(&key);
	free(cert);
	if (rc != 0)
		return seterr(err, errlen, -1, "cannot save the TLS "
		    "certificate: %s", store_errmsg(st));
	return 0;
}

int
server_cert_ensure(struct store *st, char **cert_r, char *fp, size_t fplen,
    char *err, size_t errlen)
{
	char fpbuf[TLS_FINGERPRINT_LEN];
	char *cert = NULL;
	int rc;

	rc = store_config_get(st, "tls-cert", &cert, NULL);
	if (rc == STORE_ENOENT) {
		if (cert_make(st, err, errlen) < 0)
			return -1;
		rc = store_config_get(st, "tls-cert", &cert, NULL);
	}
	if (rc != 0)
		return seterr(err, errlen, -1, "cannot read the TLS "
		    "certificate: %s", store_errmsg(st));
	if (fp != NULL) {
		if (tls_cert_fingerprint(cert, fpbuf) < 0) {
			free(cert);
			return seterr(err, errlen, -1, "the stored TLS "
			    "certificate does not parse; the store may be "
			    "damaged ('mailvault check')");
		}
		snprintf(fp, fplen, "%s", fpbuf);
	}
	if (cert_r != NULL)
		*cert_r = cert;
	else
		free(cert);
	return 0;
}
