/*
 * tls: streams over a socket, plain or TLS, and the TLS contexts behind
 * them. See lib/tls.h for the model.
 *
 * OpenSSL works on two memory BIOs and never sees the socket: SSL_read()
 * takes records from rbio, which we fill from the socket after poll(), and
 * SSL_write() leaves records in wbio, which we drain to the socket with
 * send(MSG_NOSIGNAL). So every wait is ours (timeouts, the wake-up and
 * cancel descriptors), a peer that hangs up never raises SIGPIPE, and a
 * 64 KiB flush leaves as four TLS records in one send().
 *
 * Verification of upstream servers goes through our certificate
 * callback: it remembers the leaf (and the certificate that failed) on
 * the stream so the error can name the certificate's names, dates and
 * fingerprint, and it implements pinning, where the one certificate whose
 * SHA-256 matches is accepted and the chain is not consulted.
 */
#include "lib/tls.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/util.h"

#define NBUF		(32 * 1024)	/* socket -> rbio transfer size */
#define ERRLEN		512
#define CLOSE_MS	1000		/* flush and close_notify at free */

/* TLS 1.2 suites: forward secret AEAD only (TLS 1.3 ones are all fine). */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:" \
	"DHE-RSA-CHACHA20-POLY1305"

struct tls_ctx {
	SSL_CTX		*ssl;
	int		 server;
	int		 pinned;
	unsigned char	 pin[32];
};

struct tls_stream {
	int		 fd;		/* owned */
	int		 cancel_fd;	/* borrowed, -1 for none */
	int		 write_timeout_ms;
	int		 broken;	/* a failure: no more I/O */
	int		 tls;		/* handshake done */
	int		 client;
	int		 pinned;
	unsigned char	 pin[32];
	SSL		*ssl;		/* owns rbio and wbio */
	BIO		*rbio;		/* socket bytes waiting for OpenSSL */
	BIO		*wbio;		/* records waiting for the socket */
	int		 rbio_eof;
	X509		*peer;		/* leaf seen during verification */
	X509		*bad;		/* certificate that failed it */
	char		*rbuf;		/* TLS_STREAM_RBUF: plaintext in */
	size_t		 roff, rlen;	/* unread: rbuf[roff, roff + rlen) */
	char		*wbuf;		/* TLS_STREAM_WBUF + 1: plaintext out */
	size_t		 wlen;
	char		*nbuf;		/* NBUF, for recv() */
	char		 host[256];	/* who the peer is, for messages */
	char		 desc[128];
	char		 err[ERRLEN];
};

/* ---- small helpers ------------------------------------------------------- */

static int64_t
deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

