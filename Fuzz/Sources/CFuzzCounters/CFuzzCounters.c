#include "CFuzzCounters.h"

// libFuzzer finds this section by its __start_/__stop_ symbols, clears it before every input and
// turns each non-zero byte (bucketed by count) into a feature.
#define SLOTS 16384
__attribute__((section("__libfuzzer_extra_counters"), used, aligned(64)))
static uint8_t counters[SLOTS];

void fuzz_feature(uint64_t feature) {
    // SplitMix64's finalizer: neighbouring values land far apart.
    feature ^= feature >> 30;
    feature *= 0xBF58476D1CE4E5B9ULL;
    feature ^= feature >> 27;
    feature *= 0x94D049BB133111EBULL;
    feature ^= feature >> 31;
    uint8_t *slot = &counters[feature % SLOTS];
    if (*slot < 255) (*slot)++;
}
