// System headers that Swift's Glibc module does not bring in, re-exported for BurgCore.
#ifndef CBURG_SYSTEM_H
#define CBURG_SYSTEM_H

#if defined(__linux__)
#include <sys/statfs.h>
#include <sys/prctl.h>
#include <signal.h>
#include <spawn.h>

/// Asks the kernel to send `sig` to this process when its parent dies (prctl is variadic, which Swift
/// cannot call directly). Returns 0 on success.
static inline int cburg_set_parent_death_signal(int sig) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0UL, 0UL, 0UL);
}

/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+, declared only under _GNU_SOURCE): the child
/// closes every descriptor from `from` up before it runs the program. Returns 0, or an errno (ENOSYS
/// on an older C library).
int cburg_spawn_close_from(posix_spawn_file_actions_t *actions, int from);
#endif

#endif
