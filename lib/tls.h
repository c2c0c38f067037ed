/*
 * tls: a byte stream over a socket, plain or TLS, the only place that uses
 * OpenSSL. The loopback IMAP and POP3 sessions and the upstream sync
 * clients all talk through a struct tls_stream, so STARTTLS, implicit TLS
 * and plain text differ only in one call.
 *
 * How it works: the socket is non-blocking and OpenSSL never touches it.
 * OpenSSL reads and writes two memory BIOs; this module moves bytes
 * between them and the socket with poll(), so every wait has a timeout and
 * can be cut short by a wake-up descriptor (IDLE) or the stream's cancel
 * descriptor (server shutdown), and output of many TLS records leaves in
 * one send(). Whether bytes are waiting inside OpenSSL (SSL_pending) or in
 * our read buffer is checked before every poll(), so a wait never sleeps
 * on data that has already arrived.
 *
 * Reading: tls_stream_fill() appends what arrives to the stream's read
 * buffer; tls_stream_rdata() shows the buffered bytes and
 * tls_stream_consume() drops those the caller has used, which suits the
 * IMAP and POP3 lexers that are fed bytes. tls_stream_read() copies out
 * instead. Writing is buffered (TLS_STREAM_WBUF bytes) and leaves at
 * tls_stream_flush() or when the buffer fills, so a FETCH response goes
 * out in few large writes and few TLS records.
 *
 * Results: bytes (> 0), 0 at end of stream, or a negative TLS_E* code.
 * After TLS_EIO or a failed write the stream is broken and every later
 * call fails; tls_stream_errmsg() says why in a sentence. TLS_ETIMEOUT,
 * TLS_EWAKE and TLS_ECANCEL from a read leave the stream usable.
 *
 * Threads: a stream belongs to one thread at a time. A struct tls_ctx is
 * read-only once made and may be shared by every thread's streams.
 *
 * Certificates: the server's certificate and key come as PEM text from
 * the store (the key is kept sealed there, never in a file).
 * tls_cert_generate() makes the self-signed pair at `mailvault init`.
 */
#ifndef MAILVAULT_LIB_TLS_H
#define MAILVAULT_LIB_TLS_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/net.h"

#define TLS_EIO		NET_EIO		/* I/O or TLS failure; see errmsg */
#define TLS_ETIMEOUT	NET_ETIMEOUT	/* the timeout passed first */
#define TLS_EWAKE	NET_EWAKE	/* the wake-up descriptor is readable */
#define TLS_ECANCEL	NET_ECANCEL	/* the cancel descriptor is readable */
#define TLS_EFULL	(-5)		/* fill: the read buffer is full */

#define TLS_STREAM_RBUF	65536	/* read buffer size */
#define TLS_STREAM_WBUF	65536	/* write buffer size: the usual write */
#define TLS_WRITE_TIMEOUT_MS	60000	/* default, see set_write_timeout */
#define TLS_FINGERPRINT_LEN	96	/* "AB:CD:…" of SHA-256, NUL included */

struct tls_ctx;
struct tls_stream;

/* ---- contexts ------------------------------------------------------------ */

/*
 * A server context from PEM text: cert_pem holds the certificate, then any
 * chain certificates; key_pem the private key (not encrypted). TLS 1.2 and
 * later, forward-secret AEAD ciphers only. NULL and a sentence in err when
 * the PEM does not parse or the key does not match the certificate. The
 * strings are not kept; the caller may wipe key_pem at once.
 */
struct tls_ctx	*tls_server_ctx_new(const char *cert_pem, const char *key_pem,
		    char *err, size_t errlen);

/*
 * A client context for upstream servers. ca_file: a PEM file of trusted
 * certificates, or NULL for the system's. pin_sha256: NULL, or the SHA-256
 * fingerprint of the one certificate to accept ("AB:CD:…", colons and case
 * optional); with a pin, that certificate is accepted whoever signed it
 * (self-signed is fine) and nothing else is, its names are not checked,
 * since the pin already names the exact certificate, and ca_file is not
 * read. NULL and a
 * sentence in err when the CA file cannot be read or the pin is malformed.
 */
struct tls_ctx	*tls_client_ctx_new(const char *ca_file, const char *pin_sha256,
		    char *err, size_t errlen);

/* Free a context (NULL is fine) and clear the pointer. Streams made from
 * it keep what they need, so it may go before they do. */
void	tls_ctx_free(struct tls_ctx **ctx);

/* ---- streams ------------------------------------------------------------- */

/*
 * Wrap a connected socket; the stream owns fd from now on (it is made
 * non-blocking and closed by tls_stream_free). Starts in plain text.
 */
struct tls_stream	*tls_stream_new(int fd);

/*
 * Flush what is still buffered and, on TLS, send close_notify, each for at
 * most a second; then close the socket and free (NULL is fine) and clear
 * the pointer.
 */
void	tls_stream_free(struct tls_stream **s);

/* The socket, e.g. for getpeername(); the stream still owns it. */
int	tls_stream_fd(const struct tls_stream *s);

/*
 * A descriptor that, once readable, makes every wait for input (reads,
 * fills, handshakes) return TLS_ECANCEL: give a session the listener's
 * shutdown descriptor. -1 (the default) for none. Writes are not
 * cancelled, so a session can still say goodbye; they are bounded by the
 * write timeout instead.
 */
void	tls_stream_set_cancel_fd(struct tls_stream *s, int fd);

/* How long a flush may wait for a slow peer (default TLS_WRITE_TIMEOUT_MS;
 * negative: forever). */
