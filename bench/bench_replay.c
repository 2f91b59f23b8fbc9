/*
 * bench_replay.c — lienket-bench-replay: figure 1 of `make bench` without the agents'
 * own CPU in the way (bench/README.md).
 *
 * On a 2-core machine, 16 real `lienket-agent sync` processes take most of the CPU the
 * hub would need (reading their journals, hashing, encoding, then pulling), so the
 * end-to-end rate measures the agents. This program separates the two halves:
 *   prepare --list FILE [--shape N]
 *                         lines "AGENT.db OUT.bodies": builds every pending change set
 *                         of each agent with the agent's own code (libagent.a,
 *                         journal_build_batch at the agent's batch size; hashes and
 *                         chains stored as a sync would), deflates it as the agent
 *                         does (zlib level 6) and writes the bodies, each as a 4-byte
 *                         big-endian length and the bytes, to OUT.bodies. --shape: the
 *                         change-set shape (PROTOCOL.md §6.2/§6.2a), default the highest
 *                         (what the agent sends to a hub of this version).
 *   replay --url URL --list FILE [--par N]
 *                         lines "OUT.bodies TOKEN": N threads (default 16), one agent at
 *                         a time each, POST every body of the agent in order to
 *                         URL/v1/changes with the agent's headers (libcurl, keep-alive),
 *                         as `lienket-agent sync` sends them. Any answer other than 200
 *                         counts as an error.
 * Each prints one line "key=value …" for bench/run.sh. The agents must have said hello
 * once before (their first sync binds the token), and their acknowledged sequence is
 * left as it was, so the real agent can still sync afterwards.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "journal.h"
#include "store.h"
#include "wire.h"
#include "zio.h"

#define REPLAY_MAX_AGENTS 4096
#define REPLAY_LAT_MAX (1u << 20)

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int prepare_shape = WIRE_CHANGES_MAX;

static int put_u32(FILE *f, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			       (unsigned char)v };
	return fwrite(b, 1, 4, f) == 4 ? 0 : -1;
}

static int prepare_one(const char *dbpath, const char *out, size_t *sets, size_t *changes, uint64_t *bytes)
{
	struct store *s = NULL;
	char err[256];
	uint64_t acked = 0;
	int rc = -1;
	FILE *f = NULL;
	if (store_open(dbpath, &s, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-bench-replay: %s: %s\n", dbpath, err);
		return -1;
	}
	if (journal_acked(s, &acked) != 0 || !(f = fopen(out, "wb")))
		goto done;
	struct journal_batch_limits lim;
	int64_t bb = store_config_int(s, "batch_bytes", WIRE_DEFAULT_BATCH_BYTES);
	lim.batch_bytes = (size_t)bb;
	lim.entry_max_bytes = (size_t)bb;
	lim.max_changes = WIRE_MAX_CHANGES;
	lim.changes_v = prepare_shape;
	uint64_t from = acked + 1;
	for (;;) {
		struct journal_batch b;
		memset(&b, 0, sizeof b);
		int br = journal_build_batch(s, store_agent_id(s), from, &lim, &b, err, sizeof err);
		if (br == 1)
			break;
		if (br != 0) {
			fprintf(stderr, "lienket-bench-replay: %s: %s\n", dbpath, err);
			goto done;
		}
		unsigned char *z = NULL;
		size_t zn = 0;
		if (zio_deflate(b.json, b.json_len, 6, &z, &zn) != ZIO_OK || put_u32(f, (uint32_t)zn) ||
		    fwrite(z, 1, zn, f) != zn) {
			free(z);
			journal_batch_release(&b);
			goto done;
		}
		free(z);
		(*sets)++;
		*changes += b.count;
		*bytes += zn;
		from = b.to + 1;
		journal_batch_release(&b);
	}
	rc = 0;
done:
	if (f && fclose(f) != 0)
		rc = -1;
	store_close(s);
	return rc;
}

static int cmd_prepare(const char *list)
{
	FILE *f = fopen(list, "r");
	char line[2100], db[1024], out[1024];
	size_t sets = 0, changes = 0, agents = 0;
	uint64_t bytes = 0;
	if (!f) {
		fprintf(stderr, "lienket-bench-replay: cannot open '%s'\n", list);
		return 1;
	}
	double t0 = mono();
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "%1023s %1023s", db, out) == 2) {
			if (prepare_one(db, out, &sets, &changes, &bytes) != 0) {
				fclose(f);
				return 1;
			}
			agents++;
		}
	fclose(f);
	printf("prepare shape=%d agents=%zu sets=%zu changes=%zu bytes=%" PRIu64 " seconds=%.3f\n", prepare_shape,
	       agents, sets, changes,
	       bytes, mono() - t0);
	return 0;
}

/* ---- replay ---- */

struct agent_job {
	char bodies[1024];
	char token[128];
};

struct replay {
	const char *url;
	struct agent_job *jobs;
	size_t njobs, next;
	pthread_mutex_t lock;
	double *lat;
	size_t nlat;
	size_t sets, errors;
	uint64_t bytes;
	char first_error[1400];
};

