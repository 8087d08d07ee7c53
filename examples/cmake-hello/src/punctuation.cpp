#include "hello/hello.hpp"
#include "style.hpp"

namespace hello {

std::string punctuation() { return HELLO_STYLE(".", "!!!"); }

}  // namespace hello
