#pragma once
#include <string>

namespace hello {

/// The last line the program prints; only the program uses it.
std::string farewell();

}  // namespace hello