static int
remaining(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	if (left <= 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

static const char *
ssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r != NULL ? r : "unknown error";
}

/* "30 s" or "1500 ms" for messages. */
static void
fmt_duration(int ms, char *out, size_t len)
{
	if (ms >= 1000 && ms % 1000 == 0)
		snprintf(out, len, "%d s", ms / 1000);
	else
		snprintf(out, len, "%d ms", ms);
}

static int
fail(struct tls_stream *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record a failure that ends the stream. Returns rc. */
static int
fail(struct tls_stream *s, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	s->broken = 1;
	ERR_clear_error();
	return rc;
}

static int
is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

static int
x509_fingerprint(X509 *x, char out[TLS_FINGERPRINT_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (x == NULL || !X509_digest(x, EVP_sha256(), md, &n))
		return -1;
	tls_fingerprint_format(md, n, out);
	return 0;
}

/* ---- contexts ------------------------------------------------------------ */

static SSL_CTX *
ctx_common(const SSL_METHOD *method)
{
	SSL_CTX *c = SSL_CTX_new(method);

	if (c == NULL)
		return NULL;
	/*
	 * Mail clients often close without close_notify; IMAP and POP3 frame
	 * their own data, so a truncation cannot go unnoticed and such an end
	 * is a plain end of stream.
	 */
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (!SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(c, TLS12_CIPHERS)) {
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

/* Never ask for a PEM pass phrase on the terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

static int
load_cert_chain(SSL_CTX *c, const char *cert_pem, char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(cert_pem, -1);
	X509 *x;
	int ok;

	if (bio == NULL)
		return seterr(err, errlen, -1, "out of memory in OpenSSL");
	x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	if (x == NULL) {
		BIO_free(bio);
		return seterr(err, errlen, -1, "the TLS certificate is not a "
		    "PEM certificate (%s)", ssl_reason());
	}
	ok = SSL_CTX_use_certificate(c, x);
	X509_free(x);
	/* Further certificates are the chain, sent after the leaf. */
	while (ok && (x = PEM_read_bio_X509(bio, NULL, no_passphrase,
	    NULL)) != NULL) {
		ok = SSL_CTX_add0_chain_cert(c, x);
		if (!ok)
			X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error();	/* the end of the PEM text */
	if (!ok)
		return seterr(err, errlen, -1, "the TLS certificate cannot "
		    "be used: %s", ssl_reason());
	return 0;
}

static int
load_key(SSL_CTX *c, const char *key_pem, char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(key_pem, -1);
	EVP_PKEY *key;
	int ok;

	if (bio == NULL)
		return seterr(err, errlen, -1, "out of memory in OpenSSL");
	key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (key == NULL)
		return seterr(err, errlen, -1, "the TLS key is not a PEM "
		    "private key without a pass phrase (%s)", ssl_reason());
	ok = SSL_CTX_use_PrivateKey(c, key);
	EVP_PKEY_free(key);
	if (!ok || !SSL_CTX_check_private_key(c))
		return seterr(err, errlen, -1, "the TLS key does not match "
		    "the certificate");
	return 0;
}

struct tls_ctx *
tls_server_ctx_new(const char *cert_pem, const char *key_pem,
    char *err, size_t errlen)
{
	struct tls_ctx *ctx;
	SSL_CTX *c;

	ERR_clear_error();
	c = ctx_common(TLS_server_method());
	if (c == NULL) {
		seterr(err, errlen, -1, "cannot set up TLS: %s", ssl_reason());
		ERR_clear_error();
		return NULL;
	}
	if (load_cert_chain(c, cert_pem, err, errlen) < 0 ||
	    load_key(c, key_pem, err, errlen) < 0) {
		ERR_clear_error();
		SSL_CTX_free(c);
		return NULL;
	}
	SSL_CTX_set_session_id_context(c, (const unsigned char *)"mailvault",
	    9);
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->ssl = c;
	ctx->server = 1;
	return ctx;
}

/* "AB:CD:…", "abcd…" or with spaces: 32 bytes into pin. 0 or -1. */
static int
parse_pin(const char *s, unsigned char pin[32])
{
	size_t n = 0;
	int hi = -1, v;

	for (; *s != '\0'; s++) {
		if (*s == ':' || *s == ' ')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == 32)
			return -1;
		pin[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	return n == 32 && hi < 0 ? 0 : -1;
}

/*
 * The whole verification of a server's certificate (it replaces
 * X509_verify_cert, which it calls unless the stream is pinned).
 */
static int
verify_server(X509_STORE_CTX *xs, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_stream *s = SSL_get_app_data(ssl);
	X509 *leaf = X509_STORE_CTX_get0_cert(xs), *cur;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	(void)arg;
	if (leaf != NULL && X509_up_ref(leaf)) {
		X509_free(s->peer);
		s->peer = leaf;
	}
	if (!s->pinned) {
		if (X509_verify_cert(xs) == 1)
			return 1;
		cur = X509_STORE_CTX_get_current_cert(xs);
		if (cur != NULL && X509_up_ref(cur)) {
			X509_free(s->bad);
			s->bad = cur;
		}
		return 0;
	}
	if (leaf != NULL && X509_digest(leaf, EVP_sha256(), md, &n) &&
	    n == 32 && CRYPTO_memcmp(md, s->pin, 32) == 0) {
		X509_STORE_CTX_set_error(xs, X509_V_OK);
		return 1;
	}
	X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
	return 0;
}

struct tls_ctx *
tls_client_ctx_new(const char *ca_file, const char *pin_sha256,
    char *err, size_t errlen)
{
	struct tls_ctx *ctx;
	unsigned char pin[32];
	SSL_CTX *c;
	int ok;

	if (pin_sha256 != NULL && parse_pin(pin_sha256, pin) < 0) {
		seterr(err, errlen, -1, "the pinned fingerprint \"%s\" is not "
		    "a SHA-256 fingerprint (64 hex digits, colons allowed)",
		    pin_sha256);
		return NULL;
	}
	ERR_clear_error();
	c = ctx_common(TLS_client_method());
	if (c == NULL) {
		seterr(err, errlen, -1, "cannot set up TLS: %s", ssl_reason());
		ERR_clear_error();
		return NULL;
	}
	/* A pin needs no CAs (and loading the system's takes a while). */
	if (pin_sha256 != NULL)
		ok = 1;
	else if (ca_file != NULL)
		ok = SSL_CTX_load_verify_locations(c, ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(c);
	if (!ok) {
		if (ca_file != NULL)
			seterr(err, errlen, -1, "cannot read CA certificates "
			    "from %s: %s", ca_file, access(ca_file, R_OK) < 0 ?
			    strerror(errno) : ssl_reason());
		else
			seterr(err, errlen, -1, "cannot load the system's CA "
			    "certificates: %s", ssl_reason());
		ERR_clear_error();
		SSL_CTX_free(c);
		return NULL;
	}
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(c, verify_server, NULL);
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->ssl = c;
	if (pin_sha256 != NULL) {
		ctx->pinned = 1;
		memcpy(ctx->pin, pin, sizeof(pin));
	}
	return ctx;
}

void
tls_ctx_free(struct tls_ctx **ctx)
{
	if (ctx == NULL || *ctx == NULL)
		return;
	SSL_CTX_free((*ctx)->ssl);
	free(*ctx);
	*ctx = NULL;
}

/* ---- moving bytes between the BIOs and the socket ------------------------ */

static int
fail_send(struct tls_stream *s, int r, int timeout_ms)
{
	char d[32];

	if (r == NET_ETIMEOUT) {
		fmt_duration(timeout_ms, d, sizeof(d));
		return fail(s, TLS_ETIMEOUT, "timed out sending to %s after "
		    "%s", s->host, d);
	}
	if (errno == EPIPE || errno == ECONNRESET)
		return fail(s, TLS_EIO, "%s closed the connection", s->host);
	return fail(s, TLS_EIO, "cannot send to %s: %s", s->host,
	    strerror(errno));
}

/* Send the records OpenSSL has left in wbio. */
static int
drain_wbio(struct tls_stream *s, int64_t deadline)
{
	char *p = NULL;
	long n;
	int r, t;

	if (s->wbio == NULL)
		return 0;
	n = BIO_get_mem_data(s->wbio, &p);
	if (n <= 0)
		return 0;
	t = remaining(deadline);
	r = net_write_all(s->fd, p, (size_t)n, t, -1);
	(void)BIO_reset(s->wbio);
	if (r < 0)
		return fail_send(s, r, s->write_timeout_ms);
	return 0;
}

/* Encrypt (or not) and send n bytes now. */
static int
send_now(struct tls_stream *s, const void *p, size_t n)
{
	size_t put = 0;
	int r;

	if (n == 0)
		return 0;
	if (s->ssl == NULL) {
		r = net_write_all(s->fd, p, n, s->write_timeout_ms, -1);
		return r < 0 ? fail_send(s, r, s->write_timeout_ms) : 0;
	}
	ERR_clear_error();
	if (SSL_write_ex(s->ssl, p, n, &put) != 1 || put != n)
		return fail(s, TLS_EIO, "TLS failure writing to %s: %s",
		    s->host, ssl_reason());
	return drain_wbio(s, deadline_of(s->write_timeout_ms));
}

/*
 * Read the socket into rbio. Returns bytes, 0 at end of file (rbio then
 * reports end of file to OpenSSL), or a NET_E* code; NET_EIO is recorded.
 */
static long
recv_net(struct tls_stream *s, int64_t deadline, int wake_fd)
{
	long n;

	n = net_read(s->fd, s->nbuf, NBUF, remaining(deadline), wake_fd,
	    s->cancel_fd);
	if (n > 0) {
		if (BIO_write(s->rbio, s->nbuf, (int)n) != (int)n)
			return fail(s, TLS_EIO, "out of memory in OpenSSL");
	} else if (n == 0) {
		BIO_set_mem_eof_return(s->rbio, 0);
		s->rbio_eof = 1;
	} else if (n == NET_EIO) {
		return fail(s, TLS_EIO, "cannot read from %s: %s", s->host,
		    strerror(errno));
	}
	return n;
}

/* Plaintext already decrypted, or records already received? */
static int
tls_has_input(struct tls_stream *s)
{
	return SSL_pending(s->ssl) > 0 || BIO_ctrl_pending(s->rbio) > 0;
}

#define RD_DATA	1	/* *got bytes read */
#define RD_MORE	0	/* OpenSSL needs more input */
#define RD_EOF	2	/* end of stream */

/* One SSL_read_ex: RD_*, or TLS_EIO (recorded). */
static long
ssl_read_once(struct tls_stream *s, void *buf, size_t n, size_t *got)
{
	int e;

	ERR_clear_error();
	if (SSL_read_ex(s->ssl, buf, n, got) == 1)
		return RD_DATA;
	e = SSL_get_error(s->ssl, 0);
	if (e == SSL_ERROR_ZERO_RETURN)
		return RD_EOF;
	if (e == SSL_ERROR_WANT_READ)
		return s->rbio_eof ? RD_EOF : RD_MORE;
	return fail(s, TLS_EIO, "TLS failure reading from %s: %s", s->host,
	    ssl_reason());
}

static long
tls_read_some(struct tls_stream *s, char *buf, size_t n, int64_t deadline,
    int wake_fd)
{
	size_t got = 0, total = 0;
	long r;

	for (;;) {
		r = ssl_read_once(s, buf, n, &got);
		if (r == RD_DATA)
			break;
		if (r == RD_EOF)
			return 0;
		if (r < 0)
			return r;
		r = drain_wbio(s, deadline_of(s->write_timeout_ms));
		if (r < 0)
			return r;
		r = recv_net(s, deadline, wake_fd);
		if (r < 0)
			return r;
	}
	/* Take whatever else has arrived, without waiting. */
	total = got;
	while (total < n && tls_has_input(s)) {
		if (ssl_read_once(s, buf + total, n - total, &got) != RD_DATA)
			break;
		total += got;
	}
	return (long)total;
}

/* Read at most n bytes into buf (not the read buffer). */
static long
read_some(struct tls_stream *s, char *buf, size_t n, int timeout_ms,
    int wake_fd)
{
	long r;

	if (s->broken)
		return TLS_EIO;
	if (s->ssl != NULL)
		return tls_read_some(s, buf, n, deadline_of(timeout_ms),
		    wake_fd);
	r = net_read(s->fd, buf, n, timeout_ms, wake_fd, s->cancel_fd);
	if (r == NET_EIO)
		return fail(s, TLS_EIO, "cannot read from %s: %s", s->host,
		    strerror(errno));
	return r;
}

/* ---- streams ------------------------------------------------------------- */

struct tls_stream *
tls_stream_new(int fd)
{
	struct tls_stream *s = xcalloc(1, sizeof(*s));

	s->fd = fd;
	s->cancel_fd = -1;
	s->write_timeout_ms = TLS_WRITE_TIMEOUT_MS;
	s->rbuf = xmalloc(TLS_STREAM_RBUF);
	s->wbuf = xmalloc(TLS_STREAM_WBUF + 1);
	s->nbuf = xmalloc(NBUF);
	snprintf(s->host, sizeof(s->host), "the peer");
	(void)net_set_nonblock(fd, 1);
	return s;
}

void
tls_stream_free(struct tls_stream **sp)
{
	struct tls_stream *s;

	if (sp == NULL || *sp == NULL)
		return;
	s = *sp;
	if (!s->broken) {
		if (s->write_timeout_ms < 0 || s->write_timeout_ms > CLOSE_MS)
			s->write_timeout_ms = CLOSE_MS;
		(void)tls_stream_flush(s);
	}
	if (s->ssl != NULL && s->tls && !s->broken) {
		ERR_clear_error();
		(void)SSL_shutdown(s->ssl);
		(void)drain_wbio(s, deadline_of(CLOSE_MS));
	}
	SSL_free(s->ssl);
	X509_free(s->peer);
	X509_free(s->bad);
	ERR_clear_error();
	if (s->fd >= 0)
		close(s->fd);
	free(s->rbuf);
	free(s->wbuf);
	free(s->nbuf);
	free(s);
	*sp = NULL;
}

int
tls_stream_fd(const struct tls_stream *s)
{
	return s->fd;
}

void
tls_stream_set_cancel_fd(struct tls_stream *s, int fd)
{
	s->cancel_fd = fd;
}

void
tls_stream_set_write_timeout(struct tls_stream *s, int timeout_ms)
{
	s->write_timeout_ms = timeout_ms;
}

const char *
tls_stream_errmsg(const struct tls_stream *s)
{
	return s->err;
}

int
tls_stream_is_tls(const struct tls_stream *s)
{
	return s->tls;
}

const char *
tls_stream_describe(struct tls_stream *s)
{
	if (!s->tls)
		return "plain text";
	snprintf(s->desc, sizeof(s->desc), "%s %s", SSL_get_version(s->ssl),
	    SSL_get_cipher_name(s->ssl));
	return s->desc;
}

int
tls_stream_peer_fingerprint(const struct tls_stream *s,
    char out[TLS_FINGERPRINT_LEN])
{
	return x509_fingerprint(s->peer, out);
}

long
tls_stream_fill(struct tls_stream *s, int timeout_ms, int wake_fd)
{
	long r;

	if (s->broken)
		return TLS_EIO;
	if (s->roff > 0) {
		memmove(s->rbuf, s->rbuf + s->roff, s->rlen);
		s->roff = 0;
	}
	if (s->rlen == TLS_STREAM_RBUF)
		return TLS_EFULL;
	r = read_some(s, s->rbuf + s->rlen, TLS_STREAM_RBUF - s->rlen,
	    timeout_ms, wake_fd);
	if (r > 0)
		s->rlen += (size_t)r;
	return r;
}

const char *
tls_stream_rdata(const struct tls_stream *s, size_t *len_r)
{
	*len_r = s->rlen;
	return s->rbuf + s->roff;
}

void
tls_stream_consume(struct tls_stream *s, size_t n)
{
	assert(n <= s->rlen);
	s->roff += n;
	s->rlen -= n;
	if (s->rlen == 0)
		s->roff = 0;
}

long
tls_stream_read(struct tls_stream *s, void *buf, size_t n, int timeout_ms,
    int wake_fd)
{
	size_t k;

	if (n == 0)
		return 0;
	if (s->rlen > 0) {
		k = s->rlen < n ? s->rlen : n;
		memcpy(buf, s->rbuf + s->roff, k);
		tls_stream_consume(s, k);
		return (long)k;
	}
	return read_some(s, buf, n, timeout_ms, wake_fd);
}

int
tls_stream_flush(struct tls_stream *s)
{
	int r;

	if (s->broken)
		return TLS_EIO;
	r = send_now(s, s->wbuf, s->wlen);
	s->wlen = 0;
	if (r == 0 && s->ssl != NULL)
		r = drain_wbio(s, deadline_of(s->write_timeout_ms));
	return r;
}

int
tls_stream_write(struct tls_stream *s, const void *p, size_t n)
{
	const char *c = p;
	size_t k;
	int r;

	if (s->broken)
		return TLS_EIO;
	while (n > 0) {
		/* Large writes leave straight from the caller's memory. */
		if (s->wlen == 0 && n >= TLS_STREAM_WBUF) {
			if ((r = send_now(s, c, TLS_STREAM_WBUF)) < 0)
				return r;
			c += TLS_STREAM_WBUF;
			n -= TLS_STREAM_WBUF;
			continue;
		}
		k = TLS_STREAM_WBUF - s->wlen;
		if (k > n)
			k = n;
		memcpy(s->wbuf + s->wlen, c, k);
		s->wlen += k;
		c += k;
		n -= k;
		if (s->wlen == TLS_STREAM_WBUF && (r = tls_stream_flush(s)) < 0)
			return r;
	}
	return 0;
}

int
tls_stream_puts(struct tls_stream *s, const char *str)
{
	return tls_stream_write(s, str, strlen(str));
}

int
tls_stream_vprintf(struct tls_stream *s, const char *fmt, va_list ap)
{
	size_t room;
	va_list aq;
	char *big;
	int n, r;

	if (s->broken)
		return TLS_EIO;
	room = TLS_STREAM_WBUF - s->wlen;
	va_copy(aq, ap);
	n = vsnprintf(s->wbuf + s->wlen, room + 1, fmt, aq);
	va_end(aq);
	if (n < 0)
		return fail(s, TLS_EIO, "bad format string");
	if ((size_t)n <= room) {
		s->wlen += (size_t)n;
		return 0;
	}
	/* It did not fit: what vsnprintf put there is not counted. */
	if ((size_t)n <= TLS_STREAM_WBUF) {
		if ((r = tls_stream_flush(s)) < 0)
			return r;
		va_copy(aq, ap);
		vsnprintf(s->wbuf, TLS_STREAM_WBUF + 1, fmt, aq);
		va_end(aq);
		s->wlen = (size_t)n;
		return 0;
	}
	big = xmalloc((size_t)n + 1);
	va_copy(aq, ap);
	vsnprintf(big, (size_t)n + 1, fmt, aq);
	va_end(aq);
	r = tls_stream_write(s, big, (size_t)n);
	free(big);
	return r;
}

int
tls_stream_printf(struct tls_stream *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tls_stream_vprintf(s, fmt, ap);
	va_end(ap);
	return r;
}

int
tls_stream_write_all(struct tls_stream *s, const void *p, size_t n)
{
	int r = tls_stream_write(s, p, n);

	return r < 0 ? r : tls_stream_flush(s);
}

/* ---- handshakes ---------------------------------------------------------- */

/* 1 if name is an item of the ", "-separated list (or empty). */
static int
listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (n == 0)
		return 1;	/* nothing to show */
	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' ||
		    p[n] == ','))
			return 1;
		p += n;
	}
	return 0;
}

/* The certificate's names: its DNS and IP subjectAltNames, else its CN. */
static void
cert_names(X509 *x, char *out, size_t len)
{
	GENERAL_NAMES *sans;
	const GENERAL_NAME *g;
	const unsigned char *d;
	char ip[INET6_ADDRSTRLEN], name[256];
	size_t o = 0;
	int i, n, k;

	out[0] = '\0';
	sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	n = sans != NULL ? sk_GENERAL_NAME_num(sans) : 0;
	for (i = 0; i < n && o < len; i++) {
		g = sk_GENERAL_NAME_value(sans, i);
		if (g->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(g->d.dNSName);
			k = ASN1_STRING_length(g->d.dNSName);
			snprintf(name, sizeof(name), "%.*s", k,
			    (const char *)d);
		} else if (g->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(g->d.iPAddress);
			k = ASN1_STRING_length(g->d.iPAddress);
			if (k != 4 && k != 16)
				continue;
			inet_ntop(k == 4 ? AF_INET : AF_INET6, d, ip,
			    sizeof(ip));
			snprintf(name, sizeof(name), "%s", ip);
		} else {
			continue;
		}
		if (listed(out, name))
			continue;	/* DNS:127.0.0.1 beside IP:127.0.0.1 */
		k = snprintf(out + o, len - o, "%s%s", o > 0 ? ", " : "",
		    name);
		o += k > 0 ? (size_t)k : 0;
	}
	GENERAL_NAMES_free(sans);
	if (o == 0 && X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, name, sizeof(name)) > 0)
		snprintf(out, len, "%s", name);
	if (out[0] == '\0')
		snprintf(out, len, "no name at all");
}

/* A certificate's CN, or its whole subject line. */
static void
cert_label(X509_NAME *nm, char *out, size_t len)
{
	char *line;

	if (X509_NAME_get_text_by_NID(nm, NID_commonName, out, (int)len) > 0)
		return;
	line = X509_NAME_oneline(nm, NULL, 0);
	snprintf(out, len, "%s", line != NULL ? line : "no name");
	OPENSSL_free(line);
}

static void
cert_date(const ASN1_TIME *t, char *out, size_t len)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm) ||
	    strftime(out, len, "%Y-%m-%d", &tm) == 0)
		snprintf(out, len, "an unreadable date");
}

