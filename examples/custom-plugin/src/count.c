#include "count.h"

int count_letters(const char *text) {
  int n = 0;
  for (; *text; text++)
    if ((*text >= 'a' && *text <= 'z') || (*text >= 'A' && *text <= 'Z')) n++;
  return n;
}
int unused_edit;
