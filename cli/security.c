/* security.c: the options of the commands that connect to nodes as clients (--key,
 * --peers, --cluster, --insecure; cli.h), or a node's [security] section, turned into
 * include/hawser.h's hw_client_security. */
#include <string.h>

#include "cli/cli.h"
#include "engine/config.h"
#include "hawser.h"

int hw_cli_security_opt(struct hw_client_security *s, int key, const char *v)
{
	switch (key) {
	case HW_CLI_OPT_KEY:
		s->key = v;
		return 1;
	case HW_CLI_OPT_PEERS:
		s->peers = v;
		return 1;
	case HW_CLI_OPT_CLUSTER:
		s->cluster_id = v;
		return 1;
	case HW_CLI_OPT_INSECURE:
		s->insecure = true;
		return 1;
	default:
		return 0;
	}
}

int hw_cli_security_check(const struct hw_cli_cmd *cmd, const struct hw_client_security *s)
{
	bool any = s->key || s->peers || s->cluster_id;
	if (s->insecure && any)
		return hw_cli_usage_error(cmd,
					  "--insecure goes without --key, --peers and --cluster");
	if (s->insecure)
		return HW_CLI_RUN;
	if (!s->key || !s->peers || !s->cluster_id)
		return hw_cli_usage_error(
			cmd, "connections (--connect) are encrypted: give --key FILE (this "
			     "client's node.key from hawser keygen), --peers LIST "
			     "(the nodes' node.pub files or their directory) and "
			     "--cluster ID, or --insecure for nodes with insecure = true");
	return HW_CLI_RUN;
}

int hw_cli_security_check_for(const struct hw_cli_cmd *cmd, const char *given, const char *opt,
			      const struct hw_client_security *s)
{
	if (given)
		return hw_cli_security_check(cmd, s);
	if (s->key || s->peers || s->cluster_id || s->insecure)
		return hw_cli_usage_error(
			cmd, "--key, --peers, --cluster and --insecure go with %s", opt);
	return HW_CLI_RUN;
}

int hw_cli_security_check_optional(const struct hw_cli_cmd *cmd, const char *connect,
				   const struct hw_client_security *s)
{
	return hw_cli_security_check_for(cmd, connect, "--connect", s);
}

void hw_cli_security_of_config(const struct hw_config *c, struct hw_client_security *out)
{
	const struct hw_security *s = &c->security;
	*out = (struct hw_client_security){
		.cluster_id = c->cluster_id,
		.key = s->key[0] ? s->key : NULL,
		.peers = s->peer_files[0] ? s->peer_files : NULL,
		.insecure = s->insecure,
	};
}
