/*
 * crypt: every cryptographic operation of the store, and the only file that
 * includes <sodium.h>.
 *
 * Key hierarchy: a random 256-bit master key, wrapped (XChaCha20-Poly1305,
 * AD naming the key slot) by a key-encryption key that Argon2id derives
 * from the passphrase and a random salt. From the master key,
 * crypto_kdf_derive_from_key (context "mailvlt1") derives the purpose keys:
 * subkey 1 seals values, subkey 2 keys the BLAKE2b hashes used for lookups
 * by name and content. A wrong passphrase shows up as a wrapping that does
 * not open, never as garbage.
 *
 * A sealed value is nonce(24) || ciphertext || tag(16) with a fresh random
 * nonce each time (XChaCha's 192-bit nonces make random ones safe).
 * All key material lives in one sodium_malloc'd block (guard pages, locked
 * against swap where allowed) and is wiped when freed.
 */
#include "store/store_int.h"

#include <malloc.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define KDF_CONTEXT	"mailvlt1"
#define SUBKEY_SEAL	1
#define SUBKEY_HASH	2

struct store_keys {
	unsigned char	master[STORE_KEY_BYTES];
	unsigned char	seal[STORE_KEY_BYTES];
	unsigned char	hash[STORE_KEY_BYTES];
};

struct store_hasher {
	crypto_generichash_state state;
};

/* Compile-time agreement between the header's sizes and libsodium's. */
_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
    crypto_aead_xchacha20poly1305_ietf_ABYTES == STORE_SEAL_OVERHEAD,
    "seal overhead");
_Static_assert(crypto_pwhash_SALTBYTES == STORE_SALT_BYTES, "salt size");
_Static_assert(crypto_kdf_KEYBYTES == STORE_KEY_BYTES, "kdf key size");

int
store_crypt_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static void
kdf_params(enum store_kdf kdf, uint64_t *ops, uint64_t *mem)
{
	switch (kdf) {
	case STORE_KDF_MIN:
		*ops = crypto_pwhash_argon2id_OPSLIMIT_MIN;
		*mem = crypto_pwhash_argon2id_MEMLIMIT_MIN;
		break;
	case STORE_KDF_INTERACTIVE:
		*ops = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
		break;
	case STORE_KDF_MODERATE:
	default:
		*ops = crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_argon2id_MEMLIMIT_MODERATE;
		break;
	}
}

static struct store_keys *
keys_alloc(void)
{
	struct store_keys *k = sodium_malloc(sizeof(*k));

	if (k == NULL) {
		fprintf(stderr, "mailvault: out of secure memory\n");
		abort();
	}
	return k;
}

static void
keys_derive(struct store_keys *k)
{
	crypto_kdf_derive_from_key(k->seal, sizeof(k->seal), SUBKEY_SEAL,
	    KDF_CONTEXT, k->master);
	crypto_kdf_derive_from_key(k->hash, sizeof(k->hash), SUBKEY_HASH,
	    KDF_CONTEXT, k->master);
}

/* Argon2id of pass into kek (sodium_malloc'd by the caller). */
static int
derive_kek(unsigned char *kek, const char *pass, size_t passlen,
    const struct store_keyslot *slot, char *err, size_t errlen)
{
	if (crypto_pwhash(kek, STORE_KEY_BYTES, pass, passlen, slot->salt,
	    slot->opslimit, (size_t)slot->memlimit, slot->alg) != 0)
		return seterr(err, errlen, STORE_ERR, "could not derive the key "
		    "from the passphrase: the key derivation needs %llu MiB "
		    "of memory and could not get it",
		    (unsigned long long)(slot->memlimit >> 20));
	return 0;
}

static void
wrap(struct store_keyslot *slot, const unsigned char *kek,
    const unsigned char *master)
{
	unsigned char ad[STORE_AD_MAX];
	size_t adlen = store_ad(ad, "keyslot", "wrapped", "%lld",
	    (long long)slot->id);
	unsigned char *nonce = slot->wrapped;

	randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    slot->wrapped + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL,
	    master, STORE_KEY_BYTES, ad, adlen, NULL, nonce, kek);
}

