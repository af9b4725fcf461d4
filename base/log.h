/* log.h: structured logs: one line per event on stderr, key=value pairs, so an operator
 * can grep them and a script can parse them:
 *
 *   t=2026-11-26T10:12:44.123Z node=p1 event=peer_connected peer=s1 lsn=1200
 *
 * Values with spaces or quotes are quoted by the caller's format (use %s for tokens,
 * "\"%s\"" for text). Any thread: each line is one write(2). */
#ifndef HW_BASE_LOG_H
#define HW_BASE_LOG_H

/* Name every line of this process carries after t= (the node id); NULL clears. */
void hw_log_node(const char *node_id);

/* Write "t=... node=... event=<event> <fmt...>\n" to stderr. */
void hw_log(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
