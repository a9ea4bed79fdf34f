/* The thread policy (thread_policy.h): grain sizes decide how work is split, and a measure of
 * the load that other threads put on our CPU set decides how many threads run it.
 *
 * Why measure the load: on a machine whose cores are shared, a fork-join region waits for its
 * slowest thread, and a thread that the scheduler has set aside makes every region of a train
 * step wait a time slice (milliseconds): with every core busy, 2 threads made a small MLP's train
 * step many times slower than 1 (docs/performance.md, "Thread policy"). So a region gets only the
 * cores that other threads leave free.
 *
 * Other threads: other processes', and this process's own threads that run none of our kernels.
 * The second kind is common: NumPy's OpenBLAS pool busy-waits about 0.1 s after each of its
 * multi-threaded products (when NumPy was imported before fastscratch, whose shorter
 * OPENBLAS_THREAD_TIMEOUT it then never reads), and a user's script that mixes its own NumPy
 * products with our kernels had its 2-thread train steps run twice as slow as on one thread
 * (docs/performance.md, "Threads of this process that are not ours"). Ours are the team: every
 * thread that asked for the free cores (a kernel's caller) and the OpenMP pool it runs regions
 * on, registered once per caller (join_team); a pool spinning after our last region is ours.
 *
 * How: every FS_LOAD_WINDOW seconds (at most; lazily, from whichever call needs the figure),
 * the busy time of our CPU set's cores from /proc/stat (user, nice, system, irq, softirq and
 * steal: a hypervisor's steal takes the core as surely as a process) minus this process's CPU
 * time is the other processes' load, in cores, over the window. This process's other threads
 * (the outsiders, listed at each window) are looked at more often, every FS_OUTSIDER_LOOK: one
 * whose CPU clock advanced through at least half the span since the last look and that is
 * runnable now takes a core. A thread that worked but sleeps now (NumPy's pool after its
 * product, while our kernels run) so takes no core from our next regions, and one that spins or
 * works takes one from our next regions on, not a window later: NumPy's pool spins ~0.1 s after
 * a product when NumPy was imported before fastscratch, and 2-thread predictions run within a
 * window of a quiet look after NumPy's products took 1.4-10x their time on one thread
 * (docs/performance.md, "NumPy's pool between windows"). The free cores are the CPU set's size
 * minus that load, rounded so that a core counts as free when at most a quarter of it is taken.
 * Before the first window has passed the instant count of runnable tasks (procs_running) stands in,
 * less the team's runnable threads. Cost: per window one read of /proc/stat and of this process's
 * thread list; per look a CPU clock for each outsider (NumPy's pool: a thread a core), looks spaced
 * out further when there are many, and the state of those that worked through half of it (a /proc
 * file, ~10 us); none for work that runs on one thread anyway. (The process's CPU clock less the
 * team's would save the outsiders' clocks, but a running thread's time reaches the process's clock
 * only at the scheduler's tick, 4 ms at 250 Hz: the team's spinning workers then made every
 * few looks read the threads' states for nothing.)
 *
 * One pool. libgomp gives every thread that starts a parallel region a pool of workers of its
 * own, and once the pools' threads outnumber the CPUs it spins 100 iterations, not
 * GOMP_SPINCOUNT's, before a worker sleeps: every region of every pool then wakes its worker
 * from a futex. Two Python threads that each ran 2-thread kernels on 2 cores made both their
 * MLP train steps 2.4-2.9 ms against 1.5 with one caller and 1.9 at one thread (docs/
 * performance.md, "Kernels called from two threads"). So the process keeps one pool where it
 * can: the first caller that runs a team owns it for as long as its thread lives; another
 * caller runs its short regions on its own thread, and only a long one (at least
 * FS_LONG_REGION_GRAINS grains, where a futex wake is small beside the work) on a pool of its
 * own, which it keeps through the short regions between long ones and gives back
 * (omp_pause_resource_all) at the first short region FS_POOL_KEEP after its last long one. While a
 * second pool lives, the owner too runs short regions on its own thread: one thread beats a
 * worker woken from sleep there. Only libgomp's own thread can free its pool, so a caller that
 * is idle but alive keeps its pool. */
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
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define FS_LOAD_WINDOW 0.2       /* seconds between two measurements */
#define FS_FREE_CORE_SLACK 0.25  /* a core still counts as free when this much of it is taken */
#define FS_MAX_TEAM_THREADS 256  /* callers and pool workers remembered (more: counted as load) */
/* Looks at this process's other threads: every FS_OUTSIDER_LOOK seconds, once more for each
 * FS_OUTSIDER_CLOCKS_PER_LOOK of them (a CPU clock is a system call, ~0.6 us here). At most
 * FS_MAX_OUTSIDERS of them are watched. */
