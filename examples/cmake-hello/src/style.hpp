#pragma once
// Private to the library, shared by the units whose text depends on the
// HELLO_SHOUT option (greeting.cpp, punctuation.cpp), not by name.cpp.

#ifdef HELLO_SHOUT
#define HELLO_STYLE(quiet, loud) loud
#else
#define HELLO_STYLE(quiet, loud) quiet
#endif
