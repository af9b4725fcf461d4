/* test_install.c: what an embedder gets from `cmake --install`: the tree installed into a
 * temporary prefix; its hawser.h compiled on its own with only pkg-config's flags; its
 * libhawser.a and libhawser.so (SONAME libhawser.so.MAJOR) each exporting exactly the
 * functions its headers declare, the latter each under its version of libhawser.map
 * (tests/lib_exports.sh); and the two example programs of docs/embedding.md
 * (docs/examples/) compiled out of the build tree three times, with `cc $(pkg-config
 * --cflags --libs hawser-static)` (libhawser.a linked in), with `cc $(pkg-config --cflags
 * --libs hawser)` (loading libhawser.so) and with `cc -static $(pkg-config --static
 * --cflags --libs hawser)` (loading nothing), and each run: the embedded node as a lone
 * primary, the client against a node of the installed hawser binary, each exiting 0 with
 * the LSNs the node gave its records. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "hawser.h"
#include "replica/store.h"
#include "tests/integration/proc.h"

#define RECORDS 3

/* The installed tree and the compiled examples, made once for both tests. */
struct fix {
	char root[HW_PROC_PATH_MAX];
	char prefix[HW_PROC_PATH_MAX + 16];
	char out[HW_PROC_PATH_MAX + 16]; /* the examples' binaries and tos.pb-c.[ch] */
	char path[HW_PROC_PATH_MAX + 32];
	struct hw_capture *cap;
	struct hw_tnode node; /* test_client_example's, killed at teardown */
};

/* Install, check the header and the libraries' names, and build the examples, as
 * NAME-static, NAME-shared and NAME-allstatic (cc -static with hawser.pc's --static
 * flags, so its Libs.private must name every library libhawser.a needs): $1 cmake, $2 the
 * build tree, $3 the prefix, $4 the output directory, $5 docs/examples, $6 protoc-c, $7
 * tests/lib_exports.sh (the names), $8 libhawser.map. */
static const char install_sh[] =
	"set -e\n"
	"\"$1\" --install \"$2\" --prefix \"$3\" >/dev/null\n"
	"pc=$(find \"$3\" -name hawser.pc)\n"
	"export PKG_CONFIG_PATH=\"${pc%/hawser.pc}\"\n"
	"libdir=$(pkg-config --variable=libdir hawser)\n"
	"v=$(pkg-config --modversion hawser)\n"
	"soname=libhawser.so.${v%%.*}\n"
	"cd \"$4\"\n"
	"printf '#include <hawser.h>\\nint main(void) { return hw_is_reject(0); }\\n' >alone.c\n"
	"cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags hawser) -c alone.c\n"
	"sh \"$7\" \"$3/include\" \"$libdir\" \"$8\"\n"
	"readelf -d \"$libdir/libhawser.so\" | grep -q \"(SONAME).*\\[$soname\\]\" ||"
	" { echo \"libhawser.so: SONAME is not $soname\"; exit 1; }\n"
	"\"$6\" --c_out=. -I\"$3/share/hawser\" tos.proto\n"
	"for e in embed_node client; do\n"
	"  cc -Wall -Wextra -Werror -I. \"$5/$e.c\" tos.pb-c.c \\\n"
	"    $(pkg-config --cflags --libs hawser-static) -o $e-static\n"
	"  cc -Wall -Wextra -Werror -I. \"$5/$e.c\" tos.pb-c.c \\\n"
	"    $(pkg-config --cflags --libs hawser libprotobuf-c) -Wl,-rpath,\"$libdir\" -o "
	"$e-shared\n"
	"  readelf -d $e-shared | grep -q \"(NEEDED).*\\[$soname\\]\" ||"
	" { echo \"$e-shared does not load $soname\"; exit 1; }\n"
	"  if readelf -d $e-static | grep -q '(NEEDED).*libhawser'; then\n"
	"    echo \"$e-static loads libhawser\"; exit 1\n"
	"  fi\n"
	"  cc -static -Wall -Wextra -Werror -I. \"$5/$e.c\" tos.pb-c.c \\\n"
	"    $(pkg-config --static --cflags --libs hawser) -o $e-allstatic\n"
	"  if readelf -d $e-allstatic | grep -q '(NEEDED)'; then\n"
	"    echo \"$e-allstatic loads a library\"; exit 1\n"
	"  fi\n"
	"done\n";

/* Every file of docs/examples ($2) is one of the C blocks of docs/embedding.md ($1),
 * whole and unchanged; the blocks are written into $3. */
static const char docs_sh[] =
	"cd \"$3\"\n"
	"awk '/^```c$/ { n++; f = \"block\" n \".c\"; printf \"\" > f; next }\n"
	"     /^```$/ { f = \"\" } f != \"\" { print > f }' \"$1\"\n"
	"for e in \"$2\"/*; do\n"
	"  found=0\n"
	"  for b in block*.c; do cmp -s \"$b\" \"$e\" && found=1; done\n"
	"  [ $found = 1 ] || { echo \"docs/embedding.md does not show $e as it is\"; exit 1; }\n"
	"done\n";

