#include "antiphon/core/text.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <utf8.h>  // utfcpp: validation of UTF-8 input

namespace antiphon {
namespace {

void position_of(std::string_view bytes, size_t offset, int& line, int& column) {
  line = 1;
  column = 1;
  for (size_t i = 0; i < offset && i < bytes.size(); ++i) {
    if (bytes[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
}

bool is_text_control(unsigned char c) { return c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x1a; }

char hex_digit(int v) { return "0123456789ABCDEF"[v & 15]; }

}  // namespace

DecodedText decode_text(std::string_view bytes, const std::string& file) {
  DecodedText out;
  if (bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xEF &&
      static_cast<unsigned char>(bytes[1]) == 0xBB && static_cast<unsigned char>(bytes[2]) == 0xBF)
    bytes.remove_prefix(3);
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x20 && !is_text_control(c)) {
      int line = 0, column = 0;
      position_of(bytes, i, line, column);
      std::string hex = {'0', 'x', hex_digit(c >> 4), hex_digit(c)};
      throw ParseError(file, line, column, "binary data, not a text file (control byte " + hex + ")", "binary data");
    }
  }
  auto invalid = utf8::find_invalid(bytes.begin(), bytes.end());
  if (invalid == bytes.end()) {
    out.utf8.assign(bytes);
    return out;
  }
  int line = 0, column = 0;
  position_of(bytes, static_cast<size_t>(invalid - bytes.begin()), line, column);
  auto c = static_cast<unsigned char>(*invalid);
  std::string hex = {'0', 'x', hex_digit(c >> 4), hex_digit(c)};
  out.warnings.push_back(Diagnostic{file, line, column, "not UTF-8",
                                    "not valid UTF-8 (byte " + hex + "); read as Latin-1"});
  out.utf8.reserve(bytes.size() + bytes.size() / 8);
  for (char ch : bytes) {
    auto b = static_cast<unsigned char>(ch);
    if (b < 0x80) {
      out.utf8 += ch;
    } else {
      out.utf8 += static_cast<char>(0xC0 | (b >> 6));
      out.utf8 += static_cast<char>(0x80 | (b & 0x3F));
    }
  }
  return out;
}

std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError(path.string() + ": read error");
  return std::move(ss).str();
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::random_device rd;
  std::string tmp_name = "." + path.filename().string() + ".tmp" + std::to_string(rd());
  std::filesystem::path tmp = dir / tmp_name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(path.string() + ": cannot create temporary file: " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw IoError(path.string() + ": write failed: " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw IoError(path.string() + ": cannot flush: " + std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw IoError(path.string() + ": cannot rename temporary file into place: " + std::strerror(err));
  }
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    size_t e = end;
    if (e > start && text[e - 1] == '\r') --e;
    lines.push_back(text.substr(start, e - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

}  // namespace antiphon
