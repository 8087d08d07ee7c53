#include "common.h"

static unsigned long sum_of_squares(unsigned n)
{
    unsigned long s = 0;
    for (unsigned i = 1; i <= n; i++)
        s += (unsigned long)i * i;
    return s;
}

void unit_mathx(void)
{
    SAY("mathx", "sum of squares 1..10 = %lu", sum_of_squares(10));
}
