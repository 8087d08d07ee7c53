#include "hello/hello.hpp"
#include "hello/version.hpp"

namespace hello {

const char* name() { return "world (v" HELLO_VERSION ")"; }

}  // namespace hello
