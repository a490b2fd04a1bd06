// The module is its header; SwiftPM wants one source file for a C target.
#include "CBurgFuzz.h"
