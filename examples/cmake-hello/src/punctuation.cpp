#include "hello/hello.hpp"

namespace hello {

std::string punctuation() {
#ifdef HELLO_SHOUT
  return "!!!";
#else
  return ".";
#endif
}

}  // namespace hello
