/* bare_pipeline.c: the floor under issue 3's throughput targets, measured on this machine.
 *
 * The issue sizes its targets against "a bare pipeline, with no validation and no LMDB,
 * that flushes one batch at a time on each side". This is that pipeline, so the ratio
 * it reaches against PostgreSQL in one run (bench/compare.sh, row bare-pipeline) says how
 * much room this machine leaves above hawser. Three processes on loopback TCP, as
 * `hawser bench` runs them:
 *   - a standby: reads batches from the primary, writes everything that has arrived to
 *     its log file with one pwrite and one fdatasync, then acknowledges the last LSN;
 *   - a primary: one thread takes the clients' records (4-byte length, then the bytes),
 *     numbers them, and whenever its flusher is idle hands it everything queued and sends
 *     the same bytes to the standby; the flusher writes and fdatasyncs them; a record is
 *     answered (its 8-byte LSN) once both sides have flushed it;
 *   - the driver: C connections with W records outstanding each, from 2 threads (as
 *     pgbench -j 2), records of 256 bytes.
 * No checksums, no encryption, no validation, no store, no hash chain; log files
 * preallocated (written and flushed with zeros first, so a flush never grows a file).
 * Not a test and not part of hawser: a yardstick. Prints one JSON line.
 *
 * usage: hawser-bare-pipeline [--clients C (32)] [--window W (1)] [--records R (150000)]
 *                             [--bytes B (256)] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/clock.h"

#define CLIENTS_MAX  256u
#define WINDOW_MAX   64u
#define THREADS      2u
#define BYTES_MAX    4096u
#define LOG_PREALLOC (64u * 1024u * 1024u) /* zeros ahead: past it a flush grows the file */
/* Queued bytes at most: every record outstanding at once (main refuses more). */
#define BATCH_MAX (8u * 1024u * 1024u)

static void remove_dir(const char *dir);

/* The run's directory and node processes, for the driver's die() to clean up. */
static struct {
	pid_t driver, kids[2];
	char dir[4096];
} run;

/* The driver's end, whatever ended it: the nodes stopped, their logs removed. */
static void clean_up(void)
{
	for (int i = 1; i >= 0; i--) /* the primary first: a standby leaves quietly at EOF */
		if (run.kids[i] > 0)
			kill(run.kids[i], SIGKILL);
	for (int i = 0; i < 2; i++)
		if (run.kids[i] > 0)
			waitpid(run.kids[i], NULL, 0);
	remove_dir(run.dir);
}

static void die(const char *what)
{
	fprintf(stderr, "hawser-bare-pipeline: %s: %s\n", what, strerror(errno));
	if (getpid() == run.driver)
		clean_up();
	exit(1);
}

static void write_all(int fd, const void *p, size_t len)
{
	for (const uint8_t *b = p; len > 0;) {
		ssize_t n = write(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write");
		b += n;
		len -= (size_t)n;
	}
}

static void read_all(int fd, void *p, size_t len)
{
	for (uint8_t *b = p; len > 0;) {
		ssize_t n = read(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("read");
		b += n;
		len -= (size_t)n;
	}
}

static void pwrite_all(int fd, const uint8_t *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("pwrite");
		p += n, off += n, len -= (size_t)n;
	}
}

static void log_path(char path[4096], const char *dir, const char *name)
{
	if (snprintf(path, 4096, "%s/%s", dir, name) >= 4096) {
		errno = ENAMETOOLONG;
		die(dir);
	}
}

/* A log file of LOG_PREALLOC zeros, flushed, so later flushes overwrite in place. */
static int log_open(const char *dir, const char *name)
{
	char path[4096];
	log_path(path, dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open log");
	static const uint8_t zeros[1u << 20];
	for (off_t off = 0; off < (off_t)LOG_PREALLOC; off += (off_t)sizeof zeros)
		pwrite_all(fd, zeros, sizeof zeros, off);
	if (fdatasync(fd) != 0)
		die("fdatasync");
	return fd;
}

/* Append len bytes at *off and flush (the log wraps at its preallocated end). */
static void log_flush(int fd, off_t *off, const uint8_t *p, size_t len)
{
	if (*off + (off_t)len > (off_t)LOG_PREALLOC)
		*off = 0;
	pwrite_all(fd, p, len, *off);
	*off += (off_t)len;
	if (fdatasync(fd) != 0)
		die("fdatasync");
}

static void nodelay(int fd)
{
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
		die("TCP_NODELAY");
}

static int listen_any(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 512) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0)
		die("listen");
	*port = ntohs(a.sin_port);
	return fd;
}

