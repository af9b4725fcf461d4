/* utf8.h: the one reading of UTF-8 text: strict decoding of a code point (record fields
 * are validated with it, replica/validate.c; the terminal, the drills' HTML reports and
 * the CLI's JSON show a byte that is not UTF-8 as \xNN with it: base/log.h, cli/json.c),
 * and cutting a string short at a character boundary. Pure; any thread. */
#ifndef HW_BASE_UTF8_H
#define HW_BASE_UTF8_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, in UTF-8: what a writer that replaced a byte that is not
 * UTF-8 would write (none of hawser's does: tests look for it). */
#define HW_UTF8_REPLACEMENT "\xef\xbf\xbd"

/* Decode one code point at p into *cp; return its length in bytes, or 0 when the sequence
 * is not strict UTF-8 (overlong, surrogate, above U+10FFFF, truncated, stray
 * continuation). A NUL ends a sequence too, so this never reads past a string's end. */
size_t hw_utf8_decode(const unsigned char *p, unsigned long *cp);

/* Cut s where a character that a bounded snprintf split at its end begins: a last lead
 * byte with fewer continuation bytes after it than it needs goes, with them. s is a
 * NUL-terminated string; anything else in it is left as it is. */
void hw_utf8_trim(char *s);

#endif
