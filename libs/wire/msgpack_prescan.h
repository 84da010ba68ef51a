// Structural pre-scan of an untrusted msgpack frame, done before msgpack-c builds any objects.
//
// msgpack-c allocates an array's or map's element storage as soon as it reads the header, before
// the elements arrive, so a few bytes that declare a 4-billion-element array would ask for
// gigabytes. The pre-scan walks the bytes once, allocating nothing but a stack of at most
// `max_depth` counters, and accepts a frame only when:
//   - it is exactly one msgpack value, with no bytes left over;
//   - every declared length fits in the bytes that remain (an array of n values needs at least
//     n bytes, a map of n pairs at least 2n), so every element a header promises really exists;
//   - arrays and maps hold at most `max_array` elements (pairs), strings at most `max_string`
//     bytes, and containers nest at most `max_depth` deep (the outermost one is depth 1).
// After it passes, msgpack-c allocates at most about 24 bytes per frame byte.
//
// Errors: kMalformed (not msgpack, truncated, a length that overruns the frame, trailing bytes)
// or kTooLarge (a limit above), with the byte offset in the message.
// Thread-safety: a pure function. Ownership: reads `data` only during the call.
#pragma once

#include <cstddef>

#include "wire/codec.h"

namespace reflex::wire {

// Returns an error with code kOk when the frame passes.
DecodeError PrescanMsgpack(const unsigned char* data, size_t size, const Limits& limits);

}  // namespace reflex::wire
