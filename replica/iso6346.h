/* iso6346.h: ISO 6346 container numbers: check digit and shape.
 *
 * A number is owner code (3 letters) + equipment category (U, J or Z) + 6-digit serial +
 * 1 check digit. The check digit is (sum of value(c_i) * 2^i, i = 0..9) mod 11 mod 10,
 * where letters take A=10 and skip multiples of 11 (A10 B12 ... K21 L23 ... U32 V34 ...
 * Z38). Remainder 10 gives check digit 0: about 9% of real boxes (tos-domain.md §2.4);
 * forgetting the final mod 10 is a classic bug and has a test. */
#ifndef HW_REPLICA_ISO6346_H
#define HW_REPLICA_ISO6346_H

#include <stdbool.h>

/* Check digit (0..9) of the first 10 characters of id, or -1 when one of them is not
 * an upper-case ASCII letter or digit. id needs at least 10 readable bytes. */
int hw_iso6346_check_digit(const char *id);

/* Value of one character in the check-digit sum (A=10, B=12 ... Z=38; digits as is), or
 * -1 for anything else. */
int hw_iso6346_char_value(char c);

#endif
