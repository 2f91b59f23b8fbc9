/*
 * faultproxy — a fault-injecting TCP relay for the reliability tests and the slow-link
 * benchmark. It sits between agents and the hub on loopback and relays bytes both
 * ways, and it can:
 *   - shape the link: a token bucket of --rate-bps bits per second in each direction of
 *     each connection, then --latency-ms of one-way delay added to every chunk (bytes
 *     are serialised at the rate first, then travel for the latency, like a real link);
 *   - break connections per connection, as chosen by a fault spec (see fault_usage
 *     below): cut before, during or after the request, during or after the answer,
 *     truncate the answer with a clean FIN, delay the start or the answer, at random
 *     with a seed, or on every Nth connection.
 * The spec, rate and latency can be changed while running through a control file,
 * re-read when it changes (its mtime, size or inode) or on SIGHUP; the new values apply
 * to connections accepted afterwards. SIGUSR1 prints the counters; SIGTERM or SIGINT
 * prints them and stops cleanly (every socket closed, every buffer freed).
 *
 * Design: one thread and one poll() loop over every socket, so there is nothing to
 * join and no lock; a few thousand connections cost one pollfd each. Each connection
 * pair is a `struct session` with two `struct direction`s (client->server "up",
 * server->client "down"). A direction is a ring buffer holding the stream from the
 * offset written to the destination up to the offset read from the source, and three
 * cursors in between: written <= ready <= passed <= read. `passed` advances as the
 * token bucket allows; each advance records a marker "bytes up to here become
 * writable at now + latency"; `ready` follows the markers that are due.
 * Invariant: a byte is never written before its marker is due, and a fault that cuts a
 * stream at BYTES never lets byte BYTES+1 pass (`limit`).
 *
 * "Drop" means an abortive close (RST, SO_LINGER 0) of both sockets, but only once the
 * bytes relayed so far have left our send queues, so "BYTES relayed" is exact
 * (drop-before-request alone is a plain close: there is nothing in flight yet).
 * "Truncate" means a FIN to the client after BYTES, then the client is drained.
 * Loopback only: the listen and target addresses must be in 127.0.0.0/8.
 * This is a test tool: it logs, exits on bad usage, and owns its process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bytes buffered per direction: far above a 32 kbit/s x 500 ms link's 2 KB in flight,
 * enough for loopback throughput; a power of two so ring offsets wrap cheaply. */
#define DIRECTION_BUFFER_BYTES ((size_t)32 * 1024)
/* Rate-stage advances remembered per direction until due; when full, the newest one is
 * extended (bytes arrive a little later, never earlier). */
#define MAX_MARKERS 64
/* Bucket depth: a burst of at most this many ms worth of bytes keeps the rate smooth
 * at the scale the tests measure (seconds). */
#define RATE_BURST_MS 20
/* While throttled, wake up at least this often so small transfers keep flowing. */
#define RATE_TICK_MS 10
/* How long an abortive close waits for already-relayed bytes to leave our send queue. */
#define FLUSH_TIMEOUT_MS 3000
/* How long a truncated client may keep the socket open after our FIN. */
#define DRAIN_TIMEOUT_MS 2000
/* An HTTP message whose length is not given (chunked, close-delimited) is considered
 * complete after its sender has been idle this long. */
#define MESSAGE_IDLE_MS 200
/* HTTP heads longer than this are not parsed; the idle rule applies instead. */
#define MAX_HEAD_BYTES 16384
/* Upper bounds on the spec's numbers, to catch typos (an hour, a GB). */
#define MAX_DELAY_MS 3600000ULL
#define MAX_FAULT_BYTES (1024ULL * 1024 * 1024)
#define MAX_RATE_BPS 10000000000ULL
/* random:P picks byte offsets in [0, this] unless given (a few change sets' worth). */
#define RANDOM_DEFAULT_MAX_BYTES 4096ULL
/* random:P picks delays in [0, this] ms. */
#define RANDOM_MAX_DELAY_MS 2000ULL
/* every:N:random:P... nests at most this deep. */
#define MAX_SPEC_NODES 8
#define MAX_SPEC_CHARS 256
/* The control file is small; more than this is a mistake. */
#define MAX_CONTROL_BYTES 4096
/* How often the control file's mtime is looked at, by default (0 = only on SIGHUP). */
#define DEFAULT_CONTROL_CHECK_MS 50
/* After accept() fails for lack of descriptors, stop accepting for this long. */
#define ACCEPT_BACKOFF_MS 100
/* Descriptors we try to allow ourselves (two per connection, plus a few). */
#define WANTED_NOFILE 16384

/* ---------------------------------------------------------------- faults */

enum fault_kind {
	FAULT_NONE,
	FAULT_DROP_BEFORE_REQUEST,
	FAULT_DROP_DURING_REQUEST,
	FAULT_DROP_AFTER_REQUEST,
	FAULT_DROP_DURING_ANSWER,
	FAULT_DROP_AFTER_ANSWER,
	FAULT_TRUNCATE_ANSWER,
	FAULT_DELAY,
	FAULT_DELAY_ANSWER,
	FAULT_KIND_COUNT
};

struct fault_kind_info {
	const char *name;
	bool takes_number; /* BYTES or MS after a colon */
};

static const struct fault_kind_info fault_kinds[FAULT_KIND_COUNT] = {
	[FAULT_NONE] = {"none", false},
	[FAULT_DROP_BEFORE_REQUEST] = {"drop-before-request", false},
	[FAULT_DROP_DURING_REQUEST] = {"drop-during-request", true},
	[FAULT_DROP_AFTER_REQUEST] = {"drop-after-request", false},
	[FAULT_DROP_DURING_ANSWER] = {"drop-during-answer", true},
	[FAULT_DROP_AFTER_ANSWER] = {"drop-after-answer", false},
	[FAULT_TRUNCATE_ANSWER] = {"truncate-answer", true},
	[FAULT_DELAY] = {"delay", true},
	[FAULT_DELAY_ANSWER] = {"delay-answer", true},
};

