/*
 * zio.c — zlib-format (RFC 1950) deflate and a bounded inflate.
 *
 * zio_inflate never holds more than max_out + 1 bytes of output: the buffer grows
 * geometrically but is capped, and zlib is only ever given room up to the cap, so a
 * decompression bomb is detected after producing max_out + 1 bytes, not after
 * producing all of them. Only this file and the fuzz harnesses include zlib.h.
 */
#include "zio.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include <zlib.h>

/* zlib counts in uInt; feed it at most this much per call. */
#define ZIO_CHUNK_MAX ((size_t)UINT_MAX)

enum zio_result zio_deflate(const void *in, size_t len, int level, unsigned char **out,
			    size_t *out_len)
{
	if (level < 0 || level > 9)
		level = Z_DEFAULT_COMPRESSION;
	if (len > ZIO_CHUNK_MAX)
		return ZIO_TOO_LARGE;
	uLong bound = compressBound((uLong)len);
	unsigned char *buf = malloc(bound ? bound : 1);
	if (!buf)
		return ZIO_NOMEM;
	uLongf n = bound;
	int rc = compress2(buf, &n, in, (uLong)len, level);
	if (rc != Z_OK) {
		free(buf);
		return rc == Z_MEM_ERROR ? ZIO_NOMEM : ZIO_CORRUPT;
	}
	*out = buf;
	*out_len = n;
	return ZIO_OK;
}

enum zio_result zio_inflate(const void *in, size_t len, size_t max_out, unsigned char **out,
			    size_t *out_len)
{
	if (len == 0)
		return ZIO_TRUNCATED;
	if (len > ZIO_CHUNK_MAX || max_out >= SIZE_MAX - 2)
		return ZIO_TOO_LARGE;
	z_stream zs = { 0 };
	if (inflateInit(&zs) != Z_OK)
		return ZIO_NOMEM;
	/* cap: max_out bytes plus one, which if filled proves the output is too large. */
	size_t cap = max_out + 1;
	size_t size = len * 4 + 256;
	if (size > cap)
		size = cap;
	unsigned char *buf = malloc(size + 1);
	enum zio_result res = ZIO_OK;
	size_t total = 0;
	if (!buf) {
		res = ZIO_NOMEM;
		goto done;
	}
	zs.next_in = (Bytef *)(uintptr_t)in; /* zlib does not write through next_in */
	zs.avail_in = (uInt)len;
	for (;;) {
		if (total == size) {
			if (size == cap) {
				res = ZIO_TOO_LARGE;
				goto done;
			}
			size_t nsize = size > cap / 2 ? cap : size * 2;
			unsigned char *nbuf = realloc(buf, nsize + 1);
			if (!nbuf) {
				res = ZIO_NOMEM;
				goto done;
			}
			buf = nbuf;
			size = nsize;
		}
		size_t room = size - total;
		zs.next_out = buf + total;
		zs.avail_out = (uInt)(room > ZIO_CHUNK_MAX ? ZIO_CHUNK_MAX : room);
		uInt before = zs.avail_out;
		int rc = inflate(&zs, Z_NO_FLUSH);
		total += before - zs.avail_out;
		if (rc == Z_STREAM_END) {
			if (total > max_out)
				res = ZIO_TOO_LARGE;
			else if (zs.avail_in > 0)
				res = ZIO_TRAILING;
			break;
		}
		if (rc == Z_OK)
			continue;
		if (rc == Z_BUF_ERROR) {
			if (zs.avail_in == 0) {
				res = ZIO_TRUNCATED;
				goto done;
			}
			if (zs.avail_out == 0)
				continue; /* no room: the loop grows the buffer */
			res = ZIO_CORRUPT; /* no progress with input and room: never expected */
			goto done;
		}
		res = rc == Z_MEM_ERROR ? ZIO_NOMEM : ZIO_CORRUPT;
		goto done;
	}
done:
	inflateEnd(&zs);
	if (res != ZIO_OK) {
		free(buf);
		return res;
	}
	buf[total] = '\0';
	*out = buf;
	*out_len = total;
	return ZIO_OK;
}

const char *zio_result_str(enum zio_result r)
{
	switch (r) {
	case ZIO_OK: return "ok";
	case ZIO_NOMEM: return "out of memory";
	case ZIO_TRUNCATED: return "truncated zlib stream";
	case ZIO_CORRUPT: return "corrupt zlib stream";
	case ZIO_TOO_LARGE: return "inflated body too large";
	case ZIO_TRAILING: return "bytes after the end of the zlib stream";
	}
	return "unknown zio result";
}
