/* cmd_serve.c: `hawser node`: run a node in the foreground; and the --config parsing it
 * shares with `hawser witness`. */
#include <stdio.h>

#include "cli/cli.h"
#include "hawser.h"

static int opt_config(void *arg, int key, const char *value)
{
	(void)key;
	*(const char **)arg = value;
	return value[0] == '\0' ? -1 : 0; /* --config= names no file */
}

int hw_cli_serve_config(const struct hw_cli_cmd *cmd, int argc, char **argv,
			int (*serve)(const char *config))
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'}, {0}};
	const char *config = NULL;
	int rc = hw_cli_parse(cmd, argc, argv, opts, opt_config, &config, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	if (config == NULL)
		return hw_cli_usage_error(cmd, "--config FILE is required");
	return serve(config) == 0 ? HW_CLI_OK : HW_CLI_ERROR;
}

static int serve_node(const char *config)
{
	struct hw_node *n;
	int rc = hw_node_open(config, &n);
	if (rc != 0)
		return rc;
	rc = hw_node_run(n);
	hw_node_close(n);
	return rc;
}

static int run_node(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	return hw_cli_serve_config(cmd, argc, argv, serve_node);
}

const struct hw_cli_cmd hw_cli_node = {
	.name = "node",
	.summary = "run a primary, standby or vault node in the foreground",
	.usage = HW_CLI_USAGE(
		"usage: hawser node --config FILE\n"
		"\n"
		"Runs the node FILE describes (docs/operations.md lists the keys) until SIGINT or\n"
		"SIGTERM. Logs one line per event, key=value, to stderr. A storage failure\n"
		"stops acknowledgements, not the process (storage_failed; status exits 5): the\n"
		"node keeps answering status until it is stopped, and then exits 1. Exits 1 too\n"
		"if the node could not start.\n"),
	.run = run_node,
};
