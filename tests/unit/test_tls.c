/*
 * Unit tests for lib/tls: certificate generation and fingerprints, a TLS
 * server and client talking over a socketpair (echo, buffered input
 * inside OpenSSL, wake-ups, cancels and timeouts, STARTTLS and its
 * injection defence, large writes), and how an upstream's certificate is
 * verified: a CA file, a wrong host name, an unknown CA, a pin that
 * matches and one that does not.
 *
 * One certificate pair is made before the tests run and shared by them
 * (Check forks each test from the runner).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/tls.h"
#include "lib/util.h"

static char *cert_pem, *key_pem;	/* the server's pair */
static char *other_cert, *other_key;	/* a second, unrelated pair */
static char cert_fp[TLS_FINGERPRINT_LEN], other_fp[TLS_FINGERPRINT_LEN];
static char ca_path[64];		/* cert_pem in a file */

/* ---- a server on the other end of a socketpair --------------------------- */

enum peer_mode {
	PEER_ECHO,		/* TLS, then echo every line until EOF */
	PEER_STARTTLS,		/* plain "a STARTTLS" exchange first */
	PEER_PLAIN_GREETING,	/* never TLS: send a greeting and wait */
	PEER_SILENT,		/* TLS, then send nothing */
};

struct peer {
	int		fd;
	enum peer_mode	mode;
	struct tls_ctx	*ctx;
	pthread_t	t;
	int		rc;		/* the server's handshake result */
	char		err[512];
	char		first[64];	/* first line after STARTTLS */
};

/* Read one line (CRLF kept) through the fill/rdata/consume API. */
static long
get_line(struct tls_stream *s, char *out, size_t outlen, int timeout_ms)
{
	const char *p, *nl;
	size_t len, n;
	long r;

	for (;;) {
		p = tls_stream_rdata(s, &len);
		nl = memchr(p, '\n', len);
		if (nl != NULL) {
			n = (size_t)(nl - p) + 1;
			ck_assert_uint_lt(n, outlen);
			memcpy(out, p, n);
			out[n] = '\0';
			tls_stream_consume(s, n);
			return (long)n;
		}
		r = tls_stream_fill(s, timeout_ms, -1);
		if (r <= 0)
			return r;
	}
}

static void
echo_loop(struct tls_stream *s)
{
	const char *p;
	size_t len;

	for (;;) {
		p = tls_stream_rdata(s, &len);
		if (len > 0) {
			if (tls_stream_write(s, p, len) < 0)
				return;
			tls_stream_consume(s, len);
			if (tls_stream_flush(s) < 0)
				return;
		}
		if (tls_stream_fill(s, 10000, -1) <= 0)
			return;
	}
}

static void *
peer_main(void *arg)
{
	struct peer *pe = arg;
	struct tls_stream *s = tls_stream_new(pe->fd);
	char line[256];

	switch (pe->mode) {
	case PEER_PLAIN_GREETING:
		tls_stream_write_all(s, "* OK IMAP4rev1 ready\r\n", 22);
		(void)tls_stream_fill(s, 5000, -1);
		break;
	case PEER_STARTTLS:
		if (get_line(s, line, sizeof(line), 5000) <= 0)
			break;
		tls_stream_puts(s, "a OK Begin TLS negotiation now\r\n");
		pe->rc = tls_stream_starttls_server(s, pe->ctx, 5000);
		if (pe->rc == 0 && get_line(s, pe->first, sizeof(pe->first),
		    5000) > 0 && tls_stream_write_all(s, pe->first,
		    strlen(pe->first)) == 0)
			echo_loop(s);
		break;
	case PEER_ECHO:
	case PEER_SILENT:
		pe->rc = tls_stream_starttls_server(s, pe->ctx, 5000);
		if (pe->rc == 0 && pe->mode == PEER_ECHO)
			echo_loop(s);
		else if (pe->rc == 0)
			(void)tls_stream_fill(s, 5000, -1);
		break;
	}
	snprintf(pe->err, sizeof(pe->err), "%s", tls_stream_errmsg(s));
	tls_stream_free(&s);
	return NULL;
}

