#pragma once

namespace hello {

/// The last line the program prints; only the program uses it.
const char* farewell();

}  // namespace hello
