// Writes msgpack maps of named fields (message bodies and nested records) into a std::string,
// in the encodings PROTOCOL.md specifies: integers in their smallest msgpack form, floats in
// float32 vectors as one bin of little-endian IEEE-754 float32, doubles as float64, int8 vectors
// as arrays of integers.
//
// A MapWriter is opened with the number of fields it will write (the msgpack map header comes
// first); its destructor aborts when a different number was written, a programming error.
// Ownership: writes through a Packer that borrows the output string. Thread-safety: one writer
// per thread. Internal to libs/wire.
#pragma once

#include <msgpack.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace reflex::wire {

// A msgpack stream that appends to a caller-owned string.
class StringSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  void write(const char* data, size_t size) { out_->append(data, size); }
  std::string* str() { return out_; }

 private:
  std::string* out_;
};

using Packer = msgpack::packer<StringSink>;

class MapWriter {
 public:
  MapWriter(Packer* packer, StringSink* sink, uint32_t field_count);
  ~MapWriter();
  MapWriter(const MapWriter&) = delete;
  MapWriter& operator=(const MapWriter&) = delete;

  void UInt(const char* name, uint64_t value);
  void Int(const char* name, int64_t value);
  void Bool(const char* name, bool value);
  void String(const char* name, const std::string& value);
  void Float32Vector(const char* name, const std::vector<float>& values);
  void Int8List(const char* name, const std::vector<int8_t>& values);
  void UInt64List(const char* name, const std::vector<uint64_t>& values);
  void StringList(const char* name, const std::vector<std::string>& values);
  void StringMap(const char* name, const std::map<std::string, std::string>& values);
  void NumberMap(const char* name, const std::map<std::string, double>& values);
  // Writes the key only; the caller then writes exactly one value with packer() (or a nested
  // MapWriter).
  Packer& Key(const char* name);
  Packer& packer() { return *packer_; }
  StringSink& sink() { return *sink_; }

 private:
  Packer* packer_;
  StringSink* sink_;
  uint32_t expected_;
  uint32_t written_ = 0;
};

// Writes `value` as a msgpack str.
void PackString(Packer& packer, const std::string& value);
// Writes `value` as a msgpack float64 (0xcb), always. (msgpack-c's pack_double writes integral
// values as integers and loses -0.0.)
void PackFloat64(StringSink& sink, double value);
// Writes `values` as one bin of little-endian float32.
void PackFloat32Bin(Packer& packer, StringSink& sink, const std::vector<float>& values);

}  // namespace reflex::wire
