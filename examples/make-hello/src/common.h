#ifndef MAKE_HELLO_COMMON_H
#define MAKE_HELLO_COMMON_H

#include <stdio.h>

#define APP_NAME "make-hello"
#define APP_VERSION "1.0"

/* Every line a unit prints starts with the unit's name. */
#define SAY(unit, ...) \
    do { printf("[%s] ", unit); printf(__VA_ARGS__); putchar('\n'); } while (0)

#endif