/* Start a peer and return our end of the socketpair. */
static int
peer_start(struct peer *pe, enum peer_mode mode, const char *cert,
    const char *key)
{
	char err[256];
	int sp[2];

	memset(pe, 0, sizeof(*pe));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	pe->fd = sp[1];
	pe->mode = mode;
	pe->ctx = tls_server_ctx_new(cert, key, err, sizeof(err));
	ck_assert_msg(pe->ctx != NULL, "%s", err);
	ck_assert_int_eq(pthread_create(&pe->t, NULL, peer_main, pe), 0);
	return sp[0];
}

static void
peer_join(struct peer *pe)
{
	pthread_join(pe->t, NULL);
	tls_ctx_free(&pe->ctx);
}

/* A client stream to a fresh echo peer, verified by pin. */
static struct tls_stream *
echo_client(struct peer *pe, struct tls_ctx **cctx)
{
	struct tls_stream *c;
	char err[256];

	*cctx = tls_client_ctx_new(NULL, cert_fp, err, sizeof(err));
	ck_assert_msg(*cctx != NULL, "%s", err);
	c = tls_stream_new(peer_start(pe, PEER_ECHO, cert_pem, key_pem));
	ck_assert_msg(tls_stream_connect_client(c, *cctx, "localhost",
	    5000) == 0, "%s", tls_stream_errmsg(c));
	return c;
}

/* Connect to a PEER_SILENT server with ctx; the result and message. */
static int
try_verify(const char *ca, const char *pin, const char *host, char *msg,
    size_t msglen)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	char err[256];
	int rc;

	cctx = tls_client_ctx_new(ca, pin, err, sizeof(err));
	ck_assert_msg(cctx != NULL, "%s", err);
	c = tls_stream_new(peer_start(&pe, PEER_SILENT, cert_pem, key_pem));
	rc = tls_stream_connect_client(c, cctx, host, 5000);
	snprintf(msg, msglen, "%s", tls_stream_errmsg(c));
	tls_stream_free(&c);
	peer_join(&pe);
	tls_ctx_free(&cctx);
	return rc;
}

/* ---- certificates -------------------------------------------------------- */

START_TEST(test_tls_cert_fingerprint_format)
{
	char fp[TLS_FINGERPRINT_LEN];
	size_t i;

	ck_assert_int_eq(tls_cert_fingerprint(cert_pem, fp), 0);
	ck_assert_str_eq(fp, cert_fp);
	ck_assert_uint_eq(strlen(fp), 95);
	for (i = 0; i < 95; i++) {
		if (i % 3 == 2)
			ck_assert_int_eq(fp[i], ':');
		else
			ck_assert(strchr("0123456789ABCDEF", fp[i]) != NULL);
	}
	ck_assert_str_ne(cert_fp, other_fp);
	ck_assert_int_eq(tls_cert_fingerprint("not a certificate", fp), -1);
	ck_assert(strstr(cert_pem, "BEGIN CERTIFICATE") != NULL);
	ck_assert(strstr(key_pem, "PRIVATE KEY") != NULL);
}
END_TEST

/* A new certificate names 127.0.0.1 as a DNS name too (fetchmail and
 * mutt match only DNS names), localhost, and nothing else; its MD5
 * fingerprint (fetchmail's sslfingerprint) is 16 bytes long. */
START_TEST(test_tls_cert_names_and_md5)
{
	char fp[TLS_FINGERPRINT_LEN];

	ck_assert_int_eq(tls_cert_names_dns(cert_pem, "127.0.0.1"), 1);
	ck_assert_int_eq(tls_cert_names_dns(cert_pem, "localhost"), 1);
	ck_assert_int_eq(tls_cert_names_dns(cert_pem, "example.org"), 0);
	ck_assert_int_eq(tls_cert_names_dns("not a certificate", "x"), -1);
	ck_assert_int_eq(tls_cert_fingerprint_md5(cert_pem, fp), 0);
	ck_assert_uint_eq(strlen(fp), 47);
	ck_assert_str_ne(fp, cert_fp);
	ck_assert_int_eq(tls_cert_fingerprint_md5("nope", fp), -1);
}
END_TEST

