#include <stdio.h>
#include "count.h"
#include "greet.h"

int main(void) {
  const char *text = greeting();
  printf("%s (%d letters)\n", text, count_letters(text));
  return 0;
}
