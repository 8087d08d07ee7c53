#include <iostream>

#include "hello/farewell.hpp"
#include "hello/hello.hpp"
#include "hello/version.hpp"

int main() {
  std::cout << hello::sentence() << '\n';
  std::cout << "cmake-hello " << HELLO_VERSION << '\n';
  std::cout << hello::farewell() << '\n';
  return 0;
}