static int
fill_slot(struct store_keyslot *slot, const unsigned char *master,
    const char *pass, size_t passlen, enum store_kdf kdf, char *err,
    size_t errlen)
{
	unsigned char *kek = sodium_malloc(STORE_KEY_BYTES);
	int rc;

	if (kek == NULL)
		return seterr(err, errlen, STORE_ERR,
		    "could not allocate secure memory for the key");
	slot->alg = crypto_pwhash_ALG_ARGON2ID13;
	kdf_params(kdf, &slot->opslimit, &slot->memlimit);
	randombytes_buf(slot->salt, sizeof(slot->salt));
	rc = derive_kek(kek, pass, passlen, slot, err, errlen);
	if (rc == 0)
		wrap(slot, kek, master);
	sodium_free(kek);
	return rc;
}

int
store_keys_create(const char *pass, size_t passlen, enum store_kdf kdf,
    struct store_keyslot *slot, struct store_keys **keys_r, char *err,
    size_t errlen)
{
	struct store_keys *k = keys_alloc();
	int rc;

	crypto_kdf_keygen(k->master);
	rc = fill_slot(slot, k->master, pass, passlen, kdf, err, errlen);
	if (rc != 0) {
		sodium_free(k);
		return rc;
	}
	keys_derive(k);
	*keys_r = k;
	return 0;
}

int
store_keys_rewrap(const struct store_keys *k, const char *pass,
    size_t passlen, enum store_kdf kdf, struct store_keyslot *slot,
    char *err, size_t errlen)
{
	return fill_slot(slot, k->master, pass, passlen, kdf, err, errlen);
}

/* Parameters a genuine store could have; anything else is damage (and
 * must not make us allocate terabytes). */
static int
slot_sane(const struct store_keyslot *slot)
{
	return slot->alg == crypto_pwhash_ALG_ARGON2ID13 &&
	    slot->opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
	    slot->opslimit <= 4ull * crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE &&
	    slot->memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
	    slot->memlimit <= 4ull * crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE;
}

int
store_keys_unlock(const struct store_keyslot *slot, const char *pass,
    size_t passlen, struct store_keys **keys_r, char *err, size_t errlen)
{
	unsigned char ad[STORE_AD_MAX];
	size_t adlen;
	unsigned char *kek;
	struct store_keys *k;
	int rc;

	if (!slot_sane(slot))
		return seterr(err, errlen, STORE_ECORRUPT, "the store's key "
		    "slot has parameters this mailvault does not accept: the "
		    "file is damaged");
	kek = sodium_malloc(STORE_KEY_BYTES);
	if (kek == NULL)
		return seterr(err, errlen, STORE_ERR,
		    "could not allocate secure memory for the key");
	rc = derive_kek(kek, pass, passlen, slot, err, errlen);
	if (rc != 0) {
		sodium_free(kek);
		return rc;
	}
	k = keys_alloc();
	adlen = store_ad(ad, "keyslot", "wrapped", "%lld", (long long)slot->id);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(k->master, NULL, NULL,
	    slot->wrapped + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    STORE_WRAPPED_BYTES - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    ad, adlen, slot->wrapped, kek) != 0) {
		sodium_free(kek);
		sodium_free(k);
		return seterr(err, errlen, STORE_EBADPASS,
		    "the passphrase is wrong");
	}
	sodium_free(kek);
	keys_derive(k);
	*keys_r = k;
	return 0;
}

struct store_keys *
store_keys_dup(const struct store_keys *k)
{
	struct store_keys *c = keys_alloc();

	memcpy(c, k, sizeof(*c));
	return c;
}

void
store_keys_free(struct store_keys **k)
{
	if (*k == NULL)
		return;
	sodium_free(*k);	/* wipes before releasing */
	*k = NULL;
}

