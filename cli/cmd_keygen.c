/* cmd_keygen.c: `hawser keygen`: a node's static identity (engine/io/channel.h) as
 * node.key (secret, mode 0600) and node.pub (the keys peers pin). */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/fs.h"
#include "engine/io/channel.h"
#include "hawser_error.h"

struct keygen_opts {
	const char *out;
};

static int keygen_opt_cb(void *arg, int key, const char *value)
{
	struct keygen_opts *o = arg;
	if (key != 'o' || !value || !*value)
		return -1;
	o->out = value;
	return 0;
}

/* Write text to a new file dir/name with mode, never replacing one, and fsync it.
 * Returns 0 or -errno (-EEXIST when it is there already). */
static int write_new(const char *dir, const char *name, const char *text, size_t len, mode_t mode)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	int rc = fchmod(fd, mode) == 0 ? 0 : -errno; /* whatever the umask said */
	size_t done = 0;
	while (rc == 0 && done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0)
		unlink(path);
	return rc;
}

/* Refuse early, before anything is written, when either file exists. */
static int check_free(const struct hw_cli_cmd *cmd, const char *dir)
{
	static const char *const names[] = {"node.key", "node.pub"};
	for (int i = 0; i < 2; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (lstat(path, &st) == 0)
			return hw_cli_fail_why(cmd->name, path, -EEXIST,
					       "refusing to overwrite an identity");
	}
	return HW_CLI_OK;
}

static int write_identity(const struct hw_cli_cmd *cmd, const char *dir,
			  const struct hw_identity *id)
{
	char secret[512], pub[512];
	long ns = hw_identity_format_secret(id, secret, sizeof secret);
	long np = hw_identity_format_public(id, pub, sizeof pub);
	if (ns < 0 || np < 0)
		return hw_cli_fail(cmd->name, "format", (int)(ns < 0 ? ns : np));
	char key_path[4096], pub_path[4096];
	snprintf(key_path, sizeof key_path, "%s/node.key", dir);
	snprintf(pub_path, sizeof pub_path, "%s/node.pub", dir);
	int rc = write_new(dir, "node.key", secret, (size_t)ns, 0600);
	sodium_memzero(secret, sizeof secret);
	if (rc)
		return hw_cli_fail(cmd->name, key_path, rc);
	rc = write_new(dir, "node.pub", pub, (size_t)np, 0644);
	if (rc) {
		unlink(key_path); /* half an identity is worse than none */
		return hw_cli_fail(cmd->name, pub_path, rc);
	}
	rc = hw_fs_sync(dir);
	if (rc)
		return hw_cli_fail(cmd->name, dir, rc);
	fputs(pub, stdout);
	char fp[HW_CHANNEL_FINGERPRINT_CHARS + 1];
	hw_channel_fingerprint(id->kx_pk, fp);
	printf("# fingerprint %s (as logs and status show this key)\n", fp);
	return HW_CLI_OK;
}

static const struct option keygen_longopts[] = {
	{"out", required_argument, NULL, 'o'},
	{0},
};

static int cmd_keygen(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct keygen_opts o = {0};
	int rc = hw_cli_parse(cmd, argc, argv, keygen_longopts, keygen_opt_cb, &o, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!o.out)
		return hw_cli_usage_error(cmd, "--out DIR is required");
	bool made = access(o.out, F_OK) != 0;
	rc = hw_fs_mkdirs(o.out, 0700);
	if (rc != 0)
		return hw_cli_fail(cmd->name, o.out, rc);
	rc = check_free(cmd, o.out);
	if (rc != HW_CLI_OK)
		return rc;
	struct hw_identity id;
	rc = hw_identity_generate(&id);
	if (rc)
		rc = hw_cli_fail(cmd->name, "generate", rc);
	else
		rc = write_identity(cmd, o.out, &id);
	hw_identity_wipe(&id);
	if (rc != HW_CLI_OK && made)
		rmdir(o.out); /* the directory it made, empty again (its parents stay) */
	return rc;
}

const struct hw_cli_cmd hw_cli_keygen = {
	"keygen", "make a node identity (node.key, node.pub) for the encrypted channel",
	HW_CLI_USAGE(
		"usage: hawser keygen --out DIR\n"
		"  Generate this node's static identity: an X25519 key pair for the replication\n"
		"  channel and an Ed25519 pair for signatures. Writes DIR/node.key (secret, mode\n"
		"  0600) and DIR/node.pub (mode 0644), creating DIR (mode 0700) and its parents\n"
		"  if needed, and prints node.pub and the key's fingerprint (its first 16 hex\n"
		"  digits, as logs show it).\n"
		"  Refuses to overwrite either file (EEXIST). A write that fails (a full disk)\n"
		"  leaves neither file, nor DIR when it made DIR. Every node, witness and client\n"
		"  that must accept this one lists its node.pub (or a directory holding it) in\n"
		"  [security] peers, or --peers for a client; see docs/security.md for key\n"
		"  rotation.\n"),
	cmd_keygen};