#define FS_OUTSIDER_LOOK 0.001
#define FS_OUTSIDER_CLOCKS_PER_LOOK 8
#define FS_MAX_OUTSIDERS 256
/* Grains of work from which a caller that does not own the pool runs a team all the same. With
 * two pools a region's worker wakes from sleep, ~60 us more than from its spin (float64 ReLU of
 * 2^18 elements, 2 grains: 55 us on one thread, 95 on two); one thread's time breaks even at
 * ~120 us, 4-6 grains (ReLU 2^20, 8 grains: 278 -> 181 us; a 15.7 MFLOP product: 347 -> 291). */
#define FS_LONG_REGION_GRAINS 6.0
/* Seconds after its last long region that such a caller keeps its pool through short ones: a
 * conv net's step alternates them (a pool made and given back costs 70-90 us here). */
#define FS_POOL_KEEP 0.002

static atomic_int adaptive = 1;
/* The thread count set_num_threads() gave (0: none yet), for every thread of the process:
 * omp_set_num_threads() sets it for the calling thread only, so a kernel called from another
 * thread (a trainer on a background thread, or the main thread when the extension first loaded
 * on a worker) got all the cores whatever FASTSCRATCH_NUM_THREADS said. */
static atomic_int thread_count = 0;
static atomic_int free_cores = 0;            /* 0: not known yet */
static _Atomic double foreign_load = -1.0;   /* other threads' load in cores; < 0: unknown */
static atomic_flag measuring = ATOMIC_FLAG_INIT;
static atomic_int forked_child = 0;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

/* A thread of this process that is not on the team, as the last look saw it. */
struct outsider {
    pid_t tid;
    double cpu; /* its CPU seconds then */
};

/* Written only by the thread holding `measuring`. */
static struct {
    cpu_set_t cpus;
    int cpu_count;
    int usable;         /* /proc/stat was readable at start-up */
    int have_previous;  /* `previous` holds a sample to measure a window from */
    double window_start;
    double process_load; /* other processes' load over the last window, in cores */
    struct {
        double wall, busy_seconds, process_cpu;
    } previous;
    /* The outsiders; when the last look was, and when the next is due. */
    struct outsider outsider[FS_MAX_OUTSIDERS];
    int outsider_count;
    double last_look, next_look;
} state;

/* The team: the threads whose CPU time is ours (see the top of this file). Guarded by
 * team_lock; a caller joins once per generation (a forked child starts a new one: the parent's
 * threads did not come along) and pool size. */
static pthread_mutex_t team_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t team[FS_MAX_TEAM_THREADS];
static int team_count;
static atomic_int team_generation = 1;
static _Thread_local int joined_generation, joined_size;

/* The caller that owns the process's OpenMP pool ("One pool" above; 0: none); how many
 * threads hold a pool now (the key's destructor counts out one whose thread exits, as libgomp
 * frees its pool); whether this thread holds one, and when it last ran a long region. */
static atomic_int pool_owner = 0;
static atomic_int pools_held = 0;
static pthread_key_t pool_key;
static _Thread_local int holds_pool;
static _Thread_local double last_long_region;
static _Thread_local pid_t cached_tid;

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
    state.outsider_count = 0;
    state.last_look = state.next_look = 0;
    team_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER; /* it may have been held */
    team_count = 0;
    atomic_fetch_add(&team_generation, 1);
    atomic_store(&pool_owner, 0); /* the child runs one thread; no pool came along */
    atomic_store(&pools_held, 0);
    holds_pool = 0;
    cached_tid = 0; /* the forking thread's id in the child is not its parent's */
}

