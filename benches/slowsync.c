// A disk whose flush is slower than this machine's, for benchmarks only (benches/README.md, "The WAL's sync
// outside the writer gate"): every fsync/fdatasync of the process waits SLOWSYNC_US microseconds more
// (2000 unless set) after the real one. Build and use:
//   gcc -O2 -shared -fPIC -o /tmp/slowsync.so benches/slowsync.c -ldl
//   LD_PRELOAD=/tmp/slowsync.so SLOWSYNC_US=2000 python3 benches/load.py --no-build --binary B --backends sqlite ...
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

static useconds_t extra_us(void) {
    const char *set = getenv("SLOWSYNC_US");
    return set ? (useconds_t)atoi(set) : 2000;
}

// The real call, then the wait: one definition for each of the two calls.
#define SLOWER(name)                                                      \
    int name(int fd) {                                                    \
        static int (*real)(int) = 0;                                      \
        if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, #name);          \
        int result = real(fd);                                            \
        usleep(extra_us());                                               \
        return result;                                                    \
    }

SLOWER(fdatasync)
SLOWER(fsync)