static int group_setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || (f->cap = malloc(sizeof *f->cap)) == NULL ||
	    hw_test_mkdtemp("install", f->root, sizeof f->root) != 0)
		return -1;
	snprintf(f->prefix, sizeof f->prefix, "%s/prefix", f->root);
	snprintf(f->out, sizeof f->out, "%s/out", f->root);
	*state = f;
	if (mkdir(f->out, 0700) != 0)
		return -1;
	int rc = hw_proc_capture(f->cap, "/bin/sh", "-c", install_sh, "install", HW_CMAKE,
				 HW_BUILD_DIR, f->prefix, f->out, HW_EXAMPLES, HW_PROTOC_C,
				 HW_LIB_EXPORTS, HW_LIB_MAP, NULL);
	if (rc != 0)
		fprintf(stderr, "install and build failed (%d):\n%s%s", rc, f->cap->out,
			f->cap->err);
	return rc == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	struct fix *f = *state;
	if (f == NULL)
		return 0;
	hw_proc_kill(&f->node.proc);
	int rc = hw_test_rm_rf(f->root);
	free(f->cap);
	free(f);
	return rc;
}

/* The LSNs of the lines of out holding "lsn=N", in order: how many (at most cap). */
static size_t lsns_said(const char *out, uint64_t *lsn, size_t cap)
{
	size_t n = 0;
	for (const char *p = strstr(out, "lsn="); p != NULL && n < cap; p = strstr(p + 1, "lsn="))
		lsn[n++] = strtoull(p + 4, NULL, 10);
	return n;
}

/* Run the example name, linked as how ("static" or "shared"), with arg: it exits 0 having
 * said RECORDS LSNs, each after the one before, and after *last. The largest into *last. */
static void run_example(struct fix *f, const char *name, const char *how, const char *arg,
			uint64_t *last)
{
	snprintf(f->path, sizeof f->path, "%s/%s-%s", f->out, name, how);
	int rc = hw_proc_capture(f->cap, f->path, arg, NULL);
	if (rc != 0)
		fprintf(stderr, "%s: %d\n%s%s", name, rc, f->cap->out, f->cap->err);
	assert_int_equal(rc, 0);
	uint64_t lsn[RECORDS + 1];
	assert_int_equal(lsns_said(f->cap->out, lsn, RECORDS + 1), RECORDS);
	assert_true(lsn[0] > *last);
	for (size_t i = 1; i < RECORDS; i++)
		assert_true(lsn[i] > lsn[i - 1]);
	*last = lsn[RECORDS - 1];
}

/* The embedded example, linked statically and then dynamically, opens a lone primary from
 * a config, stores its records and exits 0; they are in the node's store afterwards. */
static void test_embed_example(void **state)
{
	struct fix *f = *state;
	struct hw_tnode t;
	struct hw_tnode_opts o = {.primary = true, .mode = "local"};
	assert_int_equal(hw_tnode_init(&t, f->root, "p1", &o), 0);
	uint64_t last = 0;
	run_example(f, "embed_node", "static", t.ini, &last);
	run_example(f, "embed_node", "shared", t.ini, &last);
	run_example(f, "embed_node", "allstatic", t.ini, &last);

	struct hw_store_opts so = {.read_only = true};
	struct hw_store *s;
	assert_int_equal(hw_store_open(t.dir, &so, &s), 0);
	struct hw_head head;
	int rc = hw_store_head(s, &head);
	hw_store_close(s);
	assert_int_equal(rc, 0);
	assert_true(head.lsn >= last);
}

/* The client example, linked statically and then dynamically, given a node of the
 * installed hawser binary, pipelines its records and exits 0; the node's log reaches the
 * last LSN it printed. */
static void test_client_example(void **state)
{
	struct fix *f = *state;
	struct hw_tnode_opts o = {.primary = true, .mode = "local"};
	assert_int_equal(hw_tnode_init(&f->node, f->root, "p2", &o), 0);
	snprintf(f->path, sizeof f->path, "%s/bin/hawser", f->prefix);
	assert_int_equal(setenv("HW_BIN", f->path, 1), 0);
	assert_int_equal(hw_tnode_start(&f->node, NULL), 0);
	uint64_t last = 0;
	run_example(f, "client", "static", f->node.client, &last);
	run_example(f, "client", "shared", f->node.client, &last);
	run_example(f, "client", "allstatic", f->node.client, &last);
	struct hw_tstatus st;
	assert_int_equal(hw_tnode_status(&f->node, &st), 0);
	assert_true(st.last_lsn >= last);
	assert_int_equal(hw_proc_stop(&f->node.proc, 10000), 0);
}

/* docs/embedding.md shows each example exactly as the file this test compiles. */
static void test_docs_show_examples(void **state)
{
	struct fix *f = *state;
	int rc = hw_proc_capture(f->cap, "/bin/sh", "-c", docs_sh, "docs",
				 HW_EXAMPLES "/../embedding.md", HW_EXAMPLES, f->out, NULL);
	if (rc != 0)
		fprintf(stderr, "%s%s", f->cap->out, f->cap->err);
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embed_example),
		cmocka_unit_test(test_client_example),
		cmocka_unit_test(test_docs_show_examples),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
