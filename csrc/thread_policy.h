/* How many threads a parallel region of the native core gets: by its work (a grain size, as
 * PyTorch's at::parallel_for) and by the cores that other threads leave us (a busy machine).
 *
 * Two numbers, kept apart so that results never depend on the machine's load:
 *   parts - how the work is split (what a reduction sums separately). It depends only on the
 *           work and the configured thread count (set_num_threads), so the same call gives the
 *           same bits whatever else runs on the machine;
 *   team  - how many threads run those parts now: at most the parts, and at most the cores not
 *           taken by other threads (fs_free_cores). A thread may run several parts.
 * Work that takes microseconds is never split: waking a sleeping thread costs tens of
 * microseconds, and on a busy machine a descheduled one costs milliseconds. */
#ifndef FS_THREAD_POLICY_H
#define FS_THREAD_POLICY_H
#include "fs_common.h"

/* The configured thread count: fs_set_thread_count's, at most omp_get_max_threads() (a limit
 * set through OpenMP, as threadpoolctl does); 1 inside a parallel region, so that nothing
 * nests, and 1 in a forked child (thread_policy.c). */
int fs_max_threads(void);
/* Set the most threads any kernel uses, whichever thread of the process calls it. */
void fs_set_thread_count(int n);
int fs_in_forked_child(void);
/* Run every kernel on one thread from now on, as in a forked child (thread_policy.c). */
void fs_mark_forked_child(void);

/* Parts for `work` units when each part should have at least `grain` of them: between 1 and
 * fs_max_threads(). Deterministic for a given configuration. */
int fs_parts_for(double work, double grain);

/* Threads to run `parts` parts of `grains` grains of work with now: min(parts, fs_free_cores()),
 * and 1 for a short region (fewer than FS_LONG_REGION_GRAINS) while another thread of this
 * process owns its one OpenMP pool (thread_policy.c, "One pool"). */
int fs_team_for(int parts, double grains);

/* Threads for a loop whose result does not depend on how it is split (elementwise work). */
int fs_threads_for(double work, double grain);

/* Cores of this process's CPU set that other threads leave free (other processes' threads, and
 * this process's threads that run none of our kernels), measured over the last
 * fraction of a second (see thread_policy.c); between 1 and the CPU set's size. Without a way
 * to measure (no /proc/stat) or with the adaptive policy off: the CPU set's size. */
int fs_free_cores(void);

/* Turn the load-adaptive part on (1, the default) or off (0: teams use every configured
 * thread, as a plain OpenMP program does). */
void fs_set_adaptive_threads(int on);
int fs_get_adaptive_threads(void);

/* The last load measurement, for show_config() and tests: other threads' load in cores
 * (negative when not measured yet or not measurable) and the CPU set's size. */
double fs_foreign_load(void);
int fs_cpu_set_size(void);

#endif
