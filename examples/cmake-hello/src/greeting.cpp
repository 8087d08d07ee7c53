#include "hello/hello.hpp"
#include "style.hpp"

namespace hello {

const char* greeting() { return HELLO_STYLE("Hello", "HELLO"); }

}  // namespace hello
