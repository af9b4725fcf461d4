/* store_fix.h: the fixture of the backup and restore unit tests: a scratch directory
 * under HW_TEST_TMP with a store "a" open in it, removed with all it holds. Included after
 * cmocka.h. */
#ifndef HW_TESTS_STORE_FIX_H
#define HW_TESTS_STORE_FIX_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replica/snapshot.h"
#include "replica/store.h"

struct fx {
	char root[256];
	char a[300]; /* the store under test */
	struct hw_store *s;
};

static inline void path_in(const struct fx *f, const char *name, char out[300])
{
	snprintf(out, 300, "%s/%s", f->root, name);
}

static inline int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* A new scratch directory name-XXXXXX with an empty store "a" open in it. */
static inline struct fx *store_fix_new(const char *name)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	const char *tmp = getenv("HW_TEST_TMP");
	if (tmp == NULL)
		tmp = "/tmp";
	mkdir(tmp, 0700);
	snprintf(f->root, sizeof f->root, "%s/%s-XXXXXX", tmp, name);
	assert_non_null(mkdtemp(f->root));
	path_in(f, "a", f->a);
	assert_int_equal(hw_store_init(f->a), 0);
	assert_int_equal(hw_store_open(f->a, NULL, &f->s), 0);
	return f;
}

/* cmocka teardown of a store_fix_new fixture (its store may be closed already). */
static inline int store_fix_teardown(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	hw_snapshot_rm(f->root);
	free(f);
	return 0;
}

#endif
