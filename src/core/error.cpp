#include "antiphon/core/error.h"

namespace antiphon {

std::string format_location(const std::string& file, int line, int column) {
  std::string s = file.empty() ? std::string("<input>") : file;
  if (line > 0) {
    s += ":" + std::to_string(line);
    if (column > 0) s += ":" + std::to_string(column);
  }
  return s;
}

ParseError::ParseError(std::string file, int line, int column, std::string message, std::string reason)
    : Error(format_location(file, line, column) + ": " + message),
      file_(std::move(file)),
      line_(line),
      column_(column),
      message_(std::move(message)),
      reason_(reason.empty() ? std::string("parse error") : std::move(reason)) {}

std::string Diagnostic::to_string() const { return format_location(file, line, column) + ": " + message; }

Diagnostic Diagnostic::from(const ParseError& e) {
  return Diagnostic{e.file(), e.line(), e.column(), e.reason(), e.message()};
}

}  // namespace antiphon
