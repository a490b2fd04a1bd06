// System headers that Swift's Glibc module does not bring in, re-exported for BurgCore.
#ifndef CBURG_SYSTEM_H
#define CBURG_SYSTEM_H

#if defined(__linux__)
#include <sys/statfs.h>
#endif

#endif
