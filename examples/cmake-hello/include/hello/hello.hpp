#pragma once
#include <string>

namespace hello {

/// The word used to greet, upper case when built with HELLO_SHOUT.
std::string greeting();

/// The mark that ends the sentence.
std::string punctuation();

/// Who is greeted.
std::string name();

/// The whole sentence, assembled from the three units above.
inline std::string sentence() { return greeting() + ", " + name() + punctuation(); }

}  // namespace hello