static int
verify_error(struct tls_stream *s, long vr)
{
	X509 *bad = s->bad != NULL ? s->bad : s->peer;
	char fp[TLS_FINGERPRINT_LEN], pin[TLS_FINGERPRINT_LEN];
	char a[512], b[256];

	if (x509_fingerprint(s->peer, fp) < 0)
		snprintf(fp, sizeof(fp), "(unknown)");
	switch (vr) {
	case X509_V_ERR_CERT_REJECTED:
		if (!s->pinned)
			break;
		tls_fingerprint_format(s->pin, 32, pin);
		return fail(s, TLS_EIO, "the server's certificate has "
		    "fingerprint %s, not the pinned %s: if the server changed "
		    "its certificate, check the new fingerprint with its "
		    "operator and pin it instead", fp, pin);
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		if (s->peer == NULL)
			break;
		cert_names(s->peer, a, sizeof(a));
		return fail(s, TLS_EIO, "the server's certificate is for %s, "
		    "not %s", a, s->host);
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return fail(s, TLS_EIO, "the certificate of %s is "
		    "self-signed, so nothing vouches for it; if you trust "
		    "this server, pin its fingerprint %s", s->host, fp);
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
		if (bad == NULL)
			break;
		cert_label(X509_get_issuer_name(bad), b, sizeof(b));
		return fail(s, TLS_EIO, "the certificate of %s is issued by "
		    "\"%s\", an unknown certificate authority; if you trust "
		    "this server, give its CA certificate or pin its "
		    "fingerprint %s", s->host, b, fp);
	case X509_V_ERR_CERT_HAS_EXPIRED:
		if (bad == NULL)
			break;
		cert_date(X509_get0_notAfter(bad), b, sizeof(b));
		if (bad == s->peer)
			return fail(s, TLS_EIO, "the certificate of %s expired "
			    "on %s", s->host, b);
		cert_label(X509_get_subject_name(bad), a, sizeof(a));
		return fail(s, TLS_EIO, "the certificate of %s is signed by "
		    "\"%s\", whose certificate expired on %s", s->host, a, b);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		if (bad == NULL)
			break;
		cert_date(X509_get0_notBefore(bad), b, sizeof(b));
		return fail(s, TLS_EIO, "a certificate of %s is not valid "
		    "before %s (is this computer's clock right?)", s->host, b);
	}
	return fail(s, TLS_EIO, "the certificate of %s failed verification: "
	    "%s", s->host, X509_verify_cert_error_string(vr));
}