static void pool_thread_exits(void *held)
{
    if (held) atomic_fetch_sub(&pools_held, 1);
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
    pthread_key_create(&pool_key, pool_thread_exits);
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

static pid_t current_tid(void)
{
    if (!cached_tid) cached_tid = (pid_t)syscall(SYS_gettid);
    return cached_tid;
}

/* The CPU clock of a thread of this process, made from its id as pthread_getcpuclockid makes it
 * (Linux's MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)): reading it fails once the thread has
 * exited (until a new thread of this process gets its id) and for a thread of another process,
 * so an id that has gone stale drops out of the team. */
static clockid_t thread_cpu_clock(pid_t tid)
{ return (clockid_t)((~(unsigned int)tid << 3) | 6u); }

/* Whether `tid` is on the team; the caller holds team_lock. */
static int on_team_locked(pid_t tid)
{
    for (int i = 0; i < team_count; ++i)
        if (team[i] == tid) return 1;
    return 0;
}

static void add_to_team(pid_t tid)
{
    pthread_mutex_lock(&team_lock);
    if (!on_team_locked(tid) && team_count < FS_MAX_TEAM_THREADS) team[team_count++] = tid;
    pthread_mutex_unlock(&team_lock);
}

/* Ours, and at most the calling thread's OpenMP count: that is how threadpoolctl's
 * threadpool_limits() (and anything else sharing this process's libgomp.so.1, PyTorch's
 * set_num_threads included) limits every OpenMP library at once. */
static int configured_threads(void)
{
    const int n = atomic_load(&thread_count);
    const int openmp = omp_get_max_threads();
    return n > 0 && n < openmp ? n : openmp;
}

/* The caller joins the team, and with `with_pool` the OpenMP pool its regions run on: libgomp
 * gives a caller's regions the same worker threads every time, so one region of the pool's
 * full size meets them all. Again when the pool grows (set_num_threads), after the caller gave
 * its pool back (a new one has new workers) or in a forked child. */
static void join_team(int with_pool)
{
    const int generation = atomic_load(&team_generation);
    const int size =
        !with_pool || atomic_load(&forked_child) || omp_get_level() > 0 ? 1 : configured_threads();
    if (joined_generation == generation && joined_size >= size) return;
    joined_generation = generation;
    joined_size = size;
    if (size == 1) {
        add_to_team(current_tid());
        return;
    }
#pragma omp parallel num_threads(size)
    add_to_team(current_tid());
}

/* A thread of this process's CPU seconds into *cpu; -1 when its clock does not read (the
 * thread has exited: thread_cpu_clock). */
static int thread_cpu_seconds(pid_t tid, double *cpu)
{
    struct timespec t;
    if (clock_gettime(thread_cpu_clock(tid), &t) != 0) return -1;
    *cpu = (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
    return 0;
}

/* Drops the team's threads that have exited. */
static void prune_team(void)
{
    pthread_mutex_lock(&team_lock);
    for (int i = 0; i < team_count;) {
        double cpu;
        if (thread_cpu_seconds(team[i], &cpu) != 0)
            team[i] = team[--team_count];
        else
            ++i;
    }
    pthread_mutex_unlock(&team_lock);
}

/* Whether a thread of this process is runnable now (state R in /proc/self/task/<tid>/stat). */
static int is_runnable(pid_t tid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    const size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = 0;
    /* "tid (name) S ...": the state follows the last ')' (a name may hold parentheses). */
    const char *close = strrchr(line, ')');
    return close && close[1] == ' ' && close[2] == 'R';
}

static int on_team(pid_t tid)
{
    pthread_mutex_lock(&team_lock);
    const int found = on_team_locked(tid);
    pthread_mutex_unlock(&team_lock);
    return found;
}

/* This process's threads that are runnable now, counted apart: the team's (the calling one
 * among them) and the others'. */
static void runnable_threads(long *team_running, long *others_running)
{
    *team_running = *others_running = 0;
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        const pid_t tid = (pid_t)strtol(entry->d_name, NULL, 10);
        if (!is_runnable(tid)) continue;
        if (on_team(tid))
            ++*team_running;
        else
            ++*others_running;
    }
    closedir(tasks);
}

/* The outsiders' list anew from this process's threads, each with its CPU seconds now (one
 * already listed keeps its last look's); the team's exited threads dropped on the way. */
static void list_outsiders(void)
{
    prune_team();
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return;
    struct outsider listed[FS_MAX_OUTSIDERS];
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL && count < FS_MAX_OUTSIDERS) {
        if (entry->d_name[0] == '.') continue;
        const pid_t tid = (pid_t)strtol(entry->d_name, NULL, 10);
        if (on_team(tid)) continue;
        int known = 0;
        for (int i = 0; i < state.outsider_count && !known; ++i)
            if (state.outsider[i].tid == tid) {
                listed[count] = state.outsider[i];
                known = 1;
            }
        if (!known) {
            listed[count].tid = tid;
            if (thread_cpu_seconds(tid, &listed[count].cpu) != 0) continue; /* has exited */
        }
        ++count;
    }
    closedir(tasks);
    memcpy(state.outsider, listed, (size_t)count * sizeof listed[0]);
    state.outsider_count = count;
}