static int dial(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		die("connect");
	nodelay(fd);
	return fd;
}

static int accept_one(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		die("accept");
	nodelay(fd);
	return fd;
}

/* ---------------------------------------------------------------- standby */

/* Batch header on the replication connection: the batch's last LSN and its length. */
struct batch_hdr {
	uint64_t last_lsn;
	uint64_t len;
};

/* Read what has arrived (at least one whole batch), flush it with one fdatasync, ack the
 * last LSN: one batch at a time, each the group that came in during the last flush. */
static void standby_main(int lfd, const char *dir)
{
	int logfd = log_open(dir, "standby.log");
	int fd = accept_one(lfd);
	write_all(fd, "R", 1); /* ready: the primary's clock-free setup waits for it */
	uint8_t *buf = malloc(2 * BATCH_MAX + sizeof(struct batch_hdr));
	size_t have = 0;
	off_t off = 0;
	if (!buf)
		die("malloc");
	for (;;) {
		ssize_t n = read(fd, buf + have, 2 * BATCH_MAX - have);
		if (n == 0)
			_exit(0);
		if (n < 0)
			die("standby read");
		have += (size_t)n;
		size_t used = 0, data = 0;
		uint64_t last = 0;
		struct batch_hdr h;
		/* Pack the whole batches' bytes together at the front, then flush them once. */
		while (have - used >= sizeof h) {
			memcpy(&h, buf + used, sizeof h);
			if (have - used - sizeof h < h.len)
				break;
			memmove(buf + data, buf + used + sizeof h, h.len);
			data += h.len, used += sizeof h + h.len, last = h.last_lsn;
		}
		if (last == 0)
			continue;
		log_flush(logfd, &off, buf, data);
		memmove(buf, buf + used, have - used);
		have -= used;
		write_all(fd, &last, sizeof last);
	}
}

/* ---------------------------------------------------------------- primary */

struct waiter {
	uint32_t client;
	uint64_t lsn;
};

struct primary {
	unsigned clients;
	int cfd[CLIENTS_MAX], sfd, efd, logfd;
	uint8_t *in[CLIENTS_MAX];
	size_t in_len[CLIENTS_MAX];
	/* Records queued for the next flush, and the batch the flusher has. */
	uint8_t *queued, *flushing;
	size_t queued_len, flushing_len;
	uint64_t next_lsn, queued_last, flushing_last, local_durable, standby_durable;
	uint64_t out[CLIENTS_MAX][WINDOW_MAX]; /* replies being gathered, per client */
	struct waiter *wait;
	size_t wait_head, wait_tail, wait_cap;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool busy;             /* the flusher has a batch (mu) */
	uint64_t flushed_last; /* the last LSN it flushed (mu) */
	off_t off;
};

static void *flusher_main(void *arg)
{
	struct primary *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->busy)
			pthread_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
		log_flush(p->logfd, &p->off, p->flushing, p->flushing_len);
		uint64_t one = 1;
		pthread_mutex_lock(&p->mu);
		p->busy = false;
		p->flushed_last = p->flushing_last;
		write_all(p->efd, &one, sizeof one);
	}
	return NULL;
}

