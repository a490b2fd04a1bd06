// System headers that Swift's Glibc module does not bring in, re-exported for BurgCore.
#ifndef CBURG_SYSTEM_H
#define CBURG_SYSTEM_H

#if defined(__linux__)
#include <sys/statfs.h>
#include <sys/prctl.h>
#include <signal.h>

/// Asks the kernel to send `sig` to this process when its parent dies (prctl is variadic, which Swift
/// cannot call directly). Returns 0 on success.
static inline int cburg_set_parent_death_signal(int sig) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0UL, 0UL, 0UL);
}
#endif

#endif
