/*
 * digest: a thin layer over OpenSSL's EVP for MD5 and HMAC-MD5. See
 * digest.h for what they may be used for.
 *
 * Nothing here is hand-written cryptography: EVP_Digest for one buffer,
 * an EVP_MD_CTX for pieces, HMAC() for the keyed form. The layer exists
 * so the rest of the program never sees an OpenSSL type and so a refusal
 * (MD5 disabled) becomes a return code.
 */
#include "lib/digest.h"

#include <limits.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/util.h"

struct digest_md5 {
	EVP_MD_CTX	*ctx;
	int		 failed;	/* an update was refused */
};

int
digest_md5(const void *data, size_t n, unsigned char out[DIGEST_MD5_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(data, n, out, &len, EVP_md5(), NULL) != 1 ||
	    len != DIGEST_MD5_LEN)
		return -1;
	return 0;
}

struct digest_md5 *
digest_md5_new(void)
{
	struct digest_md5 *d;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL)
		return NULL;
	if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->ctx = ctx;
	return d;
}

void
digest_md5_update(struct digest_md5 *d, const void *data, size_t n)
{
	if (d != NULL && !d->failed && EVP_DigestUpdate(d->ctx, data, n) != 1)
		d->failed = 1;
}

int
digest_md5_final(struct digest_md5 **dp, unsigned char out[DIGEST_MD5_LEN])
{
	struct digest_md5 *d = *dp;
	unsigned int len = 0;
	int rc = -1;

	if (d == NULL)
		return -1;
	if (!d->failed && EVP_DigestFinal_ex(d->ctx, out, &len) == 1 &&
	    len == DIGEST_MD5_LEN)
		rc = 0;
	/* EVP_MD_CTX_free wipes the hash state (it held secret input). */
	EVP_MD_CTX_free(d->ctx);
	free(d);
	*dp = NULL;
	return rc;
}

int
digest_hmac_md5(const void *key, size_t keylen, const void *msg,
    size_t msglen, unsigned char out[DIGEST_MD5_LEN])
{
	static const unsigned char empty[1];
	unsigned int len = 0;

	if (keylen > INT_MAX)
		return -1;
	/* HMAC() wants a key pointer even for an empty key. */
	if (HMAC(EVP_md5(), keylen > 0 ? key : empty, (int)keylen,
	    msglen > 0 ? msg : empty, msglen, out, &len) == NULL ||
	    len != DIGEST_MD5_LEN)
		return -1;
	return 0;
}

void
digest_hex(const unsigned char *md, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[2 * n] = '\0';
}