static size_t sink(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void *worker(void *arg)
{
	struct replay *R = arg;
	CURL *c = curl_easy_init();
	char url[1200], auth[200];
	if (!c)
		return NULL;
	snprintf(url, sizeof url, "%s/v1/changes", R->url);
	for (;;) {
		pthread_mutex_lock(&R->lock);
		size_t j = R->next < R->njobs ? R->next++ : R->njobs;
		pthread_mutex_unlock(&R->lock);
		if (j >= R->njobs)
			break;
		size_t len = 0;
		unsigned char *all = read_all(R->jobs[j].bodies, &len);
		if (!all) {
			pthread_mutex_lock(&R->lock);
			R->errors++;
			snprintf(R->first_error, sizeof R->first_error, "cannot read %s", R->jobs[j].bodies);
			pthread_mutex_unlock(&R->lock);
			continue;
		}
		struct curl_slist *h = NULL;
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", R->jobs[j].token);
		h = curl_slist_append(h, auth);
		h = curl_slist_append(h, "Content-Type: application/json");
		h = curl_slist_append(h, "Content-Encoding: deflate");
		h = curl_slist_append(h, "Accept-Encoding: deflate");
		h = curl_slist_append(h, "Expect:");
		for (size_t at = 0; at + 4 <= len;) {
			uint32_t n = (uint32_t)all[at] << 24 | (uint32_t)all[at + 1] << 16 | (uint32_t)all[at + 2] << 8 |
				     all[at + 3];
			at += 4;
			if (at + n > len)
				break;
			curl_easy_reset(c);
			curl_easy_setopt(c, CURLOPT_URL, url);
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)all + at);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
			curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
			double t0 = mono();
			CURLcode cc = curl_easy_perform(c);
			double dt = (mono() - t0) * 1000.0;
			long code = 0;
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
			pthread_mutex_lock(&R->lock);
			if (R->nlat < REPLAY_LAT_MAX)
				R->lat[R->nlat++] = dt;
			R->sets++;
			R->bytes += n;
			if (cc != CURLE_OK || code != 200) {
				if (!R->errors)
					snprintf(R->first_error, sizeof R->first_error, "%s: HTTP %ld (%s)",
						 R->jobs[j].bodies, code, curl_easy_strerror(cc));
				R->errors++;
			}
			pthread_mutex_unlock(&R->lock);
			at += n;
			if (cc != CURLE_OK || code != 200)
				break; /* the rest of this agent would be a gap */
		}
		curl_slist_free_all(h);
		free(all);
	}
	curl_easy_cleanup(c);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmd_replay(const char *url, const char *list, long par)
{
	struct replay R;
	memset(&R, 0, sizeof R);
	R.url = url;
	R.jobs = calloc(REPLAY_MAX_AGENTS, sizeof *R.jobs);
	R.lat = calloc(REPLAY_LAT_MAX, sizeof *R.lat);
	FILE *f = fopen(list, "r");
	char line[1300];
	if (!R.jobs || !R.lat || !f) {
		fprintf(stderr, "lienket-bench-replay: cannot start (%s)\n", list);
		return 1;
	}
	while (fgets(line, sizeof line, f) && R.njobs < REPLAY_MAX_AGENTS)
		if (sscanf(line, "%1023s %127s", R.jobs[R.njobs].bodies, R.jobs[R.njobs].token) == 2)
			R.njobs++;
	fclose(f);
	if (par < 1 || par > 256)
		par = 16;
	pthread_t th[256];
	pthread_mutex_init(&R.lock, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	double t0 = mono();
	long started = 0;
	for (long i = 0; i < par; i++)
		if (pthread_create(&th[i], NULL, worker, &R) == 0)
			started++;
	for (long i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	double wall = mono() - t0;
	qsort(R.lat, R.nlat, sizeof *R.lat, cmp_double);
	double p50 = R.nlat ? R.lat[(R.nlat - 1) / 2] : 0, p99 = R.nlat ? R.lat[(size_t)((double)(R.nlat - 1) * 0.99)] : 0;
	printf("replay agents=%zu par=%ld sets=%zu bytes=%" PRIu64 " seconds=%.3f p50_ms=%.1f p99_ms=%.1f errors=%zu%s%s\n",
	       R.njobs, started, R.sets, R.bytes, wall, p50, p99, R.errors, R.errors ? " first_error=" : "",
	       R.errors ? R.first_error : "");
	curl_global_cleanup();
	pthread_mutex_destroy(&R.lock);
	free(R.jobs);
	free(R.lat);
	return R.errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *list = NULL, *url = NULL;
	long par = 16;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--list"))
			list = argv[i + 1];
		else if (!strcmp(argv[i], "--url"))
			url = argv[i + 1];
		else if (!strcmp(argv[i], "--par"))
			par = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--shape"))
			prepare_shape = atoi(argv[i + 1]);
	}
	if (argc >= 2 && !strcmp(argv[1], "prepare") && list)
		return cmd_prepare(list);
	if (argc >= 2 && !strcmp(argv[1], "replay") && list && url)
		return cmd_replay(url, list, par);
	fprintf(stderr, "usage: lienket-bench-replay prepare --list FILE [--shape 1|2]\n"
			"       lienket-bench-replay replay --url URL --list FILE [--par N]\n");
	return 64;
}