static const char fault_usage[] =
	"fault specs (one per connection; the counters say which were injected):\n"
	"  none                      relay unchanged\n"
	"  drop-before-request       accept, then close before reading anything\n"
	"  drop-during-request:BYTES relay BYTES of the request, then reset both sides\n"
	"                            (only if the request is longer than BYTES)\n"
	"  drop-after-request        relay the whole request; when the answer starts, reset\n"
	"                            both sides without relaying any of it\n"
	"  drop-during-answer:BYTES  relay BYTES of the answer, then reset both sides\n"
	"  drop-after-answer         relay the first answer fully, then reset both sides\n"
	"  truncate-answer:BYTES     relay BYTES of the answer, then a clean FIN\n"
	"  delay:MS                  relay nothing either way for MS after accept\n"
	"  delay-answer:MS           hold the answer's first byte for MS\n"
	"  random:P[:MAXBYTES]       with probability P one of the faults above, BYTES in\n"
	"                            [0,MAXBYTES] (default 4096), MS in [0,2000]; --seed\n"
	"  every:N:SPEC              SPEC on connections N, 2N, 3N... counted from the\n"
	"                            moment the spec was loaded; none on the others\n"
	"request and answer ends come from Content-Length; without one, from 200 ms idle.\n";

enum spec_node_type { SPEC_FIXED, SPEC_RANDOM, SPEC_EVERY };

struct fault {
	enum fault_kind kind;
	uint64_t arg; /* BYTES or MS */
};

struct spec_node {
	enum spec_node_type type;
	struct fault fixed;   /* SPEC_FIXED */
	double probability;   /* SPEC_RANDOM */
	uint64_t max_bytes;   /* SPEC_RANDOM */
	uint64_t every;       /* SPEC_EVERY */
	uint64_t seen;        /* SPEC_EVERY: connections counted since loaded */
};

/* A parsed spec is a chain: every:N nodes wrap the next node; the last node is fixed
 * or random. */
struct fault_spec {
	struct spec_node nodes[MAX_SPEC_NODES];
	size_t count;
	char text[MAX_SPEC_CHARS];
};

static bool parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Parses TEXT into SPEC. Returns 0, or -1 with a message in ERR. */
static int fault_spec_parse(const char *text, struct fault_spec *spec, char *err, size_t err_len)
{
	struct fault_spec s;
	memset(&s, 0, sizeof s);
	if (strlen(text) >= sizeof s.text) {
		snprintf(err, err_len, "fault spec too long");
		return -1;
	}
	snprintf(s.text, sizeof s.text, "%s", text);
	const char *p = text;
	for (;;) {
		if (s.count == MAX_SPEC_NODES) {
			snprintf(err, err_len, "fault spec '%s' nests too deep", text);
			return -1;
		}
		struct spec_node *n = &s.nodes[s.count++];
		if (strncmp(p, "every:", 6) == 0) {
			const char *num = p + 6;
			const char *colon = strchr(num, ':');
			if (!colon || !parse_u64(num, (size_t)(colon - num), UINT32_MAX, &n->every) ||
			    n->every == 0) {
				snprintf(err, err_len, "fault spec '%s': every needs N >= 1 and a spec", text);
				return -1;
			}
			n->type = SPEC_EVERY;
			p = colon + 1;
			continue;
		}
		if (strncmp(p, "random:", 7) == 0) {
			const char *num = p + 7;
			char *end = NULL;
			errno = 0;
			double prob = strtod(num, &end);
			if (end == num || errno != 0 || !(prob >= 0.0 && prob <= 1.0)) {
				snprintf(err, err_len, "fault spec '%s': random needs 0 <= P <= 1", text);
				return -1;
			}
			n->type = SPEC_RANDOM;
			n->probability = prob;
			n->max_bytes = RANDOM_DEFAULT_MAX_BYTES;
			if (*end == ':') {
				if (!parse_u64(end + 1, strlen(end + 1), MAX_FAULT_BYTES, &n->max_bytes)) {
					snprintf(err, err_len, "fault spec '%s': bad MAXBYTES", text);
					return -1;
				}
			} else if (*end != '\0') {
				snprintf(err, err_len, "fault spec '%s': junk after P", text);
				return -1;
			}
			break;
		}
		const char *colon = strchr(p, ':');
		size_t name_len = colon ? (size_t)(colon - p) : strlen(p);
		int kind = -1;
		for (int k = 0; k < FAULT_KIND_COUNT; k++) {
			if (strlen(fault_kinds[k].name) == name_len &&
			    strncmp(fault_kinds[k].name, p, name_len) == 0)
				kind = k;
		}
		if (kind < 0) {
			snprintf(err, err_len, "unknown fault '%.*s' in '%s'", (int)name_len, p, text);
			return -1;
		}
		n->type = SPEC_FIXED;
		n->fixed.kind = (enum fault_kind)kind;
		if (fault_kinds[kind].takes_number) {
			uint64_t max = (kind == FAULT_DELAY || kind == FAULT_DELAY_ANSWER)
					       ? MAX_DELAY_MS : MAX_FAULT_BYTES;
			if (!colon || !parse_u64(colon + 1, strlen(colon + 1), max, &n->fixed.arg)) {
				snprintf(err, err_len, "fault '%s' needs a number after ':'",
					 fault_kinds[kind].name);
				return -1;
			}
		} else if (colon) {
			snprintf(err, err_len, "fault '%s' takes no argument", fault_kinds[kind].name);
			return -1;
		}
		break;
	}
	*spec = s;
	return 0;
}

/* xorshift64*: small, seeded, reproducible; quality is ample for picking faults. */
static uint64_t rng_state = 1;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint64_t rng_below(uint64_t n) /* uniform in [0, n) for n >= 1 */
{
	return rng_next() % n;
}

static double rng_unit(void) /* uniform in [0, 1) */
{
	return (double)(rng_next() >> 11) / 9007199254740992.0;
}

/* Chooses the fault for the next connection, advancing every:N counters. */
static struct fault fault_spec_choose(struct fault_spec *spec)
{
	struct fault none = {FAULT_NONE, 0};
	for (size_t i = 0; i < spec->count; i++) {
		struct spec_node *n = &spec->nodes[i];
		switch (n->type) {
		case SPEC_EVERY:
			n->seen++;
			if (n->seen % n->every != 0)
				return none;
			continue;
		case SPEC_FIXED:
			return n->fixed;
		case SPEC_RANDOM: {
			if (n->probability <= 0.0 || rng_unit() >= n->probability)
				return none;
			struct fault f;
			f.kind = (enum fault_kind)(1 + rng_below(FAULT_KIND_COUNT - 1));
			if (f.kind == FAULT_DELAY || f.kind == FAULT_DELAY_ANSWER)
				f.arg = rng_below(RANDOM_MAX_DELAY_MS + 1);
			else if (fault_kinds[f.kind].takes_number)
				f.arg = rng_below(n->max_bytes + 1);
			else
				f.arg = 0;
			return f;
		}
		}
	}
	return none;
}