/* Hand the queue to the idle flusher and send the same bytes to the standby. */
static void start_batch(struct primary *p)
{
	pthread_mutex_lock(&p->mu);
	bool idle = !p->busy;
	pthread_mutex_unlock(&p->mu);
	if (!idle || p->queued_len == 0)
		return;
	struct batch_hdr h = {p->queued_last, p->queued_len};
	write_all(p->sfd, &h, sizeof h);
	write_all(p->sfd, p->queued, p->queued_len);
	uint8_t *t = p->flushing;
	pthread_mutex_lock(&p->mu);
	p->flushing = p->queued, p->flushing_len = p->queued_len;
	p->flushing_last = p->queued_last;
	p->busy = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	p->queued = t, p->queued_len = 0;
}

/* Take client i's whole records into the queue, a waiter each. */
static void take_records(struct primary *p, unsigned i)
{
	ssize_t n = read(p->cfd[i], p->in[i] + p->in_len[i], 2 * BYTES_MAX - p->in_len[i]);
	if (n <= 0)
		die("primary read client");
	p->in_len[i] += (size_t)n;
	size_t used = 0;
	uint32_t len;
	while (p->in_len[i] - used >= sizeof len) {
		memcpy(&len, p->in[i] + used, sizeof len);
		if (p->in_len[i] - used - sizeof len < len)
			break;
		HW_ASSERT(p->queued_len + len <= BATCH_MAX &&
			  p->wait_tail - p->wait_head < p->wait_cap); /* main's bound */
		memcpy(p->queued + p->queued_len, p->in[i] + used + sizeof len, len);
		p->queued_len += len;
		p->queued_last = ++p->next_lsn;
		p->wait[p->wait_tail++ % p->wait_cap] = (struct waiter){i, p->queued_last};
		used += sizeof len + len;
	}
	memmove(p->in[i], p->in[i] + used, p->in_len[i] - used);
	p->in_len[i] -= used;
}

/* Answer every waiter both sides have flushed, one write per client. */
static void release(struct primary *p)
{
	uint64_t upto =
		p->local_durable < p->standby_durable ? p->local_durable : p->standby_durable;
	unsigned cnt[CLIENTS_MAX] = {0};
	while (p->wait_head != p->wait_tail && p->wait[p->wait_head % p->wait_cap].lsn <= upto) {
		struct waiter w = p->wait[p->wait_head++ % p->wait_cap];
		p->out[w.client][cnt[w.client]++] = w.lsn;
	}
	for (unsigned i = 0; i < p->clients; i++)
		if (cnt[i])
			write_all(p->cfd[i], p->out[i], cnt[i] * sizeof p->out[i][0]);
}

static void primary_loop(struct primary *p)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	for (unsigned i = 0; i <= p->clients + 1; i++) {
		ev.data.u32 = i; /* clients, then the standby, then the flusher's eventfd */
		int fd = i < p->clients ? p->cfd[i] : i == p->clients ? p->sfd : p->efd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			die("epoll_ctl");
	}
	for (;;) {
		struct epoll_event evs[CLIENTS_MAX + 2];
		int n = epoll_wait(ep, evs, CLIENTS_MAX + 2, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int k = 0; k < n; k++) {
			uint32_t i = evs[k].data.u32;
			uint64_t v;
			if (i < p->clients) {
				take_records(p, i);
			} else if (i == p->clients) {
				read_all(p->sfd, &v, sizeof v);
				p->standby_durable = v;
			} else {
				read_all(p->efd, &v, sizeof v);
				pthread_mutex_lock(&p->mu);
				p->local_durable = p->flushed_last;
				pthread_mutex_unlock(&p->mu);
			}
		}
		release(p);
		start_batch(p);
	}
}

static void primary_main(int lfd, uint16_t standby_port, unsigned clients, const char *dir)
{
	static struct primary p;
	p.clients = clients;
	p.logfd = log_open(dir, "primary.log");
	p.sfd = dial(standby_port);
	char ready;
	read_all(p.sfd, &ready, 1);
	p.efd = eventfd(0, EFD_CLOEXEC);
	p.queued = malloc(BATCH_MAX), p.flushing = malloc(BATCH_MAX);
	p.wait_cap = CLIENTS_MAX * WINDOW_MAX;
	p.wait = calloc(p.wait_cap, sizeof *p.wait);
	if (p.efd < 0 || !p.queued || !p.flushing || !p.wait)
		die("primary setup");
	for (unsigned i = 0; i < clients; i++) {
		p.cfd[i] = accept_one(lfd);
		if (!(p.in[i] = malloc(2 * BYTES_MAX)))
			die("malloc");
		write_all(p.cfd[i], "R", 1); /* both logs are ready: the driver may start */
	}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, flusher_main, &p) != 0)
		die("pthread_create");
	primary_loop(&p);
}

