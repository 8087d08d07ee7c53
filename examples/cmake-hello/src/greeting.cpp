#include "hello/hello.hpp"
#include "style.hpp"

namespace hello {

std::string greeting() { return HELLO_STYLE("Hello", "HELLO"); }

}  // namespace hello