static void fault_format(struct fault f, char *buf, size_t len)
{
	if (fault_kinds[f.kind].takes_number)
		snprintf(buf, len, "%s:%" PRIu64, fault_kinds[f.kind].name, f.arg);
	else
		snprintf(buf, len, "%s", fault_kinds[f.kind].name);
}

/* ---------------------------------------------------------------- logging, clock */

static FILE *log_file; /* --log, or NULL for stderr only */
static int64_t start_ms;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 1, 2)))
static void log_line(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	FILE *out = log_file ? log_file : stderr;
	fprintf(out, "faultproxy %8.3f %s\n", (double)(now_ms() - start_ms) / 1000.0, line);
	fflush(out);
}

/* ---------------------------------------------------------------- configuration */

struct link_config {
	struct fault_spec spec;
	uint64_t rate_bps;   /* 0 = unlimited */
	uint64_t latency_ms; /* one-way, added to every chunk */
};

struct stats {
	uint64_t connections;
	uint64_t upstream_failures;
	uint64_t peer_resets;
	uint64_t faults[FAULT_KIND_COUNT]; /* injected, not merely chosen */
	uint64_t bytes_up;                 /* delivered to the server */
	uint64_t bytes_down;               /* delivered to the client */
	uint64_t open_now;
	uint64_t open_peak;
};

static struct link_config config;
static struct stats stats;

/* ---------------------------------------------------------------- sessions */

struct marker {
	uint64_t end;   /* stream offset */
	int64_t due_ms; /* when bytes up to end become writable */
};

struct direction {
	unsigned char *buf;     /* DIRECTION_BUFFER_BYTES ring */
	uint64_t read;          /* offset read from the source */
	uint64_t passed;        /* offset through the rate stage */
	uint64_t ready;         /* offset whose latency has elapsed */
	uint64_t written;       /* offset written to the destination */
	uint64_t limit;         /* never pass beyond (a cut); UINT64_MAX if none */
	struct marker markers[MAX_MARKERS];
	size_t marker_head, marker_count;
	int64_t tokens_bitms;   /* token bucket, in bit-milliseconds */
	int64_t refill_ms;
	int64_t hold_until_ms;  /* nothing passes before this */
	int64_t last_read_ms;
	bool eof;               /* source sent FIN */
	bool shut;              /* we sent FIN to the destination */
	/* HTTP framing of the first message, for the faults that need it. */
	char *head;             /* first bytes, until the head ends */
	size_t head_len;
	bool head_done;
	bool length_known;
	uint64_t message_end;   /* stream offset where the first message ends */
};

enum session_state { S_RELAY, S_FLUSH_THEN_RESET, S_DRAIN };

struct session {
	uint64_t id;
	int client_fd, server_fd;
	bool connecting;
	enum session_state state;
	int64_t deadline_ms; /* S_FLUSH_THEN_RESET, S_DRAIN */
	struct fault fault;
	bool fault_injected;
	uint64_t rate_bps, latency_ms;
	struct direction up, down;
	bool request_complete; /* drop-after-request: the whole request reached the server */
	bool answer_delayed;   /* delay-answer: the hold has been set */
};

static void direction_init(struct direction *d, int64_t now)
{
	memset(d, 0, sizeof *d);
	d->limit = UINT64_MAX;
	d->refill_ms = now;
	d->last_read_ms = now;
}

static void direction_release(struct direction *d)
{
	free(d->buf);
	free(d->head);
	d->buf = NULL;
	d->head = NULL;
}

