/* utf8.h: the one reading of UTF-8 text: strict decoding of a code point (record fields
 * are validated with it, replica/validate.c), cutting a string short at a character
 * boundary, and writing text whose invalid bytes become U+FFFD (the CLI's JSON writer,
 * whose output must stay valid whatever a path or a message holds; the drills' HTML
 * reports show such a byte as \xNN instead, as the terminal does: base/log.h).
 * Pure but for hw_utf8_put's FILE; any thread. */
#ifndef HW_BASE_UTF8_H
#define HW_BASE_UTF8_H

#include <stddef.h>
#include <stdio.h>

/* U+FFFD REPLACEMENT CHARACTER, in UTF-8: what stands for a byte that is not UTF-8. */
#define HW_UTF8_REPLACEMENT "\xef\xbf\xbd"

/* Decode one code point at p into *cp; return its length in bytes, or 0 when the sequence
 * is not strict UTF-8 (overlong, surrogate, above U+10FFFF, truncated, stray
 * continuation). A NUL ends a sequence too, so this never reads past a string's end. */
size_t hw_utf8_decode(const unsigned char *p, unsigned long *cp);

/* Cut s where a character that a bounded snprintf split at its end begins: a last lead
 * byte with fewer continuation bytes after it than it needs goes, with them. s is a
 * NUL-terminated string; anything else in it is left as it is. */
void hw_utf8_trim(char *s);

/* Write the character at p (not NUL) to f: a valid sequence as it is, else U+FFFD for its
 * first byte. Returns how many bytes of p it stands for (1 to 4). */
size_t hw_utf8_put(FILE *f, const char *p);

#endif
