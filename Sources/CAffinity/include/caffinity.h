// The CPUs this process may run on (its affinity mask), for Linalg.CPUs.
// sched_getaffinity needs _GNU_SOURCE, which Swift's Glibc module does not define: hence this C target.
#ifndef CAFFINITY_H
#define CAFFINITY_H

/// Number of CPUs in the calling thread's affinity mask (as taskset, a cpuset cgroup, Slurm's
/// task/affinity or a container runtime sets it); 0 when it cannot be read (non-Linux, error).
int caffinity_cpu_count(void);

/// Restricts the calling thread's affinity mask to one CPU it may use now (the lowest) and returns
/// its number, or -1 on failure (non-Linux, error). Other threads keep their masks. For tests.
int caffinity_pin_calling_thread(void);

#endif
