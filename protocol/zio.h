/*
 * zio.h — zlib-format (RFC 1950) compression with bounds, for every body on the wire.
 *
 * zio_inflate checks the output size while inflating, so a decompression bomb stops
 * at the limit having cost at most `max_out` bytes of memory.
 */
#ifndef LK_ZIO_H
#define LK_ZIO_H

#include <stddef.h>

enum zio_result {
	ZIO_OK = 0,
	ZIO_NOMEM,      /* allocation failed */
	ZIO_TRUNCATED,  /* the stream ended before its end marker */
	ZIO_CORRUPT,    /* not a valid zlib stream (bad header, data or checksum) */
	ZIO_TOO_LARGE,  /* inflated output would exceed max_out */
	ZIO_TRAILING,   /* bytes after the end of the stream */
};

/* Compresses in[0..len) at `level` (0-9, 6 is zlib's default). On success *out is a
 * new buffer (caller frees with free()) of *out_len bytes. */
enum zio_result zio_deflate(const void *in, size_t len, int level, unsigned char **out,
			    size_t *out_len);

/* Inflates a complete zlib stream. On success *out is a new NUL-terminated buffer
 * (caller frees with free()) of *out_len bytes (the NUL not counted). On error
 * nothing is returned and nothing leaks. */
enum zio_result zio_inflate(const void *in, size_t len, size_t max_out, unsigned char **out,
			    size_t *out_len);

/* English text for a result (for logs). */
const char *zio_result_str(enum zio_result r);

#endif
