/* The thread policy (thread_policy.h): grain sizes decide how work is split, and a measure of
 * the load that other processes put on our CPU set decides how many threads run it.
 *
 * Why measure the load: on a machine whose cores are shared, a fork-join region waits for its
 * slowest thread, and a thread that the scheduler has set aside makes every region of a train
 * step wait a time slice (milliseconds): with every core busy, 2 threads made a small MLP's train
 * step many times slower than 1 (docs/performance.md, "Thread policy"). So a region gets only the
 * cores that other processes leave free.
 *
 * How: every FS_LOAD_WINDOW seconds (at most; lazily, from whichever call needs the figure),
 * the busy time of our CPU set's cores from /proc/stat (user, nice, system, irq, softirq and
 * steal: a hypervisor's steal takes the core as surely as a process) minus this process's own
 * CPU time (CLOCK_PROCESS_CPUTIME_ID, all our threads) is the other processes' load, in cores,
 * over the window. The free cores are the CPU set's size minus that load, rounded so that a
 * core counts as free when at most a quarter of it is taken. Before the first window has passed
 * the instant count of runnable tasks (procs_running) stands in, less this process's own
 * runnable threads (a BLAS pool still spinning after its last product is ours, not another
 * process's load). Cost: one read of /proc/stat per window, none for work that runs on one
 * thread anyway. */
#define _GNU_SOURCE
#include "thread_policy.h"

#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#define FS_LOAD_WINDOW 0.2       /* seconds between two measurements */
#define FS_FREE_CORE_SLACK 0.25  /* a core still counts as free when this much of it is taken */

static atomic_int adaptive = 1;
static atomic_int free_cores = 0;            /* 0: not known yet */
static _Atomic double foreign_load = -1.0;   /* other processes' load in cores; < 0: unknown */
static atomic_flag measuring = ATOMIC_FLAG_INIT;
static atomic_int forked_child = 0;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

/* Written only by the thread holding `measuring`. */
static struct {
    cpu_set_t cpus;
    int cpu_count;
    int usable;         /* /proc/stat was readable at start-up */
    int have_previous;  /* `previous` holds a sample to measure a window from */
    double window_start;
    struct {
        double wall, own_cpu, busy_seconds;
    } previous;
} state;

static double clock_seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Busy seconds of our CPU set's cores since boot, and the runnable tasks now; 0 on success. */
static int read_proc_stat(double *busy_seconds, long *procs_running)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    static long ticks_per_second;
    if (!ticks_per_second) ticks_per_second = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    char line[512];
    int at_line_start = 1, found = 0;
    unsigned long long busy = 0;
    *procs_running = -1;
    while (fgets(line, sizeof line, f)) {
        const int starts = at_line_start;
        at_line_start = strchr(line, '\n') != NULL; /* a long line (intr) comes in pieces */
        if (!starts) continue;
        int cpu;
        unsigned long long user, nice, system, idle, iowait, irq, softirq, steal = 0;
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &user, &nice,
                   &system, &idle, &iowait, &irq, &softirq, &steal) >= 8) {
            if (cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &state.cpus)) {
                busy += user + nice + system + irq + softirq + steal;
                ++found;
            }
        } else if (strncmp(line, "procs_running ", 14) == 0) {
            *procs_running = strtol(line + 14, NULL, 10);
        }
    }
    fclose(f);
    if (!found) return -1;
    *busy_seconds = (double)busy / (double)ticks_per_second;
    return 0;
}

/* In a forked child: libgomp's pool did not come along (only the forking thread does), and the
 * child's next region with more than one thread would wait forever for the parent's workers
 * (multiprocessing's default start method on Linux, DataLoader-style workers, gunicorn). So a
 * child runs every kernel on its own thread. Its CPU clock also starts again from zero: the
 * parent's load sample means nothing there. */
static void after_fork_in_child(void)
{
    atomic_store(&forked_child, 1);
    state.have_previous = 0;
}