/* ---------------------------------------------------------------- driver */

struct lane {
	int fd;
	uint64_t left, outstanding, sent_ns[WINDOW_MAX], head;
	uint64_t last_lsn; /* replies come in LSN order, each a record of this lane */
	uint8_t rbuf[WINDOW_MAX * sizeof(uint64_t)];
	size_t rlen;
};

struct driver {
	unsigned first, clients, window, bytes;
	struct lane *lanes;
	uint64_t *lat_ns, nlat;
};

/* Fill ln's window: what it has room for goes out in one write, as hawser's client sends
 * a lane's window (hw_client_hold, hw_client_flush). */
static void lane_send(struct driver *d, struct lane *ln)
{
	static _Thread_local uint8_t out[WINDOW_MAX * (sizeof(uint32_t) + BYTES_MAX)];
	uint32_t len = d->bytes;
	size_t used = 0;
	while (ln->left > 0 && ln->outstanding < d->window) {
		memcpy(out + used, &len, sizeof len);
		memset(out + used + sizeof len, 'h', len);
		used += sizeof len + len;
		ln->sent_ns[(ln->head + ln->outstanding++) % WINDOW_MAX] = hw_mono_ns();
		ln->left--;
	}
	if (used > 0)
		write_all(ln->fd, out, used);
}

/* Take the replies that arrived on ln, then fill its window again. */
static void lane_replies(struct driver *d, struct lane *ln)
{
	ssize_t n = read(ln->fd, ln->rbuf + ln->rlen, sizeof ln->rbuf - ln->rlen);
	if (n <= 0)
		die("driver read");
	ln->rlen += (size_t)n;
	uint64_t now = hw_mono_ns();
	size_t whole = ln->rlen / sizeof(uint64_t);
	for (size_t k = 0; k < whole; k++) {
		uint64_t lsn;
		memcpy(&lsn, ln->rbuf + k * sizeof lsn, sizeof lsn);
		if (ln->outstanding == 0 || lsn <= ln->last_lsn) {
			errno = EPROTO;
			die("a reply out of order or for nothing sent");
		}
		ln->last_lsn = lsn;
		d->lat_ns[d->nlat++] = now - ln->sent_ns[ln->head++ % WINDOW_MAX];
		ln->outstanding--;
	}
	memmove(ln->rbuf, ln->rbuf + whole * sizeof(uint64_t), ln->rlen % sizeof(uint64_t));
	ln->rlen %= sizeof(uint64_t);
	lane_send(d, ln);
}

