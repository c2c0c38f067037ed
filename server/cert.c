/*
 * cert: the local server's self-signed TLS certificate, kept in the
 * store: the key sealed under "tls-key", the certificate under
 * "tls-cert", both PEM. Made once, the first time something needs it
 * (init, serve, credentials), and then kept, so a mail client that
 * trusted or pinned it keeps trusting it; only `credentials --renew-cert`
 * makes a new one. server_start() and server_unlock() read the pair from
 * the store.
 *
 * Locked, the store cannot be read, yet mail clients must still get TLS
 * (STARTTLS, IMAPS) to be told "mailvault is locked" instead of a TLS
 * failure. So the pair is also kept in two files beside the store,
 * written whenever the store is open here (init, serve, unlock,
 * credentials) and differs from them: "<store>.cert.pem", the
 * certificate (which a client's CertificateFile may name), and
 * "<store>.key.pem", the key in plain PEM, mode 0600 in the store's
 * 0700 folder. The key only protects loopback traffic to this server,
 * and a process running as the user can read the mail through the
 * server with the local password anyway; it is no key of the store.
 * Stores made before these files existed get them at their next unlock.
 * A locked server reads them (server_tls_from_files()); without them it
 * serves without TLS, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/tls.h"
#include "lib/util.h"
#include "server/server.h"
#include "server/server_int.h"
#include "store/store.h"

#define CERT_CN		"mailvault on localhost"
#define PEM_MAX		(64 * 1024)	/* a key or certificate file */

/* Make a pair and store both in one transaction (replacing any). 0, or
 * -1 and a sentence in err. */
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

char *
server_cert_path(const char *store_path)
{
	return xasprintf("%s.cert.pem", store_path);
}

static char *
key_path(const char *store_path)
{
	return xasprintf("%s.key.pem", store_path);
}

/* A file of at most PEM_MAX bytes as a string (the caller wipes and
 * frees it), or NULL. */
static char *
read_small(const char *path)
{
	char *text = xmalloc(PEM_MAX + 1);
	size_t n = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		free(text);
		return NULL;
	}
	while (n < PEM_MAX && ((r = read(fd, text + n, PEM_MAX - n)) > 0 ||
	    (r < 0 && errno == EINTR)))
		if (r > 0)
			n += (size_t)r;
	close(fd);
	text[n] = '\0';
	return text;
}

static void
wipe_free(char **s)
{
	if (*s == NULL)
		return;
	explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

/* Write text to path (0600) unless it holds exactly that already: a new
 * file renamed over the old one, so a reader never sees half. 0, or -1
 * and a sentence in err. */
static int
write_private(const char *path, const char *text, char *err, size_t errlen)
{
	char *old = read_small(path), *tmp;
	size_t len = strlen(text);
	int fd, same = old != NULL && strcmp(old, text) == 0;

	wipe_free(&old);
	if (same)
		return 0;
	tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		seterr(err, errlen, -1, "cannot write %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* Bring the two files beside the store in line with its pair. */
static int
export_files(struct store *st, const char *cert, char *err, size_t errlen)
{
	char *key = NULL, *cp, *kp;
	int rc;

	if (store_config_get(st, "tls-key", &key, NULL) != 0)
		return seterr(err, errlen, -1, "cannot read the TLS key: %s",
		    store_errmsg(st));
	cp = server_cert_path(store_path(st));
	kp = key_path(store_path(st));
	rc = write_private(kp, key, err, errlen);
	if (rc == 0)
		rc = write_private(cp, cert, err, errlen);
	store_secret_free(&key);
	free(cp);
	free(kp);
	return rc;
}

/* The stored certificate, its fingerprint, the files; as ensure. */
static int
finish(struct store *st, char **cert_r, char *fp, size_t fplen, char *err,
    size_t errlen)
{
	char fpbuf[TLS_FINGERPRINT_LEN];
	char *cert = NULL;

	if (store_config_get(st, "tls-cert", &cert, NULL) != 0)
		return seterr(err, errlen, -1, "cannot read the TLS "
		    "certificate: %s", store_errmsg(st));
	if (fp != NULL && tls_cert_fingerprint(cert, fpbuf) < 0) {
		free(cert);
		return seterr(err, errlen, -1, "the stored TLS certificate "
		    "does not parse; the store may be damaged ('mailvault "
		    "check')");
	}
	if (fp != NULL)
		snprintf(fp, fplen, "%s", fpbuf);
	if (export_files(st, cert, err, errlen) < 0) {
		free(cert);
		return -1;
	}
	if (cert_r != NULL)
		*cert_r = cert;
	else
		free(cert);
	return 0;
}

int
server_cert_ensure(struct store *st, char **cert_r, char *fp, size_t fplen,
    char *err, size_t errlen)
{
	char *cert = NULL;
	int rc;

	rc = store_config_get(st, "tls-cert", &cert, NULL);
	free(cert);
	if (rc == STORE_ENOENT && cert_make(st, err, errlen) < 0)
		return -1;
	if (rc != 0 && rc != STORE_ENOENT)
		return seterr(err, errlen, -1, "cannot read the TLS "
		    "certificate: %s", store_errmsg(st));
	return finish(st, cert_r, fp, fplen, err, errlen);
}

int
server_cert_renew(struct store *st, char **cert_r, char *fp, size_t fplen,
    char *err, size_t errlen)
{
	if (cert_make(st, err, errlen) < 0)
		return -1;
	return finish(st, cert_r, fp, fplen, err, errlen);
}

int
server_cert_read_file(const char *store_path, char **cert_r, char *fp,
    size_t fplen)
{
	char fpbuf[TLS_FINGERPRINT_LEN];
	char *path = server_cert_path(store_path), *cert = read_small(path);

	free(path);
	if (cert == NULL || tls_cert_fingerprint(cert, fpbuf) < 0) {
		free(cert);
		return -1;
	}
	if (fp != NULL)
		snprintf(fp, fplen, "%s", fpbuf);
	if (cert_r != NULL)
		*cert_r = cert;
	else
		free(cert);
	return 0;
}

struct tls_ctx *
server_tls_from_files(const char *store_path, char *err, size_t errlen)
{
	char *cert = NULL, *key, *kp = key_path(store_path), why[256];
	struct tls_ctx *ctx = NULL;

	key = read_small(kp);
	if (key == NULL || server_cert_read_file(store_path, &cert, NULL,
	    0) < 0)
		seterr(err, errlen, -1, "no certificate and key beside the "
		    "store yet (%s); they are written at the next unlock", kp);
	else if ((ctx = tls_server_ctx_new(cert, key, why, sizeof(why))) ==
	    NULL)
		seterr(err, errlen, -1, "%s does not load: %s", kp, why);
	wipe_free(&key);
	free(cert);
	free(kp);
	return ctx;
}
