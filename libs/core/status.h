// Status and Result<T>: how Reflex reports likely failures (bad input, I/O, network).
//
// A Status is either OK or carries a code and a message that says what failed, where and why
// ("rules.txt:3:14: expected ..."). Broken invariants are not Statuses: they abort.
// Result<T> holds either a value or a non-OK Status. Both are plain values, safe to copy
// and move between threads; neither is synchronised.
#pragma once

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <utility>

namespace reflex {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller's input is malformed or out of range
  kNotFound,           // a named thing (file, version, feature) does not exist
  kCorruption,         // stored or received bytes fail a checksum or a format check
  kIoError,            // the operating system refused a read or write
  kFailedPrecondition, // the operation is not allowed in the current state
  kUnavailable,        // a peer or resource cannot be reached now; retrying may help
  kDeadlineExceeded,   // a deadline passed before the operation finished
  kResourceExhausted,  // a limit (queue, size, memory) was reached
  kInternal,           // a failure inside a third-party library (torch, zmq, msgpack)
};

const char* StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: <message>", or "OK".
  std::string ToString() const;
  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a T or a non-OK Status. Accessing value() of an error aborts (a programming error).
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) {
      std::cerr << "Result constructed from an OK Status without a value\n";
      std::abort();
    }
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & { CheckOk(); return *value_; }
  const T& value() const& { CheckOk(); return *value_; }
  T&& value() && { CheckOk(); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void CheckOk() const {
    if (!status_.ok()) {
      std::cerr << "Result::value() on error: " << status_.ToString() << "\n";
      std::abort();
    }
  }
  Status status_;
  std::optional<T> value_;
};

}  // namespace reflex

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define REFLEX_RETURN_IF_ERROR(expr)            \
  do {                                          \
    ::reflex::Status reflex_status_ = (expr);   \
    if (!reflex_status_.ok()) return reflex_status_; \
  } while (0)