size_t
store_ad(unsigned char *ad, const char *table, const char *column,
    const char *rowkey_fmt, ...)
{
	size_t tl = strlen(table), cl = strlen(column), n;
	va_list ap;
	int r;

	if (tl + cl + 2 >= STORE_AD_MAX)
		abort();
	memcpy(ad, table, tl + 1);
	memcpy(ad + tl + 1, column, cl + 1);
	n = tl + cl + 2;
	va_start(ap, rowkey_fmt);
	r = vsnprintf((char *)ad + n, STORE_AD_MAX - n, rowkey_fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= STORE_AD_MAX - n)
		abort();	/* a bug: row keys are short */
	return n + (size_t)r;
}

void
store_hex(const unsigned char *p, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, p, n);
}

void
store_seal(const struct store_keys *k, const unsigned char *ad, size_t adlen,
    const void *pt, size_t n, unsigned char *out)
{
	randombytes_buf(out, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, pt, n,
	    ad, adlen, NULL, out, k->seal);
}

int
store_unseal(const struct store_keys *k, const unsigned char *ad,
    size_t adlen, const void *ct, size_t ctlen, unsigned char *out)
{
	const unsigned char *c = ct;

	if (ctlen < STORE_SEAL_OVERHEAD)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL,
	    c + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    ctlen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad, adlen,
	    c, k->seal) != 0)
		return -1;
	return 0;
}

unsigned char *
store_seal_new(const struct store_keys *k, const unsigned char *ad,
    size_t adlen, const void *pt, size_t n, size_t *len_r)
{
	unsigned char *out = xmalloc(n + STORE_SEAL_OVERHEAD);

	store_seal(k, ad, adlen, pt, n, out);
	*len_r = n + STORE_SEAL_OVERHEAD;
	return out;
}

int
store_unseal_new(const struct store_keys *k, const unsigned char *ad,
    size_t adlen, const void *ct, size_t ctlen, char **pt_r, size_t *len_r)
{
	unsigned char *out;
	size_t n;

	if (ctlen < STORE_SEAL_OVERHEAD)
		return -1;
	n = ctlen - STORE_SEAL_OVERHEAD;
	out = xmalloc(n + 1);
	if (store_unseal(k, ad, adlen, ct, ctlen, out) != 0) {
		free(out);
		return -1;
	}
	out[n] = '\0';
	*pt_r = (char *)out;
	if (len_r != NULL)
		*len_r = n;
	return 0;
}

void
store_name_hash(const struct store_keys *k, const char *domain,
    const void *name, size_t n, unsigned char out[STORE_HASH_BYTES])
{
	crypto_generichash_state s;

	crypto_generichash_init(&s, k->hash, sizeof(k->hash), STORE_HASH_BYTES);
	/* "n\0domain\0": names of different tables never share a hash. */
	crypto_generichash_update(&s, (const unsigned char *)"n", 2);
	crypto_generichash_update(&s, (const unsigned char *)domain,
	    strlen(domain) + 1);
	crypto_generichash_update(&s, name, n);
	crypto_generichash_final(&s, out, STORE_HASH_BYTES);
	sodium_memzero(&s, sizeof(s));
}

struct store_hasher *
store_hasher_new(const struct store_keys *k)
{
	/* The state wants 64-byte alignment. */
	size_t sz = (sizeof(struct store_hasher) + 63) & ~(size_t)63;
	struct store_hasher *h = aligned_alloc(64, sz);

	if (h == NULL) {
		fprintf(stderr, "mailvault: out of memory\n");
		abort();
	}
	crypto_generichash_init(&h->state, k->hash, sizeof(k->hash),
	    STORE_HASH_BYTES);
	return h;
}

void
store_hasher_update(struct store_hasher *h, const void *p, size_t n)
{
	crypto_generichash_update(&h->state, p, n);
}

void
store_hasher_final(struct store_hasher **h, unsigned char out[STORE_HASH_BYTES])
{
	crypto_generichash_final(&(*h)->state, out, STORE_HASH_BYTES);
	store_hasher_free(h);
}

void
store_hasher_free(struct store_hasher **h)
{
	if (*h == NULL)
		return;
	sodium_memzero(*h, sizeof(**h));
	free(*h);
	*h = NULL;
}

void
store_random(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

uint32_t
store_random_uniform(uint32_t upper)
{
	return randombytes_uniform(upper);
}

void
store_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

int
store_mem_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}

void
store_free_wiped(void *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}