START_TEST(test_tls_fingerprint_format_vector)
{
	static const unsigned char md[3] = { 0x00, 0xab, 0xf1 };
	char out[TLS_FINGERPRINT_LEN];

	tls_fingerprint_format(md, sizeof(md), out);
	ck_assert_str_eq(out, "00:AB:F1");
}
END_TEST

START_TEST(test_tls_cert_generate_refuses_bad_name)
{
	char *c = NULL, *k = NULL, err[256];

	ck_assert_int_eq(tls_cert_generate("", &c, &k, err, sizeof(err)), -1);
	ck_assert(c == NULL && k == NULL);
	ck_assert(strstr(err, "certificate name") != NULL);
}
END_TEST

START_TEST(test_tls_secret_free_clears)
{
	char *p = xstrdup("-----BEGIN PRIVATE KEY-----");

	tls_secret_free(&p);
	ck_assert_ptr_null(p);
	tls_secret_free(&p);
	tls_secret_free(NULL);
}
END_TEST

START_TEST(test_tls_server_ctx_errors)
{
	struct tls_ctx *ctx;
	char err[256];

	ctx = tls_server_ctx_new(cert_pem, other_key, err, sizeof(err));
	ck_assert_ptr_null(ctx);
	ck_assert_str_eq(err, "the TLS key does not match the certificate");
	ctx = tls_server_ctx_new("garbage", key_pem, err, sizeof(err));
	ck_assert_ptr_null(ctx);
	ck_assert(strstr(err, "not a PEM certificate") != NULL);
	ctx = tls_server_ctx_new(cert_pem, "garbage", err, sizeof(err));
	ck_assert_ptr_null(ctx);
	ck_assert(strstr(err, "not a PEM private key") != NULL);
	ctx = tls_server_ctx_new(cert_pem, key_pem, err, sizeof(err));
	ck_assert_ptr_nonnull(ctx);
	tls_ctx_free(&ctx);
	ck_assert_ptr_null(ctx);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_tls_client_ctx_errors)
{
	char err[256];

	ck_assert_ptr_null(tls_client_ctx_new(NULL, "AB:CD", err,
	    sizeof(err)));
	ck_assert(strstr(err, "is not a SHA-256 fingerprint") != NULL);
	ck_assert_ptr_null(tls_client_ctx_new("/nonexistent/ca.pem", NULL,
	    err, sizeof(err)));
	ck_assert_str_eq(err, "cannot read CA certificates from "
	    "/nonexistent/ca.pem: No such file or directory");
}
END_TEST

/* ---- streams ------------------------------------------------------------- */

START_TEST(test_tls_echo_lines)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	char line[128], want[128];
	int i;

	c = echo_client(&pe, &cctx);
	ck_assert(tls_stream_is_tls(c));
	ck_assert(strncmp(tls_stream_describe(c), "TLSv1.3 ", 8) == 0);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(tls_stream_printf(c, "line %d\r\n", i), 0);
	ck_assert_int_eq(tls_stream_flush(c), 0);
	for (i = 0; i < 100; i++) {
		snprintf(want, sizeof(want), "line %d\r\n", i);
		ck_assert_int_gt(get_line(c, line, sizeof(line), 5000), 0);
		ck_assert_str_eq(line, want);
	}
	tls_stream_free(&c);
	peer_join(&pe);
	ck_assert_int_eq(pe.rc, 0);
	tls_ctx_free(&cctx);
}
END_TEST

/*
 * Input that has reached OpenSSL (a partly read record, or records not
 * yet decrypted) must be returned without waiting on the socket: a read
 * with timeout 0 gets it.
 */
