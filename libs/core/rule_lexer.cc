#include "core/rule_lexer.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace reflex {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '.'; }

// True when a number starts at line[i]: a digit, or '.', '-' or '+' leading to one.
bool StartsNumber(const std::string& line, size_t i) {
  size_t j = i;
  if (j < line.size() && (line[j] == '-' || line[j] == '+')) ++j;
  if (j < line.size() && line[j] == '.') ++j;
  return j < line.size() && IsDigit(line[j]);
}

// Reads a number-like token starting at line[i] into `token`; returns the index after it.
size_t LexNumber(const std::string& line, size_t i, RuleToken* token) {
  size_t end = i;
  if (line[end] == '-' || line[end] == '+') ++end;
  while (end < line.size()) {
    const char c = line[end];
    const char prev = end > i ? line[end - 1] : '\0';  // a number may start the line
    if (IsIdentChar(c) || ((c == '-' || c == '+') && (prev == 'e' || prev == 'E'))) {
      ++end;
    } else {
      break;
    }
  }
  token->text = line.substr(i, end - i);
  const char* first = line.data() + i;
  const char* last = line.data() + end;
  if (*first == '+') ++first;  // from_chars takes '-' but not '+'
  double value = 0;
  std::from_chars_result r = std::from_chars(first, last, value, std::chars_format::general);
  if (r.ec == std::errc() && r.ptr == last && std::isfinite(value)) {
    token->kind = RuleToken::Kind::kNumber;
    token->number = value;
  } else {
    token->kind = RuleToken::Kind::kBadNumber;
  }
  return end;
}

}  // namespace

std::vector<RuleToken> LexRuleLine(const std::string& line) {
  std::vector<RuleToken> tokens;
  size_t i = 0;
  while (true) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    RuleToken token;
    token.column = i + 1;
    if (i >= line.size() || line[i] == '#') {
      token.kind = RuleToken::Kind::kEnd;
      tokens.push_back(token);
      return tokens;
    }
    const char c = line[i];
    const char next = i + 1 < line.size() ? line[i + 1] : '\0';
    size_t length = 1;
    if (StartsNumber(line, i)) {
      i = LexNumber(line, i, &token);
      tokens.push_back(token);
      continue;
    } else if (IsIdentStart(c)) {
      while (i + length < line.size() && IsIdentChar(line[i + length])) ++length;
      token.kind = RuleToken::Kind::kIdentifier;
    } else if (c == '<' || c == '>') {
      token.kind = RuleToken::Kind::kCompare;
      if (next == '=') {
        length = 2;
        token.op = c == '<' ? CompareOp::kLessEqual : CompareOp::kGreaterEqual;
      } else {
        token.op = c == '<' ? CompareOp::kLess : CompareOp::kGreater;
      }
    } else if (c == '=' && next == '>') {
      token.kind = RuleToken::Kind::kArrow;
      length = 2;
    } else if (c == '=' && next == '=') {
      token.kind = RuleToken::Kind::kCompare;
      token.op = CompareOp::kEqual;
      length = 2;
    } else if (c == '!' && next == '=') {
      token.kind = RuleToken::Kind::kCompare;
      token.op = CompareOp::kNotEqual;
      length = 2;
    } else if (c == '"') {
      const size_t close = line.find('"', i + 1);
      if (close == std::string::npos) {
        token.kind = RuleToken::Kind::kInvalid;  // unterminated: the rest of the line
        length = line.size() - i;
      } else {
        token.kind = RuleToken::Kind::kString;
        token.text = line.substr(i + 1, close - i - 1);
        i = close + 1;
        tokens.push_back(token);
        continue;
      }
    } else if (c == ':') {
      token.kind = RuleToken::Kind::kColon;
    } else if (c == '(') {
      token.kind = RuleToken::Kind::kLeftParen;
    } else if (c == ')') {
      token.kind = RuleToken::Kind::kRightParen;
    } else {
      token.kind = RuleToken::Kind::kInvalid;
      // Keep a multi-byte UTF-8 character whole so the message shows it.
      while (i + length < line.size() && (static_cast<unsigned char>(line[i + length]) & 0xC0) == 0x80) {
        ++length;
      }
    }
    token.text = line.substr(i, length);
    i += length;
    tokens.push_back(token);
  }
}

}  // namespace reflex
