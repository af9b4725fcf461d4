/* json.h: a tiny streaming JSON writer for the CLI's --json output. It writes straight to
 * a FILE, tracks where commas go, and escapes strings; it does not check that the caller
 * nests correctly beyond a depth limit (HW_JSON_DEPTH_MAX). One object per writer. */
#ifndef HW_CLI_JSON_H
#define HW_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Output of the CLI is flat or one level deep; 8 leaves room without a heap. */
#define HW_JSON_DEPTH_MAX 8

struct hw_json {
	FILE *f;
	int depth;
	bool after_key;                    /* a key was written: the value needs no comma */
	bool has_items[HW_JSON_DEPTH_MAX]; /* per level: an item was written already */
};

/* Start writing to f. */
void hw_json_init(struct hw_json *j, FILE *f);

void hw_json_object_begin(struct hw_json *j);
/* Ends the object; at depth 0 also writes a newline. */
void hw_json_object_end(struct hw_json *j);
void hw_json_array_begin(struct hw_json *j);
void hw_json_array_end(struct hw_json *j);

/* Key of the next value inside an object. */
void hw_json_key(struct hw_json *j, const char *key);

/* Values. Strings are escaped (quotes, backslash, control characters), and a byte that is
 * not UTF-8 is written as the four characters \xNN ("\\xff" in the JSON), as the terminal
 * and the drills' HTML pages show it, so no string makes the output invalid JSON; a NULL
 * string is written as null; a double that is not finite as null; a whole one with all
 * its digits and ".0" (9756672.0); any other to 15 significant digits (7.70491e-07). */
void hw_json_string(struct hw_json *j, const char *s);
void hw_json_int(struct hw_json *j, int64_t v);
void hw_json_uint(struct hw_json *j, uint64_t v);
void hw_json_double(struct hw_json *j, double v);
void hw_json_bool(struct hw_json *j, bool v);

/* A key and its value, the common case inside an object. */
void hw_json_kv_string(struct hw_json *j, const char *key, const char *s);
void hw_json_kv_int(struct hw_json *j, const char *key, int64_t v);
void hw_json_kv_uint(struct hw_json *j, const char *key, uint64_t v);
void hw_json_kv_double(struct hw_json *j, const char *key, double v);
void hw_json_kv_bool(struct hw_json *j, const char *key, bool v);

#endif