static int free_cores_from(double load)
{
    int n = (int)((double)state.cpu_count - load + FS_FREE_CORE_SLACK);
    if (n < 1) n = 1;
    if (n > state.cpu_count) n = state.cpu_count;
    return n;
}

/* Publishes the load on our cores, in cores (other processes' over the last window and this
 * process's outsiders' at the latest look), and the free cores it leaves: fs_foreign_load
 * reports the figure the free cores come from. */
static void publish_load(double load)
{
    atomic_store(&foreign_load, load);
    atomic_store(&free_cores, free_cores_from(load));
}

/* The cores the outsiders take now, and the next look's baseline: a core for each one that
 * worked at least half the span since the last look and is runnable now. Working at all is not
 * enough: with the OPENBLAS_THREAD_TIMEOUT that fastscratch sets, NumPy's pool works through a
 * product and spins 0.4 ms after it, and a 2-thread MultiLayerNet prediction (1.6 ms) after each
 * of a script's products took 2.0 ms beside that spin but 2.6 when a look counted it and ran
 * a look's time on one thread. A pool that spins for longer (NumPy imported first: 0.1 s) works
 * through whole spans. Only those threads have their state read (a /proc file, ~10 us), and
 * none once they take every core (a process of many busy threads would read dozens of files a
 * look). An outsider that has exited or joined the team (a second caller of our kernels) leaves
 * the list. */
static double look_at_outsiders(double wall)
{
    const double span = wall - state.last_look;
    double load = 0;
    for (int i = 0; i < state.outsider_count;) {
        const pid_t tid = state.outsider[i].tid;
        double cpu;
        if (thread_cpu_seconds(tid, &cpu) != 0 || on_team(tid)) {
            state.outsider[i] = state.outsider[--state.outsider_count];
            continue;
        }
        const double worked = cpu - state.outsider[i].cpu;
        state.outsider[i].cpu = cpu;
        if (worked > 0 && worked >= 0.5 * span && load < state.cpu_count && is_runnable(tid))
            load += 1;
        ++i;
    }
    state.last_look = wall;
    state.next_look =
        wall + FS_OUTSIDER_LOOK * (1 + state.outsider_count / FS_OUTSIDER_CLOCKS_PER_LOOK);
    return load;
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
    const double process = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    if (state.have_previous && wall - state.previous.wall > 0) {
        const double elapsed = wall - state.previous.wall;
        const double spent = process - state.previous.process_cpu;
        const double load = ((busy - state.previous.busy_seconds) - spent) / elapsed;
        state.process_load = load > 0 ? load : 0;
        publish_load(state.process_load + look_at_outsiders(wall));
        list_outsiders(); /* after the look: a thread new to the list has no span yet */
    } else if (atomic_load(&free_cores) == 0 && running > 0) {
        /* No window yet: the runnable tasks now, less the team's (the one asking among them).
         * The team's are looked at first, the count after: a pool worker that stops spinning in
         * between then leaves neither count, where the other order counted it as another
         * process's task (a fresh process's first region just started the pool). */
        long team_running, others_running;
        runnable_threads(&team_running, &others_running);
        double busy_now;
        if (read_proc_stat(&busy_now, &running) != 0 || running <= 0) running = team_running;
        long others = running - (team_running > 0 ? team_running : 1);
        if (others < 0) others = 0;
        state.process_load = (double)(others > others_running ? others - others_running : 0);
        atomic_store(&free_cores, free_cores_from((double)others));
        list_outsiders();
        state.last_look = wall;
        state.next_look = wall + FS_OUTSIDER_LOOK;
    }
    state.previous.wall = wall;
    state.previous.busy_seconds = busy;
    state.previous.process_cpu = process;
    state.have_previous = 1;
    state.window_start = wall;
}

