/*
 * digest: MD5 and HMAC-MD5 from OpenSSL's EVP, for the two challenge-
 * response logins that name them: POP3 APOP (RFC 1939 section 7: MD5 of
 * the greeting's timestamp and the password) and IMAP CRAM-MD5 (RFC 2195:
 * HMAC-MD5 of the challenge under the password), on both sides (server/
 * answers them, sync/ sends APOP upstream).
 *
 * MD5 is broken as a collision-resistant hash; it is here only because
 * those protocols name it, and must not be used for anything else. This
 * file and lib/tls.c are the only users of OpenSSL's headers (make
 * depcheck).
 *
 * Every function that hashes can fail, and says so: an OpenSSL built or
 * configured without MD5 (a FIPS provider) refuses it, and a login then
 * fails instead of the program aborting. Contexts are opaque and wiped
 * when freed; a digest of a secret should be wiped by its caller too.
 */
#ifndef MAILVAULT_LIB_DIGEST_H
#define MAILVAULT_LIB_DIGEST_H

#include <stddef.h>

#define DIGEST_MD5_LEN		16
#define DIGEST_MD5_HEX_LEN	33	/* 32 hex digits and a NUL */

struct digest_md5;

/* MD5 of one buffer into out. 0, or -1 when MD5 is not available. */
int	digest_md5(const void *data, size_t n,
	    unsigned char out[DIGEST_MD5_LEN]);

/*
 * MD5 in pieces, for a message made of parts (APOP's timestamp and
 * password) without copying them together: _new, any number of _update,
 * then _final, which writes the digest and frees the context (*d set to
 * NULL; a NULL *d is fine and fails). _new returns NULL when MD5 is not
 * available. A failed _update is remembered and makes _final return -1;
 * _final returns 0 when out holds the digest.
 */
struct digest_md5 *digest_md5_new(void);
void	digest_md5_update(struct digest_md5 *d, const void *data, size_t n);
int	digest_md5_final(struct digest_md5 **d,
	    unsigned char out[DIGEST_MD5_LEN]);

/* HMAC-MD5 (RFC 2104) of msg under key (any length). 0 or -1. */
int	digest_hmac_md5(const void *key, size_t keylen, const void *msg,
	    size_t msglen, unsigned char out[DIGEST_MD5_LEN]);

/* n bytes as 2n lowercase hex digits and a NUL in out (2n + 1 bytes). */
void	digest_hex(const unsigned char *md, size_t n, char *out);

#endif
