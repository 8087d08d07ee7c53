#include "hello/hello.hpp"
#include "hello/version.hpp"

namespace hello {

std::string name() { return std::string("world (v") + HELLO_VERSION + ")"; }

}  // namespace hello
