/* cmd_witness.c: `hawser witness`: run the witness (engine/witness.h) in the foreground. */
#include <stdio.h>

#include "cli/cli.h"
#include "engine/witness.h"

static int opt_config(void *arg, int key, const char *value)
{
	(void)key;
	*(const char **)arg = value;
	return 0;
}

static int run_witness(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'}, {0}};
	const char *config = NULL;
	int rc = hw_cli_parse(cmd, argc, argv, opts, opt_config, &config, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	if (config == NULL)
		return hw_cli_usage_error(cmd, "--config FILE is required");
	struct hw_witness *w;
	rc = hw_witness_open(config, &w);
	if (rc != 0)
		return HW_CLI_ERROR;
	rc = hw_witness_run(w);
	hw_witness_close(w);
	return rc == 0 ? HW_CLI_OK : HW_CLI_ERROR;
}

const struct hw_cli_cmd hw_cli_witness = {
	.name = "witness",
	.summary = "run the failover witness (a small voter on a third host)",
	.usage =
		"usage: hawser witness --config FILE\n"
		"\n"
		"Runs the witness FILE describes (role = witness, its data_dir and listen\n"
		"address, and the cluster's [failover] section; docs/operations.md \"Failover\")\n"
		"until SIGINT or SIGTERM. It keeps the epoch, its vote and the committed LSN the\n"
		"primary reports in its own store, renews the primary's lease, and votes only for\n"
		"a standby that holds every committed record (RPO 0). Logs one line per event,\n"
		"key=value, to stderr. Exits 1 if it could not start or its store failed.\n",
	.run = run_witness,
};
