#pragma once
// The project's exception hierarchy and the diagnostics that readers and the corpus loader report.
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace antiphon {

// Base of every exception Antiphon throws for bad input or bad configuration.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Malformed input file. what() is "file:line:column: message" (line/column omitted when 0).
class ParseError : public Error {
 public:
  ParseError(std::string file, int line, int column, std::string message, std::string reason = "");
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }
  // Short category used for counting rejections ("garbled token", "truncated chunk", ...).
  const std::string& reason() const { return reason_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string message_;
  std::string reason_;
};

// Invalid option or parameter value.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A melody that an encoding cannot represent exactly (never silently rounded).
class EncodingError : public Error {
 public:
  using Error::Error;
};

// Unreadable, corrupt or incompatible model file.
class ModelFileError : public Error {
 public:
  using Error::Error;
};

// Failure to read or write a file on disk.
class IoError : public Error {
 public:
  using Error::Error;
};

// Training that cannot go on (the loss became NaN or infinite); the message names the last good checkpoint.
class TrainingError : public Error {
 public:
  using Error::Error;
};

// A long job stopped because its caller asked it to.
class Cancelled : public Error {
 public:
  using Error::Error;
};

// One reported problem: a warning about something read with a fallback, or the reason a file or tune
// was rejected.
struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when not tied to a line
  int column = 0;  // 1-based; 0 when not tied to a column
  std::string reason;   // short category for counting, e.g. "garbled token"
  std::string message;  // full human-readable explanation naming the offending value
  // "file:line:column: message"
  std::string to_string() const;
  static Diagnostic from(const ParseError& e);
};

std::string format_location(const std::string& file, int line, int column);

enum class LogLevel { debug, info, warning, error };
// The library never prints; it reports through callbacks like this one.
using LogFn = std::function<void(LogLevel, std::string_view)>;

}  // namespace antiphon
