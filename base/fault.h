/* fault.h: the one fault primitive every fake and fault hook uses (STYLE.md 10).
 *
 * A fault fires after `countdown` successful calls and then fails `repeat` calls in a
 * row (repeat < 0: forever). Tests sweep countdown from 0 upward until the operation
 * succeeds, so every failure point is hit once. Not thread-safe: one owner each. */
#ifndef HW_BASE_FAULT_H
#define HW_BASE_FAULT_H

#include <stdbool.h>

struct hw_fault {
	int countdown; /* calls left before the first failure; < 0: disarmed */
	int repeat;    /* failures left once firing; < 0: never stops */
	int fired;     /* failures delivered so far */
};

/* Disarmed fault: never fires. */
void hw_fault_init(struct hw_fault *f);

/* Arm f to fail after countdown calls, repeat times (repeat < 0: forever). */
void hw_fault_arm(struct hw_fault *f, int countdown, int repeat);

/* Count one call; true when this call must fail. f may be NULL (never fails). */
bool hw_fault_tick(struct hw_fault *f);

#endif
