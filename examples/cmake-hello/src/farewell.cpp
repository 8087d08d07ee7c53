#include "hello/farewell.hpp"

namespace hello {

const char* farewell() { return "Goodbye."; }

}  // namespace hello
