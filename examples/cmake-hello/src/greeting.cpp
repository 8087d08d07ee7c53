#include "hello/hello.hpp"

namespace hello {

std::string greeting() {
#ifdef HELLO_SHOUT
  return "HELLO";
#else
  return "Hello";
#endif
}

}  // namespace hello
