/* The slot of a pointer or an integer in a table of 2**bits slots: Fibonacci hashing (the top bits of the
 * product with 2**64 / phi). Addresses of objects of one size differ only in a few middle bits, so a slot taken
 * from low bits let two hot entries evict each other in one memory layout and not in another. Shared by the C
 * hooks' caches (capture/_speedups.c) and the post-processing's endpoint caches (events/_jsonw.c,
 * model/_aggregate.c, model/_calltree.c). */
#ifndef SKELETON_SPREAD_H
#define SKELETON_SPREAD_H

#include <stddef.h>

static inline size_t
sk_spread(unsigned long long v, int bits)
{
    return (size_t)((v * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

#endif /* SKELETON_SPREAD_H */