static void *driver_main(void *arg)
{
	struct driver *d = arg;
	struct pollfd pfd[CLIENTS_MAX];
	unsigned idx[CLIENTS_MAX];
	for (unsigned j = d->first; j < d->clients; j += THREADS)
		lane_send(d, &d->lanes[j]);
	for (;;) {
		unsigned n = 0;
		for (unsigned j = d->first; j < d->clients; j += THREADS) {
			if (d->lanes[j].outstanding == 0)
				continue;
			pfd[n] = (struct pollfd){.fd = d->lanes[j].fd, .events = POLLIN};
			idx[n++] = j;
		}
		if (n == 0)
			return NULL;
		if (poll(pfd, n, -1) < 0 && errno != EINTR)
			die("poll");
		for (unsigned k = 0; k < n; k++)
			if (pfd[k].revents)
				lane_replies(d, &d->lanes[idx[k]]);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Run records over the lanes from THREADS threads; prints the JSON line. */
static void drive(struct lane *lanes, unsigned clients, unsigned window, unsigned bytes,
		  uint64_t records)
{
	struct driver d[THREADS];
	uint64_t *lat = malloc(records * sizeof *lat);
	if (!lat)
		die("malloc");
	for (unsigned j = 0; j < clients; j++)
		lanes[j].left = records / clients + (j < records % clients);
	pthread_t tid[THREADS];
	uint64_t t0 = hw_mono_ns(), at = 0;
	for (unsigned t = 0; t < THREADS; t++) {
		d[t] = (struct driver){t, clients, window, bytes, lanes, lat + at, 0};
		for (unsigned j = t; j < clients; j += THREADS)
			at += lanes[j].left;
		if (pthread_create(&tid[t], NULL, driver_main, &d[t]) != 0)
			die("pthread_create");
	}
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(tid[t], NULL);
	double secs = (double)(hw_mono_ns() - t0) / 1e9;
	qsort(lat, records, sizeof *lat, cmp_u64);
	printf("{\"system\":\"bare-pipeline\",\"clients\":%u,\"window\":%u,\"records\":%llu,"
	       "\"record_bytes\":%u,\"seconds\":%.3f,\"records_per_s\":%.0f,"
	       "\"latency_us\":{\"p50\":%llu,\"p99\":%llu}}\n",
	       clients, window, (unsigned long long)records, bytes, secs, (double)records / secs,
	       (unsigned long long)(lat[(records - 1) / 2] / 1000),
	       (unsigned long long)(lat[(records - 1) * 99 / 100] / 1000));
	free(lat);
}

/* ---------------------------------------------------------------- main */

static unsigned opt_num(const char *s, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > max) {
		fprintf(stderr, "hawser-bare-pipeline: not a number in 1..%lu: %s\n", max, s);
		exit(2);
	}
	return (unsigned)v;
}

static void remove_dir(const char *dir)
{
	char path[4096];
	log_path(path, dir, "primary.log");
	unlink(path);
	log_path(path, dir, "standby.log");
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	unsigned clients = 32, window = 1, bytes = 256, records = 150000;
	static const struct option opts[] = {
		{"clients", required_argument, NULL, 'c'}, {"window", required_argument, NULL, 'w'},
		{"records", required_argument, NULL, 'r'}, {"bytes", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},          {0}};
	for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
		if (c == 'c')
			clients = opt_num(optarg, CLIENTS_MAX);
		else if (c == 'w')
			window = opt_num(optarg, WINDOW_MAX);
		else if (c == 'r')
			records = opt_num(optarg, 100000000ul);
		else if (c == 'b')
			bytes = opt_num(optarg, BYTES_MAX);
		else {
			fprintf(stderr,
				"usage: hawser-bare-pipeline [--clients C (32)] [--window W (1)]"
				" [--records R (150000)] [--bytes B (256)]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc || records < clients || (uint64_t)clients * window * bytes > BATCH_MAX) {
		fprintf(stderr,
			"hawser-bare-pipeline: records must be at least clients, and "
			"clients x window x bytes at most %u\n",
			BATCH_MAX);
		return 2;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(run.dir, sizeof run.dir, "%s/hawser-bare-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(run.dir))
		die("mkdtemp");
	run.driver = getpid();
	uint16_t sport, pport;
	int slfd = listen_any(&sport), plfd = listen_any(&pport);
	if ((run.kids[0] = fork()) == 0)
		standby_main(slfd, run.dir);
	if (run.kids[0] > 0 && (run.kids[1] = fork()) == 0)
		primary_main(plfd, sport, clients, run.dir);
	if (run.kids[0] < 0 || run.kids[1] < 0)
		die("fork");
	struct lane *lanes = calloc(clients, sizeof *lanes);
	if (!lanes)
		die("calloc");
	for (unsigned j = 0; j < clients; j++) {
		char ready;
		lanes[j].fd = dial(pport);
		read_all(lanes[j].fd, &ready, 1);
	}
	drive(lanes, clients, window, bytes, records);
	clean_up();
	return 0;
}