static void setup(void)
{
    CPU_ZERO(&state.cpus);
    if (sched_getaffinity(0, sizeof state.cpus, &state.cpus) != 0)
        for (int i = 0; i < CPU_SETSIZE && i < 1024; ++i) CPU_SET(i, &state.cpus);
    state.cpu_count = CPU_COUNT(&state.cpus);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (state.cpu_count < 1 || (online > 0 && state.cpu_count > online))
        state.cpu_count = online > 0 ? (int)online : 1;
    double busy;
    long running;
    state.usable = read_proc_stat(&busy, &running) == 0;
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

/* This process's threads that are runnable now (state R in /proc/self/task/<tid>/stat), the
 * calling one included; 1 when they cannot be read. Read once, before the first window. */
static long own_running_threads(void)
{
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return 1;
    long running = 0;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", entry->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        const size_t n = fread(line, 1, sizeof line - 1, f);
        fclose(f);
        line[n] = 0;
        /* "tid (name) S ...": the state follows the last ')' (a name may hold parentheses). */
        const char *close = strrchr(line, ')');
        if (close && close[1] == ' ' && close[2] == 'R') ++running;
    }
    closedir(tasks);
    return running > 0 ? running : 1;
}

static int free_cores_from(double load)
{
    int n = (int)((double)state.cpu_count - load + FS_FREE_CORE_SLACK);
    if (n < 1) n = 1;
    if (n > state.cpu_count) n = state.cpu_count;
    return n;
}

/* Called by the one thread holding `measuring`. */
static void measure(double wall)
{
    double busy;
    long running;
    if (read_proc_stat(&busy, &running) != 0) {
        atomic_store(&free_cores, state.cpu_count);
        return;
    }
    const double own = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    if (state.have_previous && wall - state.previous.wall > 0) {
        const double elapsed = wall - state.previous.wall;
        double load =
            ((busy - state.previous.busy_seconds) - (own - state.previous.own_cpu)) / elapsed;
        if (load < 0) load = 0;
        atomic_store(&foreign_load, load);
        atomic_store(&free_cores, free_cores_from(load));
    } else if (atomic_load(&free_cores) == 0 && running > 0) {
        /* No window yet: the runnable tasks now, less our own (the one asking among them). */
        const long others = running - own_running_threads();
        atomic_store(&free_cores, free_cores_from((double)(others > 0 ? others : 0)));
    }
    state.previous.wall = wall;
    state.previous.own_cpu = own;
    state.previous.busy_seconds = busy;
    state.have_previous = 1;
    state.window_start = wall;
}

int fs_free_cores(void)
{
    pthread_once(&setup_once, setup);
    if (!atomic_load(&adaptive) || !state.usable) return state.cpu_count;
    const double wall = clock_seconds(CLOCK_MONOTONIC);
    /* One thread measures; the others use the figure it left. */
    if ((atomic_load(&free_cores) == 0 || wall - state.window_start >= FS_LOAD_WINDOW) &&
        !atomic_flag_test_and_set(&measuring)) {
        if (atomic_load(&free_cores) == 0 || wall - state.window_start >= FS_LOAD_WINDOW)
            measure(wall);
        atomic_flag_clear(&measuring);
    }
    const int n = atomic_load(&free_cores);
    return n > 0 ? n : state.cpu_count;
}

/* The fork handler must be in place before the first fork, not only once a kernel has asked
 * for the load. */
__attribute__((constructor)) static void setup_at_load(void)
{ pthread_once(&setup_once, setup); }

int fs_max_threads(void)
{
    /* Inside any parallel region, even a one-thread one, work stays on its thread: the caller
     * has already split it, and its partial results must not depend on the team. */
    if (omp_get_level() > 0 || atomic_load(&forked_child)) return 1;
    return omp_get_max_threads();
}

int fs_in_forked_child(void)
{ return atomic_load(&forked_child); }

int fs_parts_for(double work, double grain)
{
    const int max = fs_max_threads();
    if (max <= 1 || !(work >= 2 * grain)) return 1;
    const double parts = work / grain;
    return parts >= (double)max ? max : (int)parts;
}

int fs_team_for(int parts)
{
    if (parts <= 1) return 1;
    const int free = fs_free_cores();
    return parts < free ? parts : free;
}

int fs_threads_for(double work, double grain)
{ return fs_team_for(fs_parts_for(work, grain)); }

void fs_set_adaptive_threads(int on)
{ atomic_store(&adaptive, on ? 1 : 0); }
int fs_get_adaptive_threads(void)
{ return atomic_load(&adaptive); }

double fs_foreign_load(void)
{
    fs_free_cores();
    return atomic_load(&foreign_load);
}

int fs_cpu_set_size(void)
{
    pthread_once(&setup_once, setup);
    return state.cpu_count;
}
