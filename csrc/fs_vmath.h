/* Vector exp: declares glibc's libmvec variants of exp/expf (what <math.h> declares only under
 * -ffast-math), so GCC vectorises loops that call them: 8 or 16 lanes at a time in the AVX2 and
 * AVX-512 clones instead of one scalar call per element. libmvec's exp is accurate to 4 ulp
 * (glibc's manual), well inside our float32 1e-5 / float64 1e-12 tolerances. libmvec ships with
 * glibc >= 2.22 and is linked through libm's AS_NEEDED group. Elsewhere: scalar calls. */
#ifndef FS_VMATH_H
#define FS_VMATH_H
#include <math.h>
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__) &&       \
    !defined(__FAST_MATH__)
__attribute__((simd("notinbranch"))) float expf(float);
__attribute__((simd("notinbranch"))) double exp(double);
#endif
#endif
