#include "hello/farewell.hpp"

namespace hello {

std::string farewell() { return "Goodbye."; }

}  // namespace hello
