#include <cstdio>

#include "hello/farewell.hpp"
#include "hello/hello.hpp"
#include "hello/version.hpp"

int main() {
  hello::print_sentence(stdout);
  std::printf("cmake-hello %s\n", HELLO_VERSION);
  std::printf("%s\n", hello::farewell());
  return 0;
}
