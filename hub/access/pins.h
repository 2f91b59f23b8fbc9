/*
 * pins.h — the public-key pin of a PEM file, in libcurl's CURLOPT_PINNEDPUBLICKEY form
 * ("sha256//" + base64 of the SHA-256 of the key's DER SubjectPublicKeyInfo), for join
 * codes (PROTOCOL.md §12). The file may hold a certificate (the hub's), a public key or
 * a private key (a backup key kept off the server): all give the same pin for one key.
 */
#ifndef LK_HUB_PINS_H
#define LK_HUB_PINS_H

#include <stddef.h>

#include "joincode.h"

/* 0 and the pin in out; -1 with an English reason in err. */
int pins_from_pem(const char *path, char out[JOINCODE_PIN_LEN + 1], char *err, size_t errlen);

#endif
