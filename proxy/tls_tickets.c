// SPDX-License-Identifier: GPL-2.0
/*
 * tls_tickets.c - session ticket keys for the whole process.
 *
 * OpenSSL makes random ticket keys per SSL_CTX, and a reload makes new
 * contexts: every ticket a client holds would stop working at each reload,
 * and (were contexts per worker) at every other connection. So the proxy keeps
 * one ring of keys for all contexts and workers: the current key seals new
 * tickets, the previous one still opens old ones (and asks for a new ticket),
 * and a timer moves the ring on. A ticket is thus good for one to two
 * rotations; a restart forgets every key, which is the point of rotating.
 *
 * Keys: a 16-byte name, an AES-256-CBC key and an HMAC-SHA256 key, as in
 * RFC 5077's recommended construction and OpenSSL's own.
 */
#include <pthread.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"
#include "tls.h"

struct tkey {
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
	int set;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct tkey cur, prev;

static int make_key(struct tkey *k)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 || RAND_bytes(k->aes, sizeof(k->aes)) != 1 ||
	    RAND_bytes(k->hmac, sizeof(k->hmac)) != 1)
		return -1;
	k->set = 1;
	return 0;
}

int px_tls_tickets_init(void)
{
	int rc;

	pthread_rwlock_wrlock(&lock);
	rc = make_key(&cur);
	pthread_rwlock_unlock(&lock);
	return rc;
}

void px_tls_tickets_rotate(void)
{
	struct tkey k;

	if (make_key(&k)) {
		log_warn("TLS session tickets: no random bytes for a new key; keeping the old one");
		return;
	}
	pthread_rwlock_wrlock(&lock);
	prev = cur;
	cur = k;
	pthread_rwlock_unlock(&lock);
	OPENSSL_cleanse(&k, sizeof(k));
	log_debug("TLS session tickets: new key");
}

static int set_mac(EVP_MAC_CTX *hctx, unsigned char *key)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key, 32),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	return EVP_MAC_CTX_set_params(hctx, params);
}

/* OpenSSL's ticket callback: seal (enc) with the current key, or open with
 * the key the ticket names. 1 = done, 2 = done and issue a new ticket, 0 = not
 * ours (a full handshake), -1 = error. */
static int ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *ectx,
		     EVP_MAC_CTX *hctx, int enc)
{
	struct tkey k;
	int rc = 0;

	(void)ssl;
	pthread_rwlock_rdlock(&lock);
	if (enc) {
		k = cur;
		rc = k.set ? 1 : -1;
	} else if (cur.set && !memcmp(name, cur.name, 16)) {
		k = cur;
		rc = 1;
	} else if (prev.set && !memcmp(name, prev.name, 16)) {
		k = prev;
		rc = 2;
	}
	pthread_rwlock_unlock(&lock);
	if (rc <= 0)
		return rc;
	if (enc) {
		memcpy(name, k.name, 16);
		if (RAND_bytes(iv, 16) != 1 ||
		    !EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k.aes, iv))
			rc = -1;
	} else if (!EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k.aes, iv)) {
		rc = -1;
	}
	if (rc > 0 && !set_mac(hctx, k.hmac))
		rc = -1;
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

void px_tls_tickets_attach(SSL_CTX *ctx)
{
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
}
