// sched_getaffinity with a mask that grows until the kernel accepts it (machines with more than
// CPU_SETSIZE = 1024 CPUs reject the fixed-size cpu_set_t with EINVAL).
#define _GNU_SOURCE
#include "caffinity.h"

#if defined(__linux__)
#include <errno.h>
#include <sched.h>

int caffinity_cpu_count(void) {
    for (int cpus = 1024; cpus <= (1 << 20); cpus *= 2) {
        cpu_set_t *set = CPU_ALLOC(cpus);
        if (set == NULL) return 0;
        size_t size = CPU_ALLOC_SIZE(cpus);
        CPU_ZERO_S(size, set);
        if (sched_getaffinity(0, size, set) == 0) {
            int n = CPU_COUNT_S(size, set);
            CPU_FREE(set);
            return n;
        }
        int err = errno;
        CPU_FREE(set);
        if (err != EINVAL) return 0;
    }
    return 0;
}

int caffinity_pin_calling_thread(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            return sched_setaffinity(0, sizeof one, &one) == 0 ? cpu : -1;
        }
    }
    return -1;
}
#else
int caffinity_cpu_count(void) { return 0; }
int caffinity_pin_calling_thread(void) { return -1; }
#endif