/* A sentence for a handshake that OpenSSL refused. */
static int
handshake_error(struct tls_stream *s)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = ERR_reason_error_string(e);
	char fp[TLS_FINGERPRINT_LEN];
	long vr;

	if (s->client) {
		vr = SSL_get_verify_result(s->ssl);
		if (vr != X509_V_OK)
			return verify_error(s, vr);
	}
	if (e == 0 || ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		return fail(s, TLS_EIO, "%s closed the connection during the "
		    "TLS handshake", s->host);
	if (why == NULL)
		why = "unknown error";
	switch (ERR_GET_REASON(e)) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
		if (s->client)
			return fail(s, TLS_EIO, "%s does not speak TLS (%s); "
			    "is this the right port for TLS?", s->host, why);
		return fail(s, TLS_EIO, "the client did not start TLS (%s)",
		    why);
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		return fail(s, TLS_EIO, "%s offers only TLS versions older "
		    "than 1.2, which mailvault refuses", s->host);
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
		if (s->client)
			break;
		if (x509_fingerprint(SSL_get_certificate(s->ssl), fp) < 0)
			snprintf(fp, sizeof(fp), "(unknown)");
		return fail(s, TLS_EIO, "the client does not trust "
		    "mailvault's certificate (%s); tell it to accept the "
		    "certificate with fingerprint %s", why, fp);
	}
	return fail(s, TLS_EIO, "TLS handshake with %s failed: %s", s->host,
	    why);
}