static void set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void set_nodelay(int fd)
{
	int one = 1;
	/* Nagle would add its own delay on top of the latency we simulate. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void close_fd(int *fd, bool reset)
{
	if (*fd < 0)
		return;
	if (reset) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		(void)setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	(void)close(*fd);
	*fd = -1;
}

static size_t outq_bytes(int fd)
{
	int n = 0;
	if (fd < 0 || ioctl(fd, TIOCOUTQ, &n) != 0 || n < 0)
		return 0;
	return (size_t)n;
}

static void session_inject(struct session *s)
{
	if (s->fault_injected)
		return;
	s->fault_injected = true;
	stats.faults[s->fault.kind]++;
	char name[64];
	fault_format(s->fault, name, sizeof name);
	log_line("conn %" PRIu64 ": injecting %s (up %" PRIu64 " down %" PRIu64 ")", s->id, name,
		 s->up.written, s->down.written);
}

/* Ends the relay with an abortive close once our send queues are empty. */
static void session_abort_after_flush(struct session *s, int64_t now)
{
	if (s->state != S_RELAY)
		return;
	s->state = S_FLUSH_THEN_RESET;
	s->deadline_ms = now + FLUSH_TIMEOUT_MS;
}

/* FIN to the client after what it has, reset the server, then drain the client. */
static void session_truncate(struct session *s, int64_t now)
{
	if (s->state != S_RELAY)
		return;
	(void)shutdown(s->client_fd, SHUT_WR);
	close_fd(&s->server_fd, true);
	s->state = S_DRAIN;
	s->deadline_ms = now + DRAIN_TIMEOUT_MS;
}

/* Parses the head of the first HTTP message of D from its captured bytes: sets
 * message_end when Content-Length (or the absence of a body) says where it ends.
 * IS_ANSWER: skip 1xx interim answers; 204 and 304 have no body. */
static void direction_parse_head(struct direction *d, bool is_answer)
{
	size_t start = 0;
	for (;;) {
		const char *h = d->head + start;
		size_t len = d->head_len - start;
		const char *end = NULL;
		for (size_t i = 0; i + 3 < len; i++) {
			if (memcmp(h + i, "\r\n\r\n", 4) == 0) {
				end = h + i + 4;
				break;
			}
		}
		if (!end) {
			if (d->head_len >= MAX_HEAD_BYTES - 1)
				d->head_done = true; /* give up: idle rule */
			return;
		}
		size_t head_bytes = (size_t)(end - h);
		int status = 0;
		if (is_answer && len > 12 && strncmp(h, "HTTP/", 5) == 0) {
			const char *sp = memchr(h, ' ', head_bytes);
			if (sp)
				status = atoi(sp + 1);
			if (status >= 100 && status < 200) {
				start += head_bytes;
				continue;
			}
		}
		bool chunked = false, have_length = false;
		uint64_t content_length = 0;
		const char *line = h;
		while (line < end) {
			const char *eol = line;
			while (eol < end && *eol != '\r')
				eol++;
			size_t ll = (size_t)(eol - line);
			if (ll > 15 && strncasecmp(line, "content-length:", 15) == 0) {
				const char *v = line + 15;
				while (v < eol && (*v == ' ' || *v == '\t'))
					v++;
				const char *ve = v;
				while (ve < eol && *ve >= '0' && *ve <= '9')
					ve++;
				have_length = parse_u64(v, (size_t)(ve - v), MAX_FAULT_BYTES * 64,
							&content_length);
			} else if (ll > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) {
				chunked = true;
			}
			line = eol + 2;
		}
		d->head_done = true;
		if (chunked)
			return;
		if (have_length || !is_answer || status == 204 || status == 304) {
			/* A request without Content-Length has no body. */
			d->length_known = true;
			d->message_end = (uint64_t)start + head_bytes + (have_length ? content_length : 0);
		}
		return;
	}
}

static void direction_capture_head(struct direction *d, const unsigned char *data, size_t n,
				   bool is_answer)
{
	if (d->head_done)
		return;
	if (!d->head) {
		d->head = malloc(MAX_HEAD_BYTES);
		if (!d->head) {
			d->head_done = true;
			return;
		}
	}
	size_t room = MAX_HEAD_BYTES - 1 - d->head_len;
	size_t take = n < room ? n : room;
	memcpy(d->head + d->head_len, data, take);
	d->head_len += take;
	d->head[d->head_len] = '\0';
	direction_parse_head(d, is_answer);
}

/* Whether D's first message has fully reached its destination. */
static bool direction_message_delivered(const struct direction *d, int64_t now)
{
	if (d->written == 0 || d->written != d->read)
		return false;
	if (d->length_known)
		return d->written >= d->message_end;
	return d->eof || now - d->last_read_ms >= MESSAGE_IDLE_MS;
}

static bool faults_need_framing(enum fault_kind k)
{
	return k == FAULT_DROP_AFTER_REQUEST || k == FAULT_DROP_AFTER_ANSWER;
}

/* Reads from FD into D. Returns 0, or -1 on a reset or error of the source. */
static int direction_read(struct session *s, struct direction *d, int fd, int64_t now)
{
	bool is_answer = d == &s->down;
	while (d->read - d->written < DIRECTION_BUFFER_BYTES && !d->eof &&
	       d->read <= d->limit) {
		size_t used = (size_t)(d->read - d->written);
		size_t at = (size_t)(d->read % DIRECTION_BUFFER_BYTES);
		size_t room = DIRECTION_BUFFER_BYTES - used;
		if (room > DIRECTION_BUFFER_BYTES - at)
			room = DIRECTION_BUFFER_BYTES - at;
		ssize_t n = recv(fd, d->buf + at, room, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		if (n == 0) {
			d->eof = true;
			return 0;
		}
		if (faults_need_framing(s->fault.kind))
			direction_capture_head(d, d->buf + at, (size_t)n, is_answer);
		d->read += (uint64_t)n;
		d->last_read_ms = now;
	}
	return 0;
}

static void direction_push_marker(struct direction *d, uint64_t end, int64_t due)
{
	if (d->marker_count > 0) {
		struct marker *last = &d->markers[(d->marker_head + d->marker_count - 1) % MAX_MARKERS];
		if (last->due_ms >= due || d->marker_count == MAX_MARKERS) {
			last->end = end;
			if (due > last->due_ms)
				last->due_ms = due;
			return;
		}
	}
	d->markers[(d->marker_head + d->marker_count) % MAX_MARKERS] =
		(struct marker){.end = end, .due_ms = due};
	d->marker_count++;
}

static int64_t rate_burst_bitms(uint64_t rate_bps)
{
	int64_t burst = (int64_t)rate_bps * RATE_BURST_MS;
	return burst < 8000 * 2 ? 8000 * 2 : burst; /* at least two bytes, however slow */
}

/* Moves bytes through the rate stage and the latency stage. */
static void direction_advance(struct session *s, struct direction *d, int64_t now)
{
	if (s->rate_bps > 0) {
		/* Idle time fills the bucket up to its burst, as on a real link. */
		d->tokens_bitms += (now - d->refill_ms) * (int64_t)s->rate_bps;
		int64_t burst = rate_burst_bitms(s->rate_bps);
		if (d->tokens_bitms > burst)
			d->tokens_bitms = burst;
	}
	d->refill_ms = now;
	uint64_t avail_end = d->read < d->limit ? d->read : d->limit;
	if (now >= d->hold_until_ms && avail_end > d->passed) {
		uint64_t n = avail_end - d->passed;
		if (s->rate_bps > 0) {
			uint64_t affordable = (uint64_t)(d->tokens_bitms / 8000);
			if (n > affordable)
				n = affordable;
			d->tokens_bitms -= (int64_t)n * 8000;
		}
		if (n > 0) {
			d->passed += n;
			direction_push_marker(d, d->passed, now + (int64_t)s->latency_ms);
		}
	}
	while (d->marker_count > 0 && d->markers[d->marker_head].due_ms <= now) {
		d->ready = d->markers[d->marker_head].end;
		d->marker_head = (d->marker_head + 1) % MAX_MARKERS;
		d->marker_count--;
	}
}

/* Writes D's ready bytes to FD. Returns 0, or -1 if the destination failed. */
static int direction_write(struct direction *d, int fd, uint64_t *counter)
{
	while (d->written < d->ready) {
		size_t at = (size_t)(d->written % DIRECTION_BUFFER_BYTES);
		size_t n = (size_t)(d->ready - d->written);
		if (n > DIRECTION_BUFFER_BYTES - at)
			n = DIRECTION_BUFFER_BYTES - at;
		ssize_t w = send(fd, d->buf + at, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		d->written += (uint64_t)w;
		*counter += (uint64_t)w;
	}
	return 0;
}

/* The earliest time D needs attention without socket activity, or INT64_MAX. */
static int64_t direction_next_event(const struct session *s, const struct direction *d,
				    int64_t now)
{
	int64_t next = INT64_MAX;
	uint64_t avail_end = d->read < d->limit ? d->read : d->limit;
	if (avail_end > d->passed) {
		if (now < d->hold_until_ms)
			next = d->hold_until_ms;
		else if (s->rate_bps > 0)
			next = now + RATE_TICK_MS;
		else
			next = now;
	}
	if (d->marker_count > 0 && d->markers[d->marker_head].due_ms < next)
		next = d->markers[d->marker_head].due_ms;
	return next;
}

static struct session *session_new(uint64_t id, int client_fd, const struct sockaddr_in *target,
				   int64_t now)
{
	struct session *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->id = id;
	s->client_fd = client_fd;
	s->server_fd = -1;
	s->state = S_RELAY;
	s->rate_bps = config.rate_bps;
	s->latency_ms = config.latency_ms;
	s->fault = fault_spec_choose(&config.spec);
	direction_init(&s->up, now);
	direction_init(&s->down, now);
	/* A fresh link has been idle: its buckets start full. */
	s->up.tokens_bitms = s->down.tokens_bitms = rate_burst_bitms(s->rate_bps);
	if (s->fault.kind == FAULT_DROP_BEFORE_REQUEST)
		return s; /* no upstream, no buffers: reset on the first turn */
	s->up.buf = malloc(DIRECTION_BUFFER_BYTES);
	s->down.buf = malloc(DIRECTION_BUFFER_BYTES);
	if (!s->up.buf || !s->down.buf)
		goto fail;
	switch (s->fault.kind) {
	case FAULT_DROP_DURING_REQUEST:
		s->up.limit = s->fault.arg;
		break;
	case FAULT_DROP_DURING_ANSWER:
	case FAULT_TRUNCATE_ANSWER:
		s->down.limit = s->fault.arg;
		break;
	case FAULT_DELAY:
		s->up.hold_until_ms = now + (int64_t)s->fault.arg;
		s->down.hold_until_ms = now + (int64_t)s->fault.arg;
		break;
	default:
		break;
	}
	s->server_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->server_fd < 0)
		goto fail;
	set_nonblocking(s->server_fd);
	set_nodelay(s->server_fd);
	if (connect(s->server_fd, (const struct sockaddr *)target, sizeof *target) != 0) {
		if (errno != EINPROGRESS)
			goto fail;
		s->connecting = true;
	}
	return s;
fail:
	close_fd(&s->server_fd, false);
	direction_release(&s->up);
	direction_release(&s->down);
	free(s);
	return NULL;
}

static void session_free(struct session *s, bool reset)
{
	if (!s)
		return;
	char name[64];
	fault_format(s->fault, name, sizeof name);
	log_line("conn %" PRIu64 ": closed, fault %s%s, up %" PRIu64 " down %" PRIu64, s->id, name,
		 s->fault.kind == FAULT_NONE ? "" : s->fault_injected ? " injected" : " not reached",
		 s->up.written, s->down.written);
	close_fd(&s->client_fd, reset);
	close_fd(&s->server_fd, reset);
	direction_release(&s->up);
	direction_release(&s->down);
	free(s);
	stats.open_now--;
}

/* Checks the faults that trigger on stream positions; may move the session out of
 * S_RELAY. */
static void session_check_faults(struct session *s, int64_t now)
{
	if (s->state != S_RELAY)
		return;
	switch (s->fault.kind) {
	case FAULT_DROP_DURING_REQUEST:
		if (s->up.read > s->up.limit && s->up.written == s->up.limit) {
			session_inject(s);
			session_abort_after_flush(s, now);
		}
		break;
	case FAULT_DROP_DURING_ANSWER:
		if (s->down.read > s->down.limit && s->down.written == s->down.limit) {
			session_inject(s);
			session_abort_after_flush(s, now);
		}
		break;
	case FAULT_TRUNCATE_ANSWER:
		if (s->down.read > s->down.limit && s->down.written == s->down.limit) {
			session_inject(s);
			session_truncate(s, now);
		}
		break;
	case FAULT_DROP_AFTER_REQUEST:
		if (!s->request_complete && direction_message_delivered(&s->up, now))
			s->request_complete = true;
		break;
	case FAULT_DROP_AFTER_ANSWER:
		if (direction_message_delivered(&s->down, now)) {
			session_inject(s);
			session_abort_after_flush(s, now);
		}
		break;
	case FAULT_DELAY:
		if (s->up.read > 0 || s->down.read > 0) {
			if (now >= s->up.hold_until_ms)
				session_inject(s);
		}
		break;
	default:
		break;
	}
}

/* One turn of a session after poll. Returns false when the session is finished;
 * *RESET says how to close it. */
static bool session_step(struct session *s, short client_rev, short server_rev, int64_t now,
			 bool *reset)
{
	*reset = false;
	if (s->fault.kind == FAULT_DROP_BEFORE_REQUEST) {
		/* A plain close: the client has connected, then sees the connection end (a
		 * FIN, or a reset if its request had already arrived). Resetting at once could
		 * race the client's own connect and look like "cannot connect" instead. */
		session_inject(s);
		return false;
	}
	if (s->state == S_DRAIN) {
		if (client_rev & (POLLIN | POLLHUP | POLLERR)) {
			char sink[4096];
			ssize_t n;
			while ((n = recv(s->client_fd, sink, sizeof sink, 0)) > 0)
				;
			if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
				return false;
		}
		return now < s->deadline_ms;
	}
	if (s->state == S_FLUSH_THEN_RESET) {
		*reset = true;
		if (now >= s->deadline_ms)
			return false;
		return outq_bytes(s->client_fd) > 0 || outq_bytes(s->server_fd) > 0;
	}
	if (s->connecting) {
		if (server_rev & (POLLOUT | POLLERR | POLLHUP)) {
			int err = 0;
			socklen_t len = sizeof err;
			if (getsockopt(s->server_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
				stats.upstream_failures++;
				log_line("conn %" PRIu64 ": cannot connect to the target: %s", s->id,
					 strerror(err ? err : errno));
				*reset = true;
				return false;
			}
			s->connecting = false;
			server_rev = 0;
		}
	}
	if (client_rev & (POLLIN | POLLHUP | POLLERR)) {
		if (direction_read(s, &s->up, s->client_fd, now) != 0)
			goto peer_reset;
	}
	if (!s->connecting && (server_rev & (POLLIN | POLLHUP | POLLERR))) {
		uint64_t before = s->down.read;
		if (direction_read(s, &s->down, s->server_fd, now) != 0)
			goto peer_reset;
		if (s->fault.kind == FAULT_DROP_AFTER_REQUEST && s->down.read > before) {
			if (!s->request_complete && direction_message_delivered(&s->up, now))
				s->request_complete = true;
			if (s->request_complete) {
				/* The server has answered a request it received whole: the client
				 * never hears of it. */
				session_inject(s);
				s->down.limit = s->down.written;
				*reset = true;
				return false;
			}
		}
	}
	if (s->fault.kind == FAULT_DELAY_ANSWER && !s->answer_delayed && s->down.read > 0) {
		/* Before the rate stage sees the first answer byte. */
		s->answer_delayed = true;
		s->down.hold_until_ms = now + (int64_t)s->fault.arg;
		session_inject(s);
	}
	direction_advance(s, &s->up, now);
	direction_advance(s, &s->down, now);
	if (!s->connecting && direction_write(&s->up, s->server_fd, &stats.bytes_up) != 0)
		goto peer_reset;
	if (direction_write(&s->down, s->client_fd, &stats.bytes_down) != 0)
		goto peer_reset;
	session_check_faults(s, now);
	if (s->state != S_RELAY)
		return true;
	/* Half-close: a FIN is passed on once everything before it has been delivered. */
	if (s->up.eof && !s->up.shut && !s->connecting && s->up.written == s->up.read &&
	    s->up.read <= s->up.limit) {
		(void)shutdown(s->server_fd, SHUT_WR);
		s->up.shut = true;
	}
	if (s->down.eof && !s->down.shut && s->down.written == s->down.read &&
	    s->down.read <= s->down.limit) {
		(void)shutdown(s->client_fd, SHUT_WR);
		s->down.shut = true;
	}
	return !(s->up.shut && s->down.shut);
peer_reset:
	stats.peer_resets++;
	*reset = true;
	return false;
}

static int64_t session_next_event(const struct session *s, int64_t now)
{
	if (s->fault.kind == FAULT_DROP_BEFORE_REQUEST)
		return now;
	if (s->state == S_FLUSH_THEN_RESET)
		return now + 1; /* poll the send queues each millisecond; short-lived */
	if (s->state == S_DRAIN)
		return s->deadline_ms;
	int64_t a = direction_next_event(s, &s->up, now);
	int64_t b = direction_next_event(s, &s->down, now);
	int64_t next = a < b ? a : b;
	if (s->fault.kind == FAULT_DROP_AFTER_REQUEST || s->fault.kind == FAULT_DROP_AFTER_ANSWER) {
		/* The idle rule for messages of unknown length needs a clock. */
		int64_t idle = now + MESSAGE_IDLE_MS / 4;
		if (idle < next)
			next = idle;
	}
	if (s->fault.kind == FAULT_DELAY && !s->fault_injected && s->up.hold_until_ms > now &&
	    s->up.hold_until_ms < next)
		next = s->up.hold_until_ms;
	return next;
}

static void session_poll_events(const struct session *s, short *client_ev, short *server_ev)
{
	*client_ev = 0;
	*server_ev = 0;
	if (s->fault.kind == FAULT_DROP_BEFORE_REQUEST || s->state == S_FLUSH_THEN_RESET)
		return;
	if (s->state == S_DRAIN) {
		*client_ev = POLLIN;
		return;
	}
	const struct direction *u = &s->up, *d = &s->down;
	if (!u->eof && u->read - u->written < DIRECTION_BUFFER_BYTES && u->read <= u->limit)
		*client_ev |= POLLIN;
	if (d->written < d->ready)
		*client_ev |= POLLOUT;
	if (s->connecting) {
		*server_ev = POLLOUT;
		return;
	}
	if (!d->eof && d->read - d->written < DIRECTION_BUFFER_BYTES && d->read <= d->limit)
		*server_ev |= POLLIN;
	if (u->written < u->ready)
		*server_ev |= POLLOUT;
}

/* ---------------------------------------------------------------- control file */

static const char *control_path;
static uint64_t control_check_ms = DEFAULT_CONTROL_CHECK_MS;
static struct stat control_seen;
static bool control_seen_valid;

static bool parse_config_number(const char *v, uint64_t max, uint64_t *out)
{
	return parse_u64(v, strlen(v), max, out);
}

/* Applies the control file's settings. Unknown keys or bad values leave every setting
 * as it was. */
static void control_load(const char *why)
{
	FILE *f = fopen(control_path, "r");
	if (!f) {
		log_line("cannot open control file '%s': %s", control_path, strerror(errno));
		return;
	}
	char text[MAX_CONTROL_BYTES + 1];
	size_t n = fread(text, 1, MAX_CONTROL_BYTES + 1, f);
	(void)fclose(f);
	if (n > MAX_CONTROL_BYTES) {
		log_line("control file '%s' is larger than %d bytes: ignored", control_path,
			 MAX_CONTROL_BYTES);
		return;
	}
	text[n] = '\0';
	struct link_config next = config;
	bool have_spec = false;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		size_t len = strlen(line);
		while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
				   line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		char err[300];
		const char *value = line;
		char *eq = strchr(line, '=');
		if (eq) {
			*eq = '\0';
			value = eq + 1;
			if (strcmp(line, "rate-bps") == 0) {
				if (!parse_config_number(value, MAX_RATE_BPS, &next.rate_bps))
					goto bad;
				continue;
			}
			if (strcmp(line, "latency-ms") == 0) {
				if (!parse_config_number(value, MAX_DELAY_MS, &next.latency_ms))
					goto bad;
				continue;
			}
			if (strcmp(line, "fault") != 0)
				goto bad;
		}
		if (fault_spec_parse(value, &next.spec, err, sizeof err) != 0) {
			log_line("control file '%s': %s: ignored", control_path, err);
			return;
		}
		have_spec = true;
		continue;
bad:
		log_line("control file '%s': bad setting '%s': ignored", control_path, line);
		return;
	}
	if (!have_spec)
		next.spec = config.spec;
	/* A reload restarts every:N counting even if the spec text is the same, so a test
	 * knows where it stands. */
	for (size_t i = 0; i < next.spec.count; i++)
		next.spec.nodes[i].seen = 0;
	config = next;
	log_line("control (%s): fault spec now '%s', rate-bps %" PRIu64 ", latency-ms %" PRIu64,
		 why, config.spec.text, config.rate_bps, config.latency_ms);
}

static void control_check(bool force)
{
	if (!control_path)
		return;
	struct stat st;
	if (stat(control_path, &st) != 0) {
		if (force)
			log_line("cannot stat control file '%s': %s", control_path, strerror(errno));
		return;
	}
	bool changed = !control_seen_valid || st.st_ino != control_seen.st_ino ||
		       st.st_size != control_seen.st_size ||
		       st.st_mtim.tv_sec != control_seen.st_mtim.tv_sec ||
		       st.st_mtim.tv_nsec != control_seen.st_mtim.tv_nsec;
	if (!changed && !force)
		return;
	control_seen = st;
	control_seen_valid = true;
	control_load(force ? "SIGHUP" : "file changed");
}

/* ---------------------------------------------------------------- signals */

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	char c = sig == SIGHUP ? 'H' : sig == SIGUSR1 ? 'U' : 'T';
	(void)!write(signal_pipe[1], &c, 1);
	errno = saved;
}

static void print_stats(void)
{
	char faults[1024];
	size_t off = 0;
	uint64_t total = 0;
	for (int k = 1; k < FAULT_KIND_COUNT; k++) {
		total += stats.faults[k];
		int w = snprintf(faults + off, sizeof faults - off, " %s=%" PRIu64, fault_kinds[k].name,
				 stats.faults[k]);
		if (w > 0 && (size_t)w < sizeof faults - off)
			off += (size_t)w;
	}
	char line[1536];
	snprintf(line, sizeof line,
		 "stats connections=%" PRIu64 " peak_open=%" PRIu64 " upstream_failures=%" PRIu64
		 " peer_resets=%" PRIu64 " bytes_client_to_server=%" PRIu64
		 " bytes_server_to_client=%" PRIu64 " faults=%" PRIu64 "%s",
		 stats.connections, stats.open_peak, stats.upstream_failures, stats.peer_resets,
		 stats.bytes_up, stats.bytes_down, total, faults);
	log_line("%s", line);
	if (log_file)
		fprintf(stderr, "faultproxy %s\n", line);
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: faultproxy --listen 127.0.0.1:PORT --target 127.0.0.1:PORT [--port-file F]\n"
		"                  [--control-file F] [--rate-bps N] [--latency-ms N] [--fault SPEC]\n"
		"                  [--control-check-ms N] [--seed N] [--log FILE]\n"
		"  --listen      loopback address to accept on; port 0 picks a free one\n"
		"  --port-file   write the port actually bound here (atomically) once listening\n"
		"  --target      loopback address of the real server\n"
		"  --control-file  lines 'fault=SPEC', 'rate-bps=N', 'latency-ms=N' (or a bare\n"
		"                SPEC); re-read when it changes or on SIGHUP; new connections\n"
		"                use the new values\n"
		"  --control-check-ms  how often to look at its mtime (default 50; 0 = only\n"
		"                on SIGHUP)\n"
		"  --rate-bps    bits per second, each direction of each connection (0 = no limit)\n"
		"  --latency-ms  one-way delay added to every chunk\n"
		"  --seed        seed for random:P (default 1)\n"
		"  --log         append log lines here instead of stderr\n"
		"signals: SIGHUP re-reads the control file, SIGUSR1 prints the counters,\n"
		"SIGTERM/SIGINT print them and stop.\n\n%s",
		fault_usage);
}

