#include <stdio.h>
#include <string.h>

#include "strutil.h"

char *str_reverse(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (cap == 0)
        return dst;
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = src[n - 1 - i];
    dst[n] = '\0';
    return dst;
}

size_t str_vowels(const char *s)
{
    size_t count = 0;
    for (; *s; s++)
        if (strchr("aeiouAEIOU", *s))
            count++;
    return count;
}

void unit_strutil(void)
{
    static const char word[] = "orchestrate";
    printf("[strutil] \"%s\" has %zu vowels\n", word, str_vowels(word));
}
