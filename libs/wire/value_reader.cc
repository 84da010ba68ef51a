#include "wire/value_reader.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace reflex::wire {
namespace {

std::string NonFiniteName(double value) {
  if (std::isnan(value)) return "NaN";
  return value > 0 ? "Inf" : "-Inf";
}

#if !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
float LoadLittleEndianFloat(const char* bytes) {
  uint32_t bits = 0;
  for (int i = 3; i >= 0; --i) bits = (bits << 8) | static_cast<unsigned char>(bytes[i]);
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}
#endif

}  // namespace

bool DecodeContext::Fail(ErrorCode code, const std::string& where, const std::string& what) {
  if (ok()) error_ = {code, where + ": " + what};
  return false;
}

const char* MsgpackTypeName(const msgpack::object& value) {
  switch (value.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "bool";
    case msgpack::type::POSITIVE_INTEGER: return "unsigned integer";
    case msgpack::type::NEGATIVE_INTEGER: return "negative integer";
    case msgpack::type::FLOAT32: return "float32";
    case msgpack::type::FLOAT64: return "float64";
    case msgpack::type::STR: return "str";
    case msgpack::type::BIN: return "bin";
    case msgpack::type::ARRAY: return "array";
    case msgpack::type::MAP: return "map";
    case msgpack::type::EXT: return "ext";
  }
  return "unknown";
}

std::string QuoteForMessage(std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  constexpr size_t kMaxShown = 40;
  std::string quoted = "'";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      quoted += static_cast<char>(c);
    } else {
      quoted += "\\x";
      quoted += kHex[c >> 4];
      quoted += kHex[c & 15];
    }
  }
  if (text.size() > kMaxShown) quoted += "...";
  return quoted + "'";
}

bool ReadUnsigned(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
                  uint64_t max, const char* type_name, uint64_t* out) {
  if (value.type != msgpack::type::POSITIVE_INTEGER) {
    return ctx.Fail(ErrorCode::kWrongType, where,
                    std::string("expected an unsigned integer, got ") + MsgpackTypeName(value));
  }
  if (value.via.u64 > max) {
    return ctx.Fail(ErrorCode::kWrongType, where,
                    std::to_string(value.via.u64) + " does not fit in " + type_name);
  }
  *out = value.via.u64;
  return true;
}

bool ReadInt64(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
               int64_t* out) {
  if (value.type == msgpack::type::NEGATIVE_INTEGER) {
    *out = value.via.i64;
    return true;
  }
  uint64_t u = 0;
  if (!ReadUnsigned(ctx, value, where, std::numeric_limits<int64_t>::max(), "int64", &u)) {
    return false;
  }
  *out = static_cast<int64_t>(u);
  return true;
}

bool ReadNumber(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
                double* out) {
  switch (value.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: *out = value.via.f64; return true;
    case msgpack::type::POSITIVE_INTEGER: *out = static_cast<double>(value.via.u64); return true;
    case msgpack::type::NEGATIVE_INTEGER: *out = static_cast<double>(value.via.i64); return true;
    default:
      return ctx.Fail(ErrorCode::kWrongType, where,
                      std::string("expected a number, got ") + MsgpackTypeName(value));
  }
}

bool ReadNumberAsFloat(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
                       float* out) {
  double number = 0;
  if (!ReadNumber(ctx, value, where, &number)) return false;
  const float narrowed = static_cast<float>(number);
  if (std::isfinite(number) && !std::isfinite(narrowed) && !ctx.limits().allow_non_finite) {
    return ctx.Fail(ErrorCode::kNonFinite, where,
                    std::to_string(number) + " is outside the float32 range");
  }
  *out = narrowed;
  return true;
}

bool TryNumberAsFloat(const msgpack::object& value, bool allow_non_finite, float* out) {
  double number = 0;
  switch (value.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: number = value.via.f64; break;
    case msgpack::type::POSITIVE_INTEGER: number = static_cast<double>(value.via.u64); break;
    case msgpack::type::NEGATIVE_INTEGER: number = static_cast<double>(value.via.i64); break;
    default: return false;
  }
  const float narrowed = static_cast<float>(number);
  if (!allow_non_finite && std::isfinite(number) && !std::isfinite(narrowed)) return false;
  *out = narrowed;
  return true;
}

bool ReadBool(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
              bool* out) {
  if (value.type != msgpack::type::BOOLEAN) {
    return ctx.Fail(ErrorCode::kWrongType, where,
                    std::string("expected a bool, got ") + MsgpackTypeName(value));
  }
  *out = value.via.boolean;
  return true;
}

bool ReadString(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
                std::string* out) {
  if (value.type != msgpack::type::STR) {
    return ctx.Fail(ErrorCode::kWrongType, where,
                    std::string("expected a str, got ") + MsgpackTypeName(value));
  }
  out->assign(value.via.str.ptr, value.via.str.size);
  return true;
}

bool ReadFloat32Vector(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
                       std::vector<float>* out) {
  const size_t max_values = ctx.limits().max_array;
  if (value.type == msgpack::type::BIN) {
    const size_t bytes = value.via.bin.size;
    if (bytes % 4 != 0) {
      return ctx.Fail(ErrorCode::kMalformed, where,
                      "bin of " + std::to_string(bytes) +
                          " bytes is not a whole number of float32 values");
    }
    if (bytes / 4 > max_values) {
      return ctx.Fail(ErrorCode::kTooLarge, where,
                      std::to_string(bytes / 4) + " values, over the limit " +
                          std::to_string(max_values));
    }
    out->resize(bytes / 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bytes > 0) std::memcpy(out->data(), value.via.bin.ptr, bytes);
#else
    for (size_t i = 0; i < out->size(); ++i) {
      (*out)[i] = LoadLittleEndianFloat(value.via.bin.ptr + 4 * i);
    }
#endif
    return true;
  }
  if (value.type == msgpack::type::ARRAY) {
    const msgpack::object_array& array = value.via.array;
    if (array.size > max_values) {
      return ctx.Fail(ErrorCode::kTooLarge, where,
                      std::to_string(array.size) + " values, over the limit " +
                          std::to_string(max_values));
    }
    out->resize(array.size);
    const bool allow_non_finite = ctx.limits().allow_non_finite;
    for (size_t i = 0; i < array.size; ++i) {
      if (TryNumberAsFloat(array.ptr[i], allow_non_finite, &(*out)[i])) continue;
      if (!ReadNumberAsFloat(ctx, array.ptr[i], where + "[" + std::to_string(i) + "]",
                             &(*out)[i])) {
        return false;
      }
    }
    return true;
  }
  return ctx.Fail(ErrorCode::kWrongType, where,
                  std::string("expected a bin of float32 or an array of numbers, got ") +
                      MsgpackTypeName(value));
}

bool CheckFinite(DecodeContext& ctx, const std::vector<float>& values, const std::string& where,
                 uint32_t cols) {
  if (ctx.limits().allow_non_finite) return true;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i])) continue;
    const std::string index =
        cols > 0 ? "[" + std::to_string(i / cols) + "][" + std::to_string(i % cols) + "]"
                 : "[" + std::to_string(i) + "]";
    return ctx.Fail(ErrorCode::kNonFinite, where + index, NonFiniteName(values[i]));
  }
  return true;
}

bool CheckFinite(DecodeContext& ctx, double value, const std::string& where) {
  if (ctx.limits().allow_non_finite || std::isfinite(value)) return true;
  return ctx.Fail(ErrorCode::kNonFinite, where, NonFiniteName(value));
}

}  // namespace reflex::wire
