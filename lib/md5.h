/*
 * md5: MD5 (RFC 1321) and HMAC-MD5 (RFC 2104), for the two challenge-
 * response logins that need them: POP3 APOP (RFC 1939: MD5 of the
 * greeting's timestamp and the password) and IMAP CRAM-MD5 (RFC 2195).
 *
 * MD5 is broken as a collision-resistant hash; it is here only because
 * those protocols name it, and must not be used for anything else. It is
 * written out here because libcrypto may only be used in lib/tls*.c and
 * libsodium only in store/crypt.c. Contexts hold no pointers: a context
 * on the stack is wiped by md5_final().
 */
#ifndef MAILVAULT_LIB_MD5_H
#define MAILVAULT_LIB_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_LEN	16
#define MD5_HEX_LEN	33	/* 32 hex digits and a NUL */

struct md5_ctx {
	uint32_t	 h[4];
	uint64_t	 len;		/* bytes hashed so far */
	unsigned char	 buf[64];	/* a partial block */
	size_t		 nbuf;
};

/* Start, feed any pieces, finish. md5_final() wipes the context. */
void	md5_init(struct md5_ctx *m);
void	md5_update(struct md5_ctx *m, const void *data, size_t n);
void	md5_final(struct md5_ctx *m, unsigned char out[MD5_DIGEST_LEN]);

/* MD5 of one buffer. */
void	md5_digest(const void *data, size_t n,
	    unsigned char out[MD5_DIGEST_LEN]);

/* HMAC-MD5 of msg under key (any length). Key copies are wiped. */
void	md5_hmac(const void *key, size_t keylen, const void *msg,
	    size_t msglen, unsigned char out[MD5_DIGEST_LEN]);

/* A digest as 32 lowercase hex digits and a NUL. */
void	md5_hex(const unsigned char digest[MD5_DIGEST_LEN],
	    char out[MD5_HEX_LEN]);

#endif
