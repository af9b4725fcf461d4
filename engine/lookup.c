/* lookup.c: a host name's lookup on a thread of its own (engine/lookup.h). */
#include "engine/lookup.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/assert.h"
#include "base/cond.h"
#include "hawser_error.h"
#include "hawser_limits.h"

/* Shared by the caller and the lookup's thread, under mu; freed by whichever lets go of
 * it last (lookup.h): the caller through hw_lookup_take or hw_lookup_drop once done is
 * set, the thread once it finds dropped set. */
struct hw_lookup {
	pthread_mutex_t mu;
	pthread_cond_t cv;    /* done was set (hw_cond_init) */
	bool done;            /* getaddrinfo returned: g, err and res are set for good */
	bool dropped;         /* the caller let go first: the thread frees l */
	int g;                /* what getaddrinfo returned */
	int err;              /* errno after it (g == EAI_SYSTEM) */
	struct addrinfo *res; /* g == 0: the answer, until taken */
	char host[HW_ADDR_CHARS_MAX + 1];
	char port[HW_ADDR_CHARS_MAX + 1];
};

static void lookup_free(struct hw_lookup *l)
{
	if (l->res != NULL)
		freeaddrinfo(l->res);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* The thread: the lookup, then done, said while holding mu. Once mu is let go l may be
 * freed by the caller at any moment, unless the caller had dropped it already: then it
 * is the thread's to free. */
static void *lookup_main(void *arg)
{
	struct hw_lookup *l = arg;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	errno = 0;
	int g = getaddrinfo(l->host, l->port, &hints, &res);
	int err = errno;
	pthread_mutex_lock(&l->mu);
	l->g = g;
	l->err = err;
	l->res = g == 0 ? res : NULL;
	l->done = true;
	bool dropped = l->dropped;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (dropped)
		lookup_free(l);
	return NULL;
}

/* Start lookup_main on a detached thread with every signal blocked: 0 or -errno. */
static int spawn(struct hw_lookup *l)
{
	pthread_attr_t ta;
	int rc = pthread_attr_init(&ta);
	if (rc != 0)
		return -rc;
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* the new thread starts with this mask */
	pthread_t t;
	rc = pthread_create(&t, &ta, lookup_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&ta);
	return -rc;
}

int hw_lookup_start(const char *host, const char *port, struct hw_lookup **out)
{
	*out = NULL;
	struct hw_lookup *l = calloc(1, sizeof *l);
	if (l == NULL)
		return HW_ENOMEM;
	if (strlen(host) >= sizeof l->host || strlen(port) >= sizeof l->port) {
		free(l);
		return -EINVAL;
	}
	strcpy(l->host, host);
	strcpy(l->port, port);
	hw_cond_init(&l->cv); /* hw_lookup_wait waits on it to a deadline */
	pthread_mutex_init(&l->mu, NULL);
	/* an IP address needs no resolver: done at once, on no thread */
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST},
			*res = NULL;
	l->done = getaddrinfo(host, port, &hints, &res) == 0;
	l->res = l->done ? res : NULL;
	int rc = l->done ? 0 : spawn(l);
	if (rc != 0) {
		lookup_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

bool hw_lookup_wait(struct hw_lookup *l, int64_t deadline)
{
	pthread_mutex_lock(&l->mu);
	while (!l->done && hw_cond_wait_until(&l->cv, &l->mu, deadline * 1000000) == 0)
		;
	bool done = l->done;
	pthread_mutex_unlock(&l->mu);
	return done;
}

int hw_lookup_take(struct hw_lookup *l, struct addrinfo **res, const char **why)
{
	HW_ASSERT(l->done); /* set for good, and the thread wrote nothing after it */
	*res = l->res;
	l->res = NULL;
	*why = l->g == 0 ? NULL : gai_strerror(l->g);
	int rc = l->g == 0 ? 0 : l->g == EAI_SYSTEM && l->err != 0 ? -l->err : -EHOSTUNREACH;
	lookup_free(l);
	return rc;
}

void hw_lookup_drop(struct hw_lookup *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	bool done = l->done;
	l->dropped = true;
	pthread_mutex_unlock(&l->mu);
	if (done) /* else the thread has still to say so, and frees l then */
		lookup_free(l);
}