/* Whether teams follow the load (and the one-pool rule): the policy is on and can measure. */
static int adapting(void)
{ return atomic_load(&adaptive) && state.usable; }

int fs_free_cores(void)
{
    pthread_once(&setup_once, setup);
    if (!adapting()) return state.cpu_count;
    join_team(0);
    const double wall = clock_seconds(CLOCK_MONOTONIC);
    /* One thread measures; the others use the figure it left. The conditions are read again
     * once the flag is held: another thread may have measured in between, and a second window
     * of microseconds would turn a clock tick of /proc/stat into a load of hundreds of cores. */
    if ((atomic_load(&free_cores) == 0 || wall - state.window_start >= FS_LOAD_WINDOW ||
         wall >= state.next_look) &&
        !atomic_flag_test_and_set(&measuring)) {
        if (atomic_load(&free_cores) == 0 || wall - state.window_start >= FS_LOAD_WINDOW)
            measure(wall);
        else if (wall >= state.next_look)
            publish_load(state.process_load + look_at_outsiders(wall));
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
    return configured_threads();
}

void fs_set_thread_count(int n)
{ atomic_store(&thread_count, n > 0 ? n : 1); }

int fs_in_forked_child(void)
{ return atomic_load(&forked_child); }

/* The fork handler for a core loaded after the fork (fastscratch loads it at the first kernel,
 * and the Python side notes a fork made before that): the parent may have run another
 * library's OpenMP regions (PyTorch's) on the libgomp.so.1 this core shares, and that pool did
 * not come along either. */
void fs_mark_forked_child(void)
{ after_fork_in_child(); }

int fs_parts_for(double work, double grain)
{
    const int max = fs_max_threads();
    if (max <= 1 || !(work >= 2 * grain)) return 1;
    const double parts = work / grain;
    return parts >= (double)max ? max : (int)parts;
}

static void hold_pool(void)
{
    if (!holds_pool) {
        holds_pool = 1;
        atomic_fetch_add(&pools_held, 1);
        pthread_setspecific(pool_key, &holds_pool);
    }
    join_team(1);
}

/* A caller that does not own the pool gives its own back: its workers exit, and libgomp stops
 * counting them. Called outside any parallel region (fs_team_for asks at level 0 only). The
 * _all form: libgomp's pauses the calling thread's pool and nothing else, where asking for the
 * host by its device number (omp_get_initial_device) first loads the offloading plugins. */
static void give_pool_back(void)
{
    if (!holds_pool) return;
    holds_pool = 0;
    atomic_fetch_sub(&pools_held, 1);
    pthread_setspecific(pool_key, NULL);
    joined_size = 1;
    omp_pause_resource_all(omp_pause_soft);
}

/* `team` (> 1) threads for a region of `grains` grains, or 1: "One pool" at the top. */
static int pooled_team(int team, double grains)
{
    const int me = (int)current_tid();
    int owner = atomic_load(&pool_owner);
    double owner_cpu;
    if (owner != me && (owner == 0 || thread_cpu_seconds((pid_t)owner, &owner_cpu) != 0) &&
        atomic_compare_exchange_strong(&pool_owner, &owner, me))
        owner = me;
    const int long_region = grains >= FS_LONG_REGION_GRAINS;
    if (owner == me) {
        if (!long_region && atomic_load(&pools_held) > holds_pool) return 1;
        hold_pool();
        return team;
    }
    if (long_region) {
        hold_pool();
        /* After the pool is made: its workers' start is not the time between regions. */
        last_long_region = clock_seconds(CLOCK_MONOTONIC);
        return team;
    }
    if (clock_seconds(CLOCK_MONOTONIC) - last_long_region >= FS_POOL_KEEP) give_pool_back();
    return 1;
}

int fs_team_for(int parts, double grains)
{
    if (parts <= 1) return 1;
    const int free = fs_free_cores();
    const int team = parts < free ? parts : free;
    return team > 1 && adapting() ? pooled_team(team, grains) : team;
}

int fs_threads_for(double work, double grain)
{ return fs_team_for(fs_parts_for(work, grain), work / grain); }

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
