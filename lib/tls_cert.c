/*
 * tls_cert: the server's self-signed certificate, made once at `mailvault
 * init`, and certificate fingerprints (what a mail client shows when it
 * asks the user to trust the certificate, and what an upstream pin names).
 *
 * The key is EC P-256: small, fast, and accepted by every mail client in
 * use. The certificate is an end-entity certificate (CA:FALSE): clients
 * that are told to trust it (NSS, Apple's keychain) refuse a CA
 * certificate used as a server certificate. Its names cover every way a
 * client reaches the loopback server. Key PEM text only passes through
 * OpenSSL's secure-memory BIO and memory we wipe.
 */
#include "lib/tls.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/util.h"

#define CERT_DAYS	3650
/* DNS:127.0.0.1 too: some clients (fetchmail, mutt) match the host they
 * were given only against DNS names, never IP entries. */
#define CERT_SAN	"DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1,IP:::1"

void
tls_fingerprint_format(const unsigned char *md, size_t n,
    char out[TLS_FINGERPRINT_LEN])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	if (n > 32)
		n = 32;
	for (i = 0; i < n; i++) {
		if (i > 0)
			out[o++] = ':';
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 15];
	}
	out[o] = '\0';
}

void
tls_secret_free(char **p)
{
	if (p == NULL || *p == NULL)
		return;
	OPENSSL_cleanse(*p, strlen(*p));
	free(*p);
	*p = NULL;
}

/* The first certificate of cert_pem, or NULL. */
static X509 *
read_cert(const char *cert_pem)
{
	BIO *bio = BIO_new_mem_buf(cert_pem, -1);
	X509 *x;

	if (bio == NULL)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	return x;
}

static int
fingerprint(const char *cert_pem, const EVP_MD *alg,
    char out[TLS_FINGERPRINT_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	X509 *x = read_cert(cert_pem);
	int ok;

	if (x == NULL || alg == NULL) {
		X509_free(x);
		ERR_clear_error();
		return -1;
	}
	ok = X509_digest(x, alg, md, &n);
	X509_free(x);
	ERR_clear_error();
	if (!ok)
		return -1;
	tls_fingerprint_format(md, n, out);
	return 0;
}

int
tls_cert_fingerprint(const char *cert_pem, char out[TLS_FINGERPRINT_LEN])
{
	return fingerprint(cert_pem, EVP_sha256(), out);
}

int
tls_cert_fingerprint_md5(const char *cert_pem, char out[TLS_FINGERPRINT_LEN])
{
	return fingerprint(cert_pem, EVP_md5(), out);
}

int
tls_cert_names_dns(const char *cert_pem, const char *name)
{
	X509 *x = read_cert(cert_pem);
	int rc;

	if (x == NULL)
		return -1;
	rc = X509_check_host(x, name, strlen(name),
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	    X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/* The reason of the last OpenSSL error, for a sentence. */
static const char *
ssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r != NULL ? r : "unknown error";
}

/* Copy a memory BIO's contents into a new NUL-terminated string. */
static char *
bio_to_string(BIO *bio)
{
	char *data, *s;
	long n = BIO_get_mem_data(bio, &data);

	if (n < 0)
		n = 0;
	s = xmalloc((size_t)n + 1);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A random positive 127-bit serial number, as RFC 5280 asks. */
static int
set_serial(X509 *x)
{
	unsigned char rnd[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return 0;
	rnd[0] &= 0x7f;
	rnd[0] |= 0x40;
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	if (bn == NULL)
		return 0;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

static X509 *
make_cert(const char *cn, EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (x == NULL)
		return NULL;
	name = X509_get_subject_name(x);
	/* Backdated a day so a client whose clock is a little behind
	 * still accepts it. */
	if (!X509_set_version(x, 2) || !set_serial(x) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0,
	    NULL) == NULL ||
	    !X509_set_pubkey(x, key) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"mailvault", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) ||
	    !add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(x, NID_ext_key_usage, "serverAuth") ||
	    !add_ext(x, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, NID_subject_alt_name, CERT_SAN) ||
	    X509_sign(x, key, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* PEM of key, through a BIO whose memory OpenSSL wipes when freed. */
static char *
key_to_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *s = NULL;

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
		s = bio_to_string(bio);
	BIO_free(bio);
	return s;
}

static char *
cert_to_pem(X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_X509(bio, x))
		s = bio_to_string(bio);
	BIO_free(bio);
	return s;
}

int
tls_cert_generate(const char *cn, char **cert_pem_r, char **key_pem_r,
    char *err, size_t errlen)
{
	EVP_PKEY *key;
	X509 *x = NULL;
	char *cert = NULL, *kpem = NULL;

	if (cn == NULL || *cn == '\0' || strlen(cn) > 64)
		return seterr(err, errlen, -1, "a certificate name must be "
		    "1 to 64 characters long");
	ERR_clear_error();
	key = EVP_EC_gen("P-256");
	if (key != NULL)
		x = make_cert(cn, key);
	if (x != NULL) {
		cert = cert_to_pem(x);
		kpem = key_to_pem(key);
	}
	X509_free(x);
	EVP_PKEY_free(key);
	if (cert == NULL || kpem == NULL) {
		free(cert);
		tls_secret_free(&kpem);
		seterr(err, errlen, -1, "cannot make the TLS certificate: %s",
		    ssl_reason());
		ERR_clear_error();
		return -1;
	}
	*cert_pem_r = cert;
	*key_pem_r = kpem;
	return 0;
}
