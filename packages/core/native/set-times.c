/*
 * orchestrate-set-times: set file times with nanosecond precision.
 *
 * Node's fs.utimes goes through a double and libuv rounds to microseconds,
 * but make, ninja and cargo compare nanoseconds, so an exact replay of
 * recorded mtimes needs utimensat(2). Input on stdin, one record per file:
 *   <mtime ns, decimal> NUL <path> NUL
 * The access time is set equal to the modification time. Symbolic links are
 * not followed (AT_SYMLINK_NOFOLLOW). Exit status 1 and one line per failing
 * path on stderr when any file could not be set.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *read_field(FILE *in, char **buf, size_t *cap) {
  ssize_t n = getdelim(buf, cap, '\0', in);
  if (n <= 0) return NULL;
  return *buf;
}

int main(void) {
  char *tbuf = NULL, *pbuf = NULL;
  size_t tcap = 0, pcap = 0;
  int status = 0;
  for (;;) {
    char *t = read_field(stdin, &tbuf, &tcap);
    if (!t) break;
    char *p = read_field(stdin, &pbuf, &pcap);
    if (!p) { fputs("set-times: truncated input\n", stderr); return 2; }
    char *end = NULL;
    errno = 0;
    long long ns = strtoll(t, &end, 10);
    if (errno || *end != '\0') { fprintf(stderr, "set-times: bad time '%s'\n", t); return 2; }
    struct timespec ts[2];
    ts[0].tv_sec = ns / 1000000000LL;
    ts[0].tv_nsec = ns % 1000000000LL;
    if (ts[0].tv_nsec < 0) { ts[0].tv_nsec += 1000000000LL; ts[0].tv_sec -= 1; }
    ts[1] = ts[0];
    if (utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) != 0) {
      fprintf(stderr, "%s: %s\n", p, strerror(errno));
      status = 1;
    }
  }
  free(tbuf);
  free(pbuf);
  return status;
}