void	tls_stream_set_write_timeout(struct tls_stream *s, int timeout_ms);

/* The last error, as a sentence; "" when there was none. Lives as long
 * as the stream, until the next failing call. */
const char	*tls_stream_errmsg(const struct tls_stream *s);

/* 1 once a TLS handshake has completed on the stream, else 0. */
int	tls_stream_is_tls(const struct tls_stream *s);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" for logs, or "plain text". Static or
 * owned by the stream; valid until the stream is freed. */
const char	*tls_stream_describe(struct tls_stream *s);

/*
 * Server side: flush the buffered output (the "OK Begin TLS" reply goes
 * out in the clear), drop any buffered input (a client may not send
 * anything after STARTTLS before the handshake; bytes that are there were
 * injected in the clear, CVE-2011-0411), then run the handshake within
 * timeout_ms. The same call starts implicit TLS on a fresh stream.
 * 0, or a TLS_E* code and a sentence in tls_stream_errmsg().
 */
int	tls_stream_starttls_server(struct tls_stream *s,
	    const struct tls_ctx *ctx, int timeout_ms);

/*
 * Client side, after connecting (implicit TLS) or after the server agreed
 * to STARTTLS: flush output, drop buffered input as above, send SNI for
 * host (unless it is an IP address) and verify the server: the chain
 * against the context's CAs and host name against the certificate, or the
 * pin. 0, or a TLS_E* code and a sentence such as "the certificate of
 * imap.example.org is for mail.example.com, not imap.example.org" or one
 * with both fingerprints when a pin does not match.
 */
int	tls_stream_connect_client(struct tls_stream *s,
	    const struct tls_ctx *ctx, const char *host, int timeout_ms);

/*
 * The SHA-256 fingerprint of the peer's certificate into out, also after
 * a failed verification (so a CLI can offer to pin it). 0, or -1 when
 * no certificate was seen.
 */
int	tls_stream_peer_fingerprint(const struct tls_stream *s,
	    char out[TLS_FINGERPRINT_LEN]);

/*
 * Wait at most timeout_ms for input and append it to the read buffer.
 * Returns the number of bytes added, 0 at end of stream, TLS_EFULL when
 * the buffer is full (consume first), or TLS_ETIMEOUT / TLS_EWAKE (when
 * wake_fd, if >= 0, is readable and no input is there) / TLS_ECANCEL /
 * TLS_EIO. Input already inside OpenSSL is taken without waiting.
 */
long	tls_stream_fill(struct tls_stream *s, int timeout_ms, int wake_fd);

/* The buffered unread bytes, *len_r of them; borrowed, valid until the
 * next fill, read or consume. */
const char	*tls_stream_rdata(const struct tls_stream *s, size_t *len_r);

/* Mark the first n buffered bytes used (n <= the buffered length). */
void	tls_stream_consume(struct tls_stream *s, size_t n);

/*
 * Copy up to n bytes out: buffered bytes first, else wait as fill does.
 * Returns bytes (> 0), 0 at end of stream, or a TLS_E* code.
 */
long	tls_stream_read(struct tls_stream *s, void *buf, size_t n,
	    int timeout_ms, int wake_fd);

/*
 * Buffered output. Each returns 0, or a TLS_E* code when a flush it
 * needed failed (the stream is then broken). Output leaves when the
 * buffer fills or at tls_stream_flush().
 */
int	tls_stream_write(struct tls_stream *s, const void *p, size_t n);
int	tls_stream_puts(struct tls_stream *s, const char *str);
int	tls_stream_printf(struct tls_stream *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	tls_stream_vprintf(struct tls_stream *s, const char *fmt, va_list ap);
int	tls_stream_flush(struct tls_stream *s);
/* tls_stream_write() then tls_stream_flush(). */
int	tls_stream_write_all(struct tls_stream *s, const void *p, size_t n);

/* ---- certificates -------------------------------------------------------- */

/*
 * Make a self-signed server certificate: an EC P-256 key, subject CN=cn,
 * subjectAltName DNS:localhost, DNS:127.0.0.1, IP:127.0.0.1, IP:::1,
 * valid for ten years. 0 and two new PEM strings (the caller frees *cert_pem_r with
 * free() and *key_pem_r with tls_secret_free()), or -1 and err.
 */
int	tls_cert_generate(const char *cn, char **cert_pem_r, char **key_pem_r,
	    char *err, size_t errlen);

/* The SHA-256 fingerprint of the first certificate in cert_pem, as
 * "AB:CD:…" (95 characters). 0, or -1 when it does not parse. */
int	tls_cert_fingerprint(const char *cert_pem,
	    char out[TLS_FINGERPRINT_LEN]);

/* The MD5 fingerprint, "AB:CD:…" (47 characters), which is what
 * fetchmail's sslfingerprint compares; nothing else should use MD5.
 * 0, or -1 when it does not parse (or MD5 is refused, FIPS). */
int	tls_cert_fingerprint_md5(const char *cert_pem,
	    char out[TLS_FINGERPRINT_LEN]);
/* 1 if the first certificate of cert_pem names name among its DNS names
 * (subjectAltName, exactly), 0 if not, -1 when it does not parse. */
int	tls_cert_names_dns(const char *cert_pem, const char *name);

/* Format n (at most 32) digest bytes as "AB:CD:…" into out. */
void	tls_fingerprint_format(const unsigned char *md, size_t n,
	    char out[TLS_FINGERPRINT_LEN]);

/* Wipe a secret string (a key PEM) and free it; NULL is fine; the
 * pointer is cleared. */
void	tls_secret_free(char **p);

#endif