/* After a failure: let the alert OpenSSL queued reach the peer. */
static void
send_alert(struct tls_stream *s)
{
	char *p = NULL;
	long n = BIO_get_mem_data(s->wbio, &p);

	if (n > 0)
		(void)send(s->fd, p, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)BIO_reset(s->wbio);
}

static int
run_handshake(struct tls_stream *s, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	char d[32];
	long n;
	int r;

	for (;;) {
		ERR_clear_error();
		r = SSL_do_handshake(s->ssl);
		if (r == 1)
			break;
		if (SSL_get_error(s->ssl, r) != SSL_ERROR_WANT_READ ||
		    s->rbio_eof) {
			r = handshake_error(s);
			send_alert(s);
			return r;
		}
		if ((r = drain_wbio(s, deadline)) < 0)
			return r;
		n = recv_net(s, deadline, -1);
		if (n == NET_ETIMEOUT) {
			fmt_duration(timeout_ms, d, sizeof(d));
			return fail(s, TLS_ETIMEOUT, "timed out during the TLS "
			    "handshake with %s after %s", s->host, d);
		}
		if (n == NET_ECANCEL)
			return fail(s, TLS_ECANCEL, "the TLS handshake with %s "
			    "was cancelled", s->host);
		if (n < 0)
			return (int)n;
	}
	if ((r = drain_wbio(s, deadline)) < 0)
		return r;
	s->tls = 1;
	return 0;
}