START_TEST(test_tls_pending_data_needs_no_wait)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	char buf[64];
	long n;

	c = echo_client(&pe, &cctx);
	/* Two lines in two flushes: two TLS records each way. */
	ck_assert_int_eq(tls_stream_write_all(c, "abcdef\r\n", 8), 0);
	ck_assert_int_eq(tls_stream_write_all(c, "ghij\r\n", 6), 0);
	usleep(200 * 1000);
	/* A two-byte read leaves the rest of a record inside OpenSSL. */
	ck_assert_int_eq(tls_stream_read(c, buf, 2, 5000, -1), 2);
	ck_assert_mem_eq(buf, "ab", 2);
	n = tls_stream_read(c, buf, sizeof(buf), 0, -1);
	ck_assert_int_gt(n, 0);
	if (n == 6) {	/* the second record was not decrypted yet */
		ck_assert_mem_eq(buf, "cdef\r\n", 6);
		ck_assert_int_eq(tls_stream_read(c, buf, sizeof(buf), 0, -1),
		    6);
		ck_assert_mem_eq(buf, "ghij\r\n", 6);
	} else {
		ck_assert_int_eq(n, 12);
		ck_assert_mem_eq(buf, "cdef\r\nghij\r\n", 12);
	}
	ck_assert_int_eq(tls_stream_read(c, buf, sizeof(buf), 0, -1),
	    TLS_ETIMEOUT);
	tls_stream_free(&c);
	peer_join(&pe);
	tls_ctx_free(&cctx);
}
END_TEST

START_TEST(test_tls_wake_fd_interrupts_read)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	char buf[64];
	int wake[2];
	int64_t t0;

	c = echo_client(&pe, &cctx);
	ck_assert_int_eq(pipe(wake), 0);
	ck_assert_int_eq(write(wake[1], "!", 1), 1);
	t0 = now_ms();
	ck_assert_int_eq(tls_stream_read(c, buf, sizeof(buf), 5000, wake[0]),
	    TLS_EWAKE);
	ck_assert_int_eq(tls_stream_fill(c, 5000, wake[0]), TLS_EWAKE);
	ck_assert_int_lt(now_ms() - t0, 1000);
	/* The stream stays usable, and data is returned before the
	 * still-readable wake-up descriptor. */
	ck_assert_int_eq(tls_stream_write_all(c, "x\r\n", 3), 0);
	ck_assert_int_eq(tls_stream_read(c, buf, sizeof(buf), 5000, -1), 3);
	ck_assert_str_eq(tls_stream_errmsg(c), "");
	close(wake[0]);
	close(wake[1]);
	tls_stream_free(&c);
	peer_join(&pe);
	tls_ctx_free(&cctx);
}
END_TEST

START_TEST(test_tls_read_timeout_keeps_stream)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	char line[64];
	int64_t t0;

	c = echo_client(&pe, &cctx);
	t0 = now_ms();
	ck_assert_int_eq(tls_stream_fill(c, 150, -1), TLS_ETIMEOUT);
	ck_assert_int_ge(now_ms() - t0, 145);
	ck_assert_int_eq(tls_stream_write_all(c, "after\r\n", 7), 0);
	ck_assert_int_gt(get_line(c, line, sizeof(line), 5000), 0);
	ck_assert_str_eq(line, "after\r\n");
	tls_stream_free(&c);
	peer_join(&pe);
	tls_ctx_free(&cctx);
}
END_TEST

START_TEST(test_tls_cancel_fd_ends_wait)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	char buf[8];
	int stop[2];

	c = echo_client(&pe, &cctx);
	ck_assert_int_eq(pipe(stop), 0);
	tls_stream_set_cancel_fd(c, stop[0]);
	ck_assert_int_eq(tls_stream_read(c, buf, sizeof(buf), 100, -1),
	    TLS_ETIMEOUT);
	close(stop[1]);
	ck_assert_int_eq(tls_stream_read(c, buf, sizeof(buf), 5000, -1),
	    TLS_ECANCEL);
	/* Writes still go out, so a session can say BYE. */
	ck_assert_int_eq(tls_stream_write_all(c, "* BYE\r\n", 7), 0);
	close(stop[0]);
	tls_stream_set_cancel_fd(c, -1);
	tls_stream_free(&c);
	peer_join(&pe);
	tls_ctx_free(&cctx);
}
END_TEST

