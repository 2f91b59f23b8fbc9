/*
 * pins.c — public-key pins from PEM files (OpenSSL's PEM readers and SHA-256).
 */
#include "pins.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

/* The key in a PEM file: a certificate's, a public key, or a private key's public half. */
static EVP_PKEY *read_key(const char *path)
{
	EVP_PKEY *k = NULL;
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	if (x) {
		k = X509_get_pubkey(x);
		X509_free(x);
	}
	if (!k) {
		rewind(f);
		k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	}
	if (!k) {
		rewind(f);
		/* no pass-phrase callback: an encrypted key is refused, never prompted for */
		k = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
	}
	fclose(f);
	ERR_clear_error(); /* the readers that did not match left errors behind */
	return k;
}

int pins_from_pem(const char *path, char out[JOINCODE_PIN_LEN + 1], char *err, size_t errlen)
{
	FILE *probe = fopen(path, "r");
	if (!probe) {
		snprintf(err, errlen, "cannot open '%s'", path);
		return -1;
	}
	fclose(probe);
	EVP_PKEY *k = read_key(path);
	if (!k) {
		snprintf(err, errlen, "'%s' holds no PEM certificate, public key or unencrypted private key",
			 path);
		return -1;
	}
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(k, &der);
	EVP_PKEY_free(k);
	if (len <= 0) {
		snprintf(err, errlen, "cannot encode the public key of '%s'", path);
		return -1;
	}
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(der, (size_t)len, md);
	OPENSSL_free(der);
	memcpy(out, "sha256//", 8);
	EVP_EncodeBlock((unsigned char *)out + 8, md, sizeof md); /* 44 characters + NUL */
	return 0;
}