/* What both sides do before a handshake. */
static int
prepare(struct tls_stream *s, const struct tls_ctx *ctx)
{
	int r;

	if (s->broken)
		return TLS_EIO;
	if (s->ssl != NULL) {
		snprintf(s->err, sizeof(s->err), "TLS is already active");
		return TLS_EIO;
	}
	if ((r = tls_stream_flush(s)) < 0)
		return r;
	s->roff = s->rlen = 0;
	ERR_clear_error();
	s->ssl = SSL_new(ctx->ssl);
	s->rbio = BIO_new(BIO_s_mem());
	s->wbio = BIO_new(BIO_s_mem());
	if (s->ssl == NULL || s->rbio == NULL || s->wbio == NULL) {
		BIO_free(s->rbio);
		BIO_free(s->wbio);
		SSL_free(s->ssl);
		s->ssl = NULL;
		s->rbio = s->wbio = NULL;
		return fail(s, TLS_EIO, "cannot start TLS: %s", ssl_reason());
	}
	SSL_set_bio(s->ssl, s->rbio, s->wbio);
	SSL_set_app_data(s->ssl, s);
	return 0;
}

int
tls_stream_starttls_server(struct tls_stream *s, const struct tls_ctx *ctx,
    int timeout_ms)
{
	int r;

	assert(ctx->server);
	snprintf(s->host, sizeof(s->host), "the client");
	if ((r = prepare(s, ctx)) < 0)
		return r;
	SSL_set_accept_state(s->ssl);
	return run_handshake(s, timeout_ms);
}

int
tls_stream_connect_client(struct tls_stream *s, const struct tls_ctx *ctx,
    const char *host, int timeout_ms)
{
	int r, ok;

	assert(!ctx->server);
	snprintf(s->host, sizeof(s->host), "%s", host);
	if ((r = prepare(s, ctx)) < 0)
		return r;
	s->client = 1;
	s->pinned = ctx->pinned;
	memcpy(s->pin, ctx->pin, sizeof(s->pin));
	SSL_set_connect_state(s->ssl);
	if (is_ip_literal(host)) {
		ok = s->pinned || X509_VERIFY_PARAM_set1_ip_asc(
		    SSL_get0_param(s->ssl), host);
	} else {
		ok = SSL_set_tlsext_host_name(s->ssl, host) &&
		    (s->pinned || SSL_set1_host(s->ssl, host));
	}
	if (!ok)
		return fail(s, TLS_EIO, "cannot use \"%s\" as a TLS server "
		    "name", host);
	return run_handshake(s, timeout_ms);
}