START_TEST(test_tls_end_of_stream)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	char buf[8];
	int fd;

	c = echo_client(&pe, &cctx);
	/* Half-close our side: the echo peer sees EOF and closes. */
	fd = tls_stream_fd(c);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_int_eq(tls_stream_read(c, buf, sizeof(buf), 5000, -1), 0);
	ck_assert_int_eq(tls_stream_read(c, buf, sizeof(buf), 5000, -1), 0);
	peer_join(&pe);
	tls_stream_free(&c);
	tls_ctx_free(&cctx);
}
END_TEST

/* Bytes larger than every buffer arrive intact, in order. */
START_TEST(test_tls_large_transfer)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	size_t total = 3 * 1024 * 1024 + 17, got = 0, i;
	char *out = xmalloc(total), *in = xmalloc(total);
	long n;

	for (i = 0; i < total; i++)
		out[i] = (char)('a' + (i * 7 + i / 1000) % 26);
	c = echo_client(&pe, &cctx);
	/* Interleave writing and reading so neither side's socket buffer
	 * fills while the other is blocked. */
	for (i = 0; i < total; i += 100000) {
		size_t k = total - i < 100000 ? total - i : 100000;

		ck_assert_int_eq(tls_stream_write(c, out + i, k), 0);
		ck_assert_int_eq(tls_stream_flush(c), 0);
		while (got < i + k) {
			n = tls_stream_read(c, in + got, total - got, 5000, -1);
			ck_assert_int_gt(n, 0);
			got += (size_t)n;
		}
	}
	ck_assert_uint_eq(got, total);
	ck_assert(memcmp(in, out, total) == 0);
	/* A printf longer than the write buffer. */
	ck_assert_int_eq(tls_stream_printf(c, "%.*s", 100000, out), 0);
	ck_assert_int_eq(tls_stream_flush(c), 0);
	for (got = 0; got < 100000; got += (size_t)n) {
		n = tls_stream_read(c, in + got, 100000 - got, 5000, -1);
		ck_assert_int_gt(n, 0);
	}
	ck_assert(memcmp(in, out, 100000) == 0);
	tls_stream_free(&c);
	peer_join(&pe);
	tls_ctx_free(&cctx);
	free(out);
	free(in);
}
END_TEST

/*
 * STARTTLS: plain text, then TLS; anything sent in the clear after the
 * STARTTLS command is dropped by both sides (CVE-2011-0411).
 */
START_TEST(test_tls_starttls_drops_injected_input)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	char line[128], err[256];

	cctx = tls_client_ctx_new(ca_path, NULL, err, sizeof(err));
	ck_assert_msg(cctx != NULL, "%s", err);
	c = tls_stream_new(peer_start(&pe, PEER_STARTTLS, cert_pem,
	    key_pem));
	ck_assert_int_eq(tls_stream_puts(c, "a STARTTLS\r\nb INJECTED\r\n"),
	    0);
	ck_assert_int_eq(tls_stream_flush(c), 0);
	ck_assert_int_gt(get_line(c, line, sizeof(line), 5000), 0);
	ck_assert_str_eq(line, "a OK Begin TLS negotiation now\r\n");
	ck_assert_msg(tls_stream_connect_client(c, cctx, "localhost", 5000)
	    == 0, "%s", tls_stream_errmsg(c));
	ck_assert_int_eq(tls_stream_write_all(c, "c NOOP\r\n", 8), 0);
	ck_assert_int_gt(get_line(c, line, sizeof(line), 5000), 0);
	ck_assert_str_eq(line, "c NOOP\r\n");
	tls_stream_free(&c);
	peer_join(&pe);
	ck_assert_int_eq(pe.rc, 0);
	ck_assert_str_eq(pe.first, "c NOOP\r\n");
	tls_ctx_free(&cctx);
}
END_TEST

