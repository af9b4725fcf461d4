/* log.h: structured logs: one line per event on stderr, key=value pairs, so an operator
 * can grep them and a script can parse them:
 *
 *   t=2026-11-26T10:12:44.123Z node=p1 event=peer_connected peer=s1 lsn=1200
 *
 * Every string value (%s, %c) is escaped here, so a value from a peer or an operator
 * cannot end the line or forge a key: inside quotes of the format ("\"%s\"", for text)
 * '"', '\\' and control characters are escaped (\", \\, \n, \r, \t, \xNN); a bare value
 * (key=%s, for tokens) that contains any of them, a space or '=' is quoted and escaped
 * the same way. Numbers go as formatted. The node id and event are treated as values.
 * %n is not supported (the line ends there). A line longer than 1,023 bytes is cut.
 * Any thread: each line is one write(2). */
#ifndef HW_BASE_LOG_H
#define HW_BASE_LOG_H

/* Name every line of this process carries after t= (the node id); NULL clears. */
void hw_log_node(const char *node_id);

/* Write "t=... node=... event=<event> <fmt...>\n" to stderr. */
void hw_log(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
