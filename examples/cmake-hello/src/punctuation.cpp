#include "hello/hello.hpp"
#include "style.hpp"

namespace hello {

const char* punctuation() { return HELLO_STYLE(".", "!!!"); }

}  // namespace hello