START_TEST(test_tls_server_handshake_timeout)
{
	struct tls_ctx *ctx;
	struct tls_stream *s;
	char err[256];
	int sp[2];

	ctx = tls_server_ctx_new(cert_pem, key_pem, err, sizeof(err));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	s = tls_stream_new(sp[0]);
	ck_assert_int_eq(tls_stream_starttls_server(s, ctx, 200),
	    TLS_ETIMEOUT);
	ck_assert_str_eq(tls_stream_errmsg(s), "timed out during the TLS "
	    "handshake with the client after 200 ms");
	ck_assert_int_eq(tls_stream_fill(s, 0, -1), TLS_EIO);
	tls_stream_free(&s);
	close(sp[1]);
	tls_ctx_free(&ctx);
}
END_TEST

START_TEST(test_tls_client_against_plain_server)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	char err[256];

	cctx = tls_client_ctx_new(NULL, cert_fp, err, sizeof(err));
	c = tls_stream_new(peer_start(&pe, PEER_PLAIN_GREETING, cert_pem,
	    key_pem));
	ck_assert_int_eq(tls_stream_connect_client(c, cctx, "mail.example.com",
	    5000), TLS_EIO);
	ck_assert_msg(strstr(tls_stream_errmsg(c), "mail.example.com does "
	    "not speak TLS") != NULL, "%s", tls_stream_errmsg(c));
	tls_stream_free(&c);
	peer_join(&pe);
	tls_ctx_free(&cctx);
}
END_TEST

/* The server says why a client gave up on the handshake. */
START_TEST(test_tls_server_reports_distrusting_client)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	char msg[512];

	/* System CAs: our self-signed certificate is refused. */
	cctx = tls_client_ctx_new(NULL, NULL, msg, sizeof(msg));
	c = tls_stream_new(peer_start(&pe, PEER_SILENT, cert_pem, key_pem));
	ck_assert_int_eq(tls_stream_connect_client(c, cctx, "localhost",
	    5000), TLS_EIO);
	tls_stream_free(&c);
	tls_ctx_free(&cctx);
	peer_join(&pe);
	ck_assert_int_eq(pe.rc, TLS_EIO);
	ck_assert_msg(strstr(pe.err, "the client does not trust mailvault's "
	    "certificate (tlsv1 alert unknown ca); tell it to accept the "
	    "certificate with fingerprint ") != NULL, "%s", pe.err);
	ck_assert(strstr(pe.err, cert_fp) != NULL);
}
END_TEST

/* ---- verification -------------------------------------------------------- */

START_TEST(test_tls_verify_ca_file_ok)
{
	char msg[512];

	ck_assert_msg(try_verify(ca_path, NULL, "localhost", msg,
	    sizeof(msg)) == 0, "%s", msg);
	ck_assert_msg(try_verify(ca_path, NULL, "127.0.0.1", msg,
	    sizeof(msg)) == 0, "%s", msg);
	ck_assert_msg(try_verify(ca_path, NULL, "::1", msg,
	    sizeof(msg)) == 0, "%s", msg);
}
END_TEST

START_TEST(test_tls_verify_wrong_host_name)
{
	char msg[512];

	ck_assert_int_eq(try_verify(ca_path, NULL, "imap.example.org", msg,
	    sizeof(msg)), TLS_EIO);
	ck_assert_str_eq(msg, "the server's certificate is for localhost, "
	    "127.0.0.1, ::1, not imap.example.org");
	ck_assert_int_eq(try_verify(ca_path, NULL, "127.0.0.2", msg,
	    sizeof(msg)), TLS_EIO);
	ck_assert_str_eq(msg, "the server's certificate is for localhost, "
	    "127.0.0.1, ::1, not 127.0.0.2");
}
END_TEST

START_TEST(test_tls_verify_unknown_ca)
{
	char msg[512], want[512];

	ck_assert_int_eq(try_verify(NULL, NULL, "localhost", msg,
	    sizeof(msg)), TLS_EIO);
	snprintf(want, sizeof(want), "the certificate of localhost is "
	    "self-signed, so nothing vouches for it; if you trust this "
	    "server, pin its fingerprint %s", cert_fp);
	ck_assert_str_eq(msg, want);
}
END_TEST

