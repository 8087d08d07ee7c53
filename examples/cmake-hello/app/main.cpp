#include <iostream>

#include "hello/hello.hpp"
#include "hello/version.hpp"

int main() {
  std::cout << hello::sentence() << '\n';
  std::cout << "cmake-hello " << HELLO_VERSION << '\n';
  return 0;
}
