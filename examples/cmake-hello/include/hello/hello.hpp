#pragma once
// Shared by every unit of the library and by the program. Plain C strings and
// <cstdio> keep each unit quick to compile.
#include <cstdio>

namespace hello {

/// The word used to greet, upper case when built with HELLO_SHOUT.
const char* greeting();

/// The mark that ends the sentence.
const char* punctuation();

/// Who is greeted.
const char* name();

/// Prints the whole sentence, assembled from the three units above.
inline void print_sentence(std::FILE* out) { std::fprintf(out, "%s, %s%s\n", greeting(), name(), punctuation()); }

}  // namespace hello
