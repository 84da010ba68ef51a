#include "wire/msgpack_prescan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace reflex::wire {
namespace {

enum class Kind { kScalar, kString, kBytes, kArray, kMap };

// What one msgpack header announces: a scalar with `length` payload bytes, a string/bin/ext with
// `length` payload bytes, or a container with `length` elements (pairs for a map).
struct Header {
  Kind kind = Kind::kScalar;
  uint64_t length = 0;
};

class Scanner {
 public:
  Scanner(const unsigned char* data, size_t size, const Limits& limits)
      : data_(data), size_(size), limits_(limits) {}

  DecodeError Run() {
    std::vector<uint64_t> pending;  // values still expected in each open container
    do {
      if (pos_ >= size_) {
        return Fail(ErrorCode::kMalformed, "truncated at byte " + std::to_string(pos_) + ": " +
                                               std::to_string(pending.back()) +
                                               " more values expected");
      }
      const size_t start = pos_;
      Header header;
      if (!ReadHeader(&header)) return error_;
      const size_t remaining = size_ - pos_;
      switch (header.kind) {
        case Kind::kScalar:
        case Kind::kBytes:
        case Kind::kString:
          if (header.kind == Kind::kString && header.length > limits_.max_string) {
            return Fail(ErrorCode::kTooLarge,
                        "string at byte " + std::to_string(start) + " has " +
                            std::to_string(header.length) + " bytes, over the limit " +
                            std::to_string(limits_.max_string));
          }
          if (header.length > remaining) {
            return Fail(ErrorCode::kMalformed,
                        "truncated at byte " + std::to_string(size_) + ": the value at byte " +
                            std::to_string(start) + " needs " + std::to_string(header.length) +
                            " bytes but " + std::to_string(remaining) + " remain");
          }
          pos_ += header.length;
          break;
        case Kind::kArray:
        case Kind::kMap: {
          const bool is_map = header.kind == Kind::kMap;
          const char* what = is_map ? "map" : "array";
          if (pending.size() + 1 > limits_.max_depth) {
            return Fail(ErrorCode::kTooLarge, std::string(what) + " at byte " +
                                                  std::to_string(start) + " nests deeper than " +
                                                  std::to_string(limits_.max_depth));
          }
          if (header.length > limits_.max_array) {
            return Fail(ErrorCode::kTooLarge,
                        std::string(what) + " at byte " + std::to_string(start) + " has " +
                            std::to_string(header.length) + " elements, over the limit " +
                            std::to_string(limits_.max_array));
          }
          const uint64_t values = is_map ? 2 * header.length : header.length;
          if (values > remaining) {
            return Fail(ErrorCode::kMalformed,
                        std::string(what) + " at byte " + std::to_string(start) + " declares " +
                            std::to_string(header.length) + " elements but only " +
                            std::to_string(remaining) + " bytes follow");
          }
          if (values > 0) {
            pending.push_back(values);
            continue;  // the container completes when its last value does
          }
          break;
        }
      }
      // One value completed: count it against the open containers, closing the full ones.
      while (!pending.empty() && --pending.back() == 0) pending.pop_back();
    } while (!pending.empty());

    if (pos_ != size_) {
      return Fail(ErrorCode::kMalformed, std::to_string(size_ - pos_) +
                                             " bytes after the end of the message (at byte " +
                                             std::to_string(pos_) + ")");
    }
    return {};
  }

 private:
  DecodeError Fail(ErrorCode code, const std::string& what) {
    error_ = {code, "frame: " + what};
    return error_;
  }

  // Reads a big-endian length of `width` bytes.
  bool ReadLength(size_t width, uint64_t* length) {
    if (size_ - pos_ < width) {
      Fail(ErrorCode::kMalformed, "truncated at byte " + std::to_string(size_) +
                                      ": a length field at byte " + std::to_string(pos_) +
                                      " needs " + std::to_string(width) + " bytes");
      return false;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) value = (value << 8) | data_[pos_ + i];
    pos_ += width;
    *length = value;
    return true;
  }

  bool ReadHeader(Header* header) {
    const unsigned char b = data_[pos_++];
    if (b <= 0x7f || b >= 0xe0) return true;  // positive or negative fixint
    if (b <= 0x8f) { *header = {Kind::kMap, b & 0x0fu}; return true; }
    if (b <= 0x9f) { *header = {Kind::kArray, b & 0x0fu}; return true; }
    if (b <= 0xbf) { *header = {Kind::kString, b & 0x1fu}; return true; }
    switch (b) {
      case 0xc0: case 0xc2: case 0xc3: return true;  // nil, false, true
      case 0xc4: header->kind = Kind::kBytes; return ReadLength(1, &header->length);
      case 0xc5: header->kind = Kind::kBytes; return ReadLength(2, &header->length);
      case 0xc6: header->kind = Kind::kBytes; return ReadLength(4, &header->length);
      case 0xc7: case 0xc8: case 0xc9: {  // ext 8/16/32: length, then a type byte
        header->kind = Kind::kBytes;
        const size_t width = b == 0xc7 ? 1 : b == 0xc8 ? 2 : 4;
        if (!ReadLength(width, &header->length)) return false;
        header->length += 1;
        return true;
      }
      case 0xca: header->length = 4; return true;  // float32
      case 0xcb: header->length = 8; return true;  // float64
      case 0xcc: case 0xd0: header->length = 1; return true;
      case 0xcd: case 0xd1: header->length = 2; return true;
      case 0xce: case 0xd2: header->length = 4; return true;
      case 0xcf: case 0xd3: header->length = 8; return true;
      case 0xd4: header->length = 2; return true;   // fixext 1 (type byte + data)
      case 0xd5: header->length = 3; return true;
      case 0xd6: header->length = 5; return true;
      case 0xd7: header->length = 9; return true;
      case 0xd8: header->length = 17; return true;
      case 0xd9: header->kind = Kind::kString; return ReadLength(1, &header->length);
      case 0xda: header->kind = Kind::kString; return ReadLength(2, &header->length);
      case 0xdb: header->kind = Kind::kString; return ReadLength(4, &header->length);
      case 0xdc: header->kind = Kind::kArray; return ReadLength(2, &header->length);
      case 0xdd: header->kind = Kind::kArray; return ReadLength(4, &header->length);
      case 0xde: header->kind = Kind::kMap; return ReadLength(2, &header->length);
      case 0xdf: header->kind = Kind::kMap; return ReadLength(4, &header->length);
      default: break;  // 0xc1 is never used
    }
    static const char kHex[] = "0123456789abcdef";
    Fail(ErrorCode::kMalformed, std::string("byte 0x") + kHex[b >> 4] + kHex[b & 15] +
                                    " at offset " + std::to_string(pos_ - 1) +
                                    " is not valid msgpack");
    return false;
  }

  const unsigned char* data_;
  size_t size_;
  const Limits& limits_;
  size_t pos_ = 0;
  DecodeError error_;
};

}  // namespace

DecodeError PrescanMsgpack(const unsigned char* data, size_t size, const Limits& limits) {
  if (size == 0) return {ErrorCode::kMalformed, "frame: empty"};
  return Scanner(data, size, limits).Run();
}

}  // namespace reflex::wire
