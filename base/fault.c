/* fault.c: countdown-and-repeat fault primitive (base/fault.h). */
#include "base/fault.h"

#include <stddef.h>

void hw_fault_init(struct hw_fault *f)
{
	f->countdown = -1;
	f->repeat = 0;
	f->fired = 0;
}

void hw_fault_arm(struct hw_fault *f, int countdown, int repeat)
{
	f->countdown = countdown;
	f->repeat = repeat;
	f->fired = 0;
}

bool hw_fault_tick(struct hw_fault *f)
{
	if (f == NULL || f->countdown < 0)
		return false;
	if (f->countdown > 0) {
		f->countdown--;
		return false;
	}
	if (f->repeat == 0) {
		f->countdown = -1;
		return false;
	}
	if (f->repeat > 0)
		f->repeat--;
	f->fired++;
	return true;
}
