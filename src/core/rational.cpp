#include "antiphon/core/rational.h"

#include <limits>
#include <numeric>
#include <stdexcept>

namespace antiphon {
namespace {

__extension__ typedef __int128 int128;  // exact intermediates for 64-bit fractions

int64_t narrow(int128 v) {
  if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min())
    throw std::overflow_error("rational arithmetic overflow");
  return static_cast<int64_t>(v);
}

int128 gcd128(int128 a, int128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b != 0) {
    int128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

Rational make(int128 n, int128 d) {
  if (d == 0) throw std::domain_error("rational with zero denominator");
  if (d < 0) {
    n = -n;
    d = -d;
  }
  int128 g = gcd128(n, d);
  if (g > 1) {
    n /= g;
    d /= g;
  }
  return Rational(narrow(n), narrow(d));
}

}  // namespace

Rational::Rational(int64_t n, int64_t d) {
  if (d == 0) throw std::domain_error("rational with zero denominator");
  if (d < 0) {
    if (n == std::numeric_limits<int64_t>::min() || d == std::numeric_limits<int64_t>::min())
      throw std::overflow_error("rational arithmetic overflow");
    n = -n;
    d = -d;
  }
  int64_t g = std::gcd(n, d);
  if (g > 1) {
    n /= g;
    d /= g;
  }
  num_ = n;
  den_ = d;
}

Rational operator+(const Rational& a, const Rational& b) {
  if (a.den_ == b.den_) return make(static_cast<int128>(a.num_) + b.num_, a.den_);
  return make(static_cast<int128>(a.num_) * b.den_ + static_cast<int128>(b.num_) * a.den_,
              static_cast<int128>(a.den_) * b.den_);
}
Rational operator-(const Rational& a, const Rational& b) { return a + (-b); }
Rational operator*(const Rational& a, const Rational& b) {
  return make(static_cast<int128>(a.num_) * b.num_, static_cast<int128>(a.den_) * b.den_);
}
Rational operator/(const Rational& a, const Rational& b) {
  if (b.num_ == 0) throw std::domain_error("rational division by zero");
  return make(static_cast<int128>(a.num_) * b.den_, static_cast<int128>(a.den_) * b.num_);
}
std::strong_ordering operator<=>(const Rational& a, const Rational& b) {
  int128 l = static_cast<int128>(a.num_) * b.den_;
  int128 r = static_cast<int128>(b.num_) * a.den_;
  return l <=> r;
}

int64_t Rational::floor() const {
  int64_t q = num_ / den_;
  if (num_ % den_ != 0 && num_ < 0) --q;
  return q;
}

std::string Rational::to_string() const {
  if (den_ == 1) return std::to_string(num_);
  return std::to_string(num_) + "/" + std::to_string(den_);
}

Rational Rational::parse(const std::string& text) {
  auto slash = text.find('/');
  try {
    size_t used = 0;
    if (slash == std::string::npos) {
      int64_t n = std::stoll(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
      return Rational(n);
    }
    int64_t n = std::stoll(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument(text);
    std::string d_text = text.substr(slash + 1);
    int64_t d = std::stoll(d_text, &used);
    if (used != d_text.size() || d == 0) throw std::invalid_argument(text);
    return Rational(n, d);
  } catch (const std::logic_error&) {
    throw std::invalid_argument("not a rational number: '" + text + "'");
  }
}

int64_t floor_div(const Rational& a, const Rational& b) { return (a / b).floor(); }
Rational floor_mod(const Rational& a, const Rational& b) { return a - b * Rational(floor_div(a, b)); }

}  // namespace antiphon
