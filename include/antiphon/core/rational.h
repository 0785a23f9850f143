#pragma once
// Exact rational numbers for onsets and durations (unit: quarter notes).
#include <compare>
#include <cstdint>
#include <string>

namespace antiphon {

// A normalized fraction num/den with den > 0. Arithmetic is exact; an operation whose result does not fit
// in 64 bits throws std::overflow_error (readers turn it into a ParseError naming the token).
class Rational {
 public:
  constexpr Rational() = default;
  constexpr Rational(int64_t n) : num_(n), den_(1) {}  // NOLINT: implicit from integers is intended
  Rational(int64_t n, int64_t d);

  int64_t num() const { return num_; }
  int64_t den() const { return den_; }
  double to_double() const { return static_cast<double>(num_) / static_cast<double>(den_); }
  bool is_zero() const { return num_ == 0; }
  bool is_integer() const { return den_ == 1; }
  // "3/2", "1", "-1/3".
  std::string to_string() const;
  // Parses "3/2", "1", "-1/3"; throws std::invalid_argument.
  static Rational parse(const std::string& text);

  Rational operator-() const { return Rational(-num_, den_); }
  friend Rational operator+(const Rational& a, const Rational& b);
  friend Rational operator-(const Rational& a, const Rational& b);
  friend Rational operator*(const Rational& a, const Rational& b);
  friend Rational operator/(const Rational& a, const Rational& b);
  Rational& operator+=(const Rational& b) { return *this = *this + b; }
  Rational& operator-=(const Rational& b) { return *this = *this - b; }
  Rational& operator*=(const Rational& b) { return *this = *this * b; }
  Rational& operator/=(const Rational& b) { return *this = *this / b; }
  friend bool operator==(const Rational& a, const Rational& b) = default;
  friend std::strong_ordering operator<=>(const Rational& a, const Rational& b);

  // Largest integer <= this.
  int64_t floor() const;

 private:
  int64_t num_ = 0;
  int64_t den_ = 1;
};

// Floor of a / b for b > 0 (the index of the step that contains a).
int64_t floor_div(const Rational& a, const Rational& b);
// Remainder a - b * floor(a / b), in [0, b).
Rational floor_mod(const Rational& a, const Rational& b);

}  // namespace antiphon
