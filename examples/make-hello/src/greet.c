#include "common.h"
#include "strutil.h"

void unit_greet(void)
{
    static const char greeting[] = "Hello, world!";
    char reversed[sizeof greeting];

    SAY("greet", "%s (reversed: %s)", greeting,
        str_reverse(reversed, sizeof reversed, greeting));
}