START_TEST(test_tls_verify_pin_match)
{
	struct tls_ctx *cctx;
	struct tls_stream *c;
	struct peer pe;
	char msg[512], lower[TLS_FINGERPRINT_LEN], fp[TLS_FINGERPRINT_LEN];
	size_t i, o = 0;

	/* The pin decides alone: any name, no CA. */
	ck_assert_msg(try_verify(NULL, cert_fp, "mail.example.com", msg,
	    sizeof(msg)) == 0, "%s", msg);
	/* Lower case without colons is the same pin. */
	for (i = 0; cert_fp[i] != '\0'; i++)
		if (cert_fp[i] != ':')
			lower[o++] = (char)(cert_fp[i] >= 'A' ?
			    cert_fp[i] + 32 : cert_fp[i]);
	lower[o] = '\0';
	ck_assert_msg(try_verify(NULL, lower, "10.1.2.3", msg, sizeof(msg))
	    == 0, "%s", msg);
	/* And the stream can tell the certificate it saw. */
	cctx = tls_client_ctx_new(NULL, cert_fp, msg, sizeof(msg));
	c = tls_stream_new(peer_start(&pe, PEER_ECHO, cert_pem, key_pem));
	ck_assert_int_eq(tls_stream_peer_fingerprint(c, fp), -1);
	ck_assert_int_eq(tls_stream_connect_client(c, cctx, "localhost",
	    5000), 0);
	ck_assert_int_eq(tls_stream_peer_fingerprint(c, fp), 0);
	ck_assert_str_eq(fp, cert_fp);
	tls_stream_free(&c);
	peer_join(&pe);
	tls_ctx_free(&cctx);
}
END_TEST

START_TEST(test_tls_verify_pin_mismatch_names_both)
{
	char msg[512], want[512];

	ck_assert_int_eq(try_verify(ca_path, other_fp, "localhost", msg,
	    sizeof(msg)), TLS_EIO);
	snprintf(want, sizeof(want), "the server's certificate has "
	    "fingerprint %s, not the pinned %s:", cert_fp, other_fp);
	ck_assert_msg(strncmp(msg, want, strlen(want)) == 0, "%s", msg);
}
END_TEST

/* ---- plain streams ------------------------------------------------------- */

