/* cmd_witness.c: `hawser witness`: run the witness (engine/witness.h) in the foreground. */
#include <stdio.h>

#include "cli/cli.h"
#include "engine/witness.h"

static int serve_witness(const char *config)
{
	struct hw_witness *w;
	int rc = hw_witness_open(config, &w);
	if (rc != 0)
		return rc;
	rc = hw_witness_run(w);
	hw_witness_close(w);
	return rc;
}

static int run_witness(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	return hw_cli_serve_config(cmd, argc, argv, serve_witness);
}

const struct hw_cli_cmd hw_cli_witness = {
	.name = "witness",
	.summary = "run the failover witness (a small voter on a third host)",
	.usage = HW_CLI_USAGE(
		"usage: hawser witness --config FILE\n"
		"\n"
		"Runs the witness FILE describes (role = witness, its data_dir and listen\n"
		"address, and the cluster's [failover] section; docs/failover.md)\n"
		"until SIGINT or SIGTERM. It keeps the epoch, its vote and the committed LSN the\n"
		"primary reports in its own store, renews the primary's lease, and votes only for\n"
		"a standby that holds every committed record (rpo 0), or at rpo t every record\n"
		"committed t ago (the stricter of its own and the primary's rpo). Logs one line\n"
		"per event, key=value, to stderr. Exits 1 if it could not start or its store\n"
		"failed.\n"),
	.run = run_witness,
};