static int parse_loopback(const char *text, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	uint64_t port;
	if (!colon || (size_t)(colon - text) >= sizeof host ||
	    !parse_u64(colon + 1, strlen(colon + 1), 65535, &port))
		return -1;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return -1;
	if ((ntohl(out->sin_addr.s_addr) >> 24) != 127)
		return -1; /* loopback only: this tool must never face a real network */
	return 0;
}

static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	int ok = fprintf(f, "%u\n", port) > 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

struct session_table {
	struct session **items;
	size_t count, cap;
};

static int session_table_add(struct session_table *t, struct session *s)
{
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct session **items = realloc(t->items, cap * sizeof *items);
		if (!items)
			return -1;
		t->items = items;
		t->cap = cap;
	}
	t->items[t->count++] = s;
	return 0;
}

int main(int argc, char **argv)
{
	const char *listen_text = NULL, *target_text = NULL, *port_file = NULL;
	const char *fault_text = "none", *log_path = NULL;
	uint64_t seed = 1;
	start_ms = now_ms();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "faultproxy: option '%s' needs a value\n", a);
			usage(stderr);
			return 2;
		}
		const char *v = argv[++i];
		bool ok = true;
		if (strcmp(a, "--listen") == 0)
			listen_text = v;
		else if (strcmp(a, "--target") == 0)
			target_text = v;
		else if (strcmp(a, "--port-file") == 0)
			port_file = v;
		else if (strcmp(a, "--control-file") == 0)
			control_path = v;
		else if (strcmp(a, "--fault") == 0)
			fault_text = v;
		else if (strcmp(a, "--log") == 0)
			log_path = v;
		else if (strcmp(a, "--rate-bps") == 0)
			ok = parse_config_number(v, MAX_RATE_BPS, &config.rate_bps);
		else if (strcmp(a, "--latency-ms") == 0)
			ok = parse_config_number(v, MAX_DELAY_MS, &config.latency_ms);
		else if (strcmp(a, "--control-check-ms") == 0)
			ok = parse_config_number(v, MAX_DELAY_MS, &control_check_ms);
		else if (strcmp(a, "--seed") == 0)
			ok = parse_config_number(v, UINT64_MAX, &seed);
		else {
			fprintf(stderr, "faultproxy: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "faultproxy: bad value '%s' for '%s'\n", v, a);
			return 2;
		}
	}
	struct sockaddr_in listen_addr, target_addr;
	if (!listen_text || !target_text) {
		usage(stderr);
		return 2;
	}
	if (parse_loopback(listen_text, &listen_addr) != 0 ||
	    parse_loopback(target_text, &target_addr) != 0) {
		fprintf(stderr, "faultproxy: --listen and --target must be 127.x.x.x:PORT\n");
		return 2;
	}
	char err[300];
	if (fault_spec_parse(fault_text, &config.spec, err, sizeof err) != 0) {
		fprintf(stderr, "faultproxy: %s\n", err);
		return 2;
	}
	rng_state = seed ? seed : 1; /* xorshift must not start at zero */
	if (log_path) {
		log_file = fopen(log_path, "a");
		if (!log_file) {
			fprintf(stderr, "faultproxy: cannot open log '%s': %s\n", log_path,
				strerror(errno));
			return 1;
		}
	}

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < WANTED_NOFILE) {
		rl.rlim_cur = rl.rlim_max < WANTED_NOFILE ? rl.rlim_max : WANTED_NOFILE;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}

	int rc = 1;
	int listen_fd = -1;
	struct session_table table = {0};
	struct pollfd *pfds = NULL;
	size_t pfds_cap = 0;

	if (pipe(signal_pipe) != 0) {
		fprintf(stderr, "faultproxy: cannot create pipe: %s\n", strerror(errno));
		goto cleanup;
	}
	set_nonblocking(signal_pipe[0]);
	set_nonblocking(signal_pipe[1]);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0 || sigaction(SIGUSR1, &sa, NULL) != 0) {
		fprintf(stderr, "faultproxy: cannot install signal handlers\n");
		goto cleanup;
	}
	(void)signal(SIGPIPE, SIG_IGN);

	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	if (listen_fd < 0 ||
	    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(listen_fd, (struct sockaddr *)&listen_addr, sizeof listen_addr) != 0 ||
	    listen(listen_fd, SOMAXCONN) != 0) {
		fprintf(stderr, "faultproxy: cannot listen on '%s': %s\n", listen_text,
			strerror(errno));
		goto cleanup;
	}
	set_nonblocking(listen_fd);
	struct sockaddr_in bound;
	socklen_t bound_len = sizeof bound;
	if (getsockname(listen_fd, (struct sockaddr *)&bound, &bound_len) != 0) {
		fprintf(stderr, "faultproxy: getsockname: %s\n", strerror(errno));
		goto cleanup;
	}
	unsigned port = ntohs(bound.sin_port);
	if (control_path)
		control_check(false);
	if (port_file && write_port_file(port_file, port) != 0) {
		fprintf(stderr, "faultproxy: cannot write port file '%s': %s\n", port_file,
			strerror(errno));
		goto cleanup;
	}
	log_line("listening on 127.0.0.1:%u, target %s, fault '%s', rate-bps %" PRIu64
		 ", latency-ms %" PRIu64 ", seed %" PRIu64,
		 port, target_text, config.spec.text, config.rate_bps, config.latency_ms, seed);

	bool stopping = false;
	int64_t accept_paused_until = 0;
	int64_t next_control_check = control_check_ms ? now_ms() + (int64_t)control_check_ms
						      : INT64_MAX;
	while (!stopping) {
		int64_t now = now_ms();
		/* Let every session catch up with the clock before deciding what to poll. */
		int64_t next = INT64_MAX;
		if (control_path && next_control_check < next)
			next = next_control_check;
		size_t need = 2 + 2 * table.count;
		if (need > pfds_cap) {
			size_t cap = need * 2;
			struct pollfd *p = realloc(pfds, cap * sizeof *p);
			if (!p) {
				log_line("out of memory");
				goto cleanup;
			}
			pfds = p;
			pfds_cap = cap;
		}
		pfds[0] = (struct pollfd){.fd = signal_pipe[0], .events = POLLIN};
		pfds[1] = (struct pollfd){.fd = now >= accept_paused_until ? listen_fd : -1,
					  .events = POLLIN};
		if (now < accept_paused_until && accept_paused_until < next)
			next = accept_paused_until;
		for (size_t i = 0; i < table.count; i++) {
			struct session *s = table.items[i];
			short cev, sev;
			session_poll_events(s, &cev, &sev);
			pfds[2 + 2 * i] = (struct pollfd){.fd = cev ? s->client_fd : -1, .events = cev};
			pfds[3 + 2 * i] = (struct pollfd){.fd = sev ? s->server_fd : -1, .events = sev};
			int64_t t = session_next_event(s, now);
			if (t < next)
				next = t;
		}
		int timeout = -1;
		if (next != INT64_MAX)
			timeout = next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
		int pr = poll(pfds, (nfds_t)need, timeout);
		if (pr < 0 && errno != EINTR) {
			log_line("poll: %s", strerror(errno));
			goto cleanup;
		}
		now = now_ms();
		if (pr > 0 && (pfds[0].revents & POLLIN)) {
			char sigs[16];
			ssize_t n;
			while ((n = read(signal_pipe[0], sigs, sizeof sigs)) > 0) {
				for (ssize_t i = 0; i < n; i++) {
					if (sigs[i] == 'T')
						stopping = true;
					else if (sigs[i] == 'U')
						print_stats();
					else if (sigs[i] == 'H')
						control_check(true);
				}
			}
		}
		if (control_path && now >= next_control_check) {
			control_check(false);
			next_control_check = now + (int64_t)control_check_ms;
		}
		/* Sessions first (their pollfds match table order), then new connections. */
		size_t kept = 0;
		for (size_t i = 0; i < table.count; i++) {
			struct session *s = table.items[i];
			short crev = pr > 0 ? pfds[2 + 2 * i].revents : 0;
			short srev = pr > 0 ? pfds[3 + 2 * i].revents : 0;
			bool reset = false;
			if (session_step(s, crev, srev, now, &reset))
				table.items[kept++] = s;
			else
				session_free(s, reset);
		}
		table.count = kept;
		if (pr > 0 && (pfds[1].revents & POLLIN)) {
			for (;;) {
				int cfd = accept(listen_fd, NULL, NULL);
				if (cfd < 0) {
					if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
					    errno == ENOMEM) {
						log_line("accept: %s: pausing", strerror(errno));
						accept_paused_until = now + ACCEPT_BACKOFF_MS;
					}
					break;
				}
				set_nonblocking(cfd);
				set_nodelay(cfd);
				stats.connections++;
				struct session *s = session_new(stats.connections, cfd, &target_addr, now);
				if (!s || session_table_add(&table, s) != 0) {
					log_line("conn %" PRIu64 ": cannot start: %s", stats.connections,
						 strerror(errno));
					stats.upstream_failures++;
					if (s) {
						stats.open_now++;
						session_free(s, true);
					} else {
						close_fd(&cfd, true);
					}
					continue;
				}
				stats.open_now++;
				if (stats.open_now > stats.open_peak)
					stats.open_peak = stats.open_now;
			}
		}
	}
	log_line("stopping on signal");
	for (size_t i = 0; i < table.count; i++)
		session_free(table.items[i], true);
	table.count = 0;
	print_stats();
	rc = 0;

cleanup:
	for (size_t i = 0; i < table.count; i++)
		session_free(table.items[i], true);
	free(table.items);
	free(pfds);
	if (listen_fd >= 0)
		(void)close(listen_fd);
	for (int i = 0; i < 2; i++)
		if (signal_pipe[i] >= 0)
			(void)close(signal_pipe[i]);
	if (log_file)
		(void)fclose(log_file);
	return rc;
}