START_TEST(test_tls_plain_stream_buffers)
{
	struct tls_stream *a, *b;
	char line[64], buf[8];
	int sp[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	a = tls_stream_new(sp[0]);
	b = tls_stream_new(sp[1]);
	ck_assert(!tls_stream_is_tls(a));
	ck_assert_str_eq(tls_stream_describe(a), "plain text");
	ck_assert_int_eq(tls_stream_printf(a, "* OK %s\r\n", "hi"), 0);
	/* Nothing leaves before the flush. */
	ck_assert_int_eq(tls_stream_read(b, buf, sizeof(buf), 50, -1),
	    TLS_ETIMEOUT);
	ck_assert_int_eq(tls_stream_flush(a), 0);
	ck_assert_int_gt(get_line(b, line, sizeof(line), 5000), 0);
	ck_assert_str_eq(line, "* OK hi\r\n");
	tls_stream_free(&a);
	ck_assert_int_eq(tls_stream_fill(b, 5000, -1), 0);
	/* Writing to a closed peer fails and breaks the stream; no
	 * SIGPIPE. */
	tls_stream_set_write_timeout(b, 1000);
	(void)tls_stream_write_all(b, "x", 1);
	ck_assert_int_eq(tls_stream_write_all(b, "x", 1), TLS_EIO);
	ck_assert_str_eq(tls_stream_errmsg(b), "the peer closed the "
	    "connection");
	tls_stream_free(&b);
	ck_assert_ptr_null(b);
	tls_stream_free(&b);
}
END_TEST

START_TEST(test_tls_fill_reports_full_buffer)
{
	struct tls_stream *a, *b;
	char *big = xcalloc(1, TLS_STREAM_RBUF + 10);
	size_t len;
	long n, total = 0;
	int sp[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	a = tls_stream_new(sp[0]);
	b = tls_stream_new(sp[1]);
	ck_assert_int_eq(tls_stream_write_all(a, big, TLS_STREAM_RBUF + 10),
	    0);
	while ((n = tls_stream_fill(b, 5000, -1)) > 0)
		total += n;
	ck_assert_int_eq(n, TLS_EFULL);
	ck_assert_int_eq(total, TLS_STREAM_RBUF);
	(void)tls_stream_rdata(b, &len);
	ck_assert_uint_eq(len, TLS_STREAM_RBUF);
	tls_stream_consume(b, 100);
	ck_assert_int_eq(tls_stream_fill(b, 5000, -1), 10);
	(void)tls_stream_rdata(b, &len);
	ck_assert_uint_eq(len, TLS_STREAM_RBUF - 90);
	tls_stream_free(&a);
	tls_stream_free(&b);
	free(big);
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("certificates");

	tcase_add_test(tc, test_tls_cert_fingerprint_format);
	tcase_add_test(tc, test_tls_cert_names_and_md5);
	tcase_add_test(tc, test_tls_fingerprint_format_vector);
	tcase_add_test(tc, test_tls_cert_generate_refuses_bad_name);
	tcase_add_test(tc, test_tls_secret_free_clears);
	tcase_add_test(tc, test_tls_server_ctx_errors);
	tcase_add_test(tc, test_tls_client_ctx_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("streams");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tls_echo_lines);
	tcase_add_test(tc, test_tls_pending_data_needs_no_wait);
	tcase_add_test(tc, test_tls_wake_fd_interrupts_read);
	tcase_add_test(tc, test_tls_read_timeout_keeps_stream);
	tcase_add_test(tc, test_tls_cancel_fd_ends_wait);
	tcase_add_test(tc, test_tls_end_of_stream);
	tcase_add_test(tc, test_tls_large_transfer);
	tcase_add_test(tc, test_tls_starttls_drops_injected_input);
	tcase_add_test(tc, test_tls_server_handshake_timeout);
	tcase_add_test(tc, test_tls_client_against_plain_server);
	tcase_add_test(tc, test_tls_server_reports_distrusting_client);
	tcase_add_test(tc, test_tls_plain_stream_buffers);
	tcase_add_test(tc, test_tls_fill_reports_full_buffer);
	suite_add_tcase(s, tc);
	tc = tcase_create("verification");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tls_verify_ca_file_ok);
	tcase_add_test(tc, test_tls_verify_wrong_host_name);
	tcase_add_test(tc, test_tls_verify_unknown_ca);
	tcase_add_test(tc, test_tls_verify_pin_match);
	tcase_add_test(tc, test_tls_verify_pin_mismatch_names_both);
	suite_add_tcase(s, tc);
	return s;
}

static void
make_pairs(void)
{
	char err[256];
	FILE *f;
	int fd;

	if (tls_cert_generate("localhost", &cert_pem, &key_pem, err,
	    sizeof(err)) < 0 ||
	    tls_cert_generate("other", &other_cert, &other_key, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "test_tls: %s\n", err);
		exit(EXIT_FAILURE);
	}
	tls_cert_fingerprint(cert_pem, cert_fp);
	tls_cert_fingerprint(other_cert, other_fp);
	snprintf(ca_path, sizeof(ca_path), "/tmp/mailvault-test-ca-XXXXXX");
	fd = mkstemp(ca_path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL || fputs(cert_pem, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "test_tls: cannot write %s\n", ca_path);
		exit(EXIT_FAILURE);
	}
}

int
main(void)
{
	SRunner *sr;
	int failed;

	make_pairs();
	sr = srunner_create(tls_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	unlink(ca_path);
	free(cert_pem);
	free(other_cert);
	tls_secret_free(&key_pem);
	tls_secret_free(&other_key);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
