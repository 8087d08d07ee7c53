#ifndef MAKE_HELLO_STRUTIL_H
#define MAKE_HELLO_STRUTIL_H

#include <stddef.h>

/* Copy src reversed into dst (at most cap bytes, NUL included); returns dst. */
char *str_reverse(char *dst, size_t cap, const char *src);
/* Number of vowels in s. */
size_t str_vowels(const char *s);

#endif
